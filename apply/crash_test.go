package apply_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/lab/scenarios"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

// The crash child is this test binary re-executed with these variables set. It applies the
// plan in FIX8524_CRASH_DIR and, once the named action has taken effect (and before apply
// could record its end), writes a marker file and waits to be killed.
const (
	envDir      = "FIX8524_CRASH_DIR"
	envScenario = "FIX8524_CRASH_SCENARIO"
	envSource   = "FIX8524_CRASH_SOURCE"
	envAction   = "FIX8524_CRASH_ACTION"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envDir); dir != "" {
		os.Exit(crashChild(dir))
	}
	os.Exit(m.Run())
}

func crashChild(dir string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	src, _ := os.ReadFile(os.Getenv(envSource))
	l := &lab{dir: dir, name: os.Getenv(envScenario), src: string(src), logPath: filepath.Join(dir, "world.log"), runs: map[string]int{}}
	l.load()
	target := os.Getenv(envAction)
	l.after = func(a plan.Action) {
		if a.Name == target {
			_ = os.WriteFile(filepath.Join(dir, "mid-action"), []byte(a.ID), 0o600)
			select {} // killed here: the effect is in place, its end is not journaled
		}
	}
	p, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		return fail(errors.New(diags.Error()))
	}
	planPath := filepath.Join(dir, "plan.json")
	b, err := os.ReadFile(planPath)
	if err != nil {
		return fail(err)
	}
	pl, err := plan.Parse(b)
	if err != nil {
		return fail(err)
	}
	j, err := journal.Open(filepath.Join(dir, "state"))
	if err != nil {
		return fail(err)
	}
	_, err = apply.Run(context.Background(), apply.Options{
		Plan: pl, PlanBytes: b, PlanPath: planPath, Playbook: p,
		Approvals: apply.FileApprovals{PlanPath: planPath}, Facts: l, Exec: l, Journal: j,
		Now: func() time.Time { return inWindow },
	})
	if err != nil {
		return fail(err)
	}
	return fail(errors.New("the apply finished without reaching " + target))
}

func TestResumeAfterKill(t *testing.T) {
	cases := []struct {
		name, scenario, src, action, each string
	}{
		{name: "destructive cleanup", src: fmt.Sprintf(staleScenario, "", "", ""), action: "metadata_cleanup", each: cleanupID},
		{name: "netlogon registration", scenario: defaultScenario, action: "register_cname"},
	}
	// Samba: one pull per failing NC, all begun before they are sent side by side: killed
	// while they run, every one is left open, and the resume re-checks each by reading the link.
	samba, err := scenarios.FS.ReadFile("samba-result-2.hcl")
	if err != nil {
		t.Fatal(err)
	}
	samba = bytes.Replace(samba, []byte(`unregistered = ["cname", "host"]`), []byte(`unregistered = ["cname"]`), 1)
	cases = append(cases, struct{ name, scenario, src, action, each string }{name: "samba pulls", src: string(samba), action: "retry_replication"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.scenario, c.src)
			if c.each != "" {
				e.approve(e.now, time.Hour, nil, c.each)
			} else {
				e.approve(e.now, time.Hour, nil)
			}
			srcPath := filepath.Join(e.dir, "scenario.hcl")
			os.WriteFile(srcPath, []byte(c.src), 0o600)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), envDir+"="+e.dir, envScenario+"="+c.scenario, envSource+"="+srcPath, envAction+"="+c.action)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			marker := filepath.Join(e.dir, "mid-action")
			for {
				if _, err := os.Stat(marker); err == nil {
					break
				}
				select {
				case err := <-exited:
					t.Fatalf("the child exited before reaching %s: %v\n%s", c.action, err, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			<-exited

			un, err := e.j.Unfinished(apply.ForestOf(e.plan))
			if err != nil || len(un) == 0 {
				t.Fatalf("unfinished after kill -9: %+v %v\n%s", un, err, e.dumpJournal())
			}
			for _, u := range un {
				if u.Name != c.action {
					t.Fatalf("unfinished after kill -9: %+v, want only %s\n%s", un, c.action, e.dumpJournal())
				}
			}
			switch {
			case c.action != "retry_replication" && len(un) != 1:
				t.Fatalf("%d unfinished %s, want 1\n%s", len(un), c.action, e.dumpJournal())
			case c.action == "retry_replication" && len(un) < 2:
				// the first pull never returns: only pulls begun before any was sent are open
				t.Fatalf("%d unfinished pulls, want every failing NC's (begun before any is sent)\n%s", len(un), e.dumpJournal())
			}
			e.lab.load() // the child's change is in the world

			// The dead run's lock still blocks, showing its holder; it is released only explicitly.
			res := e.run(nil)
			if res.Outcome != apply.Refused || res.Refusals[0].Gate != "lock" ||
				!strings.Contains(res.Refusals[0].Reason, "no longer running") || !strings.Contains(res.Refusals[0].Do, "--break-lock") {
				t.Fatalf("apply over a dead run's lock: %s %+v", res.Outcome, res.Refusals)
			}
			if _, err := e.j.BreakLock(apply.ForestOf(e.plan), "tester", "the previous run was killed"); err != nil {
				t.Fatal(err)
			}

			res = e.run(nil)
			want := apply.Succeeded
			if c.action == "retry_replication" {
				want = apply.Nothing // the pulls took effect: the link is healthy, its open steps are re-checked
			}
			if res.Outcome != want {
				t.Fatalf("resume: %s %+v\n%s\n%s", res.Outcome, res.Refusals, e.out.String(), e.dumpJournal())
			}
			if n := e.lab.count(c.action); n != 0 {
				t.Fatalf("the resumed apply ran %s again (%d times) although it had taken effect", c.action, n)
			}
			if !e.journalHas(journal.KindVerify, journal.RecheckPrefix+c.action, journal.Succeeded) {
				t.Fatalf("the re-check is not in the journal:\n%s", e.dumpJournal())
			}
			if un, _ := e.j.Unfinished(apply.ForestOf(e.plan)); len(un) != 0 {
				t.Fatalf("still unfinished after the resume: %+v", un)
			}
			// The resume accepted the killed run's approval and spent it: a replay is refused.
			refusedAsUsed(t, e, e.run(nil), "approval")
		})
	}
}
