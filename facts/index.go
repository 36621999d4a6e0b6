package facts

import "strings"

// Index gives constant-time lookups over a snapshot. Build it once per snapshot; it does not
// copy the snapshot, so the snapshot must not change while the index is in use.
type Index struct {
	s      *Snapshot
	byName map[string]*DC // lower-case Name and DNSHostName
	byGUID map[string]*DC // lower-case DSA GUID
	byDN   map[string]*DC // lower-case NTDS Settings DN
	dns    map[string]*DNSObservation
	reach  map[string]*ReachObservation
}

// NewIndex indexes s.
func NewIndex(s *Snapshot) *Index {
	ix := &Index{
		s:      s,
		byName: make(map[string]*DC, 2*len(s.DCs)),
		byGUID: make(map[string]*DC, len(s.DCs)),
		byDN:   make(map[string]*DC, len(s.DCs)),
		dns:    make(map[string]*DNSObservation, len(s.DNS)),
		reach:  make(map[string]*ReachObservation, len(s.Reach)),
	}
	for i := range s.DCs {
		dc := &s.DCs[i]
		if dc.Name != "" {
			ix.byName[strings.ToLower(dc.Name)] = dc
		}
		if dc.DNSHostName != "" {
			ix.byName[CanonicalName(dc.DNSHostName)] = dc
		}
		if dc.DSAGUID != "" {
			ix.byGUID[strings.ToLower(dc.DSAGUID)] = dc
		}
		if dc.NTDSSettingsDN != "" {
			ix.byDN[strings.ToLower(dc.NTDSSettingsDN)] = dc
		}
	}
	for i := range s.DNS {
		ix.dns[s.DNS[i].Key()] = &s.DNS[i]
	}
	for i := range s.Reach {
		ix.reach[s.Reach[i].Key()] = &s.Reach[i]
	}
	return ix
}

// Snapshot returns the indexed snapshot.
func (ix *Index) Snapshot() *Snapshot { return ix.s }

// DCByName finds a DC by server name or DNS host name (case-insensitive).
func (ix *Index) DCByName(name string) *DC { return ix.byName[CanonicalName(name)] }

// DCByGUID finds a DC by its DSA GUID as the seed DC knows it.
func (ix *Index) DCByGUID(guid string) *DC { return ix.byGUID[strings.ToLower(guid)] }

// DCByNTDSDN finds a DC by the DN of its NTDS Settings object.
func (ix *Index) DCByNTDSDN(dn string) *DC { return ix.byDN[strings.ToLower(dn)] }

// SourceOf finds the DC a link replicates from: by DSA GUID, then by NTDS Settings DN, then by the
// server name in the DSA DN (a re-promoted DC has a new GUID but the same server name).
func (ix *Index) SourceOf(l *Link) *DC {
	if dc := ix.DCByGUID(l.SourceDSAGUID); dc != nil {
		return dc
	}
	if dc := ix.DCByNTDSDN(l.SourceDSADN); dc != nil {
		return dc
	}
	if name := ServerNameFromDSADN(l.SourceDSADN); name != "" {
		return ix.byName[strings.ToLower(name)]
	}
	return nil
}

// DNS returns the observation for q, or nil when it was not gathered.
func (ix *Index) DNS(q DNSQuery) *DNSObservation { return ix.dns[q.Key()] }

// Reach returns the observation for p, or nil when it was not gathered.
func (ix *Index) Reach(p TCPProbe) *ReachObservation { return ix.reach[p.Key()] }

// ServerNameFromDSADN returns "DC2" from "CN=NTDS Settings,CN=DC2,CN=Servers,...", also for a
// deleted DSA ("CN=NTDS Settings\0ADEL:<guid>,CN=DC2,..."). It returns "" when the DN has no such shape.
func ServerNameFromDSADN(dn string) string {
	parts := splitDN(dn)
	if len(parts) < 2 {
		return ""
	}
	if !strings.HasPrefix(strings.ToLower(parts[0]), "cn=ntds settings") {
		return ""
	}
	rdn := parts[1]
	if len(rdn) < 3 || !strings.EqualFold(rdn[:3], "cn=") {
		return ""
	}
	return rdn[3:]
}

// IsDeletedDN reports whether a DN names a deleted object (its RDN carries "\0ADEL:").
func IsDeletedDN(dn string) bool {
	u := strings.ToUpper(dn)
	return strings.Contains(u, `\0ADEL:`) || strings.Contains(u, "\nDEL:")
}

// splitDN splits a DN on unescaped commas.
func splitDN(dn string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			parts = append(parts, strings.TrimSpace(dn[start:i]))
			start = i + 1
		}
	}
	return append(parts, strings.TrimSpace(dn[start:]))
}

// Missing returns the queries and probes s holds no observation for, in their order.
func Missing(s *Snapshot, dns []DNSQuery, tcp []TCPProbe) ([]DNSQuery, []TCPProbe) {
	ix := NewIndex(s)
	var md []DNSQuery
	for _, q := range dns {
		if ix.DNS(q) == nil {
			md = append(md, q)
		}
	}
	var mt []TCPProbe
	for _, p := range tcp {
		if ix.Reach(p) == nil {
			mt = append(mt, p)
		}
	}
	return md, mt
}
