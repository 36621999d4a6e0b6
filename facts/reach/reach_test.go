package reach

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
)

func TestProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	openPort := l.Addr().(*net.TCPAddr).Port
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	// A dialer that black-holes port 9 (never answers until the deadline).
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if _, port, _ := net.SplitHostPort(addr); port == "9" {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	p := &Prober{Dial: dial, Timeout: 100 * time.Millisecond, Parallel: 2}
	ts := []Target{
		{facts.TCPProbe{Host: "DC1", Port: openPort}, []string{"127.0.0.1"}, ""},
		{facts.TCPProbe{Host: "DC1", Port: closedPort}, []string{"127.0.0.1"}, ""},
		{facts.TCPProbe{Host: "DC2", Port: 9}, []string{"127.0.0.1"}, ""},
		{facts.TCPProbe{Host: "DC3", Port: 389}, nil, "dc3.example.invalid resolves on none of the 2 DNS servers of the forest"},
		{facts.TCPProbe{Host: "DC3", Port: 70000}, []string{"127.0.0.1"}, ""},
		// A name that does not resolve is no observation of the DC.
		{facts.TCPProbe{Host: "dc4.example.invalid", Port: 389}, []string{"dc4.example.invalid"}, ""},
		// One address open among several: open, at that address.
		{facts.TCPProbe{Host: "DC5", Port: openPort}, []string{"127.0.0.2", "127.0.0.1"}, ""},
	}
	got := p.ProbeAll(context.Background(), ts)
	want := []string{facts.ReachOpen, facts.ReachRefused, facts.ReachTimeout, facts.ReachUnknown, facts.ReachError, facts.ReachError, facts.ReachOpen}
	for i, o := range got {
		if o.Result != want[i] {
			t.Errorf("%s:%s = %s (%s), want %s", o.Host, strconv.Itoa(o.Port), o.Result, o.Error, want[i])
		}
		if o.TCPProbe != ts[i].Probe {
			t.Errorf("order: %+v", o.TCPProbe)
		}
	}
	if got[2].Error != "no answer" || got[1].Error != "connection refused" || got[0].Address != "127.0.0.1" {
		t.Errorf("details: %+v", got)
	}
	if !strings.Contains(got[3].Error, "resolves on none") || len(got[3].Attempts) != 0 {
		t.Errorf("no address: %+v", got[3])
	}
	if !strings.Contains(got[5].Error, "does not resolve") {
		t.Errorf("unresolvable name: %+v", got[5])
	}
	if got[6].Address != "127.0.0.1" || len(got[6].Attempts) != 2 {
		t.Errorf("two addresses: %+v", got[6])
	}
	for i, o := range got {
		if facts.ReachObserved(o.Result) != (i < 3 || i == 6) {
			t.Errorf("%d: %s observed = %v", i, o.Result, facts.ReachObserved(o.Result))
		}
	}
}

// Aggregate: every address must have been dialled and have failed for a failure; one address
// that could not be dialled makes the result unknown.
func TestAggregate(t *testing.T) {
	p := facts.TCPProbe{Host: "DC2", Port: 389}
	att := func(rs ...string) []facts.ReachAttempt {
		var out []facts.ReachAttempt
		for i, r := range rs {
			out = append(out, facts.ReachAttempt{Address: "192.0.2." + strconv.Itoa(i+1), Result: r, Error: r})
		}
		return out
	}
	cases := []struct {
		in   []facts.ReachAttempt
		want string
	}{
		{nil, facts.ReachUnknown},
		{att(facts.ReachTimeout, facts.ReachOpen), facts.ReachOpen},
		{att(facts.ReachRefused, facts.ReachRefused), facts.ReachRefused},
		{att(facts.ReachRefused, facts.ReachTimeout), facts.ReachTimeout},
		{att(facts.ReachUnreachable, facts.ReachUnreachable), facts.ReachUnreachable},
		{att(facts.ReachTimeout, facts.ReachError), facts.ReachUnknown},
		{att(facts.ReachError), facts.ReachError},
	}
	for _, c := range cases {
		if got := Aggregate(p, c.in); got.Result != c.want {
			t.Errorf("%+v: %s, want %s", c.in, got.Result, c.want)
		}
	}
}
