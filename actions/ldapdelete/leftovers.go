package ldapdelete

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/remote"
)

// Leftover kinds.
const (
	LeftoverServerObject   = "server_object"
	LeftoverComputerObject = "computer_object"
	LeftoverDNSRecord      = "dns_record"
	LeftoverUnknown        = "unknown" // something could not be checked
)

// Leftover is something of a removed DC that is still there after the NTDS Settings tree
// delete. Nothing here is deleted automatically: each leftover carries the exact commands an
// operator (or a further, separately approved step) runs.
type Leftover struct {
	Kind string `json:"kind"`
	What string `json:"what"`           // one line for people
	DN   string `json:"dn,omitempty"`   // LDAP objects
	Note string `json:"note,omitempty"` // why it matters, or why not to delete it
	// Record and Servers: a DNS record and the DNS servers that still answer it.
	Record  *facts.RR `json:"record,omitempty"`
	Servers []string  `json:"servers,omitempty"`
	// Deletable is true when the leftover can be removed safely as it is (a server object
	// without children); false means: read Note first.
	Deletable bool `json:"deletable"`
	// PowerShell commands run on a surviving Windows DC; POSIX commands on a surviving Samba DC.
	PowerShell []string `json:"powershell,omitempty"`
	POSIX      []string `json:"posix,omitempty"`
}

// DNSQuerier answers DNS queries (facts/dnsprobe.Prober, or a simulated forest).
type DNSQuerier interface {
	Query(ctx context.Context, q facts.DNSQuery) facts.DNSObservation
}

// LeftoversInput says what to look for.
type LeftoversInput struct {
	Forest facts.Forest
	DC     facts.DC // the removed DC, as the topology knew it before the delete
	// DNSServers are the DNS servers to ask (the forest's AD DNS servers).
	DNSServers []string
	// Sites are the forest's site names (for site-specific locator SRV records).
	Sites []string
	// Alive says the DC itself still runs, under another DSA GUID (a re-promotion left the
	// deleted object stale): its server and computer objects and its host, SRV and NS records
	// belong to the live DC and are never reported as leftovers; only the stale GUID's CNAME is.
	Alive bool
}

// Leftovers looks for what the tree delete of dc's NTDS Settings left behind: its server
// object (deletable only when it has no children left), its computer object, and DNS records
// that still name it. conn may be nil (then the LDAP objects are reported as unknown), as may
// dns (then DNS is not checked).
func Leftovers(ctx context.Context, conn Conn, dns DNSQuerier, in LeftoversInput) []Leftover {
	var out []Leftover
	dc := in.DC
	if in.Alive {
		if dns != nil {
			out = append(out, dnsLeftovers(ctx, dns, in)...)
		}
		return out
	}
	if conn != nil {
		out = append(out, ldapLeftovers(conn, dc)...)
	} else {
		out = append(out, Leftover{Kind: LeftoverUnknown, What: "server and computer objects were not checked (no LDAP connection)"})
	}
	if dns != nil {
		out = append(out, dnsLeftovers(ctx, dns, in)...)
	}
	return out
}

