package playbooks

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
)

var benchNow = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

// synthetic builds a forest of `links` failing links (partnerships of 5 NCs: every DC replicates
// from the next one) and answers every observation the playbook asks for. One source in four
// registered its CNAME and the destination resolves it (dns_resolves_now); the others did not
// (source_cname_not_registered, after walking six decisions).
func synthetic(tb testing.TB, pb *engine.Playbook, links int) *facts.Snapshot {
	return syntheticFailing(tb, pb, links, 1)
}

// syntheticFailing is synthetic with only one partnership in every `every` failing (the others
// replicate fine: result 0).
func syntheticFailing(tb testing.TB, pb *engine.Playbook, links, every int) *facts.Snapshot {
	const ncs = 5
	n := links / ncs
	s := &facts.Snapshot{FormatVersion: facts.FormatVersion, GatheredAt: benchNow, Source: "synthetic", SeedDC: "DC0",
		Forest: facts.Forest{RootDomain: "contoso.com", RootDN: "DC=contoso,DC=com", ConfigDN: "CN=Configuration,DC=contoso,DC=com",
			Domains:               []facts.Domain{{DNSName: "contoso.com", DN: "DC=contoso,DC=com", NetBIOS: "CONTOSO"}},
			TombstoneLifetimeDays: facts.Some(180), TombstoneLifetimeFrom: "directory"}}
	registered := map[string]string{} // CNAME -> host
	hosts := map[string]string{}      // host -> IP
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("DC%d", i)
		guid := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		ip := fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256)
		host := strings.ToLower(name) + ".contoso.com"
		dn := "CN=NTDS Settings,CN=" + name + ",CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=contoso,DC=com"
		s.DCs = append(s.DCs, facts.DC{
			Name: name, DNSHostName: host, Domain: "contoso.com", Site: "Default-First-Site-Name", NTDSSettingsDN: dn,
			ServerDN: strings.TrimPrefix(dn, "CN=NTDS Settings,"), DSAGUID: guid, WhenCreated: benchNow.Add(-400 * 24 * time.Hour),
			Platform: facts.Some(facts.PlatformWindows), IPs: facts.Some([]string{ip}), DNSServers: facts.Some([]string{ip}),
			ProtectedFromDeletion: facts.Some(false), OwnDSAGUID: facts.Some(guid), Events: facts.Some([]facts.Event{}),
		})
		hosts[host] = ip
		if i%4 == 1 {
			registered[guid+"._msdcs.contoso.com"] = host
		}
	}
	for i := 0; i < n; i++ {
		dest, src := &s.DCs[i], &s.DCs[(i+1)%n]
		for k := 0; k < ncs; k++ {
			s.Links = append(s.Links, facts.Link{
				Destination: dest.Name, DestinationGUID: dest.DSAGUID, NC: fmt.Sprintf("DC=nc%d,DC=contoso,DC=com", k),
				SourceDSAGUID: src.DSAGUID, SourceDSADN: src.NTDSSettingsDN, SourceAddress: src.DSAGUID + "._msdcs.contoso.com",
				LastResult: result(i, every), ConsecutiveFailures: 3, LastSuccess: benchNow.Add(-2 * time.Hour), LastAttempt: benchNow,
			})
		}
	}
	answer := func(q facts.DNSQuery) facts.DNSObservation {
		o := facts.DNSObservation{DNSQuery: q, Rcode: "NOERROR", Authoritative: true}
		zone := "contoso.com"
		if strings.HasSuffix(q.Name, "_msdcs.contoso.com") {
			zone = "_msdcs.contoso.com"
		}
		soa := facts.RR{Name: zone, Type: "SOA", Data: "dc0.contoso.com. hostmaster." + zone + ". 1 900 600 86400 3600"}
		switch {
		case q.Type == "SOA":
			o.Answers = []facts.RR{soa}
		case strings.HasSuffix(q.Name, "._msdcs.contoso.com"):
			host, ok := registered[q.Name]
			if !ok {
				o.Rcode, o.Authority = "NXDOMAIN", []facts.RR{soa}
				break
			}
			o.Answers = []facts.RR{{Name: q.Name, Type: "CNAME", Data: host + "."}}
			if q.Type == "A" {
				o.Answers = append(o.Answers, facts.RR{Name: host, Type: "A", Data: hosts[host]})
			}
		case q.Type == "A":
			o.Answers = []facts.RR{{Name: q.Name, Type: "A", Data: hosts[q.Name]}}
		default:
			o.Authority = []facts.RR{soa}
		}
		return o
	}
	for range 3 {
		dns, tcp := pb.Needs(s)
		ix := facts.NewIndex(s)
		added := 0
		for _, q := range dns {
			if ix.DNS(q) == nil {
				s.DNS = append(s.DNS, answer(q))
				added++
			}
		}
		for _, p := range tcp {
			if ix.Reach(p) == nil {
				s.Reach = append(s.Reach, facts.ReachObservation{TCPProbe: p, Result: facts.ReachOpen})
				added++
			}
		}
		if added == 0 {
			break
		}
	}
	return s
}

func result(i, every int) int {
	if i%every == 0 {
		return 8524
	}
	return 0
}

// BenchmarkPlan: the shipped playbook over a synthetic 10 000-link snapshot (target ≤ 20 µs per
// link), with 5% of the partnerships failing (a forest in trouble) and with every one failing
// (the worst case: 2 000 partnerships diagnosed, each walking up to seven decisions).
func BenchmarkPlan(b *testing.B) {
	pb, _, diags := Load(engine.LoadOptions{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	b.Run("10k-links-5pct-failing", func(b *testing.B) { benchPlan(b, pb, syntheticFailing(b, pb, 10000, 20), 100) })
	b.Run("10k-links-all-failing", func(b *testing.B) { benchPlan(b, pb, synthetic(b, pb, 10000), 2000) })
}

func benchPlan(b *testing.B, pb *engine.Playbook, s *facts.Snapshot, findings int) {
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: benchNow})
	if err != nil {
		b.Fatal(err)
	}
	if p.Summary.Diagnosed != findings || p.Summary.Links != 10000 {
		b.Fatalf("unexpected synthetic plan: %+v", p.Summary)
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: benchNow}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/10000/1000, "µs/link")
	// CPU time includes the garbage collector's background work, on every core.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/10000/1000, "cpu-µs/link")
}

// BenchmarkLoadEmbedded: load and validate the shipped playbook (target ≤ 20 ms).
func BenchmarkLoadEmbedded(b *testing.B) {
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, _, diags := Load(engine.LoadOptions{}); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/1e6, "cpu-ms/op")
}

// TestPlanLargeForestDeterministic: a plan made on several goroutines is the same every time
// (run it with -race).
func TestPlanLargeForestDeterministic(t *testing.T) {
	pb, _, diags := Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s := synthetic(t, pb, 1000)
	a, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: benchNow})
	if err != nil {
		t.Fatal(err)
	}
	if a.Summary.Diagnosed != 200 {
		t.Fatalf("%+v", a.Summary)
	}
	for range 3 {
		b, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: benchNow})
		if err != nil {
			t.Fatal(err)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatal("two plans of the same facts differ")
		}
	}
}
