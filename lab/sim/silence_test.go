package sim

import (
	"context"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/lab/scenario"
)

// TestSlowServerIsNotSilent reproduces the cause of apply --demo refusing its own plan for
// drift when a second fix8524 ran next to it (issue 15: "evidence changed … sha256:574fe2… →
// sha256:2255ca…"). 2255ca is exactly the stale-metadata plan with one observation changed:
// "A dc2.contoso.com" asked of 192.0.2.11 got no answer within the 400 ms the demo's prober
// then waited (no retry), because the loaded machine answered late. Here 192.0.2.11 answers
// 500 ms late: the gathered facts must still be the World's.
func TestSlowServerIsNotSilent(t *testing.T) {
	sc, err := scenario.Load("stale-metadata")
	if err != nil {
		t.Fatal(err)
	}
	w := sc.NewWorld()
	f, err := Start(context.Background(), w, Options{EndpointLatency: map[string]time.Duration{"192.0.2.11": 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rec recorder
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got, err := f.Gather(ctx, "sim:stale-metadata", rec.needs)
	if err != nil {
		t.Fatal(err)
	}
	want := w.Facts(rec.qs, rec.probes)
	if g, s := normalize(got), normalize(want); g != s {
		t.Errorf("a slow live DNS server was taken for a silent one:\n%s", diff(g, s))
	}
}

// TestSilentServerAnswersTimeoutAtOnce: the World's dead DNS server (source-offline's
// 192.0.2.12) and its offline DC's ports read as "timeout" without waiting for the probes'
// deadlines: here those are an hour, and the whole gather has 30 s.
func TestSilentServerAnswersTimeoutAtOnce(t *testing.T) {
	sc, err := scenario.Load("source-offline")
	if err != nil {
		t.Fatal(err)
	}
	w := sc.NewWorld()
	f, err := Start(context.Background(), w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rec recorder
	o, err := f.GatherOptions("sim:source-offline", rec.needs)
	if err != nil {
		t.Fatal(err)
	}
	o.DNS.Timeout, o.Reach.Timeout, o.LDAP.DialTimeout, o.DCTimeout = time.Hour, time.Hour, time.Hour, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := gather.Gather(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	dead, silent := 0, 0
	for _, q := range got.DNS {
		if q.Server == "192.0.2.12" {
			dead++
			if q.Error != "timeout" {
				t.Errorf("%s %s on the dead server: %+v, want a timeout", q.Type, q.Name, q)
			}
		}
	}
	for _, r := range got.Reach {
		if r.Result == "timeout" {
			silent++
		}
	}
	if dead == 0 || silent == 0 {
		t.Fatalf("the gather asked the dead server %d time(s) and saw %d silent port(s); the test needs both", dead, silent)
	}
	if g, s := normalize(got), normalize(w.Facts(rec.qs, rec.probes)); g != s {
		t.Errorf("gathered facts differ from the scenario's:\n%s", diff(g, s))
	}
}
