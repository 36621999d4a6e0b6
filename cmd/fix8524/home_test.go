package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDemoNeverTouchesHome: the README's walk-through on the demo, without --state, writes
// nothing in the home directory or the XDG directories (all pointed at empty directories, in
// the CLI's environment and in the process's): its state goes to the demo's temporary
// directory, which every step names. A file that is no plan creates nothing at all.
func TestDemoNeverTouchesHome(t *testing.T) {
	c := newCLI(t)
	watched := map[string]string{"HOME": c.vars["HOME"]}
	for _, k := range []string{"XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "LOCALAPPDATA", "APPDATA"} {
		watched[k] = c.path(strings.ToLower(k))
	}
	for k, d := range watched {
		if k != "HOME" {
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
		}
		c.vars[k] = d
		t.Setenv(k, d) // code that reads the process environment directly is caught too
	}
	t.Setenv("TMPDIR", c.vars["TMPDIR"])
	demoDir := filepath.Join(c.vars["TMPDIR"], "fix8524-demo-"+strconv.Itoa(os.Getuid()))

	garbage := c.write("garbage.json", "[]")
	for _, args := range [][]string{{"apply", garbage}, {"apply", garbage, "--demo"}} {
		code, _, stderr := c.run("", args...)
		if code != exitError || strings.Contains(stderr, "Go value") {
			t.Errorf("%q: exit %d: %s", args, code, stderr)
		}
	}
	if entries, _ := os.ReadDir(c.vars["TMPDIR"]); len(entries) > 0 {
		t.Fatalf("apply garbage.json created %s", entries[0].Name())
	}

	p := c.path("p.json")
	steps := []struct {
		code int
		args []string
	}{
		{exitProposed, []string{"plan", "--demo", "-o", p}},
		{exitOK, []string{"show", p}},
		{exitOK, []string{"approve", p, "--by", "alice"}},
		{exitOK, []string{"apply", p, "--demo", "--clock", inWindow}},
		{exitOK, []string{"journal", "--demo"}},
		{exitRefused, []string{"heal", "--demo", "--clock", inWindow}}, // held: the apply just ran these actions (cooldown)
		{exitOK, []string{"gather", "--demo", "-o", c.path("f.json")}},
		{exitOK, []string{"validate"}},
		// Reading the (absent) default journal creates no state directory.
		{exitOK, []string{"journal"}},
		{exitOK, []string{"journal", "--lock-status", "contoso.com"}},
		{exitError, []string{"journal", "--kind", "bogus"}},
	}
	for _, s := range steps {
		code, out, stderr := c.run("", s.args...)
		if code != s.code {
			t.Fatalf("%q: exit %d, want %d\n%s\n%s", s.args, code, s.code, out, stderr)
		}
		if s.args[0] == "approve" || s.args[0] == "apply" || s.args[0] == "heal" {
			if !strings.Contains(out, demoDir) {
				t.Errorf("%q does not say where the demo's state is (%s):\n%s", s.args, demoDir, out)
			}
		}
	}
	for k, d := range watched {
		if entries, err := os.ReadDir(d); err != nil || len(entries) > 0 {
			t.Errorf("$%s (%s) was written: %v %v", k, d, entries, err)
		}
	}
	if _, err := os.Stat(filepath.Join(demoDir, "journal.db")); err != nil {
		t.Errorf("the demo's journal is not in %s: %v", demoDir, err)
	}
}
