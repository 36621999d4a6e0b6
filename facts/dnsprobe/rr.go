package dnsprobe

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/fix8524/fix8524/facts"
)

// FromRR converts a DNS record to its facts form: the owner name canonical (lower case, no
// trailing dot), Data in presentation form with domain names lower-cased and fully qualified
// (trailing dot), as the scenario World writes them: "dc2.contoso.com." for a CNAME, "mname.
// rname. serial refresh retry expire minimum" for an SOA, "prio weight port target." for an SRV.
func FromRR(rr dns.RR) facts.RR {
	h := rr.Header()
	out := facts.RR{Name: facts.CanonicalName(h.Name), Type: dns.TypeToString[h.Rrtype], TTL: h.Ttl}
	switch v := rr.(type) {
	case *dns.A:
		out.Data = v.A.String()
	case *dns.AAAA:
		out.Data = v.AAAA.String()
	case *dns.CNAME:
		out.Data = fqdn(v.Target)
	case *dns.NS:
		out.Data = fqdn(v.Ns)
	case *dns.SOA:
		out.Data = fmt.Sprintf("%s %s %d %d %d %d %d", fqdn(v.Ns), fqdn(v.Mbox), v.Serial, v.Refresh, v.Retry, v.Expire, v.Minttl)
	case *dns.SRV:
		out.Data = fmt.Sprintf("%d %d %d %s", v.Priority, v.Weight, v.Port, fqdn(v.Target))
	case *dns.PTR:
		out.Data = fqdn(v.Ptr)
	default:
		// Anything else: the presentation form of the RDATA.
		s := rr.String()
		hs := h.String()
		out.Data = strings.TrimSpace(strings.TrimPrefix(s, hs))
	}
	if out.Type == "" {
		out.Type = "TYPE" + strconv.Itoa(int(h.Rrtype))
	}
	return out
}

func fqdn(n string) string { return dns.Fqdn(strings.ToLower(n)) }

// ToRR converts a facts record back to a DNS record (for the simulated forest's DNS servers).
func ToRR(r facts.RR) (dns.RR, error) {
	t, ok := dns.StringToType[strings.ToUpper(r.Type)]
	if !ok {
		return nil, fmt.Errorf("unknown record type %q", r.Type)
	}
	data := r.Data
	switch t {
	case dns.TypeCNAME, dns.TypeNS, dns.TypePTR:
		data = dns.Fqdn(data)
	case dns.TypeSOA:
		f := strings.Fields(data)
		if len(f) != 7 {
			return nil, fmt.Errorf("SOA data %q: want 7 fields", r.Data)
		}
		f[0], f[1] = dns.Fqdn(f[0]), dns.Fqdn(f[1])
		data = strings.Join(f, " ")
	case dns.TypeSRV:
		f := strings.Fields(data)
		if len(f) != 4 {
			return nil, fmt.Errorf("SRV data %q: want 4 fields", r.Data)
		}
		f[3] = dns.Fqdn(f[3])
		data = strings.Join(f, " ")
	}
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", dns.Fqdn(r.Name), r.TTL, dns.TypeToString[t], data))
	if err != nil {
		return nil, fmt.Errorf("record %s %s %q: %w", r.Name, r.Type, r.Data, err)
	}
	if rr == nil {
		return nil, fmt.Errorf("record %s %s: empty", r.Name, r.Type)
	}
	return rr, nil
}
