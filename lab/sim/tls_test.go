package sim

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/facts/ldapread"
	"github.com/fix8524/fix8524/lab/scenario"
)

// StartTLS on a simulated DC's plain port (gldap's Request.StartTLS) is a counted handshake; a
// second connection with the same client session cache resumes the session, and the upgraded
// connection serves a bound search.
func TestStartTLSHandshakesAndResumption(t *testing.T) {
	f, _ := startScenario(t, scenario.Default, Options{})
	tc := &tls.Config{RootCAs: f.RootCAs(), ClientSessionCache: tls.NewLRUClientSessionCache(0)}
	for i := 1; i <= 2; i++ {
		c, err := ldapread.Connect(context.Background(), "dc1.contoso.com", "", ldapread.Options{
			TLS: ldapread.TLSStartTLS, TLSConfig: tc, Dial: f.Dial,
			Auth: ldapread.Auth{User: User, Password: f.Password()},
		})
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		root, err := c.ReadRootDSE(context.Background(), false)
		c.Close()
		if err != nil {
			t.Fatalf("connection %d: rootDSE over StartTLS: %v", i, err)
		}
		if !strings.EqualFold(root.DNSHostName, "dc1.contoso.com") {
			t.Fatalf("connection %d: rootDSE dnsHostName %q", i, root.DNSHostName)
		}
		if hs := f.TLSHandshakes.Load(); hs != int64(i) {
			t.Fatalf("after %d StartTLS connections: %d handshakes counted", i, hs)
		}
	}
	if r := f.TLSResumed.Load(); r != 1 {
		t.Fatalf("%d resumed sessions, want 1 (the second StartTLS connection)", r)
	}
}
