package main

import (
	"net"
	"regexp"
	"strings"
	"testing"
)

// silentLDAP is a loopback port that accepts connections and never answers (a DC whose LDAP
// hangs): every connection step must give up within --dc-timeout.
func silentLDAP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// TestDCTimeoutBoundsTheFirstConnection: --dc-timeout bounds the seed DC's TLS handshake
// (once a hard-coded 5 s), and the message says so in words, not 'context deadline exceeded'.
func TestDCTimeoutBoundsTheFirstConnection(t *testing.T) {
	c := newCLI(t)
	port := silentLDAP(t)
	for _, tls := range []string{"ldaps", "starttls"} {
		code, _, stderr := c.run("", "gather", "--dc", "127.0.0.1", "--tls-server-name", "dc1.example.com", "--ldap-port", port, "--tls", tls,
			"--dc-timeout", "1500ms", "-o", c.path("f.json"))
		if code != exitError {
			t.Fatalf("%s: exit %d: %s", tls, code, stderr)
		}
		if strings.Contains(stderr, "deadline exceeded") || !strings.Contains(stderr, "seed DC 127.0.0.1") {
			t.Errorf("%s: %s", tls, stderr)
		}
		if tls == "ldaps" && !strings.Contains(stderr, "no answer within 1.5s") {
			t.Errorf("the handshake is not bounded by --dc-timeout: %s", stderr)
		}
	}
}

var doubled = regexp.MustCompile(`\b([a-z]+): ([a-z]+ )?\b([a-z]+): `)

// TestMessagesSayItOnce: errors carry no doubled words ("fix8524 keygen: keygen:"), no Go type
// names, no bare "context deadline exceeded"; journal --kind names the kinds there are.
func TestMessagesSayItOnce(t *testing.T) {
	c := newCLI(t)
	key := c.path("k")
	if code, _, stderr := c.run("", "keygen", key); code != exitOK {
		t.Fatal(stderr)
	}
	notPlan := c.write("list.json", `[1, 2]`)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"keygen", key}, "fix8524 keygen: " + key + ".pub already exists; not overwriting"},
		{[]string{"keygen", c.path("no/such/dir/k")}, "fix8524 keygen: open "},
		{[]string{"journal", "--state", c.state, "--kind", "bogus"}, `--kind bogus: the journal's kinds are gate, action, verify, lock, note`},
		{[]string{"journal", "--state", c.path("missing")}, "--state " + c.path("missing") + " does not exist"},
		{[]string{"approve", notPlan, "--by", "x", "--state", c.state}, "the document holds a list where an object is expected"},
		{[]string{"plan", "--facts", notPlan}, "the document holds a list where an object is expected"},
		{[]string{"plan", "--facts", c.write("esc.json", `{"format_version": 2, "links": "\u001b[2J\nPS> Remove-Item"}`)}, `"links" holds a string where a list is expected`},
		{[]string{"apply", notPlan, "--state", c.state}, "the document holds a list where an object is expected"},
	}
	for _, tc := range cases {
		code, _, stderr := c.run("", tc.args...)
		if code != exitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d: %s\nwant %q", tc.args, code, stderr, tc.want)
		}
		for _, line := range strings.Split(stderr, "\n") {
			if m := doubled.FindStringSubmatch(line); m != nil && m[1] == m[3] {
				t.Errorf("%q: doubled %q in %q", tc.args, m[1], line)
			}
			if strings.Contains(line, "Go value") || strings.Contains(line, "Go struct") || strings.Contains(line, "deadline exceeded") ||
				strings.Contains(line, " json: ") || strings.ContainsAny(line, "\x1b") || strings.HasPrefix(line, "PS>") {
				t.Errorf("%q: Go internals in %q", tc.args, line)
			}
		}
	}
}
