package scenario

import (
	"sort"
	"strings"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/facts/locate"
	"github.com/fix8524/fix8524/lab/workstation"
)

// The World is a forest the workstation model (and lab/sim) can ask.
var _ workstation.Forest = (*World)(nil)

// locked is the World with w.mu already held (read): the workstation model's calls must not
// take the lock again.
type locked struct{ w *World }

func (l locked) Served() *facts.Snapshot { return l.w.served() }
func (l locked) QueryDNS(q facts.DNSQuery) facts.DNSObservation {
	return l.w.query(q, 0)
}
func (l locked) ProbeAddress(address string, port int) facts.ReachAttempt {
	return l.w.probeAddress(address, port)
}
func (l locked) HostFacts(dc string) (facts.Maybe[[]string], string, facts.Maybe[[]facts.Event]) {
	return l.w.hostFacts(dc)
}
func (l locked) ZoneNodes(dc, partition string) ([]string, []locate.Node, bool) {
	return l.w.zoneNodes(dc, partition)
}
func (l locked) WorkstationDNS() []string { return l.w.workstationDNS() }

// HostFacts returns a DC's DNS client settings and events as a read-only WinRM/SSH probe reads
// them on the DC (unknown when the scenario does not say: no probe credentials).
func (w *World) HostFacts(dc string) (facts.Maybe[[]string], string, facts.Maybe[[]facts.Event]) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.hostFacts(dc)
}

func (w *World) hostFacts(name string) (facts.Maybe[[]string], string, facts.Maybe[[]facts.Event]) {
	dc := w.dcNamed(name)
	if dc == nil || dc.DNSServers == nil {
		return facts.Unknown[[]string]("no WinRM/SSH credentials to read the DNS client settings"), "",
			facts.Unknown[[]facts.Event]("no WinRM credentials to read the event log")
	}
	evs := []facts.Event{}
	for _, e := range dc.Events {
		ev := facts.Event{ID: e.ID, Time: w.now.Add(-e.Age), ErrorCode: e.ErrorCode, NC: e.NC, Level: "Error"}
		if e.ID == 2088 || e.ID == 1925 || e.ID == 1926 {
			ev.Level = "Warning"
		}
		if src := w.s.dc(e.Source); src != nil {
			ev.SourceDSADN = w.ntdsDN(src)
			ev.FailingName = src.GUID + "._msdcs." + w.s.RootDomain
		}
		evs = append(evs, ev)
	}
	return facts.Some(append([]string(nil), dc.DNSServers...)), "scenario", facts.Some(evs)
}

// WorkstationDNS returns the DNS servers the admin workstation asks: the scenario's workstation
// block, else the seed DC's DNS client servers.
func (w *World) WorkstationDNS() []string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.workstationDNS()
}

func (w *World) workstationDNS() []string {
	if w.s.Workstation.DNSServers != nil {
		return w.s.Workstation.DNSServers
	}
	if seed := w.dcNamed(w.seed()); seed != nil {
		return w.resolversOf(seed)
	}
	return nil
}

// Inventory returns the scenario's inventory (the operator's knowledge), nil when it has none.
func (w *World) Inventory() *inventory.Inventory { return w.inventory() }

func (w *World) inventory() *inventory.Inventory {
	if len(w.s.Workstation.Inventory) == 0 {
		return nil
	}
	inv := &inventory.Inventory{Filename: "the scenario's inventory", DCs: map[string]*inventory.DC{}}
	for name, dc := range w.s.Workstation.Inventory {
		inv.DCs[strings.ToLower(name)] = &inventory.DC{Name: name, IPs: append([]string(nil), dc.IPs...), DNSServers: append([]string(nil), dc.DNSServers...)}
	}
	return inv
}

// BaseWith is Base with other operator settings: an inventory (nil: the scenario's own) and
// --assume-self-dns.
func (w *World) BaseWith(inv *inventory.Inventory, assumeSelfDNS bool) *facts.Snapshot {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if inv == nil {
		inv = w.inventory()
	}
	return workstation.View(locked{w}, workstation.Options{Inventory: inv, AssumeSelfDNS: assumeSelfDNS})
}

// ZoneNodes returns the DNS zones and dnsNode objects DC dc holds in an AD partition: the zones
// of the AD-integrated DNS server it runs (domain zones in their domain's DomainDnsZones,
// _msdcs in ForestDnsZones; CN=System holds none). ok is false when dc runs no such server.
func (w *World) ZoneNodes(dc, partition string) ([]string, []locate.Node, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.zoneNodes(dc, partition)
}

func (w *World) zoneNodes(dc, partition string) ([]string, []locate.Node, bool) {
	var srv *DNSServer
	for i := range w.s.DNSServers {
		if s := &w.s.DNSServers[i]; s.Kind == KindAD && strings.EqualFold(s.Host, dc) {
			srv = s
			break
		}
	}
	if srv == nil {
		return nil, nil, false
	}
	var zones []string
	var nodes []locate.Node
	tombAt := w.s.Now.Add(-24 * time.Hour)
	for z, owners := range w.zones[srv.IP] {
		if !strings.EqualFold(w.partitionOf(z), partition) {
			continue
		}
		zones = append(zones, z)
		for name, rrs := range owners {
			n := locate.Node{Name: name, Zone: z}
			for _, rr := range rrs {
				switch rr.Type {
				case facts.TypeA, facts.TypeAAAA:
					n.Addresses = append(n.Addresses, rr.Data)
				case facts.TypeNS:
					n.NS = append(n.NS, facts.CanonicalName(rr.Data))
				}
			}
			nodes = append(nodes, n)
		}
		for name := range w.tomb[srv.IP] {
			if len(owners[name]) == 0 && (name == z || strings.HasSuffix(name, "."+z)) && w.zoneFor(srv.IP, name) == z {
				nodes = append(nodes, locate.Node{Name: name, Zone: z, Tombstoned: true, TombstonedAt: tombAt})
			}
		}
	}
	sort.Strings(zones)
	sort.Slice(nodes, func(i, j int) bool {
		if nodes[i].Zone != nodes[j].Zone {
			return nodes[i].Zone < nodes[j].Zone
		}
		return nodes[i].Name < nodes[j].Name
	})
	return zones, nodes, true
}

// partitionOf is the AD partition an AD-integrated zone is stored in.
func (w *World) partitionOf(zone string) string {
	root := w.s.RootDomain
	if zone == "_msdcs."+root || strings.HasSuffix(zone, "._msdcs."+root) {
		return "DC=ForestDnsZones," + domainDN(root)
	}
	best := root
	for _, d := range w.s.Domains {
		if (zone == d.Name || strings.HasSuffix(zone, "."+d.Name)) && len(d.Name) > len(best) {
			best = d.Name
		}
	}
	return "DC=DomainDnsZones," + domainDN(best)
}
