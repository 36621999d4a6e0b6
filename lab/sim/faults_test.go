package sim

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/facts/ldapread"
	"github.com/fix8524/fix8524/lab/scenario"
)

func startScenario(t *testing.T, name string, o Options) (*Forest, *scenario.World) {
	t.Helper()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	w := sc.NewWorld()
	f, err := Start(context.Background(), w, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, w
}

// The equality test can fail: a black-holed DC changes the gathered facts.
func TestComparisonDetectsDifferences(t *testing.T) {
	f, w := startScenario(t, scenario.Default, Options{Blackhole: map[string]bool{"DC2": true}})
	o, err := f.GatherOptions("sim:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	o.DCTimeout = 300 * time.Millisecond
	got, err := gather.Gather(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	qs, ps := gather.StandardNeeds(got)
	if normalize(got) == normalize(w.Facts(qs, ps)) {
		t.Fatal("a black-holed DC went unnoticed by the comparison")
	}
	dc2 := facts.NewIndex(got).DCByName("DC2")
	if dc2.OwnDSAGUID.Known || !strings.Contains(dc2.OwnDSAGUID.Why(), "does not answer LDAP") || dc2.Inbound.Known {
		t.Errorf("DC2 own GUID = %+v, inbound = %+v", dc2.OwnDSAGUID, dc2.Inbound)
	}
}

// Stalling, garbage-answering and black-holed DCs get unknown facts with reasons, and the gather
// finishes within its deadline.
func TestFaultyDCs(t *testing.T) {
	for _, fault := range []string{"stall", "garbage", "blackhole"} {
		t.Run(fault, func(t *testing.T) {
			o := Options{}
			switch fault {
			case "stall":
				o.Stall = map[string]bool{"DC2": true}
			case "garbage":
				o.Garbage = map[string]bool{"dc2.contoso.com": true}
			case "blackhole":
				o.Blackhole = map[string]bool{"192.0.2.12": true}
			}
			f, _ := startScenario(t, scenario.Default, o)
			gopts, err := f.GatherOptions("sim:test", nil)
			if err != nil {
				t.Fatal(err)
			}
			gopts.DCTimeout = 4 * time.Second
			gopts.LDAP.Timeout = 3 * time.Second
			// A black-holed DC also hosts a DNS server that never answers; the locate rounds ask
			// it (and wait out the probe timeout) once per round. Short probe timeouts keep the
			// test about the deadline, not about how long one timeout is.
			gopts.DNS.Timeout, gopts.DNS.Retries = 400*time.Millisecond, -1
			gopts.Reach.Timeout = 400 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			got, err := gather.Gather(ctx, gopts)
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el > 15*time.Second {
				t.Errorf("gather took %v", el)
			}
			ix := facts.NewIndex(got)
			dc1, dc2 := ix.DCByName("DC1"), ix.DCByName("DC2")
			if !dc1.OwnDSAGUID.Known || !dc1.Inbound.Known {
				t.Errorf("healthy DC1 lost facts: %+v %+v", dc1.OwnDSAGUID, dc1.Inbound)
			}
			if dc2.OwnDSAGUID.Known || dc2.OwnDSAGUID.Why() == "not gathered" {
				t.Errorf("DC2 own GUID = %+v", dc2.OwnDSAGUID)
			}
			var problem bool
			for _, p := range got.Problems {
				problem = problem || p.Scope == "dc:DC2"
			}
			if !problem {
				t.Errorf("no problem recorded for DC2: %+v", got.Problems)
			}
			if fault == "garbage" {
				// DC2's real neighbor values still decode; the garbage ones are problems.
				if !dc2.Inbound.Known {
					t.Errorf("DC2 inbound = %+v", dc2.Inbound)
				}
			}
		})
	}
}

// A failed bind names neither the password nor anything derived from it.
func TestBindErrorHidesPassword(t *testing.T) {
	f, _ := startScenario(t, scenario.Default, Options{})
	secret := "Sup3r-Secret-Pa55word!"
	for _, mode := range []string{ldapread.TLSLDAPS, ldapread.TLSStartTLS} {
		_, err := ldapread.Connect(context.Background(), "dc1.contoso.com", "", ldapread.Options{
			TLS: mode, TLSConfig: &tls.Config{RootCAs: f.RootCAs()}, Dial: f.Dial,
			Auth: ldapread.Auth{User: User, Password: secret},
		})
		if err == nil {
			t.Fatalf("%s: bind with a wrong password succeeded", mode)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "Secret") {
			t.Fatalf("%s: error leaks the password: %v", mode, err)
		}
		if !strings.Contains(err.Error(), "Invalid Credentials") && !strings.Contains(err.Error(), "49") {
			t.Errorf("%s: unexpected error %v", mode, err)
		}
	}
	// The right password binds over StartTLS too.
	c, err := ldapread.Connect(context.Background(), "dc1.contoso.com", "", ldapread.Options{
		TLS: ldapread.TLSStartTLS, TLSConfig: &tls.Config{RootCAs: f.RootCAs()}, Dial: f.Dial,
		Auth: ldapread.Auth{User: User, Password: f.Password()},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Plain LDAP with a password is refused before anything is sent.
	_, err = ldapread.Connect(context.Background(), "dc1.contoso.com", "", ldapread.Options{
		TLS: ldapread.TLSNone, Dial: f.Dial, Auth: ldapread.Auth{User: User, Password: secret},
	})
	if err == nil || !strings.Contains(err.Error(), "refusing to send a password over plain LDAP") {
		t.Fatalf("plain LDAP: %v", err)
	}
	// An untrusted certificate fails the handshake.
	_, err = ldapread.Connect(context.Background(), "dc1.contoso.com", "", ldapread.Options{Dial: f.Dial, Auth: ldapread.Auth{User: User, Password: secret}})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

// A DC that returns msDS-ReplAllInboundNeighbors in ranges (AD's MaxValRange) is read completely.
func TestRangedNeighbors(t *testing.T) {
	f, w := startScenario(t, scenario.Default, Options{MaxValRange: 2})
	var rec recorder
	got, err := f.Gather(context.Background(), "sim:test", rec.needs)
	if err != nil {
		t.Fatal(err)
	}
	want := w.Facts(rec.qs, rec.probes)
	if len(want.Links) <= 2 {
		t.Fatalf("the scenario has only %d links: ranges are not exercised", len(want.Links))
	}
	if g, s := normalize(got), normalize(want); g != s {
		t.Fatalf("ranged read differs:\n%s", diff(g, s))
	}
}

// noHostFacts hides a DC's DNS client settings, as a forest without WinRM credentials would.
type noHostFacts struct {
	*scenario.World
	dc string
}

func (w noHostFacts) HostFacts(dc string) (facts.Maybe[[]string], string, facts.Maybe[[]facts.Event]) {
	srv, from, evs := w.World.HostFacts(dc)
	if dc == w.dc {
		srv, from = facts.Unknown[[]string]("no WinRM/SSH credentials"), ""
	}
	return srv, from, evs
}

func TestAssumeSelfDNS(t *testing.T) {
	sc, err := scenario.Load(scenario.Default)
	if err != nil {
		t.Fatal(err)
	}
	w := noHostFacts{sc.NewWorld(), "DC2"}
	for _, assume := range []bool{false, true} {
		f, err := Start(context.Background(), w, Options{})
		if err != nil {
			t.Fatal(err)
		}
		o, err := f.GatherOptions("sim:test", nil)
		if err != nil {
			t.Fatal(err)
		}
		o.AssumeSelfDNS = assume
		got, err := gather.Gather(context.Background(), o)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		dc2 := facts.NewIndex(got).DCByName("DC2")
		srv, known := dc2.DNSServers.Get()
		switch {
		case assume && (!known || dc2.DNSServersFrom != "assumed-self" || len(srv) != 1 || srv[0] != "192.0.2.12"):
			t.Errorf("assumed: %+v from %q", dc2.DNSServers, dc2.DNSServersFrom)
		case !assume && known:
			t.Errorf("not assumed, yet known: %+v", dc2.DNSServers)
		}
	}
}
