package sim

import (
	"context"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/lab/workstation"
)

// TestSyntheticForestGathers checks the generator and the gather against it at a small size (the
// benchmark below runs the 500-DC size).
func TestSyntheticForestGathers(t *testing.T) {
	sy, err := NewSynthetic(30, 2, 0.2, 7)
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	got, err := GatherWorld(context.Background(), sy, "synthetic", rec.needs)
	if err != nil {
		t.Fatal(err)
	}
	want := sy.Base()
	qs, _ := facts.Missing(want, rec.qs, nil)
	workstation.Observe(sy, want, qs, rec.probes)
	if g, w := normalize(got), normalize(want); g != w {
		t.Fatalf("synthetic gather differs:\n%s", diff(g, w))
	}
	if sy.Failing() == 0 || len(rec.qs) == 0 {
		t.Fatalf("failing = %d, queries = %d", sy.Failing(), len(rec.qs))
	}
}

// A gather makes one LDAPS connection (one TLS handshake) per DC, and its second connection to
// the seed DC (topology, then the seed's own view) resumes the TLS session.
func TestGatherOneHandshakePerDC(t *testing.T) {
	sy, err := NewSynthetic(30, 2, 0.2, 7)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Start(context.Background(), sy, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	snap, err := f.Gather(context.Background(), "synthetic", nil)
	if err != nil {
		t.Fatal(err)
	}
	if hs, n := f.TLSHandshakes.Load(), int64(len(snap.DCs)+1); hs != n {
		t.Errorf("%d TLS handshakes for %d DCs, want %d (one per DC, and the seed's topology connection)", hs, len(snap.DCs), n)
	}
	if r := f.TLSResumed.Load(); r != 1 {
		t.Errorf("%d resumed TLS sessions, want 1 (the seed DC's second connection)", r)
	}
}

type benchRun struct {
	wall       time.Duration
	ldap, dns  int64
	seedLDAP   int64
	dcs        int
	queries    int
	perDCLDAP  float64
	deadlineOK bool
	phases     []string
	cpu        time.Duration // user+system CPU of the process (gatherer and simulation)
	handshakes int64         // TLS handshakes the simulated DCs completed
	resumed    int64         // of which resumed a session
}

func gatherBench(b *testing.B, sy *Synthetic, o Options, parallelism int, deadline time.Duration, plain ...bool) benchRun {
	f, err := Start(context.Background(), sy, o)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	gopts, err := f.GatherOptions("synthetic", nil)
	if err != nil {
		b.Fatal(err)
	}
	gopts.Parallelism = parallelism
	if len(plain) > 0 && plain[0] {
		// Plain LDAP: no TLS handshakes, to separate their CPU cost from the structure.
		gopts.LDAP.TLS, gopts.LDAP.AllowPlaintextCredentials = "none", true
	}
	gopts.DCTimeout = 3 * time.Second
	gopts.LDAP.DialTimeout = 5 * time.Second
	var seedReq int64
	var phases []string
	var start time.Time
	gopts.Progress = func(phase string, done, total int) {
		if phase == "topology" && done == 1 {
			seedReq = f.LDAPRequests.Load()
		}
		if done == total {
			phases = append(phases, phase+" done at "+time.Since(start).Round(time.Millisecond).String())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start = time.Now()
	cpu0 := cpuTime()
	snap, err := gather.Gather(ctx, gopts)
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	if err != nil {
		b.Fatal(err)
	}
	r := benchRun{wall: wall, ldap: f.LDAPRequests.Load(), dns: f.DNSQueries.Load(), seedLDAP: seedReq, dcs: len(snap.DCs), queries: len(snap.DNS), deadlineOK: ctx.Err() == nil, phases: phases, cpu: cpu,
		handshakes: f.TLSHandshakes.Load(), resumed: f.TLSResumed.Load()}
	r.perDCLDAP = float64(r.ldap-seedReq) / float64(len(snap.DCs))
	return r
}

// bound is the critical path of a gather at parallelism p when every request costs lat: the
// seed's sequential requests, then ceil(N/p) waves of one DC's requests, then ceil(Q/p) waves
// of DNS queries (TCP connects carry no injected latency).
func (r benchRun) bound(p int, lat time.Duration) time.Duration {
	waves := math.Ceil(float64(r.dcs) / float64(p))
	qwaves := math.Ceil(float64(r.dns) / float64(p))
	return time.Duration((float64(r.seedLDAP) + waves*math.Ceil(r.perDCLDAP) + qwaves) * float64(lat))
}

func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}

// BenchmarkGather500 is the benchmark: 500 DCs, 5 NCs x 2 inbound partners, 5% of
// partnerships failing, 5 ms latency per LDAP request and DNS query. It reports the wall time at
// --parallelism 64 against the critical-path bound, the speed-up over --parallelism 1, peak RSS
// (simulation and gatherer in one process), and a run with 10% of the DCs black-holed that must
// finish within its deadline.
//
//	go test ./lab/sim -run XXX -bench Gather500 -benchtime 1x
//
// The bound assumes free CPU. Here the gather is CPU-bound: the gatherer and the simulation share
// one process, so the wall time follows the CPU time divided by the cores the process gets (the
// log prints that floor). The simulated DCs serve LDAP through gldap (the project's simulator
// library), which builds each response packet twice and copies values per nesting level; that is
// the simulation's largest own cost. A CPU profile of the whole benchmark (go test -cpuprofile:
// its four gathers and the start of four 500-DC forests; November 2026) splits roughly into: GC
// 13%, TLS handshakes 13% (client certificate verification and key shares, server signatures),
// gldap building and writing responses 12%, forest start-up 13%, go-ldap/go-asn1-ber decoding on
// the gatherer's side 11%, encoding/xml in replstatus.ParseNeighborXML 6%, DNS 6%, the simulated
// servers' own answers under 3% (shares overlap where a stack holds two of them).
func BenchmarkGather500(b *testing.B) {
	sy, err := NewSynthetic(500, 2, 0.05, 1)
	if err != nil {
		b.Fatal(err)
	}
	lat := 5 * time.Millisecond
	for i := 0; i < b.N; i++ {
		p64 := gatherBench(b, sy, Options{Latency: lat}, 64, 5*time.Minute)
		p1 := gatherBench(b, sy, Options{Latency: lat}, 1, 10*time.Minute)
		holes := map[string]bool{}
		for j, dc := range sy.Base().DCs {
			if j%10 == 5 {
				holes[dc.Name] = true
				holes[dc.IPs.Value[0]] = true
			}
		}
		deadline := 60 * time.Second
		bh := gatherBench(b, sy, Options{Latency: lat, Blackhole: holes}, 64, deadline)
		plain := gatherBench(b, sy, Options{Latency: lat}, 64, 5*time.Minute, true)
		bound := p64.bound(64, lat)
		b.ReportMetric(plain.wall.Seconds(), "wall-p64-plain-s")
		b.ReportMetric(plain.cpu.Seconds(), "cpu-p64-plain-s")
		b.ReportMetric(p64.wall.Seconds(), "wall-p64-s")
		b.ReportMetric(bound.Seconds(), "bound-p64-s")
		b.ReportMetric(p64.wall.Seconds()/bound.Seconds(), "wall/bound")
		b.ReportMetric(p1.wall.Seconds(), "wall-p1-s")
		b.ReportMetric(p1.wall.Seconds()/p64.wall.Seconds(), "speedup")
		b.ReportMetric(bh.wall.Seconds(), "wall-10%blackholed-s")
		b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
		b.ReportMetric(p64.cpu.Seconds(), "cpu-p64-s")
		b.Logf("p64: %v (bound %v; seed %d LDAP requests, %.1f per DC, %d DNS queries over %d DCs); p1: %v; 10%% black-holed: %v (deadline %v, met %v)",
			p64.wall, bound, p64.seedLDAP, p64.perDCLDAP, p64.dns, p64.dcs, p1.wall, bh.wall, deadline, bh.deadlineOK)
		b.Logf("CPU (gatherer+simulation, one process): p64 %v, p1 %v, black-holed %v; on %d cores the CPU alone needs >= %v",
			p64.cpu, p1.cpu, bh.cpu, runtime.NumCPU(), p64.cpu/time.Duration(runtime.NumCPU()))
		b.Logf("p64 without TLS: %v (CPU %v), phases %v", plain.wall, plain.cpu, plain.phases)
		b.Logf("p64 phases: %v; %d TLS handshakes (%d resumed)", p64.phases, p64.handshakes, p64.resumed)
		b.Logf("p1 phases: %v", p1.phases)
		b.Logf("black-holed phases: %v", bh.phases)
		if !bh.deadlineOK {
			b.Errorf("the black-holed gather missed its deadline")
		}
	}
}
