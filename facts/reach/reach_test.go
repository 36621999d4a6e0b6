package reach

import (
	"context"
	"net"
	"strconv"
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
		{facts.TCPProbe{Host: "DC1", Port: openPort}, "127.0.0.1"},
		{facts.TCPProbe{Host: "DC1", Port: closedPort}, "127.0.0.1"},
		{facts.TCPProbe{Host: "DC2", Port: 9}, "127.0.0.1"},
		{facts.TCPProbe{Host: "DC3", Port: 389}, ""},
		{facts.TCPProbe{Host: "DC3", Port: 70000}, "127.0.0.1"},
	}
	got := p.ProbeAll(context.Background(), ts)
	want := []string{facts.ReachOpen, facts.ReachRefused, facts.ReachTimeout, facts.ReachError, facts.ReachError}
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
}
