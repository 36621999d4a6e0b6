package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfile: profile init writes a commented profile; its settings stand in for the flags not
// given (paths relative to the profile); flags win; secrets and typos are refused with
// file:line:col; the demo ignores it.
func TestProfile(t *testing.T) {
	c := newCLI(t)
	c.vars["XDG_CONFIG_HOME"] = c.path("config")
	c.vars["FIX8524_WINRM_PASSWORD"] = "not-used" // the profile names a WinRM user
	path := filepath.Join(c.path("config"), "fix8524", "profile.hcl")
	code, out, stderr := c.run("", "profile", "init")
	if code != exitOK || !strings.Contains(out, "Wrote "+path) {
		t.Fatalf("profile init: exit %d\n%s\n%s", code, out, stderr)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the profile: %v %v", fi, err)
	}
	if !strings.Contains(mustRead(t, path), "# dc = \"dc1.contoso.com\"") {
		t.Errorf("the template does not show the seed DC setting:\n%s", mustRead(t, path))
	}
	if code, _, stderr := c.run("", "profile", "init"); code != exitError || !strings.Contains(stderr, "not overwriting") {
		t.Errorf("a second init: exit %d: %s", code, stderr)
	}
	if code, out, _ := c.run("", "profile", "show"); code != exitOK || !strings.Contains(out, "sets nothing") {
		t.Errorf("profile show of the template: %s", out)
	}

	port := silentLDAP(t)
	write := func(src string) {
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("dc              = \"127.0.0.1\"\nldap_port       = " + port + "\ntls_server_name = \"dc1.example.com\"\ndc_timeout      = \"1500ms\"\nstate           = \"st\"\n\nwinrm {\n  user = \"CONTOSO\\\\admin\"\n}\n")
	_, out, _ = c.run("", "profile", "show")
	for _, want := range []string{"Profile " + path, "dc_timeout", "1500ms", "(--dc-timeout)", filepath.Join(c.path("config"), "fix8524", "st"), "winrm.user", `CONTOSO\admin`} {
		if !strings.Contains(out, want) {
			t.Errorf("profile show lacks %q:\n%s", want, out)
		}
	}
	// gather with no flags reads the profile's seed DC, port and timeout...
	code, _, stderr = c.run("", "gather", "-o", c.path("f.json"))
	if code != exitError || !strings.Contains(stderr, "seed DC 127.0.0.1") || !strings.Contains(stderr, "no answer within 1.5s") {
		t.Errorf("gather from the profile: exit %d: %s", code, stderr)
	}
	// ... and a flag wins over it.
	_, _, stderr = c.run("", "gather", "-o", c.path("f.json"), "--dc-timeout", "1s")
	if !strings.Contains(stderr, "no answer within 1s") {
		t.Errorf("--dc-timeout did not win over the profile: %s", stderr)
	}
	// The state directory, relative to the profile.
	if err := os.Mkdir(filepath.Join(c.path("config"), "fix8524", "st"), 0o700); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := c.run("", "journal"); code != exitOK || !strings.Contains(out, filepath.Join(c.path("config"), "fix8524", "st", "journal.db")) {
		t.Errorf("journal with the profile's state: exit %d\n%s\n%s", code, out, stderr)
	}
	// The demo ignores the profile (its seed DC would make a live plan).
	if code, _, stderr := c.run("", "plan", "--demo"); code != exitProposed {
		t.Errorf("plan --demo with a profile: exit %d: %s", code, stderr)
	}
	// --profile none reads none; a --profile that does not exist is an error.
	if code, _, stderr := c.run("", "gather", "--profile", "none"); code != exitError || !strings.Contains(stderr, "give --dc HOST") {
		t.Errorf("--profile none: exit %d: %s", code, stderr)
	}
	if code, _, stderr := c.run("", "journal", "--profile", c.path("nope.hcl")); code != exitError || !strings.Contains(stderr, "Cannot read the profile") {
		t.Errorf("a missing --profile: exit %d: %s", code, stderr)
	}

	for _, bad := range []struct{ src, want string }{
		{"dc = \"x\"\npassword = \"hunter2\"\n", path + ":2:1: error: A profile holds no secrets"},
		{"winrm {\n  password = \"hunter2\"\n}\n", path + ":2:3: error: A profile holds no secrets"},
		{"dc = \"x\"\nseed = \"y\"\n", path + ":2:1: error: Unsupported argument"},
		{"dc_timeout = \"soon\"\n", path + ":1:14: dc_timeout = \"soon\": not a duration"},
		{"ldap_port = \"x\"\n", path + ":1:13: error: Invalid value for ldap_port: ldap_port must be a whole number"},
	} {
		write(bad.src)
		code, _, stderr := c.run("", "gather")
		if code != exitError || !strings.Contains(stderr, bad.want) {
			t.Errorf("%q: exit %d: %s\nwant %q", bad.src, code, stderr, bad.want)
		}
		if strings.Contains(stderr, "hunter2") {
			t.Errorf("the secret was echoed: %s", stderr)
		}
	}
}
