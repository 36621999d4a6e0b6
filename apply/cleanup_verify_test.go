package apply_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/plan"
)

func findingResult(t *testing.T, res apply.Result, id string) apply.FindingResult {
	t.Helper()
	for _, f := range res.Findings {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no result for %s: %+v", id, res.Findings)
	return apply.FindingResult{}
}

// stale-metadata: DC1 and DC3 both replicate from the gone DC2, so the plan holds two cleanups
// of the same NTDS Settings object (one per destination's copy), each approved on its own. The
// first deletes it; the object is gone from DC3's copy too when the second's turn comes: it is
// re-checked and skipped (journaled), not refused by guards that no longer find the object,
// and the link is still confirmed.
func TestSecondCleanupOfTheSameDSAIsSkipped(t *testing.T) {
	e, ids := twoCleanupsApproved(t)
	res := e.run(nil)
	if res.Outcome != apply.Succeeded {
		t.Fatalf("outcome %s %+v\n%s\n%s", res.Outcome, res.Refusals, e.out.String(), e.dumpJournal())
	}
	if n := e.lab.count("metadata_cleanup"); n != 1 {
		t.Fatalf("cleanup ran %d times, want once", n)
	}
	first, second := findingResult(t, res, "DC1<-DC2"), findingResult(t, res, "DC3<-DC2")
	if first.Outcome != apply.Succeeded || len(first.Steps) == 0 || first.Steps[0].Outcome != apply.Succeeded {
		t.Fatalf("DC1<-DC2: %+v", first)
	}
	// The verification evaluates the playbook's check on facts read after the delete (the
	// facts read before it still hold the object), and says so.
	if v := first.Steps[0].Verification; !strings.Contains(v, "gone from DC1's copy") || !strings.Contains(v, "stale_dsa_removed ok") {
		t.Fatalf("DC1<-DC2 verification %q", v)
	}
	if second.Outcome != apply.Succeeded || len(second.Steps) == 0 || second.Steps[0].Outcome != apply.Skipped ||
		!strings.Contains(second.Steps[0].Reason, "no longer in DC3's copy") {
		t.Fatalf("DC3<-DC2: %+v", second)
	}
	if !strings.Contains(second.Confirmed, "gone") {
		t.Fatalf("DC3<-DC2 confirmed %q", second.Confirmed)
	}
	if !e.journalHas(journal.KindVerify, "precheck:metadata_cleanup", journal.Skipped) {
		t.Fatalf("the skip is not in the journal:\n%s", e.dumpJournal())
	}
	if e.journalHas(journal.KindGate, "guards:"+ids[1], journal.Refused) {
		t.Fatalf("the second cleanup was refused by its guards:\n%s", e.dumpJournal())
	}
}

// The cleanup shows on the destination (object gone from its copy, link gone) but the facts
// read afterwards still hold the DSA (the seed DC has not replicated the deletion yet): the
// playbook's check does not pass, and the outcome is pending — not failed, not succeeded.
func TestCleanupVerifiedOnlyWhenThePlaybookCheckAgrees(t *testing.T) {
	e := staleEnv(t, "", "", "")
	var dc3 facts.DC
	for _, d := range e.lab.world.Base().DCs {
		if d.Name == "DC3" {
			dc3 = d
		}
	}
	if dc3.NTDSSettingsDN == "" {
		t.Fatal("the scenario has no DC3")
	}
	e.approve(e.now, time.Hour, nil, cleanupID)
	e.lab.mangle = func(_ int, s *facts.Snapshot) {
		if facts.NewIndex(s).DCByName("DC3") == nil {
			s.DCs = append(s.DCs, dc3) // the seed still lists it
		}
	}
	res := e.run(nil)
	if res.Outcome != apply.Pending || e.lab.count("metadata_cleanup") != 1 {
		t.Fatalf("outcome %s, cleanup ran %d times\n%s", res.Outcome, e.lab.count("metadata_cleanup"), e.out.String())
	}
	st := findingResult(t, res, "DC1<-DC3").Steps[0]
	if st.Outcome != apply.Pending || !strings.Contains(st.Verification, "stale_dsa_removed failed") || !strings.Contains(st.Verification, "do not agree yet") {
		t.Fatalf("step %+v", st)
	}
}

// twoCleanupsApproved is the stale-metadata scenario's plan with its two cleanups of DC2's
// NTDS Settings (DC1's copy, DC3's copy), in plan order, each approved on its own.
func twoCleanupsApproved(t *testing.T) (*env, []string) {
	t.Helper()
	e := newEnv(t, "stale-metadata", "")
	var ids []string
	for _, f := range e.plan.Findings {
		for _, a := range f.Actions {
			if a.Name == "metadata_cleanup" {
				ids = append(ids, a.ID)
			}
		}
	}
	if len(ids) != 2 {
		t.Fatalf("want two cleanups of DC2's NTDS Settings in the plan, got %v", ids)
	}
	e.approve(e.now, time.Hour, nil, ids...)
	return e, ids
}

// stale-metadata with replication lag (seen on real Samba, e2e source-gone): the first cleanup
// deletes DC2's NTDS Settings on DC1's copy; when the second's turn comes, DC3's copy still
// holds the object (DC3 has not pulled the deletion yet) while the seed's topology no longer
// lists DC2, so the guards, evaluated on the seed's facts, can no longer lead to the action.
// The second cleanup is the same deletion: apply waits for it to reach DC3's copy and reports
// it done (journaled), never refuses it, never deletes twice.
func TestSecondCleanupWaitsForTheDeletionToReplicate(t *testing.T) {
	e, ids := twoCleanupsApproved(t)
	lag := 0
	e.lab.lagging = func(a plan.Action) bool {
		if a.Target != "DC3" {
			return false
		}
		lag++
		return lag <= 3 // DC3's copy gets the deletion at its fourth reading
	}
	res := e.run(nil)
	if res.Outcome != apply.Succeeded {
		t.Fatalf("outcome %s %+v\n%s\n%s", res.Outcome, res.Refusals, e.out.String(), e.dumpJournal())
	}
	if n := e.lab.count("metadata_cleanup"); n != 1 {
		t.Fatalf("cleanup ran %d times, want once", n)
	}
	second := findingResult(t, res, "DC3<-DC2")
	if second.Outcome != apply.Succeeded || len(second.Steps) == 0 || second.Steps[0].Outcome != apply.Skipped {
		t.Fatalf("DC3<-DC2: %+v", second)
	}
	if r := second.Steps[0].Reason; !strings.Contains(r, "deleted on DC1's copy") || !strings.Contains(r, ids[0]) || !strings.Contains(r, "reached DC3's copy") {
		t.Fatalf("DC3<-DC2 step reason %q", r)
	}
	if lag < 4 {
		t.Fatalf("DC3's copy was read %d times: the step did not wait for the deletion", lag)
	}
	if e.journalHas(journal.KindGate, "guards:"+ids[1], journal.Refused) || len(res.Refusals) > 0 {
		t.Fatalf("the second cleanup was refused: %+v\n%s", res.Refusals, e.dumpJournal())
	}
	if !e.journalHas(journal.KindVerify, "precheck:metadata_cleanup", journal.Skipped) {
		t.Fatalf("the wait is not in the journal:\n%s", e.dumpJournal())
	}
}

// The deletion does not reach DC3's copy before the verification deadline: the second cleanup
// is pending (done on DC1, on its way to DC3), not refused, not failed, and not run again on
// DC3. Applying the same plan again once DC3 has it finds both done.
func TestSecondCleanupPendingWhileTheDeletionReplicates(t *testing.T) {
	e, ids := twoCleanupsApproved(t)
	e.lab.lagging = func(a plan.Action) bool { return a.Target == "DC3" }
	keepStaleRepsFrom(e)
	start := e.clock
	res := e.run(func(o *apply.Options) { o.VerifyTimeout = time.Minute })
	if res.Outcome != apply.Pending || e.lab.count("metadata_cleanup") != 1 {
		t.Fatalf("outcome %s, cleanup ran %d times %+v\n%s\n%s", res.Outcome, e.lab.count("metadata_cleanup"), res.Refusals, e.out.String(), e.dumpJournal())
	}
	if waited := e.clock.Sub(start); waited < time.Minute {
		t.Fatalf("waited %s for DC3's copy, want the verification timeout (1m)", waited)
	}
	second := findingResult(t, res, "DC3<-DC2")
	if second.Outcome != apply.Pending || len(second.Steps) == 0 || second.Steps[0].Outcome != apply.Pending ||
		!strings.Contains(second.Steps[0].Reason, "DC3's copy still holds it") || !strings.Contains(second.Steps[0].Reason, ids[0]) {
		t.Fatalf("DC3<-DC2: %+v", second)
	}
	if len(res.Refusals) > 0 || !e.journalHas(journal.KindVerify, "precheck:metadata_cleanup", journal.Pending) {
		t.Fatalf("refusals %+v\n%s", res.Refusals, e.dumpJournal())
	}

	// DC3 pulls the deletion; the same plan applied again finds both cleanups done.
	e.lab.lagging = nil
	res = e.run(nil)
	if res.Outcome != apply.Succeeded || e.lab.count("metadata_cleanup") != 1 {
		t.Fatalf("again: outcome %s, cleanup ran %d times %+v\n%s", res.Outcome, e.lab.count("metadata_cleanup"), res.Refusals, e.out.String())
	}
	if st := findingResult(t, res, "DC3<-DC2").Steps; len(st) == 0 || st[0].Outcome != apply.Skipped {
		t.Fatalf("again: DC3<-DC2 steps %+v", st)
	}
}

// keepStaleRepsFrom makes the lab keep, as a real DC does until its KCC runs, the repsFrom
// values that name a source DSA whose NTDS Settings were deleted (the simulated world drops
// them with the object).
func keepStaleRepsFrom(e *env) {
	var stale []facts.Link
	for _, l := range e.lab.links() {
		if l.LastResult != 0 {
			stale = append(stale, l)
		}
	}
	e.lab.mangle = func(_ int, s *facts.Snapshot) {
		for _, l := range stale {
			if facts.NewIndex(s).DCByGUID(l.SourceDSAGUID) != nil {
				continue // not deleted yet
			}
			have := false
			for _, k := range s.Links {
				have = have || (strings.EqualFold(k.Destination, l.Destination) && strings.EqualFold(k.SourceDSAGUID, l.SourceDSAGUID) && k.NC == l.NC)
			}
			if !have {
				s.Links = append(s.Links, l)
			}
		}
	}
}
