package ldapread

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/guid"
	"github.com/fix8524/fix8524/facts/replstatus"
	"github.com/fix8524/fix8524/facts/secdesc"
)

// Attribute names read.
const (
	AttrReplAllInboundNeighbors = "msDS-ReplAllInboundNeighbors"
	AttrRepsFrom                = "repsFrom"
)

// sizeLimit bounds the entries of one search.
const sizeLimit = 100000

// RootDSE is what a DC's rootDSE says about it.
type RootDSE struct {
	DefaultNC     string
	ConfigNC      string
	SchemaNC      string
	RootDomainNC  string
	DSServiceName string // DN of the DC's own NTDS Settings object
	DNSHostName   string
	VendorName    string // "Samba Team (https://www.samba.org)" on Samba; absent on Windows
	NamingNCs     []string
	// Neighbors holds the raw msDS-ReplAllInboundNeighbors values; HasNeighborsAttr says whether
	// the attribute came back at all.
	Neighbors        [][]byte
	HasNeighborsAttr bool
}

// IsSamba reports whether the rootDSE identifies a Samba DC.
func (r *RootDSE) IsSamba() bool { return strings.Contains(strings.ToLower(r.VendorName), "samba") }

func (c *Client) search(ctx context.Context, base string, scope int, filter string, attrs []string, controls ...ldap.Control) ([]*ldap.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, sizeLimit, int(c.timeout/time.Second), false, filter, attrs, controls)
	var res *ldap.SearchResult
	var err error
	if scope == ldap.ScopeBaseObject {
		res, err = c.conn.Search(req)
	} else {
		res, err = c.conn.SearchWithPaging(req, 500)
	}
	if err != nil {
		return nil, c.wrap(ctx, fmt.Sprintf("search %q", clip(base)), err)
	}
	return res.Entries, nil
}

// ReadRootDSE reads the rootDSE, with msDS-ReplAllInboundNeighbors when neighbors is set.
func (c *Client) ReadRootDSE(ctx context.Context, neighbors bool) (*RootDSE, error) {
	attrs := []string{
		"defaultNamingContext", "configurationNamingContext", "schemaNamingContext", "rootDomainNamingContext",
		"dsServiceName", "dnsHostName", "vendorName", "namingContexts",
	}
	if neighbors {
		attrs = append(attrs, AttrReplAllInboundNeighbors)
	}
	es, err := c.search(ctx, "", ldap.ScopeBaseObject, "(objectClass=*)", attrs)
	if err != nil {
		return nil, err
	}
	if len(es) != 1 {
		return nil, fmt.Errorf("rootDSE search returned %d entries", len(es))
	}
	e := es[0]
	r := &RootDSE{
		DefaultNC:     e.GetEqualFoldAttributeValue("defaultNamingContext"),
		ConfigNC:      e.GetEqualFoldAttributeValue("configurationNamingContext"),
		SchemaNC:      e.GetEqualFoldAttributeValue("schemaNamingContext"),
		RootDomainNC:  e.GetEqualFoldAttributeValue("rootDomainNamingContext"),
		DSServiceName: e.GetEqualFoldAttributeValue("dsServiceName"),
		DNSHostName:   e.GetEqualFoldAttributeValue("dnsHostName"),
		VendorName:    e.GetEqualFoldAttributeValue("vendorName"),
		NamingNCs:     e.GetEqualFoldAttributeValues("namingContexts"),
	}
	next := collectRanged(e, AttrReplAllInboundNeighbors, r)
	// A DC with more values than its MaxValRange (1500 by default; a hub DC has 5 NCs per
	// partner) returns "msDS-ReplAllInboundNeighbors;range=0-1499": ask for the rest.
	for i := 0; next >= 0 && i < maxRanges; i++ {
		es, err := c.search(ctx, "", ldap.ScopeBaseObject, "(objectClass=*)", []string{fmt.Sprintf("%s;range=%d-*", AttrReplAllInboundNeighbors, next)})
		if err != nil {
			return nil, err
		}
		if len(es) != 1 {
			break
		}
		next = collectRanged(es[0], AttrReplAllInboundNeighbors, r)
	}
	if r.ConfigNC == "" || r.DSServiceName == "" {
		return nil, fmt.Errorf("rootDSE lacks configurationNamingContext or dsServiceName: not an AD DC?")
	}
	return r, nil
}