func ldapLeftovers(conn Conn, dc facts.DC) []Leftover {
	var out []Leftover
	serverDN := dc.ServerDN
	if serverDN == "" && IsNTDSSettingsDN(dc.NTDSSettingsDN) {
		serverDN, _ = ServerDNOf(dc.NTDSSettingsDN)
	}
	if serverDN != "" {
		exists, err := Exists(conn, serverDN)
		switch {
		case err != nil:
			out = append(out, Leftover{Kind: LeftoverUnknown, DN: serverDN, What: "server object " + dc.Name + " could not be checked", Note: err.Error()})
		case exists:
			n, err := Children(conn, serverDN)
			l := Leftover{Kind: LeftoverServerObject, DN: serverDN, What: "server object of " + dc.Name + " remains",
				PowerShell: []string{"Remove-ADObject -Identity " + remote.PSLiteral(serverDN) + " -Confirm:$false"},
				POSIX:      []string{remote.ShellJoin([]string{"ldbdel", "-H", "/var/lib/samba/private/sam.ldb", serverDN})},
			}
			switch {
			case err != nil:
				l.Note = "could not count its children (" + err.Error() + "); check before deleting"
			case n > 0:
				l.Note = fmt.Sprintf("it still has %d child object(s): another application uses it; do not delete it (Microsoft's metadata cleanup guidance)", n)
			default:
				l.Deletable = true
				l.Note = "no children remain: safe to delete"
			}
			out = append(out, l)
		}
	}
	if dc.ComputerDN != "" {
		exists, err := Exists(conn, dc.ComputerDN)
		switch {
		case err != nil:
			out = append(out, Leftover{Kind: LeftoverUnknown, DN: dc.ComputerDN, What: "computer object of " + dc.Name + " could not be checked", Note: err.Error()})
		case exists:
			out = append(out, Leftover{Kind: LeftoverComputerObject, DN: dc.ComputerDN, What: "computer object of " + dc.Name + " remains",
				Note: "it holds the RID Set and replication subscriptions; delete it with its children once the DC is known gone for good",
				PowerShell: []string{
					"Remove-ADObject -Identity " + remote.PSLiteral(dc.ComputerDN) + " -Recursive -Confirm:$false",
				},
				POSIX: []string{remote.ShellJoin([]string{"samba-tool", "computer", "delete", dc.Name})},
			})
		}
	}
	return out
}

// recordQuery is one DNS question and how to recognize the dead DC in its answers.
type recordQuery struct {
	name, typ string
	match     func(rr facts.RR) bool
}

