// Package scenario reads lab scenarios — small forests described in HCL — and simulates them:
// who the DCs are, which DNS server holds which records, what each server answers, and what a
// destination DC records when it replicates. The same World feeds the planner directly, the
// simulated LDAP/DNS servers of lab/sim, and the demo's remediations (which mutate it).
//
// A scenario is about the forest, not about facts internals:
//
//	scenario { title = "..."  expect = { "DC1<-DC2" = "source_cname_not_registered" } }
//	forest   { root_domain = "contoso.com" }
//	domain "contoso.com" { netbios = "CONTOSO" }
//	dc "DC1" { guid = "..."  ips = ["192.0.2.11"]  dns_servers = ["192.0.2.11"] }
//	dc "DC2" { guid = "..."  ips = ["192.0.2.12"]  unregistered = ["cname"] }
//	dns_server "192.0.2.11" { host = "DC1" }
//	link { destination = "DC1"  source = "DC2"  failures = 23 }
//
// The scenario block may also set expect_warnings = { "DC1<-DC3" = ["link_address_latent"] }:
// the warnings the shipped playbook must report for partnerships whose links all succeed; and
// expect_actions = { "DC1<-DC2" = ["metadata_cleanup (blocked)"] }: the actions a partnership's
// plan proposes, in order ("(blocked)": a guard refuses it).
//
// A link block may also set source_guid (the DSA GUID the destination knows the source by) and
// address_guid (the GUID whose _msdcs name the destination dials, when that differs).
//
// The admin workstation is a DNS client like any other: it resolves through the scenario's DNS
// servers, from what they hold. A workstation block says which servers it asks (default: the
// seed DC's DNS client servers) and what the operator's inventory knows:
//
//	workstation {
//	  dns_servers = ["192.0.2.11"]
//	  inventory "DC2" { ips = ["192.0.2.12"], dns_servers = ["192.0.2.12"] }
//	}
//
// The scenario block may set vars, the playbook's -var NAME=VALUE arguments the expected
// decisions assume (vars = ["decommissioned=[\"DC2\"]"]); the forest block may set
// tombstone_lifetime_days (absent: the directory holds none, AD's default of 60 days).
//
// Replication results are derived from the DNS state unless a link block says otherwise: a
// destination that cannot resolve the source's GUID CNAME through its (sticky) resolver records
// 8524 (2 on Samba), exactly as the article describes.
package scenario

import (
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/hclscan"
	"github.com/fix8524/fix8524/lab/scenarios"
)

// Default is the scenario `--demo` shows a newcomer first.
const Default = "source-cname-missing"

// DefaultNow is the scenario clock when a scenario does not set `now`.
var DefaultNow = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

// DC states.
const (
	StateOnline  = "online"
	StateOffline = "offline" // a valid DC that is down
	StateGone    = "gone"    // no longer exists; its NTDS Settings may remain (stale metadata)
)

// DNS server kinds.
const (
	KindAD      = "ad"      // a DC-hosted DNS server with AD-integrated zones (accepts dynamic updates)
	KindISP     = "isp"     // a resolver that hosts none of the forest's zones and accepts no updates
	KindDead    = "dead"    // nothing answers (timeout)
	KindRefused = "refused" // answers REFUSED to everything
)

// Scenario is a parsed scenario file.
type Scenario struct {
	Name        string
	Title       string
	Description string
	// Expect maps a partnership "DEST<-SOURCE" to the decision the shipped playbook must reach
	// ("healthy" for no failing link).
	Expect map[string]string
	// ExpectActions maps a partnership to the actions its plan must propose, in order, each
	// "NAME" or "NAME (blocked)" (a guard or a flagged value refuses it); a partnership not
	// listed is not checked.
	ExpectActions map[string][]string
	// ExpectWarnings maps a partnership "DEST<-SOURCE" whose links all succeed to the names of
	// the warnings the shipped playbook must report for it (sorted); a partnership not listed
	// must get none.
	ExpectWarnings map[string][]string
	Now            time.Time
	Seed           string
	// Vars are the playbook -var arguments the expectations assume.
	Vars []string
	// Workstation is the admin workstation: its DNS servers and the inventory.
	Workstation Workstation
	// TombstoneLifetimeDays is the forest's tombstoneLifetime; 0: not set (the default).
	TombstoneLifetimeDays int

	RootDomain string
	Domains    []Domain
	DCs        []DC
	DNSServers []DNSServer
	Links      []LinkOverride
}

