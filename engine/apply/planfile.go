package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/internal/jsonerr"
	"github.com/fix8524/fix8524/plan"
)

// MaxPlanBytes bounds a plan file.
const MaxPlanBytes = 64 << 20

// ParsePlan decodes a plan file strictly: one JSON object of this plan format, no unknown
// fields (a hand-added field is never silently ignored), every finding and action with an id.
func ParsePlan(b []byte) (*plan.Plan, error) {
	if len(b) > MaxPlanBytes {
		return nil, fmt.Errorf("plan: larger than %d bytes", MaxPlanBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plan.Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("plan: not a fix8524 plan: %w", jsonerr.Describe(b, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("plan: trailing data after the JSON object")
	}
	if p.FormatVersion != plan.FormatVersion {
		return nil, fmt.Errorf("plan: format version %d, this fix8524 reads %d: make the plan again", p.FormatVersion, plan.FormatVersion)
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

// ReadPlan reads and parses a plan file, returning the plan and its exact bytes.
func ReadPlan(path string) (*plan.Plan, []byte, error) {
	b, err := inputfile.ReadFile(path, "plan", MaxPlanBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("read %w", err)
	}
	p, err := ParsePlan(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, b, nil
}
