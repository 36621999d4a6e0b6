package sim

import (
	"net"
	"testing"
	"time"

	"github.com/fix8524/fix8524/lab/scenario"
)

// Every LDAP server of every simulated DC answers stop's sync request (LDAPS and plain): that
// request is what orders gldap's connection bookkeeping before its Stop (see dcServer.stop),
// and a sync that silently failed would bring the race back. Close then returns although
// connections were accepted up to its start, and counts none of its own handshakes.
func TestStopSyncsEveryServer(t *testing.T) {
	f, _ := startScenario(t, scenario.Default, Options{})
	f.mu.Lock()
	var servers []*dcServer
	for _, s := range f.dcs {
		servers = append(servers, s)
	}
	f.mu.Unlock()
	if len(servers) == 0 {
		t.Fatal("no simulated DC")
	}
	for _, s := range servers {
		for i := range s.srvs {
			c := s.sync(i)
			if c == nil {
				t.Fatalf("%s: server %d (%s) did not answer the sync request", s.name, i, s.addr(i))
			}
			_ = c.Close()
		}
	}
	// connections accepted right up to Close, as a gather's last TCP probes are
	for _, s := range servers {
		for i := range s.srvs {
			if c, err := net.Dial("tcp", s.addr(i)); err == nil {
				_ = c.Close()
			}
		}
	}
	before := f.TLSHandshakes.Load()
	done := make(chan struct{})
	go func() { f.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if after := f.TLSHandshakes.Load(); after != before {
		t.Errorf("Close's own sync connections were counted as %d client handshakes", after-before)
	}
}