// Workstation is where fix8524 runs.
type Workstation struct {
	// DNSServers are the servers its resolver asks, in order; nil: the seed DC's DNS client
	// servers.
	DNSServers []string
	// Inventory maps a DC name to what the operator's inventory gives for it.
	Inventory map[string]InventoryDC
}

// InventoryDC is one DC of the workstation's inventory.
type InventoryDC struct {
	IPs        []string
	DNSServers []string
}

// Domain is one AD domain.
type Domain struct {
	Name    string // DNS name
	NetBIOS string
}

// DC is one domain controller of a scenario.
type DC struct {
	Name          string
	Domain        string
	Site          string
	HostName      string
	GUID          string // DSA GUID as the rest of the forest (and the seed) knows it
	OwnGUID       string // the DC's own current DSA GUID (differs after a re-promotion)
	InvocationID  string
	Created       time.Time
	Platform      string
	OS            string
	IPs           []string
	DNSServers    []string // nil: unknown (no probe credentials)
	GC            bool
	RODC          bool
	FSMO          []string
	State         string
	Protected     bool
	Unregistered  []string // "cname", "host": records this DC failed to register
	RecordsRemain bool     // a gone DC whose records were never removed
	ClosedPorts   []int
	// Filtered: a firewall between the workstation and the DC drops everything fix8524 sends
	// it (its replication partners reach it).
	Filtered bool
	Events   []Event
}

// Event is a Directory Service event seen on a DC.
type Event struct {
	ID        int
	Source    string // source DC name the event cites
	NC        string
	ErrorCode int
	Age       time.Duration
}

// DNSServer is one DNS server of a scenario.
type DNSServer struct {
	IP          string
	Host        string // DC that runs it, if any
	Kind        string
	Zones       []string
	Forwarders  []string
	Missing     []string // "cname:DC2", "host:DC2", "a:DC2", "aaaa:DC2", "all:DC2", "zone:NAME", "NAME TYPE"
	Records     []facts.RR
	Delegations map[string][]string // child zone -> server IPs
	// Replicates is false for an AD-integrated copy that does not receive AD replication (a
	// replication failure between DNS servers): registrations elsewhere never reach it.
	Replicates bool
}

// LinkOverride pins what a destination records for a source, instead of deriving it.
type LinkOverride struct {
	Destination string
	Source      string
	NCs         []string
	Result      *int
	Failures    *int
	SourceGUID  string
	// AddressGUID names the address the destination dials, <AddressGUID>._msdcs.<root>, when
	// it differs from the source GUID's own name (a link left with an earlier incarnation's
	// address after a re-promotion).
	AddressGUID string
	LastSuccess *time.Time
}

// Names lists the embedded scenarios.
func Names() []string {
	ents, err := fs.ReadDir(scenarios.FS, ".")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".hcl") {
			names = append(names, strings.TrimSuffix(e.Name(), ".hcl"))
		}
	}
	sort.Strings(names)
	return names
}

// Load parses an embedded scenario by name.
func Load(name string) (*Scenario, error) {
	if name == "" {
		name = Default
	}
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("scenario name %q: use letters, digits and dashes", name)
	}
	src, err := fs.ReadFile(scenarios.FS, name+".hcl")
	if err != nil {
		return nil, fmt.Errorf("no scenario %q (have: %s)", name, strings.Join(Names(), ", "))
	}
	s, diags := Parse("lab/scenarios/"+name+".hcl", src)
	if diags.HasErrors() {
		return nil, fmt.Errorf("scenario %s: %s", name, diags.Error())
	}
	return s, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

