package heal

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fix8524/fix8524/internal/atomicfile"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/plan"
)

// subPlan returns a copy of p with only the findings keep admits, its summary counted again.
// The fingerprint stays p's: the facts are the same, and apply's journal ties a later apply of
// the same facts to this one (it resumes instead of repeating).
func subPlan(p *plan.Plan, keep func(*plan.Finding) bool) *plan.Plan {
	q := *p
	q.Findings = nil
	for i := range p.Findings {
		if keep(&p.Findings[i]) {
			q.Findings = append(q.Findings, p.Findings[i])
		}
	}
	s := p.Summary
	s.Findings, s.Diagnosed, s.Incomplete, s.Actions, s.ManualSteps, s.Blocked = len(q.Findings), 0, 0, 0, 0, 0
	s.ByRisk, s.ByDecision = map[plan.Risk]int{}, map[string]int{}
	for _, f := range q.Findings {
		if f.Status == plan.FindingDiagnosed {
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
func saveHeld(dir, forest string, p *plan.Plan) (string, bool, error) {
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
	b, err := plan.Marshal(p)
	if err != nil {
		return "", false, err
	}
	if err := writeNew(path, b); err != nil {
		return "", false, fmt.Errorf("saving the plan for a human: %w", err)
	}
	return path, true, nil
}

// DefaultPlanRetention is how long heal keeps the plan files it wrote (Options.PlanRetention).
const DefaultPlanRetention = 90 * 24 * time.Hour

// prunePlans deletes heal's old plan files (see Options.PlanRetention) and journals what it
// deleted. A failure is reported and does not change the run's outcome.
func (h *run) prunePlans() {
	o, r := h.o, h.r
	for _, d := range []struct{ dir, prefix, keep string }{
		{o.PlanDir, "heal-", r.AppliedPlanPath},
		{o.EscalateDir, "held-", r.EscalationPath},
	} {
		deleted, err := prunePlans(d.dir, d.prefix, o.PlanRetention, o.Now(), d.keep)
		if err != nil {
			h.say("heal: warning: %v", err)
		}
		if len(deleted) > 0 {
			h.say("heal: deleted %d plan file(s) older than %s from %s", len(deleted), age(o.PlanRetention), d.dir)
			names := deleted
			more := ""
			if len(names) > 20 {
				names, more = names[:20], fmt.Sprintf(" and %d more", len(deleted)-20)
			}
			h.record(journal.Entry{Kind: journal.KindNote, Name: "prune-plans",
				Reason: fmt.Sprintf("deleted %d plan file(s) older than %s from %s: %s%s", len(deleted), age(o.PlanRetention), d.dir, strings.Join(names, ", "), more)})
		}
	}
}

// age prints a retention in days when it is whole days.
func age(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// keepNewestPlans plan files of each kind (heal-*.json, held-*.json) are kept whatever their
// age, so that a quiet forest still has its last runs on disk.
const keepNewestPlans = 50

// prunePlans deletes the plan files heal wrote in dir (regular files named prefix*.json, and
// the report of each, prefix*.html)
// whose modification time is older than maxAge, keeping the newest keepNewestPlans and never
// except (the file this run wrote). Nothing else in dir is touched: no other names, no
// symbolic links, no directories. It returns the names it deleted; a file it cannot delete
// ends the pruning with an error (the run itself goes on). maxAge <= 0 disables pruning.
func prunePlans(dir, prefix string, maxAge time.Duration, now time.Time, except string) ([]string, error) {
	if maxAge <= 0 {
		return nil, nil
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pruning old plans in %s: %w", dir, err)
	}
	type saved struct {
		name string
		mod  time.Time
	}
	var plans []saved
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".json") {
			continue
		}
		if except != "" && filepath.Join(dir, name) == except {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		plans = append(plans, saved{name, fi.ModTime()})
	}
	sort.Slice(plans, func(i, j int) bool { return plans[i].mod.After(plans[j].mod) })
	var deleted []string
	for i, p := range plans {
		if i < keepNewestPlans || now.Sub(p.mod) <= maxAge {
			continue
		}
		if err := os.Remove(filepath.Join(dir, p.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return deleted, fmt.Errorf("pruning old plans in %s: %w", dir, err)
		}
		deleted = append(deleted, p.name)
		// The plan's report (held-….html) goes with it, if it is a regular file.
		rep := reportPath(filepath.Join(dir, p.name))
		if fi, err := os.Lstat(rep); err == nil && fi.Mode().IsRegular() {
			if err := os.Remove(rep); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return deleted, fmt.Errorf("pruning old plans in %s: %w", dir, err)
			}
		}
	}
	return deleted, nil
}
