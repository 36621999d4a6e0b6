package facts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// MaxSnapshotBytes bounds the size of a facts file fix8524 will read.
const MaxSnapshotBytes = 256 << 20

// Decode reads a facts snapshot as JSON. It rejects unknown fields (a typo is an error, not a
// silently missing fact), other format versions and oversized input.
func Decode(r io.Reader) (*Snapshot, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSnapshotBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading facts: %w", err)
	}
	if len(data) > MaxSnapshotBytes {
		return nil, fmt.Errorf("facts are larger than %d MiB", MaxSnapshotBytes>>20)
	}
	return DecodeBytes(data)
}

// DecodeBytes is Decode on a byte slice.
func DecodeBytes(data []byte) (*Snapshot, error) {
	var probe struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("facts are not valid JSON: %w", describeJSONError(data, err))
	}
	if probe.FormatVersion == nil {
		return nil, errors.New("facts have no format_version: not a fix8524 facts file")
	}
	if *probe.FormatVersion == 1 {
		return nil, errors.New("facts format_version 1 was written by an earlier fix8524: its DC addresses came from the workstation's resolver alone, and its reachability cannot tell a name that does not resolve from a DC that does not answer. Gather again (fix8524 gather -o FILE)")
	}
	if *probe.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("facts format_version %d is not supported by this build (it reads %d)", *probe.FormatVersion, FormatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decoding facts: %w", describeJSONError(data, err))
	}
	if dec.More() {
		return nil, errors.New("decoding facts: trailing data after the JSON document")
	}
	return &s, nil
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

func describeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}
