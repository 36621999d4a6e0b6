package ldapread

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/dnsrecord"
	"github.com/fix8524/fix8524/facts/locate"
)

// Attributes of dnsNode objects (MS-DNSP 2.3.2).
const (
	AttrDNSRecord     = "dnsRecord"
	AttrDNSTombstoned = "dNSTombstoned"
)

// ReadZones reads, in one paged search, the dnsNode objects named names (relative names, "@" for
// a zone's apex) of every DNS zone stored in partition (DC=DomainDnsZones,<domain>,
// DC=ForestDnsZones,<root> or CN=System,<domain>; the zones live below CN=MicrosoftDNS). A
// partition without a CN=MicrosoftDNS container holds no zone; one that cannot be searched is a
// ZoneRead with Err set.
func (c *Client) ReadZones(ctx context.Context, partition string, names []string) locate.ZoneRead {
	zr := locate.ZoneRead{Partition: partition}
	base := "CN=MicrosoftDNS," + partition
	var f strings.Builder
	f.WriteString("(&(objectClass=dnsNode)(|")
	for _, n := range names {
		f.WriteString("(name=" + ldap.EscapeFilter(n) + ")")
	}
	f.WriteString("))")
	es, err := c.search(ctx, base, ldap.ScopeWholeSubtree, f.String(), []string{"name", AttrDNSRecord, AttrDNSTombstoned})
	if err != nil {
		if !ldap.IsErrorWithCode(errorsUnwrapAll(err), ldap.LDAPResultNoSuchObject) {
			zr.Err = err.Error()
		}
		return zr // no CN=MicrosoftDNS container: the partition holds no zone
	}
	zones := map[string]bool{}
	for _, e := range es {
		n, ok := nodeOf(e, partition)
		if !ok {
			continue
		}
		if n.Name == n.Zone && !zones[n.Zone] {
			zones[n.Zone] = true
			zr.Zones = append(zr.Zones, n.Zone)
		}
		zr.Nodes = append(zr.Nodes, n)
	}
	return zr
}

// nodeOf decodes one dnsNode entry: DC=<name>,DC=<zone>,CN=MicrosoftDNS,<partition>.
func nodeOf(e *ldap.Entry, partition string) (locate.Node, bool) {
	parent := splitDN(e.DN)
	if len(parent) < 3 {
		return locate.Node{}, false
	}
	k, zone, _ := strings.Cut(parent[1], "=")
	if !strings.EqualFold(k, "DC") {
		return locate.Node{}, false
	}
	zone = facts.CanonicalName(zone)
	name := e.GetEqualFoldAttributeValue("name")
	if name == "" {
		_, name, _ = strings.Cut(parent[0], "=")
	}
	n := locate.Node{Zone: zone, Name: zone}
	if name != "@" {
		n.Name = facts.CanonicalName(name + "." + zone)
	}
	n.Tombstoned = strings.EqualFold(e.GetEqualFoldAttributeValue(AttrDNSTombstoned), "TRUE")
	live, tombs := 0, 0
	for _, raw := range e.GetEqualFoldRawAttributeValues(AttrDNSRecord) {
		r, err := dnsrecord.Decode(raw)
		if err != nil {
			if len(n.Problems) < 5 {
				n.Problems = append(n.Problems, err.Error())
			}
			continue
		}
		switch r.Type {
		case dnsrecord.TypeZero:
			tombs++
			if n.TombstonedAt.IsZero() {
				n.TombstonedAt = r.Tombstoned
			}
			continue
		case dnsrecord.TypeA, dnsrecord.TypeAAAA:
			n.Addresses = append(n.Addresses, r.Address.String())
		case dnsrecord.TypeNS:
			n.NS = append(n.NS, r.Target)
		}
		live++
	}
	if live == 0 && tombs > 0 {
		n.Tombstoned = true // only a tombstone record: the node was deleted
	}
	if n.Tombstoned {
		n.Addresses, n.NS = nil, nil // a tombstoned node holds no record
	}
	return n, true
}

// ReadTombstoneLifetime reads the forest's tombstoneLifetime in days from CN=Directory
// Service,CN=Windows NT,CN=Services,<config NC>; an absent attribute is the default (60 days,
// from "default").
func (c *Client) ReadTombstoneLifetime(ctx context.Context, configNC string) (facts.Maybe[int], string) {
	dn := "CN=Directory Service,CN=Windows NT,CN=Services," + configNC
	es, err := c.search(ctx, dn, ldap.ScopeBaseObject, "(objectClass=*)", []string{"tombstoneLifetime"})
	if err != nil {
		return facts.Unknown[int]("reading tombstoneLifetime: " + err.Error()), ""
	}
	if len(es) != 1 {
		return facts.Unknown[int](fmt.Sprintf("reading tombstoneLifetime: %d entries for %s", len(es), clip(dn))), ""
	}
	v := es[0].GetEqualFoldAttributeValue("tombstoneLifetime")
	if v == "" {
		return facts.Some(facts.DefaultTombstoneLifetimeDays), "default"
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 || n > 100000 {
		return facts.Unknown[int](fmt.Sprintf("tombstoneLifetime %q is not a number of days", clip(v))), ""
	}
	return facts.Some(n), "directory"
}