type fileHCL struct {
	Scenario    scenarioHCL      `hcl:"scenario,block"`
	Forest      forestHCL        `hcl:"forest,block"`
	Workstation []workstationHCL `hcl:"workstation,block"`
	Domains     []domainHCL      `hcl:"domain,block"`
	DCs         []dcHCL          `hcl:"dc,block"`
	Servers     []dnsServerHCL   `hcl:"dns_server,block"`
	Links       []linkHCL        `hcl:"link,block"`
}

type scenarioHCL struct {
	Title       string            `hcl:"title"`
	Description string            `hcl:"description,optional"`
	Expect      map[string]string `hcl:"expect,optional"`
	// ExpectActions: { "DC1<-DC2" = ["metadata_cleanup (blocked)"] }.
	ExpectActions map[string][]string `hcl:"expect_actions,optional"`
	// ExpectWarnings: { "DC1<-DC2" = ["link_address_latent"] }.
	ExpectWarnings map[string][]string `hcl:"expect_warnings,optional"`
	Now            string              `hcl:"now,optional"`
	Seed           string              `hcl:"seed,optional"`
	Vars           []string            `hcl:"vars,optional"`
}

type forestHCL struct {
	RootDomain        string `hcl:"root_domain"`
	TombstoneLifetime int    `hcl:"tombstone_lifetime_days,optional"`
}

type workstationHCL struct {
	DNSServers *[]string      `hcl:"dns_servers,optional"`
	Inventory  []inventoryHCL `hcl:"inventory,block"`
}

type inventoryHCL struct {
	DC         string   `hcl:"dc,label"`
	IPs        []string `hcl:"ips,optional"`
	DNSServers []string `hcl:"dns_servers,optional"`
}

type domainHCL struct {
	Name    string `hcl:"name,label"`
	NetBIOS string `hcl:"netbios,optional"`
}

type dcHCL struct {
	Name          string     `hcl:"name,label"`
	Domain        string     `hcl:"domain,optional"`
	Site          string     `hcl:"site,optional"`
	HostName      string     `hcl:"dns_host_name,optional"`
	GUID          string     `hcl:"guid"`
	OwnGUID       string     `hcl:"own_guid,optional"`
	InvocationID  string     `hcl:"invocation_id,optional"`
	Created       string     `hcl:"created,optional"`
	Platform      string     `hcl:"platform,optional"`
	OS            string     `hcl:"os,optional"`
	IPs           []string   `hcl:"ips"`
	DNSServers    *[]string  `hcl:"dns_servers,optional"`
	GC            *bool      `hcl:"gc,optional"`
	RODC          bool       `hcl:"rodc,optional"`
	FSMO          []string   `hcl:"fsmo,optional"`
	State         string     `hcl:"state,optional"`
	Protected     bool       `hcl:"protected,optional"`
	Unregistered  []string   `hcl:"unregistered,optional"`
	RecordsRemain bool       `hcl:"records_remain,optional"`
	ClosedPorts   []int      `hcl:"closed_ports,optional"`
	Filtered      bool       `hcl:"filtered,optional"`
	Events        []eventHCL `hcl:"event,block"`
}

type eventHCL struct {
	ID        int    `hcl:"id"`
	Source    string `hcl:"source,optional"`
	NC        string `hcl:"nc,optional"`
	ErrorCode int    `hcl:"error_code,optional"`
	Age       string `hcl:"age,optional"`
}

type dnsServerHCL struct {
	IP          string          `hcl:"ip,label"`
	Host        string          `hcl:"host,optional"`
	Kind        string          `hcl:"kind,optional"`
	Zones       *[]string       `hcl:"zones,optional"`
	Forwarders  []string        `hcl:"forwarders,optional"`
	Missing     []string        `hcl:"missing,optional"`
	Replicates  *bool           `hcl:"replicates,optional"`
	Records     []recordHCL     `hcl:"record,block"`
	Delegations []delegationHCL `hcl:"delegation,block"`
}

type recordHCL struct {
	Name string `hcl:"name"`
	Type string `hcl:"type"`
	Data string `hcl:"data"`
	TTL  int    `hcl:"ttl,optional"`
}

