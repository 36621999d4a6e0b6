package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCompletionScripts: each script names every registered command and every flag its flag
// set defines (read from the commands, so it cannot drift), and is valid for its shell where
// the shell is installed (bash always; zsh, fish, pwsh when present).
func TestCompletionScripts(t *testing.T) {
	specs := commandSpecs(context.Background())
	byName := map[string]cmdSpec{}
	for _, s := range specs {
		byName[s.name] = s
	}
	if len(specs) != len(commands) {
		t.Fatalf("%d specs for %d commands", len(specs), len(commands))
	}
	for cmd, want := range map[string][]string{
		"apply":   {"demo", "clock", "profile", "state", "emergency", "dc-timeout", "winrm-user"},
		"plan":    {"demo", "facts", "full", "o", "var", "profile"},
		"heal":    {"demo", "clock", "policy", "every"},
		"show":    {"full", "state"},
		"journal": {"kind", "demo"},
		"profile": {"force", "profile"},
	} {
		for _, f := range want {
			if !slices.Contains(byName[cmd].flags, f) {
				t.Errorf("%s: flag %s missing from %v", cmd, f, byName[cmd].flags)
			}
		}
	}
	dir := t.TempDir()
	for _, shell := range []struct{ name, check string }{
		{"bash", "bash"}, {"zsh", "zsh"}, {"fish", "fish"}, {"powershell", "pwsh"},
	} {
		c := newCLI(t)
		code, script, stderr := c.run("", "completion", shell.name)
		if code != exitOK {
			t.Fatalf("completion %s: exit %d: %s", shell.name, code, stderr)
		}
		for _, s := range specs {
			if !strings.Contains(script, s.name) {
				t.Errorf("%s: command %s missing", shell.name, s.name)
			}
			for _, f := range s.flags {
				if !strings.Contains(script, dashed(f)) && !(shell.name == "fish" && strings.Contains(script, " "+f)) {
					t.Errorf("%s: %s's flag %s missing", shell.name, s.name, f)
				}
			}
		}
		path := filepath.Join(dir, "fix8524."+shell.name)
		if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
			t.Fatal(err)
		}
		bin, err := exec.LookPath(shell.check)
		if err != nil {
			t.Logf("%s not installed: %s script not checked by its shell", shell.check, shell.name)
			continue
		}
		var cmd *exec.Cmd
		switch shell.name {
		case "powershell":
			cmd = exec.Command(bin, "-NoProfile", "-Command", "$e=$null; [void][System.Management.Automation.Language.Parser]::ParseFile('"+path+"', [ref]$null, [ref]$e); if ($e) { $e; exit 1 }")
		default:
			cmd = exec.Command(bin, "-n", path)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", shell.check, err, out)
		}
	}
	if code, _, stderr := newCLI(t).run("", "completion", "tcsh"); code != exitError || !strings.Contains(stderr, "bash, zsh, fish or powershell") {
		t.Errorf("completion tcsh: exit %d: %s", code, stderr)
	}
}

// TestBashCompletionCompletes runs the bash script's function as bash would.
func TestBashCompletionCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	c := newCLI(t)
	_, script, _ := c.run("", "completion", "bash")
	path := c.write("c.bash", script)
	for _, tc := range []struct {
		words string
		want  []string
	}{
		{"fix8524 ap", []string{"apply", "approve"}},
		{"fix8524 apply --cl", []string{"--clock"}},
		{"fix8524 plan --demo stale", []string{"stale-metadata"}},
		{"fix8524 profile ", []string{"init", "show"}},
		{"fix8524 completion f", []string{"fish"}},
	} {
		words := strings.Split(tc.words, " ")
		arr := make([]string, len(words))
		for i, w := range words {
			arr[i] = "'" + w + "'"
		}
		prog := "source " + path + "; COMP_WORDS=(" + strings.Join(arr, " ") + "); COMP_CWORD=" + strconv.Itoa(len(words)-1) + "; _fix8524; printf '%s\\n' \"${COMPREPLY[@]}\""
		out, err := exec.Command(bash, "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.words, err, out)
		}
		got := strings.Fields(string(out))
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q completes to %v, want %s", tc.words, got, w)
			}
		}
	}
}
