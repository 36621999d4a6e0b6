package scenario

import (
	"strings"
	"time"

	"github.com/fix8524/fix8524/facts/inventory"
)

// Ways fix8524 knows the DCs' DNS client settings (WithDNSSettings).
const (
	SettingsRead      = "read"      // read on the DCs (WinRM/SSH)
	SettingsInventory = "inventory" // given in the inventory (dns_servers)
	SettingsAssumed   = "assumed"   // not read: --assume-self-dns
)

// Aged returns a copy of the scenario in which every link from source last succeeded days (and
// an hour) before the scenario's clock; its other link overrides are dropped.
func (s Scenario) Aged(source string, days int) *Scenario {
	at := s.Now.Add(-time.Duration(days)*24*time.Hour - time.Hour)
	s.Links = nil
	for _, dc := range s.DCs {
		if !strings.EqualFold(dc.Name, source) {
			s.Links = append(s.Links, LinkOverride{Destination: dc.Name, Source: source, LastSuccess: &at})
		}
	}
	return &s
}

// WithDNSSettings returns a copy of the scenario whose DCs' DNS client settings (as the scenario
// says, else each DC's own addresses) are read on the DCs (SettingsRead), given in an inventory
// instead (SettingsInventory: the inventory to gather with is returned), or not known at all
// (SettingsAssumed: gather with --assume-self-dns).
func (s Scenario) WithDNSSettings(mode string) (*Scenario, *inventory.Inventory) {
	dcs := append([]DC(nil), s.DCs...)
	for i := range dcs {
		if dcs[i].DNSServers == nil {
			dcs[i].DNSServers = append([]string(nil), dcs[i].IPs...)
		}
	}
	var inv *inventory.Inventory
	if mode == SettingsInventory {
		inv = &inventory.Inventory{Filename: "inventory.hcl", DCs: map[string]*inventory.DC{}}
	}
	if mode != SettingsRead {
		for i := range dcs {
			if inv != nil {
				inv.DCs[strings.ToLower(dcs[i].Name)] = &inventory.DC{Name: dcs[i].Name, DNSServers: dcs[i].DNSServers}
			}
			dcs[i].DNSServers = nil // no WinRM/SSH credentials: not read
		}
	}
	s.DCs = dcs
	return &s, inv
}
