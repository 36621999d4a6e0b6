package facts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"

	"github.com/fix8524/fix8524/internal/jsonerr"
)

// MaxSnapshotBytes bounds the size of a facts file fix8524 will read.
const MaxSnapshotBytes = 256 << 20

// Memory bounds of Decode.
const (
	// MaxElementBytes bounds one element of the snapshot's lists (a DC, a link, an observation,
	// a problem) and the forest object, as JSON text.
	MaxElementBytes = 4 << 20
	// modelRatio (in halves) and modelFloor bound the decoded model: at most 1.5 times the
	// bytes read so far, plus modelFloor. A facts file fix8524 wrote decodes to about its own
	// size (0.8x indented, 1.0-1.25x compacted); a file of empty objects ("[{},{},...]", 3
	// bytes each for a struct of 150 or more) is refused long before it could exhaust memory.
	// With the garbage collector's slack and the lists' growth, the peak stays under 5x the
	// file's size (TestDecodeMemory).
	modelRatioHalves = 3
	modelFloor       = 1 << 20
)

// Decode reads a facts snapshot as JSON. It rejects unknown fields (a typo is an error, not a
// silently missing fact), other format versions and oversized input.
//
// It streams: the lists (dcs, links, dns, reachability, problems) are decoded one element at a
// time straight into the model, so the document is never held in memory, let alone twice; an
// element or the forest object may not exceed MaxElementBytes; and the model built is accounted
// as it grows and may not exceed 1.5 times the bytes read (plus 1 MiB), so that hostile input that
// decodes to far more than its size is refused early. Decoding a facts file costs a few times
// its size at most (measured in TestDecodeMemory).
func Decode(r io.Reader) (*Snapshot, error) {
	s, _, err := decodeStream(r)
	return s, err
}

// DecodeBytes is Decode on a byte slice; errors name the line and column.
func DecodeBytes(data []byte) (*Snapshot, error) {
	s, off, err := decodeStream(bytes.NewReader(data))
	if err != nil && off >= 0 && off <= int64(len(data)) {
		line, col := jsonerr.Position(data, off)
		return nil, fmt.Errorf("line %d, column %d: %w", line, col, err)
	}
	return s, err
}

var (
	errFactsTooLarge   = fmt.Errorf("facts are larger than %d MiB", MaxSnapshotBytes>>20)
	errElementTooLarge = fmt.Errorf("an element of the facts is larger than %d MiB", MaxElementBytes>>20)
)

// guardReader hands the decoder at most limit bytes in all: the end of the element being
// decoded (MaxElementBytes past its start) and the file's cap.
type guardReader struct {
	r     io.Reader
	read  int64
	limit int64
}

func (g *guardReader) Read(p []byte) (int, error) {
	if g.read >= g.limit {
		if g.read > MaxSnapshotBytes {
			return 0, errFactsTooLarge
		}
		return 0, errElementTooLarge
	}
	if rest := g.limit - g.read; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}

// streamDecoder decodes a snapshot from a stream, accounting the model it builds.
type streamDecoder struct {
	dec   *json.Decoder
	g     *guardReader
	model int64 // estimated bytes of the model so far
}

// decodeStream decodes a snapshot; on error it also returns the input offset reached (-1 if
// none).
func decodeStream(r io.Reader) (*Snapshot, int64, error) {
	g := &guardReader{r: r, limit: MaxSnapshotBytes + 1}
	d := &streamDecoder{dec: json.NewDecoder(g), g: g}
	d.dec.DisallowUnknownFields()
	s, err := d.snapshot()
	if err != nil {
		if errors.Is(err, errFactsTooLarge) || errors.Is(err, errElementTooLarge) {
			return nil, -1, err
		}
		return nil, d.dec.InputOffset(), err
	}
	return s, -1, nil
}

