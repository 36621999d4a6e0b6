package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
)

// syntheticFacts builds a forest of n failing links: DCs of 5 NCs each, every DC replicating
// from the next one, with every observation the test playbook asks for; a quarter of the
// sources answer their CNAME (diagnosis "resolves"), the rest do not ("not_registered").
func syntheticFacts(links int) *facts.Snapshot {
	const ncs = 5
	parts := links / ncs
	s := &facts.Snapshot{FormatVersion: facts.FormatVersion, GatheredAt: t0, Source: "synthetic", SeedDC: "DC0",
		Forest: facts.Forest{RootDomain: "contoso.com", RootDN: "DC=contoso,DC=com"}}
	for i := 0; i < parts; i++ {
		name := fmt.Sprintf("DC%d", i)
		ip := fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256)
		d := dc(name, fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), ip)
		s.DCs = append(s.DCs, d)
	}
	for i := 0; i < parts; i++ {
		dest, src := &s.DCs[i], &s.DCs[(i+1)%parts]
		for n := 0; n < ncs; n++ {
			l := link(dest.Name, dest.DSAGUID, src.Name, src.DSAGUID, fmt.Sprintf("DC=nc%d,DC=contoso,DC=com", n), 8524)
			l.SourceDSADN = src.NTDSSettingsDN
			s.Links = append(s.Links, l)
		}
		cname := src.DSAGUID + "._msdcs.contoso.com"
		rcode := "NXDOMAIN"
		var ans []facts.RR
		if i%4 == 0 {
			rcode, ans = "NOERROR", []facts.RR{{Name: cname, Type: "CNAME", Data: src.DNSHostName + "."}}
		}
		for _, server := range []string{dest.IPs.Value[0], src.IPs.Value[0]} {
			s.DNS = append(s.DNS, facts.DNSObservation{DNSQuery: facts.DNSQuery{Server: server, Name: cname, Type: "CNAME"}, Rcode: rcode, Answers: ans})
		}
		for _, port := range []int{389, 135} {
			s.Reach = append(s.Reach, facts.ReachObservation{TCPProbe: facts.TCPProbe{Host: src.DNSHostName, Port: port}, Result: facts.ReachOpen})
		}
	}
	return s
}

// BenchmarkPlan: 10 000 failing links (2 000 partnerships of 5 NCs). Reported per link.
func BenchmarkPlan(b *testing.B) {
	pb := mustLoad(b, testPlaybook)
	s := syntheticFacts(10000)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		p, err := MakePlan(pb, s, PlanOptions{Now: t0})
		if err != nil || len(p.Findings) != 2000 {
			b.Fatalf("%v %d", err, len(p.Findings))
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/10000/1000, "µs/link")
}
