package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/fix8524/fix8524/internal/atomicfile"
	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/internal/jsonerr"
)

// MaxBytes bounds a plan file.
const MaxBytes = 64 << 20

// Parse decodes a plan file strictly: one JSON object of this plan format, no unknown
// fields (a hand-added field is never silently ignored), every finding and action with an id.
func Parse(b []byte) (*Plan, error) {
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("plan: larger than %d bytes", MaxBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("plan: not a fix8524 plan: %w", jsonerr.Describe(b, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("plan: trailing data after the JSON object")
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("plan: format version %d, this fix8524 reads %d: make the plan again", p.FormatVersion, FormatVersion)
	}
	if p.Fingerprint == "" {
		return nil, errors.New("plan: no fingerprint")
	}
	for i, f := range p.Findings {
		if f.ID == "" {
			return nil, fmt.Errorf("plan: finding %d has no id", i+1)
		}
		for j, a := range f.Actions {
			if a.ID == "" || a.Name == "" {
				return nil, fmt.Errorf("plan: action %d of finding %q has no id or name", j+1, f.ID)
			}
		}
	}
	return &p, nil
}

// Read reads and parses a plan file, returning the plan and its exact bytes.
func Read(path string) (*Plan, []byte, error) {
	b, err := inputfile.ReadFile(path, "plan", MaxBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("read %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, b, nil
}

// Encode writes p as a plan file holds it: indented JSON, with "<", ">" and "&" as they are.
func Encode(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

// Marshal returns the bytes of p's plan file (Encode's).
func Marshal(p *Plan) ([]byte, error) {
	var b bytes.Buffer
	if err := Encode(&b, p); err != nil {
		return nil, fmt.Errorf("encoding the plan: %w", err)
	}
	return b.Bytes(), nil
}

// Write writes p's plan file at path atomically (temporary file, then rename), mode 0600; it
// never replaces anything but a regular file.
func Write(path string, p *Plan) error {
	if err := atomicfile.WriteFunc(path, 0o600, func(w io.Writer) error { return Encode(w, p) }); err != nil {
		return fmt.Errorf("the plan: %w", err)
	}
	return nil
}