// maxRanges bounds range retrieval (1500 values a round: 150000 neighbor entries).
const maxRanges = 100

// collectRanged appends the values of attr (with or without ";range=a-b" or ";binary" in the
// returned name) and returns the next range start, or -1 when the values are complete.
func collectRanged(e *ldap.Entry, attr string, r *RootDSE) int {
	next := -1
	for _, a := range e.Attributes {
		name, opts, _ := strings.Cut(a.Name, ";")
		if !strings.EqualFold(name, attr) {
			continue
		}
		r.HasNeighborsAttr = true
		r.Neighbors = append(r.Neighbors, a.ByteValues...)
		for _, o := range strings.Split(opts, ";") {
			lo, hi, ok := strings.Cut(strings.TrimPrefix(strings.ToLower(o), "range="), "-")
			if !ok || !strings.HasPrefix(strings.ToLower(o), "range=") || hi == "*" {
				continue
			}
			l, err1 := strconv.Atoi(lo)
			h, err2 := strconv.Atoi(hi)
			if err1 == nil && err2 == nil && h >= l && len(a.ByteValues) > 0 {
				next = h + 1
			}
		}
	}
	return next
}

// ObjectGUID reads the objectGUID of dn.
func (c *Client) ObjectGUID(ctx context.Context, dn string) (string, error) {
	es, err := c.search(ctx, dn, ldap.ScopeBaseObject, "(objectClass=*)", []string{"objectGUID"})
	if err != nil {
		return "", err
	}
	if len(es) != 1 {
		return "", fmt.Errorf("%s: %d entries", clip(dn), len(es))
	}
	return guid.FromBytes(es[0].GetEqualFoldRawAttributeValue("objectGUID"))
}

// DNOfGUID finds the DN of the object with objectGUID g (AD's <GUID=...> base syntax), or "".
func (c *Client) DNOfGUID(ctx context.Context, g string) (string, error) {
	es, err := c.search(ctx, "<GUID="+g+">", ldap.ScopeBaseObject, "(objectClass=*)", []string{"objectClass"})
	if err != nil {
		if ldap.IsErrorWithCode(errorsUnwrapAll(err), ldap.LDAPResultNoSuchObject) {
			return "", nil
		}
		return "", err
	}
	if len(es) != 1 {
		return "", nil
	}
	return es[0].DN, nil
}

