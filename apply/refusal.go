package apply

import (
	"fmt"
	"strings"
	"time"

	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// refusal builds a gate's refusal: why (the reason) and what to do about it.
func (r *run) refusal(gate, reason string) Refusal {
	return Refusal{Gate: gate, Reason: reason, Do: r.advice(gate, reason)}
}

// journalText is what the journal records of a refusal: why, then what to do.
func (rf Refusal) journalText() string {
	if rf.Do == "" {
		return rf.Reason
	}
	return rf.Reason + " — to do: " + rf.Do
}

// ApprovalAdvice says, in one line, what a person can do about an approval refused for reason
// (the refusal's text): for the plan at planPath, or for its action (a per-action approval)
// when action is not "". apply's approval gate and the CLI's check of a plan changed since its
// approval (made before the plan is parsed) give the same advice.
func ApprovalAdvice(planPath, action, reason string) string {
	word := planWord(planPath)
	if action != "" {
		return "approve it on its own: fix8524 approve " + word + " --by NAME --allow-each " + termtext.ShellWord(action)
	}
	switch {
	case strings.Contains(reason, "plan changed after approval"), strings.Contains(reason, "for another plan"):
		return "read the plan (fix8524 show " + word + "), then approve this file as it is now: fix8524 approve " + word + " --by NAME"
	case strings.Contains(reason, "not signed"), strings.Contains(reason, "untrusted key"), strings.Contains(reason, "does not verify"):
		return "approve it with a key --trust-keys lists: fix8524 approve " + word + " --by NAME --sign-key FILE"
	case strings.Contains(reason, "clock skew"):
		return "check the clocks of this host and of the approver's, then approve again: fix8524 approve " + word + " --by NAME"
	}
	return "approve it: fix8524 approve " + word + " --by NAME (fix8524 show " + word + " says what it does)"
}

// planWord is the plan's path as a word of a command shown to people ("PLAN" when unknown).
func planWord(path string) string {
	if path == "" {
		return "PLAN"
	}
	return termtext.ShellWord(path)
}

// advice says, in one line, what a person can do about a gate's refusal.
func (r *run) advice(gate, reason string) string {
	word := planWord(r.o.PlanPath)
	name, action, _ := strings.Cut(gate, ":")
	switch name {
	case "plan":
		return "make the plan again with the playbook and -var/-var-file this apply uses (fix8524 plan ... -o " + word + "), then approve it"
	case "approval":
		return ApprovalAdvice(r.o.PlanPath, action, reason)
	case "window":
		next := ""
		if !r.nextWindow.IsZero() {
			next = " (the next opens " + r.nextWindow.UTC().Format(time.RFC3339) + ")"
		}
		if r.o.Emergency && strings.TrimSpace(r.o.EmergencyReason) == "" {
			return "give the emergency a reason: --emergency --reason TEXT (it is recorded)"
		}
		return "apply it again inside a change window" + next + ", or now with --emergency --reason TEXT (recorded)"
	case "lock":
		if r.lockGone {
			return "the run that holds it is gone: if no fix8524 works on " + termtext.ShellWord(r.o.Forest) + " any more, fix8524 journal --break-lock " + termtext.ShellWord(r.o.Forest) + " --reason TEXT"
		}
		return "wait for the other run (fix8524 journal --lock-status " + termtext.ShellWord(r.o.Forest) + "); if it was killed: fix8524 journal --break-lock " + termtext.ShellWord(r.o.Forest) + " --reason TEXT"
	case "drift":
		return "make a new plan of the forest as it is now (fix8524 plan ... -o FILE), read it and approve it"
	case "guards":
		return "nothing overrides a guard: read why (fix8524 show " + word + "), fix what it names, then plan again"
	case "blocked":
		return "a blocked action never runs: fix what blocks it (fix8524 show " + word + "), then plan again"
	case "recheck":
		return "check that step by hand on the DC, then make a new plan"
	}
	return ""
}

// evidenceChanges lists, per check, the evidence that differs between the approved finding
// and the fresh one: "CHECK: WHAT: before → after", one line each (at most limit).
func evidenceChanges(old, fresh *plan.Finding, limit int) []string {
	var out []string
	add := func(format string, args ...any) {
		if len(out) < limit {
			out = append(out, fmt.Sprintf(format, args...))
		} else if len(out) == limit {
			out = append(out, "… (more changes: compare the plan with a new one)")
		}
	}
	for _, c := range linkChanges(old, fresh) {
		add("%s", c)
	}
	before := map[string]*plan.CheckResult{}
	for i := range old.Evidence {
		before[old.Evidence[i].Name] = &old.Evidence[i]
	}
	seen := map[string]bool{}
	for i := range fresh.Evidence {
		nc := &fresh.Evidence[i]
		seen[nc.Name] = true
		oc := before[nc.Name]
		if oc == nil {
			add("%s: not evaluated before → %s", nc.Name, evidenceState(nc))
			continue
		}
		n0 := len(out)
		diffObservations(nc.Name, oc.Observations, nc.Observations, add)
		diffFacts(nc.Name, oc.Facts, nc.Facts, add)
		if len(out) == n0 && oc.Summary != nc.Summary {
			add("%s: %s → %s", nc.Name, termtext.Clip(oc.Summary, 200), termtext.Clip(nc.Summary, 200))
		} else if len(out) == n0 && oc.Status != nc.Status {
			add("%s: %s → %s", nc.Name, evidenceState(oc), evidenceState(nc))
		}
	}
	for _, oc := range old.Evidence {
		if !seen[oc.Name] {
			add("%s: %s → no longer evaluated", oc.Name, evidenceState(&oc))
		}
	}
	return out
}

// linkChanges lists the naming contexts of the partnership whose replication result changed
// between the approved finding and the fresh one (a DC that retried in between may fail with
// another error now), and those that started or stopped failing. The fingerprint reads the
// results; the evidence does not show them.
func linkChanges(old, fresh *plan.Finding) []string {
	before := map[string]int{}
	for _, nc := range old.Link.NCs {
		before[strings.ToLower(nc.NC)] = nc.LastResult
	}
	var out []string
	seen := map[string]bool{}
	for _, nc := range fresh.Link.NCs {
		k := strings.ToLower(nc.NC)
		seen[k] = true
		switch r, ok := before[k]; {
		case !ok:
			out = append(out, fmt.Sprintf("replication of %s: not in the plan → result %d", termtext.Escape(nc.NC), nc.LastResult))
		case r != nc.LastResult:
			out = append(out, fmt.Sprintf("replication of %s: result %d → %d", termtext.Escape(nc.NC), r, nc.LastResult))
		}
	}
	for _, nc := range old.Link.NCs {
		if !seen[strings.ToLower(nc.NC)] {
			out = append(out, fmt.Sprintf("replication of %s: result %d → no longer failing", termtext.Escape(nc.NC), nc.LastResult))
		}
	}
	return out
}

func evidenceState(c *plan.CheckResult) string {
	if c.Reading != "" {
		return strings.ReplaceAll(string(c.Reading), "_", " ")
	}
	return string(c.Status)
}

func diffObservations(check string, old, fresh []plan.Observation, add func(string, ...any)) {
	key := func(o plan.Observation) string { return o.Target + "\x00" + o.Query }
	prev := map[string]plan.Observation{}
	for _, o := range old {
		prev[key(o)] = o
	}
	for _, o := range fresh {
		p, ok := prev[key(o)]
		what := strings.TrimSpace(o.Target + " " + o.Query)
		switch {
		case !ok:
			add("%s: %s: not asked before → %s", check, what, observationText(o))
		case observationText(p) != observationText(o):
			add("%s: %s: %s → %s", check, what, observationText(p), observationText(o))
		}
		delete(prev, key(o))
	}
	for _, o := range old {
		if _, left := prev[key(o)]; left {
			add("%s: %s: %s → not asked now", check, strings.TrimSpace(o.Target+" "+o.Query), observationText(o))
		}
	}
}

// observationText renders what one server, port or DC showed.
func observationText(o plan.Observation) string {
	var parts []string
	for _, s := range []string{o.Rcode, o.Result, o.Error, o.Note} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if o.AA {
		parts = append(parts, "(authoritative)")
	}
	if len(o.Answers) > 0 {
		parts = append(parts, strings.Join(o.Answers, ", "))
	}
	if len(parts) == 0 {
		return string(o.Status)
	}
	return termtext.Clip(strings.Join(parts, " "), 200)
}

func diffFacts(check string, old, fresh []plan.FactValue, add func(string, ...any)) {
	prev := map[string]string{}
	for _, f := range old {
		prev[f.Fact] = f.Value
	}
	for _, f := range fresh {
		if p, ok := prev[f.Fact]; ok && p != f.Value {
			add("%s: %s: %s → %s", check, f.Fact, termtext.Clip(p, 120), termtext.Clip(f.Value, 120))
		}
	}
}