func dnsLeftovers(ctx context.Context, dns DNSQuerier, in LeftoversInput) []Leftover {
	dc, root := in.DC, facts.CanonicalName(in.Forest.RootDomain)
	host := facts.CanonicalName(dc.DNSHostName)
	domain := facts.CanonicalName(dc.Domain)
	if domain == "" {
		domain = root
	}
	ips := map[string]bool{}
	for _, ip := range dc.IPs.Value {
		ips[ip] = true
	}
	targetIs := func(rr facts.RR) bool {
		f := strings.Fields(rr.Data)
		return len(f) > 0 && facts.CanonicalName(f[len(f)-1]) == host
	}
	isHost := func(rr facts.RR) bool { return facts.CanonicalName(rr.Data) == host }
	anyData := func(rr facts.RR) bool { return rr.Data != "" }
	isIP := func(rr facts.RR) bool { return ips[rr.Data] }

	var qs []recordQuery
	if dc.DSAGUID != "" && root != "" {
		qs = append(qs, recordQuery{dc.DSAGUID + "._msdcs." + root, facts.TypeCNAME, anyData})
	}
	if host != "" && !in.Alive {
		qs = append(qs, recordQuery{host, facts.TypeA, anyData}, recordQuery{host, facts.TypeAAAA, anyData})
		srv := []string{
			"_ldap._tcp." + domain, "_ldap._tcp.dc._msdcs." + domain, "_kerberos._tcp." + domain,
			"_kerberos._tcp.dc._msdcs." + domain, "_kerberos._udp." + domain, "_kpasswd._tcp." + domain,
			"_ldap._tcp.pdc._msdcs." + domain, "_gc._tcp." + root, "_ldap._tcp.gc._msdcs." + root,
		}
		site := dc.Site
		if site != "" {
			srv = append(srv, "_ldap._tcp."+site+"._sites."+domain, "_ldap._tcp."+site+"._sites.dc._msdcs."+domain,
				"_kerberos._tcp."+site+"._sites."+domain)
		}
		for _, n := range srv {
			qs = append(qs, recordQuery{n, facts.TypeSRV, targetIs})
		}
		qs = append(qs, recordQuery{domain, facts.TypeNS, isHost})
		if root != "" {
			qs = append(qs, recordQuery{"_msdcs." + root, facts.TypeNS, isHost})
		}
	}
	if len(ips) > 0 && root != "" && !in.Alive {
		qs = append(qs, recordQuery{"gc._msdcs." + root, facts.TypeA, isIP},
			recordQuery{"domaindnszones." + domain, facts.TypeA, isIP},
			recordQuery{"forestdnszones." + root, facts.TypeA, isIP})
	}

	type key struct{ name, typ, data string }
	found := map[key]*Leftover{}
	var order []key
	var unknown []string
	for _, server := range in.DNSServers {
		for _, q := range qs {
			obs := dns.Query(ctx, facts.DNSQuery{Server: server, Name: q.name, Type: q.typ})
			if !obs.Responded() {
				unknown = append(unknown, fmt.Sprintf("%s %s at %s: %s", q.typ, q.name, server, firstNonEmpty(obs.Error, "no answer")))
				continue
			}
			for _, rr := range obs.Answers {
				if !strings.EqualFold(rr.Type, q.typ) || facts.CanonicalName(rr.Name) != facts.CanonicalName(q.name) || !q.match(rr) {
					continue
				}
				k := key{facts.CanonicalName(rr.Name), strings.ToUpper(rr.Type), rr.Data}
				l := found[k]
				if l == nil {
					rrc := rr
					l = &Leftover{Kind: LeftoverDNSRecord, Record: &rrc, Deletable: true,
						What: fmt.Sprintf("DNS %s %s -> %s still names %s", k.typ, k.name, rr.Data, dc.Name)}
					found[k] = l
					order = append(order, k)
				}
				l.Servers = append(l.Servers, server)
			}
		}
	}
	var out []Leftover
	if len(order) > 0 && host != "" && !in.Alive {
		// nltest removes the DC's SRV and CNAME records in one go (not A records); never for a
		// live DC, whose locator records it would remove too.
		args := []string{"nltest", "/dsderegdns:" + host}
		if domain != "" {
			args = append(args, "/Dom:"+domain)
		}
		if dc.DSAGUID != "" {
			args = append(args, "/DsaGUID:"+dc.DSAGUID)
		}
		var quoted []string
		for _, a := range args {
			quoted = append(quoted, remote.PSLiteral(a))
		}
		out = append(out, Leftover{Kind: LeftoverDNSRecord, What: "deregister " + dc.Name + "'s locator records (SRV, CNAME) in one step",
			Note:       "run on a surviving Windows DC; A, NS and gc._msdcs records need the per-record commands below",
			PowerShell: []string{"& " + strings.Join(quoted, " ")}})
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].name < order[j].name })
	for _, k := range order {
		l := found[k]
		zone, rel := zoneOf(k.name, root, domain)
		server := l.Servers[0]
		data := strings.TrimSuffix(k.data, ".")
		l.PowerShell = []string{fmt.Sprintf("Remove-DnsServerResourceRecord -ComputerName %s -ZoneName %s -Name %s -RRType %s -RecordData %s -Force",
			remote.PSLiteral(server), remote.PSLiteral(zone), remote.PSLiteral(rel), k.typ, remote.PSLiteral(recordDataArg(k.typ, data)))}
		l.POSIX = []string{remote.ShellJoin([]string{"samba-tool", "dns", "delete", server, zone, rel, k.typ, data, "-U", "Administrator"})}
		out = append(out, *l)
	}
	for _, u := range unknown {
		out = append(out, Leftover{Kind: LeftoverUnknown, What: "DNS not checked: " + u})
	}
	return out
}

// recordDataArg renders record data the way Remove-DnsServerResourceRecord -RecordData wants
// it: SRV as "priority weight port target" is not accepted there, so only the target is kept.
func recordDataArg(typ, data string) string {
	if typ == facts.TypeSRV {
		f := strings.Fields(data)
		if len(f) > 0 {
			return strings.TrimSuffix(f[len(f)-1], ".")
		}
	}
	return data
}

// zoneOf picks the zone a name lives in (the _msdcs zone, the DC's domain, or the forest root)
// and the name relative to it ("@" for the apex).
func zoneOf(name, root, domain string) (zone, rel string) {
	candidates := []string{"_msdcs." + root, domain, root}
	for _, z := range candidates {
		if z == "" || z == "_msdcs." {
			continue
		}
		if name == z {
			return z, "@"
		}
		if strings.HasSuffix(name, "."+z) {
			return z, strings.TrimSuffix(name, "."+z)
		}
	}
	return root, name
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