func errorsUnwrapAll(err error) error {
	for {
		if _, ok := err.(*ldap.Error); ok {
			return err
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// Topology is the forest as the seed DC sees it.
type Topology struct {
	Root     *RootDSE
	Forest   facts.Forest
	DCs      []facts.DC
	Problems []facts.Problem
}

// ReadTopology reads the forest from the seed DC: crossRefs, nTDSDSA and server objects, computer
// objects, FSMO owners and deletion protection.
func (c *Client) ReadTopology(ctx context.Context, root *RootDSE) (*Topology, error) {
	t := &Topology{Root: root}
	f := &t.Forest
	f.ConfigDN, f.SchemaDN, f.RootDN = root.ConfigNC, root.SchemaNC, root.RootDomainNC
	problem := func(scope, format string, a ...any) {
		t.Problems = append(t.Problems, facts.Problem{Scope: scope, Message: fmt.Sprintf(format, a...)})
	}

	// crossRefs: NCs, domains, the forest root DNS name.
	partitions := "CN=Partitions," + root.ConfigNC
	crs, err := c.search(ctx, partitions, ldap.ScopeSingleLevel, "(objectClass=crossRef)", []string{"nCName", "dnsRoot", "nETBIOSName", "systemFlags"})
	if err != nil {
		return nil, err
	}
	domainByDN := map[string]string{}
	for _, e := range crs {
		nc := e.GetEqualFoldAttributeValue("nCName")
		if nc == "" {
			continue
		}
		flags, _ := strconv.ParseInt(e.GetEqualFoldAttributeValue("systemFlags"), 10, 64)
		dnsRoot := facts.CanonicalName(e.GetEqualFoldAttributeValue("dnsRoot"))
		f.NCs = append(f.NCs, nc)
		if flags&2 != 0 { // FLAG_CR_NTDS_DOMAIN
			f.Domains = append(f.Domains, facts.Domain{DNSName: dnsRoot, DN: nc, NetBIOS: e.GetEqualFoldAttributeValue("nETBIOSName")})
			domainByDN[strings.ToLower(nc)] = dnsRoot
		}
		if strings.EqualFold(nc, root.RootDomainNC) {
			f.RootDomain = dnsRoot
		}
	}
	sort.Strings(f.NCs)
	sort.Slice(f.Domains, func(i, j int) bool { return f.Domains[i].DNSName < f.Domains[j].DNSName })
	if f.RootDomain == "" {
		f.RootDomain = dnFromDCLabels(root.RootDomainNC)
		problem("ldap:"+c.host, "no crossRef for the forest root %s; its DNS name was derived from the DN", clip(root.RootDomainNC))
	}

	// Server objects, then nTDSDSA objects (nTDSDSARO is a subclass, so RODCs are included).
	sites := "CN=Sites," + root.ConfigNC
	servers, err := c.search(ctx, sites, ldap.ScopeWholeSubtree, "(objectClass=server)", []string{"dNSHostName", "serverReference", "cn"})
	if err != nil {
		return nil, err
	}
	serverByDN := map[string]*ldap.Entry{}
	for _, e := range servers {
		serverByDN[strings.ToLower(e.DN)] = e
	}
	sdFlags := &ldap.ControlMicrosoftSDFlags{ControlValue: 4} // DACL_SECURITY_INFORMATION
	dsas, err := c.search(ctx, sites, ldap.ScopeWholeSubtree, "(objectClass=nTDSDSA)", []string{
		"objectGUID", "whenCreated", "invocationId", "options", "msDS-hasMasterNCs", "hasMasterNCs", "objectClass", "msDS-isRODC", "nTSecurityDescriptor",
	}, sdFlags)
	if err != nil {
		return nil, err
	}
	// Computer objects of the DCs: one subtree search per domain (primary group Domain
	// Controllers 516 or Read-only Domain Controllers 521), base searches for the rest.
	computers := map[string]*ldap.Entry{}
	for _, d := range f.Domains {
		es, err := c.search(ctx, d.DN, ldap.ScopeWholeSubtree, "(&(objectClass=computer)(|(primaryGroupID=516)(primaryGroupID=521)))",
			[]string{"operatingSystem", "operatingSystemVersion", "nTSecurityDescriptor"}, &ldap.ControlMicrosoftSDFlags{ControlValue: 4})
		if err != nil {
			problem("ldap:"+c.host, "DC computer objects of %s: %v", d.DNSName, err)
			continue
		}
		for _, e := range es {
			computers[strings.ToLower(e.DN)] = e
		}
	}
	for _, e := range dsas {
		dc, err := dcFromDSA(e)
		if err != nil {
			problem("ldap:"+c.host, "nTDSDSA %s: %v", clip(e.DN), err)
			continue
		}
		dc.ServerDN = parentDN(e.DN)
		dc.Name = rdnValue(dc.ServerDN)
		dc.Site = siteOf(dc.ServerDN)
		if s := serverByDN[strings.ToLower(dc.ServerDN)]; s != nil {
			dc.DNSHostName = facts.CanonicalName(s.GetEqualFoldAttributeValue("dNSHostName"))
			dc.ComputerDN = s.GetEqualFoldAttributeValue("serverReference")
		} else {
			problem("dc:"+dc.Name, "no server object above %s", clip(e.DN))
		}
		dc.Domain = domainOf(dc.ComputerDN, domainByDN)
		if dc.Domain == "" && dc.DNSHostName != "" {
			if _, d, ok := strings.Cut(dc.DNSHostName, "."); ok {
				dc.Domain = d
			}
		}
		c.readComputer(ctx, &dc, e.GetEqualFoldRawAttributeValue("nTSecurityDescriptor"), computers[strings.ToLower(dc.ComputerDN)])
		t.DCs = append(t.DCs, dc)
	}
	c.readFSMO(ctx, t)
	return t, nil
}

func dcFromDSA(e *ldap.Entry) (facts.DC, error) {
	dc := facts.DC{NTDSSettingsDN: e.DN}
	g, err := guid.FromBytes(e.GetEqualFoldRawAttributeValue("objectGUID"))
	if err != nil {
		return dc, err
	}
	dc.DSAGUID = g
	if inv := e.GetEqualFoldRawAttributeValue("invocationId"); len(inv) == guid.Size {
		dc.InvocationID, _ = guid.FromBytes(inv)
	}
	if wc := e.GetEqualFoldAttributeValue("whenCreated"); wc != "" {
		if t, err := parseGeneralizedTime(wc); err == nil {
			dc.WhenCreated = t.UTC()
		}
	}
	opts, _ := strconv.ParseInt(e.GetEqualFoldAttributeValue("options"), 10, 64)
	dc.Options = int(opts)
	dc.IsGC = opts&1 != 0
	for _, oc := range e.GetEqualFoldAttributeValues("objectClass") {
		if strings.EqualFold(oc, "nTDSDSARO") {
			dc.IsRODC = true
		}
	}
	if strings.EqualFold(e.GetEqualFoldAttributeValue("msDS-isRODC"), "TRUE") {
		dc.IsRODC = true
	}
	ncs := e.GetEqualFoldAttributeValues("msDS-hasMasterNCs")
	if len(ncs) == 0 {
		ncs = e.GetEqualFoldAttributeValues("hasMasterNCs")
	}
	dc.MasterNCs = append([]string(nil), ncs...)
	sort.Strings(dc.MasterNCs)
	return dc, nil
}

// readComputer fills OperatingSystem, Platform and ProtectedFromDeletion from the computer object
// (found by the per-domain search, else read by DN) and the NTDS Settings descriptor.
func (c *Client) readComputer(ctx context.Context, dc *facts.DC, ntdsSD []byte, comp *ldap.Entry) {
	dc.OperatingSystem = facts.Unknown[string]("no computer object (serverReference) for the server")
	dc.Platform = facts.Unknown[string]("operating system unknown")
	prot := facts.Unknown[bool]("nTSecurityDescriptor not readable (the account may lack READ_CONTROL)")
	protected := false
	if len(ntdsSD) > 0 {
		if p, err := secdesc.ProtectedFromDeletion(ntdsSD); err == nil {
			protected = p
			prot = facts.Some(p)
		} else {
			prot = facts.Unknown[bool]("NTDS Settings security descriptor: " + err.Error())
		}
	}
	if comp == nil && dc.ComputerDN != "" {
		es, err := c.search(ctx, dc.ComputerDN, ldap.ScopeBaseObject, "(objectClass=*)", []string{"operatingSystem", "operatingSystemVersion", "nTSecurityDescriptor"},
			&ldap.ControlMicrosoftSDFlags{ControlValue: 4})
		switch {
		case err != nil:
			dc.OperatingSystem = facts.Unknown[string]("computer object not readable from the seed DC: " + err.Error())
		case len(es) == 1:
			comp = es[0]
		}
	}
	if comp != nil {
		if os := comp.GetEqualFoldAttributeValue("operatingSystem"); os != "" {
			dc.OperatingSystem = facts.Some(os)
			dc.Platform = platformOf(os)
		} else {
			dc.OperatingSystem = facts.Unknown[string]("the computer object has no operatingSystem")
		}
		if sd := comp.GetEqualFoldRawAttributeValue("nTSecurityDescriptor"); len(sd) > 0 && !protected {
			if p, err := secdesc.ProtectedFromDeletion(sd); err == nil {
				prot = facts.Some(p)
			} else if !prot.Known {
				prot = facts.Unknown[bool]("computer security descriptor: " + err.Error())
			}
		}
	}
	dc.ProtectedFromDeletion = prot
}

func platformOf(os string) facts.Maybe[string] {
	l := strings.ToLower(os)
	switch {
	case strings.Contains(l, "samba"):
		return facts.Some(facts.PlatformSamba)
	case strings.Contains(l, "windows"):
		return facts.Some(facts.PlatformWindows)
	}
	return facts.Unknown[string](fmt.Sprintf("operating system %q is neither Windows nor Samba", clip(os)))
}

// fsmoObjects lists the role objects: role, scope (the NC reported), object DN.
func fsmoObjects(f *facts.Forest) [][3]string {
	out := [][3]string{
		{facts.RoleSchema, f.RootDN, f.SchemaDN},
		{facts.RoleNaming, f.RootDN, "CN=Partitions," + f.ConfigDN},
	}
	for _, d := range f.Domains {
		out = append(out,
			[3]string{facts.RolePDC, d.DN, d.DN},
			[3]string{facts.RoleRID, d.DN, "CN=RID Manager$,CN=System," + d.DN},
			[3]string{facts.RoleInfrastructure, d.DN, "CN=Infrastructure," + d.DN})
	}
	for _, nc := range f.NCs {
		l := strings.ToLower(nc)
		if strings.HasPrefix(l, "dc=domaindnszones,") || strings.HasPrefix(l, "dc=forestdnszones,") {
			out = append(out, [3]string{facts.RoleInfrastructure, nc, "CN=Infrastructure," + nc})
		}
	}
	return out
}

func (c *Client) readFSMO(ctx context.Context, t *Topology) {
	byDN := map[string]*facts.DC{}
	for i := range t.DCs {
		byDN[strings.ToLower(t.DCs[i].NTDSSettingsDN)] = &t.DCs[i]
	}
	for _, o := range fsmoObjects(&t.Forest) {
		role, scope, dn := o[0], o[1], o[2]
		es, err := c.search(ctx, dn, ldap.ScopeBaseObject, "(objectClass=*)", []string{"fSMORoleOwner"})
		if err != nil {
			if !ldap.IsErrorWithCode(errorsUnwrapAll(err), ldap.LDAPResultNoSuchObject) {
				t.Problems = append(t.Problems, facts.Problem{Scope: "ldap:" + c.host, Message: fmt.Sprintf("%s role owner: %v", role, err)})
			}
			continue
		}
		if len(es) != 1 {
			continue
		}
		owner := es[0].GetEqualFoldAttributeValue("fSMORoleOwner")
		if owner == "" {
			continue
		}
		t.Forest.FSMO = append(t.Forest.FSMO, facts.FSMORole{Role: role, Scope: scope, OwnerDSA: owner})
		// Application-partition infrastructure masters are listed but not counted as DC roles.
		if ls := strings.ToLower(scope); strings.HasPrefix(ls, "dc=domaindnszones,") || strings.HasPrefix(ls, "dc=forestdnszones,") {
			continue
		}
		if dc := byDN[strings.ToLower(owner)]; dc != nil && !contains(dc.FSMORoles, role) {
			dc.FSMORoles = append(dc.FSMORoles, role)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// ReplStatus is a DC's inbound replication status.
type ReplStatus struct {
	Via       string // "msDS-ReplAllInboundNeighbors" or "repsFrom"
	Neighbors []replstatus.Neighbor
	// Missing is true when the attribute did not come back at all (no neighbors, or no right).
	Missing  bool
	Problems []string // values that did not decode
}

// ReadNeighborsWindows decodes the rootDSE msDS-ReplAllInboundNeighbors values.
func ReadNeighborsWindows(root *RootDSE) ReplStatus {
	st := ReplStatus{Via: AttrReplAllInboundNeighbors, Missing: !root.HasNeighborsAttr}
	for i, v := range root.Neighbors {
		n, err := replstatus.ParseNeighborXML(v)
		if err != nil {
			st.Problems = append(st.Problems, fmt.Sprintf("value %d: %v", i, err))
			continue
		}
		st.Neighbors = append(st.Neighbors, n)
	}
	return st
}

// ReadNeighborsSamba reads repsFrom on each NC head the DC holds.
func (c *Client) ReadNeighborsSamba(ctx context.Context, ncs []string) (ReplStatus, error) {
	st := ReplStatus{Via: AttrRepsFrom, Missing: true}
	for _, nc := range ncs {
		es, err := c.search(ctx, nc, ldap.ScopeBaseObject, "(objectClass=*)", []string{AttrRepsFrom})
		if err != nil {
			return st, err
		}
		if len(es) != 1 {
			continue
		}
		for _, a := range es[0].Attributes {
			if !strings.EqualFold(a.Name, AttrRepsFrom) {
				continue
			}
			st.Missing = false
			for i, v := range a.ByteValues {
				n, err := replstatus.ParseRepsFrom(nc, v)
				if err != nil {
					st.Problems = append(st.Problems, fmt.Sprintf("%s value %d: %v", clip(nc), i, err))
					continue
				}
				st.Neighbors = append(st.Neighbors, n)
			}
		}
	}
	return st, nil
}

// DN helpers.

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

func parentDN(dn string) string {
	p := splitDN(dn)
	if len(p) < 2 {
		return ""
	}
	return strings.Join(p[1:], ",")
}

func rdnValue(dn string) string {
	p := splitDN(dn)
	if len(p) == 0 {
		return ""
	}
	_, v, _ := strings.Cut(p[0], "=")
	return v
}

// siteOf returns the site of CN=<server>,CN=Servers,CN=<site>,CN=Sites,...
func siteOf(serverDN string) string {
	p := splitDN(serverDN)
	if len(p) >= 3 {
		_, v, _ := strings.Cut(p[2], "=")
		return v
	}
	return ""
}

// domainOf returns the DNS name of the domain whose NC holds dn (the longest suffix match).
func domainOf(dn string, domainByDN map[string]string) string {
	l := strings.ToLower(dn)
	best, bestLen := "", 0
	for ddn, name := range domainByDN {
		if (l == ddn || strings.HasSuffix(l, ","+ddn)) && len(ddn) > bestLen {
			best, bestLen = name, len(ddn)
		}
	}
	return best
}

// dnFromDCLabels turns DC=contoso,DC=com into contoso.com (a fallback only: disjoint namespaces).
func dnFromDCLabels(dn string) string {
	var labels []string
	for _, p := range splitDN(dn) {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(k, "DC") {
			labels = append(labels, strings.ToLower(v))
		}
	}
	return strings.Join(labels, ".")
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// parseGeneralizedTime parses AD's GeneralizedTime ("20261120093000.0Z").
func parseGeneralizedTime(s string) (time.Time, error) {
	for _, layout := range []string{"20060102150405.0Z", "20060102150405Z", "20060102150405.0Z0700", "20060102150405Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a GeneralizedTime", clip(s))
}

// FormatGeneralizedTime renders t as AD does.
func FormatGeneralizedTime(t time.Time) string { return t.UTC().Format("20060102150405.0Z") }
