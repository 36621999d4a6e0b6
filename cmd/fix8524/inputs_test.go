//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fix8524/fix8524/internal/termtext"
)

// hostileCase is one hostile input given to one command: it must be refused (exit 1) quickly,
// allocating little, and say why.
type hostileCase struct {
	name  string
	args  func(dir string) []string
	stdin string
	want  string
	// goesOn: exit 0 is wanted, not 1 (show and report say that the approval beside the plan
	// is unreadable, and go on)
	goesOn bool
}

func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	return path
}

// Every kind of input file: devices, FIFOs, NUL bytes, nesting 100,000 deep and objects that
// decode to far more than their size are refused within generous bounds of time (20 s; each
// took 15-30 s or hung before) and memory (64 MiB allocated in all; they took 1.7-24 GB), and
// none of them crashes (exit 1, never 2).
func TestHostileInputsAreRefusedQuickly(t *testing.T) {
	deep := func(n int) []byte {
		return []byte("x = " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n")
	}
	nul := func(n int) []byte { return make([]byte, n) }
	objects := func(n int) []byte {
		return []byte(`{"format_version":2,"links":[{}` + strings.Repeat(",{}", n) + "]}")
	}
	cases := []hostileCase{
		{name: "facts /dev/zero", args: func(string) []string { return []string{"plan", "--facts", "/dev/zero"} }, want: "character device"},
		{name: "facts FIFO", args: func(d string) []string { return []string{"plan", "--facts", mkfifo(t, filepath.Join(d, "f.json"))} }, want: "FIFO"},
		{name: "facts of empty objects", args: func(d string) []string {
			return []string{"plan", "--facts", writeFile(t, filepath.Join(d, "f.json"), objects(3<<20))}
		}, want: "not a facts file"},
		{name: "facts on stdin, NUL bytes", args: func(string) []string { return []string{"plan", "--facts", "-"} }, stdin: string(nul(4 << 20)), want: "not valid JSON"},
		{name: "playbook dir with a FIFO *.hcl", args: func(d string) []string {
			os.Mkdir(filepath.Join(d, "pb"), 0o700)
			mkfifo(t, filepath.Join(d, "pb", "8524.hcl"))
			return []string{"validate", "--playbooks", filepath.Join(d, "pb")}
		}, want: "FIFO"},
		{name: "playbook nested 100,000 deep", args: func(d string) []string {
			os.Mkdir(filepath.Join(d, "pb"), 0o700)
			writeFile(t, filepath.Join(d, "pb", "8524.hcl"), deep(100000))
			return []string{"validate", "--playbooks", filepath.Join(d, "pb")}
		}, want: "Nested too deeply"},
		{name: "-var-file nested 100,000 deep", args: func(d string) []string {
			return []string{"validate", "-var-file", writeFile(t, filepath.Join(d, "v.hcl"), deep(100000))}
		}, want: "Nested too deeply"},
		{name: "-var nested 100,000 deep", args: func(string) []string {
			return []string{"validate", "-var", "gone_after_days=" + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000)}
		}, want: "Nested too deeply"},
		{name: "-var-file /dev/zero", args: func(string) []string { return []string{"validate", "-var-file", "/dev/zero"} }, want: "character device"},
		{name: "policy of NUL bytes, --json", args: func(d string) []string {
			return []string{"validate", "--json", "--policy", writeFile(t, filepath.Join(d, "p.hcl"), nul(10<<10))}
		}, want: "Not a text file"},
		{name: "policy nested 100,000 deep", args: func(d string) []string {
			return []string{"validate", "--policy", writeFile(t, filepath.Join(d, "p.hcl"), deep(100000))}
		}, want: "Nested too deeply"},
		{name: "heal --policy nested 100,000 deep", args: func(d string) []string {
			return []string{"heal", "--demo", "--state", d, "--policy", writeFile(t, filepath.Join(d, "p.hcl"), deep(100000))}
		}, want: "Nested too deeply"},
		{name: "inventory of NUL bytes", args: func(d string) []string {
			return []string{"gather", "--dc", "dc1.invalid", "--inventory", writeFile(t, filepath.Join(d, "i.hcl"), nul(4<<20))}
		}, want: "Not a text file"},
		{name: "inventory nested 100,000 deep", args: func(d string) []string {
			return []string{"gather", "--dc", "dc1.invalid", "--inventory", writeFile(t, filepath.Join(d, "i.hcl"), deep(100000))}
		}, want: "Nested too deeply"},
		{name: "--ca-file /dev/zero", args: func(string) []string { return []string{"gather", "--dc", "dc1.invalid", "--ca-file", "/dev/zero"} }, want: "character device"},
		{name: "--password-file FIFO", args: func(d string) []string {
			return []string{"gather", "--dc", "dc1.invalid", "--user", "u", "--password-file", mkfifo(t, filepath.Join(d, "pw"))}
		}, want: "FIFO"},
		{name: "--repadmin-csv FIFO", args: func(d string) []string {
			return []string{"gather", "--repadmin-csv", mkfifo(t, filepath.Join(d, "r.csv"))}
		}, want: "FIFO"},
		{name: "apply a FIFO plan", args: func(d string) []string {
			return []string{"apply", mkfifo(t, filepath.Join(d, "p.json")), "--state", d}
		}, want: "FIFO"},
		{name: "approve /dev/zero", args: func(d string) []string { return []string{"approve", "/dev/zero", "--by", "me", "--state", d} }, want: "character device"},
		{name: "--trust-keys /dev/zero", args: func(d string) []string {
			return []string{"apply", writeFile(t, filepath.Join(d, "p.json"), []byte("{}")), "--state", d, "--trust-keys", "/dev/zero"}
		}, want: "character device"},
		{name: "plan -o FIFO", args: func(d string) []string {
			return []string{"plan", "--demo", "-o", mkfifo(t, filepath.Join(d, "p.json"))}
		}, want: "not a regular file"},
		{name: "gather -o FIFO", args: func(d string) []string {
			return []string{"gather", "--demo", "-o", mkfifo(t, filepath.Join(d, "f.json"))}
		}, want: "not a regular file"},
		// the profile (profile show, and every command that reads one)
		{name: "profile FIFO", args: func(d string) []string {
			return []string{"profile", "show", "--profile", mkfifo(t, filepath.Join(d, "profile.hcl"))}
		}, want: "FIFO"},
		{name: "profile /dev/zero", args: func(string) []string { return []string{"gather", "--profile", "/dev/zero"} }, want: "character device"},
		{name: "profile of NUL bytes", args: func(d string) []string {
			return []string{"gather", "--profile", writeFile(t, filepath.Join(d, "profile.hcl"), nul(1<<20))}
		}, want: "Not a text file"},
		{name: "profile nested 100,000 deep", args: func(d string) []string {
			return []string{"profile", "show", "--profile", writeFile(t, filepath.Join(d, "profile.hcl"), deep(100000))}
		}, want: "Nested too deeply"},
		// show and report: the plan, and the files beside it
		{name: "show a FIFO plan", args: func(d string) []string { return []string{"show", mkfifo(t, filepath.Join(d, "p.json"))} }, want: "FIFO"},
		{name: "show /dev/zero", args: func(string) []string { return []string{"show", "/dev/zero"} }, want: "character device"},
		{name: "show a plan beside a FIFO approval", args: func(d string) []string {
			p := demoPlanFile(t, d)
			mkfifo(t, p+".approval.json")
			return []string{"show", p, "--state", d}
		}, want: "Approval: unreadable: read approval: ", goesOn: true},
		{name: "show a plan beside FIFO per-action approvals", args: func(d string) []string {
			p := demoPlanFile(t, d)
			mkfifo(t, p+".approve-each.json")
			return []string{"show", p, "--state", d}
		}, want: "per-action approvals: unreadable", goesOn: true},
		{name: "report a FIFO plan", args: func(d string) []string { return []string{"report", mkfifo(t, filepath.Join(d, "p.json"))} }, want: "FIFO"},
		{name: "report /dev/zero", args: func(string) []string { return []string{"report", "/dev/zero"} }, want: "character device"},
		{name: "report a plan beside a FIFO approval, as Markdown", args: func(d string) []string {
			p := demoPlanFile(t, d)
			mkfifo(t, p+".approval.json")
			return []string{"report", p, "--format", "markdown"}
		}, want: "FIFO", goesOn: true},
		{name: "report -o FIFO", args: func(d string) []string {
			return []string{"report", demoPlanFile(t, d), "-o", mkfifo(t, filepath.Join(d, "r.html"))}
		}, want: "not a regular file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := c.args(dir)
			var out, errb bytes.Buffer
			e := &env{stdin: strings.NewReader(c.stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			done := make(chan int, 1)
			go func() { done <- run(context.Background(), e, args) }()
			var code int
			select {
			case code = <-done:
			case <-time.After(60 * time.Second):
				t.Fatalf("%v did not return within 60 s", args)
			}
			el := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: exit %d in %v, %d KiB allocated", c.name, code, el.Round(time.Millisecond), alloc>>10)
			want := exitError
			if c.goesOn {
				want = exitOK
			}
			if code != want {
				t.Errorf("exit %d, want %d\n%s\n%s", code, want, termtext.Clip(out.String(), 2000), termtext.Clip(errb.String(), 2000))
			}
			if !strings.Contains(out.String()+errb.String(), c.want) {
				t.Errorf("output lacks %q:\n%s\n%s", c.want, termtext.Clip(out.String(), 2000), termtext.Clip(errb.String(), 2000))
			}
			if el > 20*time.Second {
				t.Errorf("took %v", el)
			}
			if alloc > 64<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if n := out.Len() + errb.Len(); n > 64<<10 {
				t.Errorf("wrote %d bytes", n)
			}
		})
	}
}

// demoPlanFile writes a plan of the default demo scenario (made from its facts, offline) to
// dir/p.json, once per test binary.
func demoPlanFile(t *testing.T, dir string) string {
	t.Helper()
	demoPlanOnce.Do(func() {
		var out, errb bytes.Buffer
		f := scenarioFactsFile(t, "source-cname-missing")
		p := filepath.Join(filepath.Dir(f), "demo-plan.json")
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		if code := run(context.Background(), e, []string{"plan", "--facts", f, "-o", p}); code != exitProposed {
			t.Fatalf("plan: exit %d: %s", code, errb.String())
		}
		demoPlanBytes = []byte(mustRead(t, p))
	})
	return writeFile(t, filepath.Join(dir, "p.json"), demoPlanBytes)
}

var (
	demoPlanOnce  sync.Once
	demoPlanBytes []byte
)

// The plain-LDAP warning names the port the password is sent to.
func TestTLSNoneWarningNamesThePort(t *testing.T) {
	for port, want := range map[int]string{0: "port 389", 3389: "port 3389"} {
		c := connFlags{user: "u", tlsMode: "none", ldapPort: port}
		e, _, stderr := testEnv(map[string]string{"FIX8524_PASSWORD": "pw"})
		if _, err := c.ldapOptions(e, true); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stderr.String(), "clear text over LDAP "+want+".") {
			t.Errorf("--ldap-port %d: %q", port, stderr.String())
		}
	}
}