type delegationHCL struct {
	Zone    string   `hcl:"zone,label"`
	Servers []string `hcl:"servers"`
}

type linkHCL struct {
	Destination string   `hcl:"destination"`
	Source      string   `hcl:"source"`
	NCs         []string `hcl:"ncs,optional"`
	Result      *int     `hcl:"result,optional"`
	Failures    *int     `hcl:"failures,optional"`
	SourceGUID  string   `hcl:"source_guid,optional"`
	AddressGUID string   `hcl:"address_guid,optional"`
	LastSuccess string   `hcl:"last_success,optional"`
}

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Parse reads one scenario file. Every problem is a located diagnostic.
func Parse(filename string, src []byte) (*Scenario, hcl.Diagnostics) {
	if d := hclscan.Check(filename, src); d.HasErrors() {
		return nil, d
	}
	f, diags := hclparse.NewParser().ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, hclscan.Cap(diags)
	}
	var raw fileHCL
	if d := gohcl.DecodeBody(f.Body, nil, &raw); d.HasErrors() {
		return nil, append(diags, d...)
	}
	s := &Scenario{
		Name:           strings.TrimSuffix(path.Base(filename), ".hcl"),
		Title:          raw.Scenario.Title,
		Description:    raw.Scenario.Description,
		Expect:         raw.Scenario.Expect,
		ExpectActions:  raw.Scenario.ExpectActions,
		ExpectWarnings: raw.Scenario.ExpectWarnings,
		Seed:           raw.Scenario.Seed,
		Vars:           raw.Scenario.Vars,
		Now:            DefaultNow,
		RootDomain:     facts.CanonicalName(raw.Forest.RootDomain),

		TombstoneLifetimeDays: raw.Forest.TombstoneLifetime,
	}
	errf := func(format string, a ...any) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid scenario", Detail: fmt.Sprintf(format, a...), Subject: f.Body.MissingItemRange().Ptr()})
	}
	for id, names := range s.ExpectWarnings {
		if len(names) == 0 {
			errf("scenario.expect_warnings[%q]: list at least one warning (leave the partnership out to expect none)", id)
		}
		sort.Strings(names)
	}
	if raw.Scenario.Now != "" {
		t, err := time.Parse(time.RFC3339, raw.Scenario.Now)
		if err != nil {
			errf("scenario.now: %v", err)
		}
		s.Now = t.UTC()
	}
	if s.RootDomain == "" {
		errf("forest.root_domain is empty")
	}
	if s.TombstoneLifetimeDays < 0 {
		errf("forest.tombstone_lifetime_days must be a positive number of days")
	}
	for _, d := range raw.Domains {
		s.Domains = append(s.Domains, Domain{Name: facts.CanonicalName(d.Name), NetBIOS: d.NetBIOS})
	}
	if len(s.Domains) == 0 {
		s.Domains = []Domain{{Name: s.RootDomain, NetBIOS: strings.ToUpper(strings.SplitN(s.RootDomain, ".", 2)[0])}}
	}
	domains := map[string]bool{}
	for _, d := range s.Domains {
		domains[d.Name] = true
	}
	names := map[string]bool{}
	for i, d := range raw.DCs {
		dc := DC{
			Name: d.Name, Domain: facts.CanonicalName(d.Domain), Site: d.Site, HostName: facts.CanonicalName(d.HostName),
			GUID: strings.ToLower(d.GUID), OwnGUID: strings.ToLower(d.OwnGUID), InvocationID: strings.ToLower(d.InvocationID),
			Platform: d.Platform, OS: d.OS, IPs: d.IPs, RODC: d.RODC, FSMO: d.FSMO, State: d.State, Protected: d.Protected,
			Unregistered: d.Unregistered, RecordsRemain: d.RecordsRemain, ClosedPorts: d.ClosedPorts, Filtered: d.Filtered, GC: true,
		}
		if d.DNSServers != nil {
			dc.DNSServers = append([]string{}, (*d.DNSServers)...)
		}
		if d.GC != nil {
			dc.GC = *d.GC
		}
		if dc.Domain == "" {
			dc.Domain = s.RootDomain
		}
		if dc.Site == "" {
			dc.Site = "Default-First-Site-Name"
		}
		if dc.HostName == "" {
			dc.HostName = strings.ToLower(dc.Name) + "." + dc.Domain
		}
		if dc.OwnGUID == "" {
			dc.OwnGUID = dc.GUID
		}
		if dc.InvocationID == "" {
			dc.InvocationID = dc.GUID
		}
		if dc.Platform == "" {
			dc.Platform = facts.PlatformWindows
		}
		if dc.OS == "" {
			dc.OS = map[string]string{facts.PlatformWindows: "Windows Server 2022 Datacenter", facts.PlatformSamba: "Samba 4.17.12-Debian"}[dc.Platform]
		}
		if dc.State == "" {
			dc.State = StateOnline
		}
		dc.Created = s.Now.Add(-time.Duration(400-i) * 24 * time.Hour)
		if d.Created != "" {
			t, err := time.Parse(time.RFC3339, d.Created)
			if err != nil {
				errf("dc %q created: %v", d.Name, err)
			}
			dc.Created = t.UTC()
		}
		switch {
		case d.Name == "" || names[strings.ToLower(d.Name)]:
			errf("dc %q: empty or duplicate name", d.Name)
		case !guidRE.MatchString(dc.GUID) || !guidRE.MatchString(dc.OwnGUID) || !guidRE.MatchString(dc.InvocationID):
			errf("dc %q: guid, own_guid and invocation_id must be lower-case GUIDs", d.Name)
		case !domains[dc.Domain]:
			errf("dc %q: domain %q is not declared", d.Name, dc.Domain)
		case dc.Platform != facts.PlatformWindows && dc.Platform != facts.PlatformSamba:
			errf("dc %q: platform must be windows or samba", d.Name)
		case dc.State != StateOnline && dc.State != StateOffline && dc.State != StateGone:
			errf("dc %q: state must be online, offline or gone", d.Name)
		}
		for _, ip := range append(append([]string{}, dc.IPs...), dc.DNSServers...) {
			if _, err := netip.ParseAddr(ip); err != nil {
				errf("dc %q: %q is not an IP address", d.Name, ip)
			}
		}
		for _, u := range dc.Unregistered {
			if u != "cname" && u != "host" {
				errf("dc %q: unregistered entries are \"cname\" or \"host\", not %q", d.Name, u)
			}
		}
		for _, e := range d.Events {
			ev := Event{ID: e.ID, Source: e.Source, NC: e.NC, ErrorCode: e.ErrorCode, Age: time.Hour}
			if e.Age != "" {
				a, err := time.ParseDuration(e.Age)
				if err != nil {
					errf("dc %q event %d age: %v", d.Name, e.ID, err)
				}
				ev.Age = a
			}
			dc.Events = append(dc.Events, ev)
		}
		names[strings.ToLower(d.Name)] = true
		s.DCs = append(s.DCs, dc)
	}
	if len(s.DCs) == 0 {
		errf("a scenario needs at least one dc block")
	}
	for _, r := range raw.Servers {
		srv := DNSServer{IP: r.IP, Host: r.Host, Kind: r.Kind, Forwarders: r.Forwarders, Missing: r.Missing, Replicates: true, Delegations: map[string][]string{}}
		if _, err := netip.ParseAddr(r.IP); err != nil {
			errf("dns_server %q: not an IP address", r.IP)
		}
		if srv.Kind == "" {
			srv.Kind = KindAD
		}
		if srv.Kind != KindAD && srv.Kind != KindISP && srv.Kind != KindDead && srv.Kind != KindRefused {
			errf("dns_server %q: kind must be ad, isp, dead or refused", r.IP)
		}
		if srv.Host != "" && !names[strings.ToLower(srv.Host)] {
			errf("dns_server %q: host %q is not a dc of this scenario", r.IP, srv.Host)
		}
		if r.Replicates != nil {
			srv.Replicates = *r.Replicates
		}
		if r.Zones != nil {
			for _, z := range *r.Zones {
				srv.Zones = append(srv.Zones, facts.CanonicalName(z))
			}
		} else if srv.Kind == KindAD {
			// An AD DNS server hosts every domain zone and the forest-wide _msdcs zone by default.
			for _, d := range s.Domains {
				srv.Zones = append(srv.Zones, d.Name)
			}
			srv.Zones = append(srv.Zones, "_msdcs."+s.RootDomain)
		}
		for _, rec := range r.Records {
			ttl := rec.TTL
			if ttl == 0 {
				ttl = 600
			}
			srv.Records = append(srv.Records, facts.RR{Name: facts.CanonicalName(rec.Name), Type: strings.ToUpper(rec.Type), TTL: uint32(ttl), Data: rec.Data})
		}
		for _, d := range r.Delegations {
			srv.Delegations[facts.CanonicalName(d.Zone)] = d.Servers
		}
		s.DNSServers = append(s.DNSServers, srv)
	}
	for _, l := range raw.Links {
		if !names[strings.ToLower(l.Destination)] || !names[strings.ToLower(l.Source)] {
			errf("link %s<-%s: both ends must be dc blocks", l.Destination, l.Source)
		}
		o := LinkOverride{Destination: l.Destination, Source: l.Source, NCs: l.NCs, Result: l.Result, Failures: l.Failures, SourceGUID: strings.ToLower(l.SourceGUID)}
		if o.SourceGUID != "" && !guidRE.MatchString(o.SourceGUID) {
			errf("link %s<-%s: source_guid must be a lower-case GUID", l.Destination, l.Source)
		}
		o.AddressGUID = strings.ToLower(l.AddressGUID)
		if o.AddressGUID != "" && !guidRE.MatchString(o.AddressGUID) {
			errf("link %s<-%s: address_guid must be a lower-case GUID", l.Destination, l.Source)
		}
		if l.LastSuccess != "" {
			t, err := time.Parse(time.RFC3339, l.LastSuccess)
			if err != nil {
				errf("link %s<-%s last_success: %v", l.Destination, l.Source, err)
			}
			o.LastSuccess = &t
		}
		s.Links = append(s.Links, o)
	}
	if s.Seed != "" && !names[strings.ToLower(s.Seed)] {
		errf("scenario.seed %q is not a dc", s.Seed)
	}
	for _, ws := range raw.Workstation {
		if ws.DNSServers != nil {
			s.Workstation.DNSServers = append([]string{}, (*ws.DNSServers)...)
			for _, ip := range s.Workstation.DNSServers {
				if _, err := netip.ParseAddr(ip); err != nil {
					errf("workstation.dns_servers: %q is not an IP address", ip)
				}
			}
		}
		for _, inv := range ws.Inventory {
			if !names[strings.ToLower(inv.DC)] {
				errf("workstation inventory %q is not a dc", inv.DC)
			}
			for _, ip := range append(append([]string{}, inv.IPs...), inv.DNSServers...) {
				if _, err := netip.ParseAddr(ip); err != nil {
					errf("workstation inventory %q: %q is not an IP address", inv.DC, ip)
				}
			}
			if s.Workstation.Inventory == nil {
				s.Workstation.Inventory = map[string]InventoryDC{}
			}
			s.Workstation.Inventory[inv.DC] = InventoryDC{IPs: inv.IPs, DNSServers: inv.DNSServers}
		}
	}
	return s, diags
}

func (s *Scenario) dc(name string) *DC {
	for i := range s.DCs {
		if strings.EqualFold(s.DCs[i].Name, name) {
			return &s.DCs[i]
		}
	}
	return nil
}

// domainDN turns "contoso.com" into "DC=contoso,DC=com".
func domainDN(dns string) string {
	parts := strings.Split(dns, ".")
	for i, p := range parts {
		parts[i] = "DC=" + p
	}
	return strings.Join(parts, ",")
}