func (d *streamDecoder) snapshot() (*Snapshot, error) {
	if err := d.delim('{', "the document"); err != nil {
		return nil, err
	}
	var s Snapshot
	version := false
	seen := map[string]bool{}
	for d.dec.More() {
		t, err := d.dec.Token()
		if err != nil {
			return nil, d.syntax(err)
		}
		key, _ := t.(string)
		if seen[key] {
			return nil, fmt.Errorf("decoding facts: the field %q appears twice", key)
		}
		seen[key] = true
		switch key {
		case "format_version":
			var v int
			if err := d.value(&v); err != nil {
				return nil, err
			}
			if v == 1 {
				return nil, errors.New("facts format_version 1 was written by an earlier fix8524: its DC addresses came from the workstation's resolver alone, and its reachability cannot tell a name that does not resolve from a DC that does not answer. Gather again (fix8524 gather -o FILE)")
			}
			if v != FormatVersion {
				return nil, fmt.Errorf("facts format_version %d is not supported by this build (it reads %d)", v, FormatVersion)
			}
			version = true
		case "gathered_at":
			err = d.value(&s.GatheredAt)
		case "source":
			err = d.value(&s.Source)
		case "seed_dc":
			err = d.value(&s.SeedDC)
		case "forest":
			err = d.value(&s.Forest)
		case "dcs":
			err = decodeList(d, key, &s.DCs)
		case "links":
			err = decodeList(d, key, &s.Links)
		case "dns":
			err = decodeList(d, key, &s.DNS)
		case "reachability":
			err = decodeList(d, key, &s.Reach)
		case "problems":
			err = decodeList(d, key, &s.Problems)
		default:
			return nil, fmt.Errorf("decoding facts: unknown field %q", key)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := d.delim('}', "the facts object"); err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		if err == nil || !errors.Is(err, errElementTooLarge) {
			return nil, errors.New("decoding facts: invalid character after the JSON document: trailing data")
		}
		return nil, err
	}
	if !version {
		return nil, errors.New("facts have no format_version: not a fix8524 facts file")
	}
	return &s, nil
}

func (d *streamDecoder) syntax(err error) error {
	if errors.Is(err, errFactsTooLarge) || errors.Is(err, errElementTooLarge) {
		return err
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("facts are not valid JSON: %w", jsonerr.Describe(nil, err))
}

// delim reads the token want (a brace of the facts object, the end of a list) in where (the
// document, a field); anything else is described in JSON's words, as jsonerr describes what the
// decoders of the other files find, never by echoing the file.
func (d *streamDecoder) delim(want json.Delim, where string) error {
	t, err := d.dec.Token()
	if err != nil {
		return d.syntax(err)
	}
	if t != want {
		return fmt.Errorf("decoding facts: %s holds %s where %s is expected", where, jsonerr.Kind(t), jsonerr.Kind(want))
	}
	return nil
}

// value decodes one value of at most MaxElementBytes into v and accounts it.
func (d *streamDecoder) value(v any) error {
	d.g.limit = min(d.dec.InputOffset()+MaxElementBytes, MaxSnapshotBytes+1)
	err := d.dec.Decode(v)
	d.g.limit = MaxSnapshotBytes + 1
	if err != nil {
		if errors.Is(err, errFactsTooLarge) || errors.Is(err, errElementTooLarge) {
			return err
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("decoding facts: %w", jsonerr.Describe(nil, err))
	}
	return d.account(int64(reflect.TypeOf(v).Elem().Size()) + dynamicSize(reflect.ValueOf(v).Elem()))
}

// account adds n bytes to the model and refuses a model out of proportion to the input.
func (d *streamDecoder) account(n int64) error {
	d.model += n
	if in := d.dec.InputOffset(); 2*d.model > modelRatioHalves*in+2*modelFloor {
		return fmt.Errorf("decoding facts: the first %d bytes decode to about %d bytes in memory, more than 1.5 times their size: not a facts file fix8524 wrote", in, d.model)
	}
	return nil
}

// decodeList decodes the JSON list (or null) of the field key one element at a time into *out.
func decodeList[T any](d *streamDecoder, key string, out *[]T) error {
	t, err := d.dec.Token()
	if err != nil {
		return d.syntax(err)
	}
	if t == nil {
		return nil
	}
	if t != json.Delim('[') {
		return fmt.Errorf("decoding facts: %q holds %s where a list is expected", key, jsonerr.Kind(t))
	}
	size := int64(reflect.TypeFor[T]().Size())
	for d.dec.More() {
		var v T
		if err := d.value(&v); err != nil {
			return err
		}
		before := cap(*out)
		*out = append(*out, v)
		// the element itself is in the list's backing array: count the array's growth, not
		// the element twice
		if err := d.account(int64(cap(*out)-before)*size - size); err != nil {
			return err
		}
	}
	return d.delim(']', strconv.Quote(key))
}

// dynamicSize estimates the bytes v refers to beyond its own size: string bytes and the
// backing arrays of slices, recursively.
func dynamicSize(v reflect.Value) int64 {
	switch v.Kind() {
	case reflect.String:
		return int64(v.Len())
	case reflect.Slice:
		n := int64(v.Cap()) * int64(v.Type().Elem().Size())
		for i := 0; i < v.Len(); i++ {
			n += dynamicSize(v.Index(i))
		}
		return n
	case reflect.Struct:
		var n int64
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				n += dynamicSize(v.Field(i))
			}
		}
		return n
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return int64(v.Elem().Type().Size()) + dynamicSize(v.Elem())
	}
	return 0
}

// Encode writes the snapshot as indented JSON, with a stable order of DCs, links and observations.
func Encode(w io.Writer, s *Snapshot) error {
	s.FormatVersion = FormatVersion
	s.Sort()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("encoding facts: %w", err)
	}
	return nil
}

// Sort puts DCs, links and observations in a canonical order so that equal facts encode equally.
func (s *Snapshot) Sort() {
	sort.SliceStable(s.DCs, func(i, j int) bool {
		return s.DCs[i].Name < s.DCs[j].Name || (s.DCs[i].Name == s.DCs[j].Name && s.DCs[i].DSAGUID < s.DCs[j].DSAGUID)
	})
	sort.SliceStable(s.Links, func(i, j int) bool {
		a, b := s.Links[i], s.Links[j]
		if a.Destination != b.Destination {
			return a.Destination < b.Destination
		}
		if a.SourceDSAGUID != b.SourceDSAGUID {
			return a.SourceDSAGUID < b.SourceDSAGUID
		}
		return a.NC < b.NC
	})
	sort.SliceStable(s.DNS, func(i, j int) bool { return s.DNS[i].Key() < s.DNS[j].Key() })
	sort.SliceStable(s.Reach, func(i, j int) bool { return s.Reach[i].Key() < s.Reach[j].Key() })
	sort.SliceStable(s.Problems, func(i, j int) bool {
		return s.Problems[i].Scope < s.Problems[j].Scope || (s.Problems[i].Scope == s.Problems[j].Scope && s.Problems[i].Message < s.Problems[j].Message)
	})
}
