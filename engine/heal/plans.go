package heal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fix8524/fix8524/engine"

	"github.com/fix8524/fix8524/internal/atomicfile"
)

// subPlan returns a copy of p with only the findings keep admits, its summary counted again.
// The fingerprint stays p's: the facts are the same, and apply's journal ties a later apply of
// the same facts to this one (it resumes instead of repeating).
func subPlan(p *engine.Plan, keep func(*engine.Finding) bool) *engine.Plan {
	q := *p
	q.Findings = nil
	for i := range p.Findings {
		if keep(&p.Findings[i]) {
			q.Findings = append(q.Findings, p.Findings[i])
		}
	}
	s := p.Summary
	s.Findings, s.Diagnosed, s.Incomplete, s.Actions, s.ManualSteps, s.Blocked = len(q.Findings), 0, 0, 0, 0, 0
	s.ByRisk, s.ByDecision = map[string]int{}, map[string]int{}
	for _, f := range q.Findings {
		if f.Status == engine.FindingDiagnosed {
			s.Diagnosed++
		} else {
			s.Incomplete++
		}
		if f.Decision != nil {
			s.ByDecision[f.Decision.Name]++
		}
		s.Actions += len(f.Actions)
		s.ManualSteps += len(f.Manual)
		for _, a := range f.Actions {
			s.ByRisk[a.Risk]++
			if a.Blocked {
				s.Blocked++
			}
		}
	}
	if len(s.ByRisk) == 0 {
		s.ByRisk = nil
	}
	if len(s.ByDecision) == 0 {
		s.ByDecision = nil
	}
	q.Summary = s
	return &q
}

// encodePlan renders a plan as the plan file `fix8524 plan -o` writes.
func encodePlan(p *engine.Plan) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encoding the plan: %w", err)
	}
	return b.Bytes(), nil
}

// writeNew writes data to path atomically (temporary file, fsync, rename), mode 0600, creating
// the directory (0700) when needed.
func writeNew(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o600)
}

// fileWord makes a forest name safe for a file name.
func fileWord(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	if b.Len() == 0 {
		return "forest"
	}
	return b.String()
}

// saveHeld saves the plan for a human: "held-<forest>-<digest>.json" in dir, where the digest
// is over the full plan's fingerprint and the held findings' ids. The same facts held the same
// way keep the same file: an existing one is not rewritten, so a human's approval of it (bound
// to its bytes) stays valid across runs.
func saveHeld(dir, forest string, p *engine.Plan) (string, bool, error) {
	ids := make([]string, 0, len(p.Findings))
	for _, f := range p.Findings {
		ids = append(ids, f.ID)
	}
	sort.Strings(ids)
	h := sha256.Sum256([]byte(p.Fingerprint + "\n" + strings.Join(ids, "\n")))
	path := filepath.Join(dir, fmt.Sprintf("held-%s-%s.json", fileWord(forest), hex.EncodeToString(h[:6])))
	if _, err := os.Stat(path); err == nil {
		return path, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("saving the plan for a human: %w", err)
	}
	b, err := encodePlan(p)
	if err != nil {
		return "", false, err
	}
	if err := writeNew(path, b); err != nil {
		return "", false, fmt.Errorf("saving the plan for a human: %w", err)
	}
	return path, true, nil
}
