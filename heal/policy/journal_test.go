package policy_test

import (
	"testing"
	"time"

	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/journal"
)

// TestJournalHistory runs Decide and the breaker against a real journal: cooldown and the DC
// cap from recorded actions, the breaker tripping on recorded failed verifications, staying
// open once recorded, and closing only by a recorded reset.
func TestJournalHistory(t *testing.T) {
	st, err := journal.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const forest = "contoso.com"
	h := policy.JournalHistory{Store: st, Forest: forest}
	now := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	p := policy.Default()

	begin := func(target, action string, at time.Time) {
		t.Helper()
		if _, err := st.BeginAction(journal.Entry{Forest: forest, Name: action, Target: target, Time: at, Link: "DC1<-DC2"}); err != nil {
			t.Fatal(err)
		}
	}
	begin("DC2", "register_cname", now.Add(-10*time.Minute))
	begin("DC3", "register_host", now.Add(-3*time.Hour))
	begin("DC9", "register_host", now.Add(-30*time.Hour)) // outside 24h
	begin("DC5", "register_host", now.Add(-time.Minute))
	if _, err := st.BeginAction(journal.Entry{Forest: "other.example", Name: "register_cname", Target: "DC4", Time: now}); err != nil {
		t.Fatal(err)
	}

	vs := policy.Decide(p, []policy.Candidate{
		{ID: "a", Action: "register_cname", Risk: "low", Target: "DC2"},
		{ID: "b", Action: "register_cname", Risk: "low", Target: "DC4"},
		{ID: "c", Action: "retry_replication", Risk: "low", Target: "DC3"},
	}, h, now)
	// DC2, DC3 and DC5 were touched within 24h: a new DC is over the cap of 2, DC3 is not new.
	want := []string{policy.HoldCooldown, policy.HoldDCCap, ""}
	for i, v := range vs {
		if v.Hold != want[i] {
			t.Errorf("%s: hold %q (%s), want %q", v.Candidate.ID, v.Hold, v.Reason, want[i])
		}
	}

	fail := func(at time.Time) {
		t.Helper()
		if _, err := st.Record(journal.Entry{Kind: journal.KindVerify, Outcome: journal.Failed, Forest: forest,
			Name: "cname_on_source_dns", Target: "DC2", Time: at}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		fail(now.Add(-time.Duration(i+1) * time.Hour))
	}
	bs, err := policy.EvaluateBreaker(p, h, now)
	if err != nil || !bs.Open || !bs.Tripped || bs.Failures != 3 {
		t.Fatalf("breaker %+v, %v", bs, err)
	}
	if _, err := st.OpenBreaker(forest, bs.Reason, "heal"); err != nil {
		t.Fatal(err)
	}
	later := now.Add(30 * 24 * time.Hour)
	if bs, err = policy.EvaluateBreaker(p, h, later); err != nil || !bs.Open || bs.Tripped {
		t.Fatalf("a month later: %+v, %v", bs, err)
	}
	if _, err := st.ResetBreaker(forest, "DNS fixed, CHG-1", "alice"); err != nil {
		t.Fatal(err)
	}
	// The reset is stamped with the real clock; evaluate just after it.
	b, _ := st.Breaker(forest)
	if bs, err = policy.EvaluateBreaker(p, h, b.Since.Add(time.Minute)); err != nil || bs.Open {
		t.Fatalf("after reset: %+v, %v", bs, err)
	}
}
