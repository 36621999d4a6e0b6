package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/atomicfile"
	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/internal/jsonerr"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// Request is what an approval source is asked about.
type Request struct {
	Plan      *plan.Plan
	PlanBytes []byte // the exact plan file bytes
	PlanPath  string
	Now       time.Time
}

// Grant is an approval that admitted a plan or an action.
type Grant struct {
	By  string // who approved ("alice", "heal policy nightly.hcl")
	How string // one line for the journal: the approval's details
	// Unattended: no human approved this (heal). Destructive actions are then always refused.
	Unattended bool
	// Digest identifies a single-use approval (approval.Approval.ID); empty for grants that are
	// not approval files (a heal policy, a typed "yes", an action covered by the plan's
	// approval). Apply refuses an approval whose digest the journal records as used, and
	// records its use when it first acts under it.
	Digest string
}

// Approvals says whether a plan, and each action of it, may run.
type Approvals interface {
	// ApprovePlan admits the plan as a whole or refuses (an error; an *approval.RefusalError
	// for the usual reasons).
	ApprovePlan(ctx context.Context, req Request) (Grant, error)
	// ApproveAction is asked for every action before it runs. explicit means the action needs
	// an approval of its own (see the package documentation); a source that cannot give one
	// must refuse. A refused action is not run, nor are the later actions of its finding.
	ApproveAction(ctx context.Context, req Request, a plan.Action, explicit bool) (Grant, error)
}

// EachSuffix names the per-action approvals file next to a plan: "<plan>.approve-each.json".
const EachSuffix = ".approve-each.json"

// EachPath returns the per-action approvals file of the plan at planPath.
func EachPath(planPath string) string { return planPath + EachSuffix }

// EachFingerprint is the fingerprint a per-action approval approves.
func EachFingerprint(planFingerprint, actionID string) string {
	return planFingerprint + "#action:" + actionID
}

type eachFile struct {
	Version   int               `json:"version"`
	Approvals []json.RawMessage `json:"approvals"`
}

const maxEachFile = 4 << 20

// LoadEach reads the per-action approvals of the plan at planPath (none when the file does
// not exist). A corrupt file is an error naming it.
func LoadEach(planPath string) ([]*approval.Approval, error) {
	path := EachPath(planPath)
	data, err := inputfile.ReadFile(path, "per-action approvals", maxEachFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %w", err)
	}
	return ParseEach(data)
}

// ParseEach decodes a per-action approvals file strictly.
func ParseEach(data []byte) ([]*approval.Approval, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ef eachFile
	if err := dec.Decode(&ef); err != nil {
		return nil, fmt.Errorf("per-action approvals: %w", jsonerr.Describe(data, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("per-action approvals: trailing data after the JSON object")
	}
	if ef.Version != 1 {
		return nil, fmt.Errorf("per-action approvals: version %d, want 1", ef.Version)
	}
	out := make([]*approval.Approval, 0, len(ef.Approvals))
	for i, raw := range ef.Approvals {
		a, err := approval.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("per-action approval %d: %w", i+1, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// SaveEach adds approvals to the per-action approvals file of the plan at planPath, replacing
// earlier approvals of the same actions, atomically. It returns the file's path.
func SaveEach(planPath string, add []*approval.Approval) (string, error) {
	old, err := LoadEach(planPath)
	if err != nil {
		return "", err
	}
	replaced := map[string]bool{}
	for _, a := range add {
		replaced[a.PlanFingerprint] = true
	}
	var all []*approval.Approval
	for _, a := range old {
		if !replaced[a.PlanFingerprint] {
			all = append(all, a)
		}
	}
	all = append(all, add...)
	ef := eachFile{Version: 1}
	for _, a := range all {
		b, err := a.Marshal()
		if err != nil {
			return "", err
		}
		ef.Approvals = append(ef.Approvals, json.RawMessage(bytes.TrimSpace(b)))
	}
	data, err := json.MarshalIndent(ef, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode per-action approvals: %w", err)
	}
	path := EachPath(planPath)
	if err := atomicfile.Write(path, append(data, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("save per-action approvals: %w", err)
	}
	return path, nil
}

// FileApprovals reads a human's approvals from the files next to the plan: the plan approval
// ("<plan>.approval.json") and per-action approvals ("<plan>.approve-each.json").
type FileApprovals struct {
	PlanPath string
	// Trust, when not nil, requires every approval to be signed by one of its keys.
	Trust *approval.TrustSet
}

// ApprovePlan implements Approvals.
func (f FileApprovals) ApprovePlan(_ context.Context, req Request) (Grant, error) {
	a, err := approval.Load(f.PlanPath)
	if err != nil {
		return Grant{}, err
	}
	if err := approval.Verify(req.PlanBytes, req.Plan.Fingerprint, a, req.Now, f.Trust); err != nil {
		return Grant{}, err
	}
	return Grant{By: a.By, How: a.String(), Digest: a.ID()}, nil
}

// ApproveAction implements Approvals: actions that need no explicit approval are covered by
// the plan's; the others need a per-action approval.
func (f FileApprovals) ApproveAction(_ context.Context, req Request, act plan.Action, explicit bool) (Grant, error) {
	if !explicit {
		return Grant{By: "plan approval"}, nil
	}
	each, err := LoadEach(f.PlanPath)
	if err != nil {
		return Grant{}, err
	}
	fp := EachFingerprint(req.Plan.Fingerprint, act.ID)
	var last error
	for _, a := range each {
		if a.PlanFingerprint != fp {
			continue
		}
		if err := approval.Verify(req.PlanBytes, fp, a, req.Now, f.Trust); err != nil {
			last = err
			continue
		}
		return Grant{By: a.By, How: "per-action " + a.String(), Digest: a.ID()}, nil
	}
	if last != nil {
		return Grant{}, last
	}
	return Grant{}, &approval.RefusalError{Reason: approval.ReasonNone,
		Detail: fmt.Sprintf("action %s needs its own approval: fix8524 approve %s --by NAME --allow-each %s",
			act.ID, f.PlanPath, termtext.ShellWord(act.ID))}
}
