package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/lab/demo"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
)

// For every embedded scenario, the facts `plan --demo` gathers and the facts `apply --demo`'s
// drift check gathers (demo.Lazy, as runApply builds it, through gather.Complete) give the
// same findings with the same per-finding fingerprints: a demo plan is never refused for drift
// it does not have. (stale-metadata was: plan --demo stamped the facts with the wall clock, the
// drift check with the scenario's, and days_since_success differed.)
func TestDemoPlanHasNoDriftForApply(t *testing.T) {
	var pf playbookFlags
	pb, _, diags := pf.load()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, name := range scenario.Names() {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// `plan --demo NAME -o plan.json`, as a user runs it.
			path := filepath.Join(t.TempDir(), "plan.json")
			e, _, stderr := testEnv(nil)
			if code := run(ctx, e, []string{"plan", "--demo", name, "-o", path}); code != exitOK && code != exitProposed {
				t.Fatalf("plan --demo %s: exit %d: %s", name, code, stderr)
			}
			planned, _, err := plan.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			// What `apply --demo plan.json` gathers for its drift check.
			scName, ok := demo.ScenarioOf(planned.Facts.Source)
			if !ok || scName != name {
				t.Fatalf("plan facts source %q does not name the demo scenario %q", planned.Facts.Source, name)
			}
			lz := &demo.Lazy{Name: scName}
			defer lz.Close()
			s, err := gather.Complete(ctx, lz, pb.Needs)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if !planned.Facts.GatheredAt.Equal(s.GatheredAt) {
				t.Errorf("gathered_at: plan --demo %s, drift check %s (both must be the scenario's clock)", planned.Facts.GatheredAt, s.GatheredAt)
			}
			byID := map[string]string{}
			for _, f := range fresh.Findings {
				byID[f.ID] = f.Fingerprint
			}
			if len(fresh.Findings) != len(planned.Findings) {
				t.Errorf("plan --demo has %d finding(s), the drift check's plan %d", len(planned.Findings), len(fresh.Findings))
			}
			for _, f := range planned.Findings {
				got, ok := byID[f.ID]
				switch {
				case !ok:
					t.Errorf("%s: the drift check's facts do not lead to this finding", f.ID)
				case got != f.Fingerprint:
					t.Errorf("%s: fingerprint %s in the plan, %s on the drift check's facts (false drift)", f.ID, f.Fingerprint, got)
				}
			}
			if fresh.Fingerprint != planned.Fingerprint {
				t.Errorf("plan fingerprint %s, drift check's %s", planned.Fingerprint, fresh.Fingerprint)
			}
		})
	}
}

// The stale-metadata demo as a user runs it: plan --demo, approve both cleanups of DC2's NTDS
// Settings (one per destination's copy), apply --demo. The drift check passes, the first
// cleanup deletes the object on the simulated DC1 over LDAP (tree delete) and is verified by
// the playbook's stale_dsa_removed check on facts read after the delete, the server and
// computer objects it leaves are listed, and the second cleanup finds nothing left on DC3's
// copy: re-checked and skipped, not refused.
func TestStaleMetadataDemoApply(t *testing.T) {
	c := newCLI(t)
	p := c.path("s.json")
	if code, _, stderr := c.run("", "plan", "--demo", "stale-metadata", "-o", p); code != exitProposed {
		t.Fatalf("plan --demo stale-metadata: exit %d: %s", code, stderr)
	}
	code, out, stderr := c.run("", "approve", p, "--by", "me", "--state", c.state,
		"--allow-each", "DC1<-DC2/metadata_cleanup", "--allow-each", "DC3<-DC2/metadata_cleanup")
	if code != exitOK {
		t.Fatalf("approve: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = c.run("", "apply", p, "--demo", "--clock", inWindow, "--state", c.state)
	if code != exitOK {
		t.Fatalf("apply --demo: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"DC1<-DC2: same evidence", "DC3<-DC2: same evidence",
		"is gone from DC1's copy", "stale_dsa_removed ok",
		"leftover: server object of DC2 remains", "leftover: computer object of DC2 remains",
		"[skipped] metadata_cleanup on DC3", "no longer in DC3's copy",
		"1 skipped as already in effect",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "refused") {
		t.Errorf("apply output mentions a refusal:\n%s", out)
	}
}
