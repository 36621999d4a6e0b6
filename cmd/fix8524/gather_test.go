package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/facts"
)

func testEnv(vars map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}, &out, &errb
}

func TestGatherDemo(t *testing.T) {
	out := filepath.Join(t.TempDir(), "facts.json")
	e, _, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"gather", "--demo", "source-cname-missing", "-o", out}); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := facts.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != "sim:source-cname-missing" || len(s.DCs) != 2 || len(s.DNS) == 0 {
		t.Fatalf("facts: source %s, %d DCs, %d DNS", s.Source, len(s.DCs), len(s.DNS))
	}
	if !strings.Contains(stderr.String(), "failing") {
		t.Errorf("no summary on stderr: %s", stderr)
	}
}

func TestGatherFlagErrors(t *testing.T) {
	cases := []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"gather"}, nil, "give --dc HOST"},
		{[]string{"gather", "--dc", "dc1.example.invalid", "--user", "u@example.invalid"}, nil, "needs a password"},
		{[]string{"gather", "--dc", "dc1.example.invalid", "--user", "u@example.invalid", "--tls", "bogus"}, map[string]string{"FIX8524_PASSWORD": "pw-xyz"}, "want ldaps, starttls or none"},
		{[]string{"gather", "--dc", "dc1.example.invalid", "--kerberos", "--ntlm"}, nil, "exclude each other"},
		{[]string{"gather", "--demo", "no-such-scenario"}, nil, "no-such-scenario"},
		{[]string{"gather", "--repadmin-csv", "/nonexistent/file.csv"}, nil, "no such file"},
		{[]string{"gather", "--dc", "x", "--inventory", "/nonexistent/inv.hcl"}, map[string]string{"FIX8524_PASSWORD": "pw-xyz"}, "--inventory"},
	}
	for _, c := range cases {
		e, _, stderr := testEnv(c.vars)
		code := run(context.Background(), e, c.args)
		if code != exitError || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
		if strings.Contains(stderr.String(), "pw-xyz") {
			t.Errorf("%v: password on stderr", c.args)
		}
	}
}

func TestPasswordFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("s3cret\r\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := connFlags{user: "u", passwordFile: p}
	e, _, _ := testEnv(nil)
	pw, err := c.password(e)
	if err != nil || pw != "s3cret" {
		t.Fatalf("password = %q, %v", pw, err)
	}
	e, _, _ = testEnv(map[string]string{"FIX8524_PASSWORD": "fromenv"})
	if pw, _ := c.password(e); pw != "fromenv" {
		t.Fatalf("env password not preferred: %q", pw)
	}
}

func TestTakeOptionalDemoArg(t *testing.T) {
	rest, demo, name := takeOptionalArg([]string{"--demo", "healthy", "-o", "x"}, "demo")
	if !demo || name != "healthy" || strings.Join(rest, " ") != "-o x" {
		t.Fatalf("%v %v %q", rest, demo, name)
	}
	rest, demo, name = takeOptionalArg([]string{"-o", "x", "--demo"}, "demo")
	if !demo || name != "" || len(rest) != 2 {
		t.Fatalf("%v %v %q", rest, demo, name)
	}
	if _, _, name := takeOptionalArg([]string{"--demo=samba-result-2"}, "demo"); name != "samba-result-2" {
		t.Fatal(name)
	}
}
