package journal

import (
	"errors"
	"testing"
)

// Approval use: unused until a run acts under it; an interrupted use (no finish, or pending)
// admits a resume; a finished use refuses every later one.
func TestApprovalUse(t *testing.T) {
	s, _ := openTest(t)
	const d = "sha256:aaaa"
	if u, err := s.ApprovalUse(d); err != nil || u.State != UseNone {
		t.Fatalf("fresh: %+v %v", u, err)
	}
	e := Entry{Forest: "contoso.com", PlanFingerprint: "sha256:plan"}
	b1, err := s.UseApproval(e, d)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := s.ApprovalUse(d); u.State != UseInterrupted || u.BeginID != b1 {
		t.Fatalf("begun, never finished (kill -9): %+v", u)
	}
	b2, err := s.UseApproval(e, d) // the resume
	if err != nil {
		t.Fatalf("resume refused: %v", err)
	}
	if _, err := s.FinishApprovalUse(b2, Pending, "verification pending"); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.ApprovalUse(d); u.State != UseInterrupted || u.Outcome != Pending {
		t.Fatalf("pending: %+v", u)
	}
	b3, err := s.UseApproval(e, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishApprovalUse(b3, Succeeded, "done"); err != nil {
		t.Fatal(err)
	}
	u, _ := s.ApprovalUse(d)
	if u.State != UseSpent || u.Outcome != Succeeded {
		t.Fatalf("finished: %+v", u)
	}
	if _, err := s.UseApproval(e, d); !errors.Is(err, ErrApprovalSpent) {
		t.Fatalf("replay: %v, want ErrApprovalSpent", err)
	}
	if _, err := s.FinishApprovalUse(1_000_000, Succeeded, ""); err == nil {
		t.Fatal("finishing a record that does not exist succeeded")
	}
	if u, _ := s.ApprovalUse("sha256:other"); u.State != UseNone {
		t.Fatalf("another approval: %+v", u)
	}
}
