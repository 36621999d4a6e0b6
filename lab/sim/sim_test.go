package sim

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/lab/scenario"
)

// normalize removes what legitimately differs between a gather and the World's own facts:
// timings, the source label, problems, reasons of unknowns, and list orders the model leaves open.
func normalize(s *facts.Snapshot) string {
	c := *s
	c.GatheredAt = time.Time{}
	c.Source = ""
	c.Problems = nil
	c.DCs = append([]facts.DC(nil), s.DCs...)
	for i := range c.DCs {
		dc := &c.DCs[i]
		dc.Platform.Reason, dc.OperatingSystem.Reason, dc.IPs.Reason, dc.DNSServers.Reason = "", "", "", ""
		dc.ProtectedFromDeletion.Reason, dc.OwnDSAGUID.Reason, dc.Inbound.Reason, dc.Events.Reason = "", "", "", ""
		dc.FSMORoles = sortedCopy(dc.FSMORoles)
		if !dc.DNSServers.Known {
			dc.DNSServersFrom = ""
		}
	}
	c.Forest.FSMO = append([]facts.FSMORole(nil), s.Forest.FSMO...)
	sortBy(c.Forest.FSMO, func(r facts.FSMORole) string { return r.Role + "|" + r.Scope })
	c.Forest.Domains = append([]facts.Domain(nil), s.Forest.Domains...)
	sortBy(c.Forest.Domains, func(d facts.Domain) string { return d.DNSName })
	c.DNS = append([]facts.DNSObservation(nil), s.DNS...)
	for i := range c.DNS {
		c.DNS[i].ElapsedMS = 0
	}
	c.Reach = append([]facts.ReachObservation(nil), s.Reach...)
	for i := range c.Reach {
		c.Reach[i].ElapsedMS = 0
		c.Reach[i].Attempts = append([]facts.ReachAttempt(nil), c.Reach[i].Attempts...)
		for j := range c.Reach[i].Attempts {
			c.Reach[i].Attempts[j].ElapsedMS = 0
		}
	}
	var buf bytes.Buffer
	if err := facts.Encode(&buf, &c); err != nil {
		panic(err)
	}
	return buf.String()
}

func sortedCopy(ss []string) []string {
	out := append([]string(nil), ss...)
	sortBy(out, func(s string) string { return s })
	return out
}

func sortBy[T any](xs []T, key func(T) string) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && key(xs[j]) < key(xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "line "+itoa(i+1)+":\n  gathered: "+x+"\n  scenario: "+y)
			if len(out) > 12 {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

func itoa(i int) string { return strconv.Itoa(i) }

// recorder captures the observations a gather asked for.
type recorder struct {
	mu     sync.Mutex
	qs     []facts.DNSQuery
	probes []facts.TCPProbe
}

func (r *recorder) needs(s *facts.Snapshot) ([]facts.DNSQuery, []facts.TCPProbe) {
	qs, ps := gather.StandardNeeds(s)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.qs, r.probes = qs, ps
	return qs, ps
}

// TestSimulationEqualsScenario proves, for every embedded scenario, that gathering from the
// simulated forest over LDAP, DNS and TCP yields the facts the scenario describes.
func TestSimulationEqualsScenario(t *testing.T) {
	for _, name := range scenario.Names() {
		t.Run(name, func(t *testing.T) {
			sc, err := scenario.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			w := sc.NewWorld()
			var rec recorder
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			got, err := GatherWorld(ctx, w, "sim:"+name, rec.needs)
			if err != nil {
				t.Fatal(err)
			}
			// The gathered topology drives the same needs as the World's own.
			wq, wp := gather.StandardNeeds(w.Base())
			if len(wq) != len(rec.qs) || len(wp) != len(rec.probes) {
				t.Errorf("needs differ: gathered %d queries/%d probes, scenario %d/%d", len(rec.qs), len(rec.probes), len(wq), len(wp))
			}
			want := w.Facts(rec.qs, rec.probes)
			if g, s := normalize(got), normalize(want); g != s {
				t.Errorf("gathered facts differ from the scenario's:\n%s", diff(g, s))
				for _, p := range got.Problems {
					t.Logf("problem %s: %s", p.Scope, p.Message)
				}
			}
			if len(rec.qs) == 0 && hasFailing(want) {
				t.Error("a scenario with failing links gathered no DNS observations")
			}
		})
	}
}

func hasFailing(s *facts.Snapshot) bool {
	for _, l := range s.Links {
		if l.LastResult != 0 {
			return true
		}
	}
	return false
}
