package heal

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/report"
)

// reportPath is the report beside a saved plan: held-….json → held-….html.
func reportPath(planPath string) string {
	return strings.TrimSuffix(planPath, ".json") + ".html"
}

// writeReport writes the HTML report of the plan saved for a human beside it, with what this
// run journaled about it, so that the person paged opens one file. An unchanged escalation
// (the same plan file) keeps its report unless it is missing. A failure is said and does not
// change the run's outcome: the plan file is what approve and apply read.
func (h *run) writeReport(planPath string, p *plan.Plan, fresh bool) {
	path := reportPath(planPath)
	if !fresh {
		if _, err := os.Lstat(path); err == nil {
			h.r.EscalationReport = path
			return
		} else if !errors.Is(err, fs.ErrNotExist) {
			h.say("heal: warning: the report of %s: %v", planPath, err)
			return
		}
	}
	in := report.Input{Plan: p, PlanFile: planPath, Approval: &report.Approval{Status: report.ApprovalMissing}}
	if entries, err := h.j.List(journal.Filter{RunID: h.r.RunID}); err == nil {
		in.Journal = &report.Journal{Source: "this heal run (" + h.r.RunID + ")", Entries: entries}
	}
	b, err := report.HTML(in)
	if err == nil {
		err = writeNew(path, b)
	}
	if err != nil {
		h.say("heal: warning: writing the report of %s: %v", planPath, err)
		return
	}
	h.r.EscalationReport = path
}
