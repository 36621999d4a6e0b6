package engine

import (
	"strings"
	"testing"

	"github.com/fix8524/fix8524/facts"
)

// An SOA's serial and timers change with every dynamic update of its zone (AD makes them all
// day): a drift check that read them would refuse every approved plan. Who answers for the zone
// (mname, rname), the rcode and the other records still count.
func TestCanonDNSIgnoresSOASerial(t *testing.T) {
	obs := func(data string, aa bool) *facts.DNSObservation {
		return &facts.DNSObservation{
			DNSQuery:      facts.DNSQuery{Server: "192.0.2.11", Name: "contoso.com", Type: "SOA"},
			Rcode:         "NOERROR",
			Authoritative: aa,
			Answers:       []facts.RR{{Name: "contoso.com.", Type: "SOA", TTL: 3600, Data: data}},
		}
	}
	base := canonDNS(obs("dc1.contoso.com. hostmaster.contoso.com. 9 900 600 86400 3600", true))
	for name, o := range map[string]*facts.DNSObservation{
		"serial":          obs("dc1.contoso.com. hostmaster.contoso.com. 10 900 600 86400 3600", true),
		"timers":          obs("dc1.contoso.com. hostmaster.contoso.com. 9 1200 300 604800 900", true),
		"case, final dot": obs("DC1.contoso.com hostmaster.CONTOSO.com. 11 900 600 86400 3600", true),
	} {
		if got := canonDNS(o); got != base {
			t.Errorf("%s: %q, want %q", name, got, base)
		}
	}
	for name, o := range map[string]*facts.DNSObservation{
		"another primary":   obs("dc2.contoso.com. hostmaster.contoso.com. 9 900 600 86400 3600", true),
		"another mailbox":   obs("dc1.contoso.com. admin.contoso.com. 9 900 600 86400 3600", true),
		"not authoritative": obs("dc1.contoso.com. hostmaster.contoso.com. 9 900 600 86400 3600", false),
		"malformed":         obs("dc1.contoso.com. hostmaster.contoso.com. 9", true),
	} {
		if got := canonDNS(o); got == base {
			t.Errorf("%s: the same encoding %q", name, got)
		}
	}
	cname := &facts.DNSObservation{Rcode: "NOERROR", Answers: []facts.RR{{Name: "x.", Type: "CNAME", Data: "dc1.contoso.com. 9 900 600 86400 3600 1"}}}
	if got := canonDNS(cname); !strings.Contains(got, "dc1.contoso.com. 9 900 600 86400 3600 1") {
		t.Errorf("a CNAME's data is kept whole: %q", got)
	}
}
