package journal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The helper process: the test binary re-executed with FIX8524_JOURNAL_HELPER set runs one
// scenario against the journal in FIX8524_JOURNAL_DIR, talking over stdin/stdout.
const (
	helperEnv    = "FIX8524_JOURNAL_HELPER"
	helperDirEnv = "FIX8524_JOURNAL_DIR"
)

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process only")
	}
	dir := os.Getenv(helperDirEnv)
	out := os.Stdout
	in := bufio.NewReader(os.Stdin)
	fail := func(format string, args ...any) {
		fmt.Fprintf(out, "error: "+format+"\n", args...)
		os.Exit(0)
	}
	switch mode {
	case "begin-and-hang":
		s, err := Open(dir)
		if err != nil {
			fail("%v", err)
		}
		s.SetRunID("run-killed")
		id, err := s.BeginAction(Entry{Forest: "corp", Name: "cleanup-ntds-settings", Target: "dc-dead",
			Link: "dc1<-dc-dead", PlanFingerprint: "fp-kill", Command: "tree delete CN=NTDS Settings,..."})
		if err != nil {
			fail("%v", err)
		}
		fmt.Fprintf(out, "begun %d\n", id)
		io.Copy(io.Discard, in) // hang until killed
		os.Exit(0)
	case "lock":
		s, err := Open(dir)
		if err != nil {
			fail("%v", err)
		}
		fmt.Fprintln(out, "ready")
		if _, err := in.ReadString('\n'); err != nil {
			fail("no go signal: %v", err)
		}
		forest := os.Getenv("FIX8524_JOURNAL_FOREST")
		_, err = s.AcquireLock(forest, CurrentHolder(), time.Hour)
		switch {
		case err == nil:
			fmt.Fprintln(out, "acquired")
		case errors.Is(err, ErrLocked):
			fmt.Fprintln(out, "locked: "+err.Error())
		default:
			fail("%v", err)
		}
		os.Exit(0)
	default:
		if runHelperMode(mode, dir, out) {
			os.Exit(0)
		}
		fail("unknown helper mode %q", mode)
	}
}

func helperCmd(t *testing.T, mode, dir string, extraEnv ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDirEnv+"="+dir)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestKill9LeavesUnfinishedAction: a process begins an action and is killed with SIGKILL
// before finishing it; the next opener sees the action as unfinished, re-checks it and
// resolves it.
func TestKill9LeavesUnfinishedAction(t *testing.T) {
	dir := t.TempDir()
	cmd := helperCmd(t, "begin-and-hang", dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "begun ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q (%v)", line, err)
	}
	id, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "begun ")), 10, 64)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix, TerminateProcess on Windows
		t.Fatal(err)
	}
	werr := cmd.Wait()
	if werr == nil || cmd.ProcessState.Success() {
		t.Fatalf("child was not killed: %v", werr)
	}

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	un, err := s.Unfinished("corp")
	if err != nil {
		t.Fatal(err)
	}
	if len(un) != 1 || un[0].ID != id || un[0].Name != "cleanup-ntds-settings" || un[0].RunID != "run-killed" {
		t.Fatalf("Unfinished after kill -9: %+v", un)
	}
	st, err := s.Step("fp-kill", "dc1<-dc-dead", "cleanup-ntds-settings")
	if err != nil || !st.NeedsRecheck() || st.BeginID != id {
		t.Fatalf("step after kill -9: %+v %v", st, err)
	}
	// The resuming apply re-checks and finds the object already gone: the step is done.
	if _, err := s.MarkRechecked(id, Recheck{Outcome: Succeeded, Verification: "NTDS Settings object absent"}); err != nil {
		t.Fatal(err)
	}
	if un, _ := s.Unfinished("corp"); len(un) != 0 {
		t.Fatalf("still unfinished after recheck: %+v", un)
	}
	if st, _ := s.Step("fp-kill", "dc1<-dc-dead", "cleanup-ntds-settings"); !st.Done() {
		t.Fatalf("step not done after recheck: %+v", st)
	}
}

// TestLockRaceBetweenProcesses: processes started together race for one forest's lock;
// exactly one gets it and the others see the holder.
func TestLockRaceBetweenProcesses(t *testing.T) {
	dir := t.TempDir()
	// Create the schema first so the race is about the lock, not about creating tables.
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for round := 0; round < 2; round++ {
		forest := fmt.Sprintf("corp-%d", round)
		const n = 3
		type child struct {
			cmd *exec.Cmd
			in  io.WriteCloser
			out *bufio.Reader
		}
		var kids []child
		for i := 0; i < n; i++ {
			cmd := helperCmd(t, "lock", dir, "FIX8524_JOURNAL_FOREST="+forest)
			in, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			kids = append(kids, child{cmd, in, bufio.NewReader(out)})
		}
		for _, k := range kids {
			if line, err := k.out.ReadString('\n'); err != nil || line != "ready\n" {
				t.Fatalf("child not ready: %q %v", line, err)
			}
		}
		for _, k := range kids {
			io.WriteString(k.in, "go\n")
		}
		acquired, locked := 0, 0
		for _, k := range kids {
			line, _ := k.out.ReadString('\n')
			k.in.Close()
			k.cmd.Wait()
			switch {
			case line == "acquired\n":
				acquired++
			case strings.HasPrefix(line, "locked: ") && strings.Contains(line, " pid "):
				locked++
			default:
				t.Errorf("child said %q", line)
			}
		}
		if acquired != 1 || locked != n-1 {
			t.Fatalf("round %d: %d acquired, %d locked", round, acquired, locked)
		}
		entries, _ := s.List(Filter{Kinds: []Kind{KindLock}, Forest: forest})
		if len(entries) != n {
			t.Fatalf("round %d: %d lock entries, want %d", round, len(entries), n)
		}
	}
}
