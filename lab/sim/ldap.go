package sim

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/dnsrecord"
	"github.com/fix8524/fix8524/facts/guid"
	"github.com/fix8524/fix8524/facts/ldapread"
	"github.com/fix8524/fix8524/facts/replstatus"
	"github.com/fix8524/fix8524/facts/secdesc"
	"github.com/fix8524/fix8524/lab/workstation"
)

// dcServer is one simulated DC's pair of LDAP servers (gldap).
type dcServer struct {
	name   string
	host   string
	tls    *tls.Config
	ldaps  string // 127.0.0.1:port, TLS from the first byte
	ldap   string // 127.0.0.1:port, plain with StartTLS
	srvs   []*gldap.Server
	runs   []<-chan error  // what each server's Run returned (srvs[0] is the LDAPS one)
	synced []chan struct{} // a sync request reached server i's handlers (see stop)
	roots  *x509.CertPool  // trusts the LDAPS server's certificate (stop's sync connection)
}

// syncDN is the base DN of stop's sync request: answered by the server itself, never by the
// simulated directory.
const syncDN = "cn=fix8524-sim-sync"

// stop stops the servers. gldap (v0.1.14) registers each accepted connection with
// WaitGroup.Add in its accept loop while Stop waits on that WaitGroup: a connection accepted
// just as the forest closes (a TCP reachability probe's, say) makes an Add at zero race with
// the Wait, which the race detector reports. stop avoids it without changing gldap: per
// server it first opens a sync connection and has its request answered by a handler that
// signals back over a channel, which orders every registration so far before the Stop; the
// connection stays open, so the count stays above zero, until Run has returned (no Add can
// follow); then it is closed and Stop's Wait ends.
func (s *dcServer) stop() {
	for i, srv := range s.srvs {
		keeper := s.sync(i)
		stopped := make(chan struct{})
		go func() { _ = srv.Stop(); close(stopped) }()
		if keeper != nil {
			select {
			case <-s.runs[i]:
			case <-time.After(5 * time.Second):
			}
			_ = keeper.Close()
		}
		<-stopped
	}
}

// addr is server i's address: srvs[0] speaks TLS from the first byte, srvs[1] plain LDAP.
func (s *dcServer) addr(i int) string {
	if i == 0 {
		return s.ldaps
	}
	return s.ldap
}

// sync opens a connection to server i and has one request on it answered by the server's
// own handler (syncDN); nil if that did not work (stop then stops the server as it is).
func (s *dcServer) sync(i int) *ldap.Conn {
	var c *ldap.Conn
	var err error
	if i == 0 {
		c, err = ldap.DialURL("ldaps://"+s.addr(i), ldap.DialWithTLSConfig(&tls.Config{RootCAs: s.roots, ServerName: s.host, MinVersion: tls.VersionTLS12}))
	} else {
		c, err = ldap.DialURL("ldap://" + s.addr(i))
	}
	if err != nil {
		return nil
	}
	c.SetTimeout(2 * time.Second)
	if _, err := c.Search(ldap.NewSearchRequest(syncDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 2, false, "(objectClass=*)", nil, nil)); err != nil {
		_ = c.Close()
		return nil
	}
	select {
	case <-s.synced[i]:
		return c
	default:
		_ = c.Close()
		return nil
	}
}

// syncRoute answers stop's sync request on server i and passes every other search on.
func (s *dcServer) syncRoute(i int, next gldap.HandlerFunc) gldap.HandlerFunc {
	return func(w *gldap.ResponseWriter, r *gldap.Request) {
		if m, err := r.GetSearchMessage(); err == nil && strings.EqualFold(m.BaseDN, syncDN) {
			select {
			case s.synced[i] <- struct{}{}:
			default:
			}
			_ = w.Write(r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess)))
			return
		}
		next(w, r)
	}
}

func (f *Forest) startDC(name, host string) (*dcServer, error) {
	tc, err := f.ca.serverConfig(host, strings.ToLower(name))
	if err != nil {
		return nil, err
	}
	// gldap runs the TLS handshakes itself (its LDAPS listener, Request.StartTLS); the server
	// side's VerifyConnection is called once in every handshake, full or resumed, and is where
	// the simulation counts them. It never refuses: the DCs ask for no client certificate.
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if !f.closing.Load() { // stop's sync connections are not the clients' handshakes
			f.countHandshake(cs)
		}
		return nil
	}
	s := &dcServer{name: name, host: host, tls: tc, roots: f.ca.pool,
		synced: []chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1)}}
	for i, tlsOn := range []bool{true, false} {
		mux, err := gldap.NewMux()
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("LDAP router of %s: %w", name, err)
		}
		auth := &authSet{ids: map[int]bool{}}
		_ = mux.Bind(f.handleBind(name, auth))
		_ = mux.Search(s.syncRoute(i, f.handleSearch(name)))
		_ = mux.Delete(f.handleDelete(name, auth))
		_ = mux.ExtendedOperation(handleStartTLS(tc), gldap.ExtendedOperationStartTLS)
		_ = mux.DefaultRoute(func(w *gldap.ResponseWriter, r *gldap.Request) {
			_ = w.Write(r.NewResponse(gldap.WithResponseCode(gldap.ResultUnwillingToPerform), gldap.WithDiagnosticMessage("the simulated DC is read-only")))
		})
		var srvTLS *tls.Config
		if tlsOn {
			srvTLS = tc
		}
		addr, srv, run, err := runGLDAP(mux, srvTLS, auth)
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("LDAP server of %s: %w", name, err)
		}
		s.srvs, s.runs = append(s.srvs, srv), append(s.runs, run)
		if tlsOn {
			s.ldaps = addr
		} else {
			s.ldap = addr
		}
	}
	return s, nil
}

// countHandshake counts a server TLS handshake (LDAPS or StartTLS) and whether it resumed.
func (f *Forest) countHandshake(cs tls.ConnectionState) {
	f.TLSHandshakes.Add(1)
	if cs.DidResume {
		f.TLSResumed.Add(1)
	}
}

// runGLDAP starts a gldap server on a free loopback port. gldap listens by address, so a port is
// picked, released and bound again; a lost race is retried. A closed connection's bind state is
// forgotten. The channel receives what Run returns once the server stops.
func runGLDAP(mux *gldap.Mux, tc *tls.Config, auth *authSet) (string, *gldap.Server, <-chan error, error) {
	var lastErr error
	for try := 0; try < 20; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, nil, fmt.Errorf("free loopback port: %w", err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		srv, err := gldap.NewServer(gldap.WithLogger(hclog.NewNullLogger()), gldap.WithOnClose(auth.forget))
		if err != nil {
			return "", nil, nil, fmt.Errorf("gldap server: %w", err)
		}
		if err := srv.Router(mux); err != nil {
			return "", nil, nil, fmt.Errorf("gldap router: %w", err)
		}
		var opts []gldap.Option
		if tc != nil {
			opts = append(opts, gldap.WithTLSConfig(tc))
		}
		errc := make(chan error, 1)
		go func() { errc <- srv.Run(addr, opts...) }()
		lastErr = nil
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case err := <-errc:
				lastErr = err
			default:
			}
			if lastErr != nil {
				break
			}
			if !srv.Ready() { // not yet past its net.Listen
				time.Sleep(20 * time.Microsecond)
				continue
			}
			if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				_ = c.Close()
				return addr, srv, errc, nil
			}
			time.Sleep(time.Millisecond)
		}
		_ = srv.Stop()
		if lastErr == nil {
			lastErr = fmt.Errorf("LDAP server on %s did not start", addr)
		}
	}
	return "", nil, nil, lastErr
}

func handleStartTLS(tc *tls.Config) gldap.HandlerFunc {
	return func(w *gldap.ResponseWriter, r *gldap.Request) {
		res := r.NewExtendedResponse(gldap.WithResponseCode(gldap.ResultSuccess))
		res.SetResponseName(gldap.ExtendedOperationStartTLS)
		if err := w.Write(res); err != nil {
			return
		}
		_ = r.StartTLS(tc)
	}
}

func (f *Forest) handleBind(name string, auth *authSet) gldap.HandlerFunc {
	return func(w *gldap.ResponseWriter, r *gldap.Request) {
		f.LDAPRequests.Add(1)
		resp := r.NewBindResponse(gldap.WithResponseCode(gldap.ResultInvalidCredentials))
		if f.hold(name) {
			return
		}
		defer func() { _ = w.Write(resp) }()
		auth.set(r.ConnectionID(), false)
		m, err := r.GetSimpleBindMessage()
		if err != nil {
			resp.SetResultCode(gldap.ResultAuthMethodNotSupported)
			return
		}
		switch {
		case m.UserName == "" && m.Password == "":
			resp.SetResultCode(gldap.ResultSuccess) // anonymous: rootDSE only on a real DC
		case strings.EqualFold(m.UserName, User) && string(m.Password) == f.password:
			resp.SetResultCode(gldap.ResultSuccess)
			auth.set(r.ConnectionID(), true)
		default:
			resp.SetDiagnosticMessage("80090308: LdapErr: DSID-0C090439, comment: AcceptSecurityContext error, data 52e, v4563")
		}
	}
}

// hold applies latency and stalls; it reports whether the request must go unanswered.
func (f *Forest) hold(name string) bool {
	if len(f.opts.Stall) == 0 && len(f.opts.EndpointLatency) == 0 {
		f.sleep(f.opts.Latency) // no per-endpoint options: skip the look-up
		return false
	}
	dc := f.cache().ix.DCByName(name)
	keys := []string{name}
	if dc != nil {
		keys = dcKeys(dc)
	}
	if flagged(f.opts.Stall, keys...) {
		<-f.stop
		return true
	}
	f.sleep(f.latency(keys...))
	return false
}

// view is one DC's answer material, built from the World's snapshot once per snapshot (a World
// that returns a new snapshot after a change gets new views).
type view struct {
	base   *facts.Snapshot
	ix     *facts.Index
	me     *facts.DC
	fsmo   map[string]string // lower-case role object DN -> owner DSA DN
	ncHeld map[string]bool   // lower-case NC DN
	mine   []facts.Link      // inbound links of me
	ncs    []string          // namingContexts

	xmlOnce sync.Once
	xml     []string // msDS-ReplAllInboundNeighbors values, encoded on first use
}

func (f *Forest) view(name string) *view {
	c := f.cache()
	f.cacheMu.Lock()
	if v := c.views[name]; v != nil {
		f.cacheMu.Unlock()
		return v
	}
	f.cacheMu.Unlock()
	base := c.base
	v := &view{base: base, ix: c.ix, fsmo: map[string]string{}, ncHeld: map[string]bool{}}
	defer func() {
		f.cacheMu.Lock()
		if old := c.views[name]; old != nil {
			v = old // built concurrently: keep one
		} else {
			c.views[name] = v
		}
		f.cacheMu.Unlock()
	}()
	v.me = v.ix.DCByName(name)
	fo := &base.Forest
	for _, r := range fo.FSMO {
		var dn string
		switch r.Role {
		case facts.RoleSchema:
			dn = fo.SchemaDN
		case facts.RoleNaming:
			dn = "CN=Partitions," + fo.ConfigDN
		case facts.RolePDC:
			dn = r.Scope
		case facts.RoleRID:
			dn = "CN=RID Manager$,CN=System," + r.Scope
		case facts.RoleInfrastructure:
			dn = "CN=Infrastructure," + r.Scope
		}
		v.fsmo[strings.ToLower(dn)] = r.OwnerDSA
	}
	if v.me != nil {
		v.mine = c.linksTo[strings.ToLower(v.me.Name)]
		for _, nc := range v.me.MasterNCs {
			v.ncHeld[strings.ToLower(nc)] = true
		}
		for _, l := range v.mine {
			v.ncHeld[strings.ToLower(l.NC)] = true
		}
		v.ncHeld[strings.ToLower(fo.ConfigDN)] = true
		v.ncHeld[strings.ToLower(fo.SchemaDN)] = true
	}
	for _, nc := range fo.NCs {
		if v.ncHeld[strings.ToLower(nc)] {
			v.ncs = append(v.ncs, nc)
		}
	}
	return v
}

// neighborXML returns me's msDS-ReplAllInboundNeighbors values.
func (v *view) neighborXML() []string {
	v.xmlOnce.Do(func() {
		for _, l := range v.mine {
			v.xml = append(v.xml, string(replstatus.EncodeNeighborXML(neighborOf(l))))
		}
	})
	return v.xml
}

func (v *view) domainDN(dnsName string) string {
	for _, d := range v.base.Forest.Domains {
		if strings.EqualFold(d.DNSName, dnsName) {
			return d.DN
		}
	}
	return ""
}

func (v *view) namingContexts() []string { return v.ncs }

// links returns me's inbound links (shared: read only).
func (v *view) links() []facts.Link { return v.mine }

func neighborOf(l facts.Link) replstatus.Neighbor {
	return replstatus.Neighbor{
		NamingContext: l.NC, SourceDSADN: l.SourceDSADN, SourceDSAAddress: l.SourceAddress,
		ReplicaFlags: l.ReplicaFlags, SourceDSAGUID: l.SourceDSAGUID,
		LastSuccess: l.LastSuccess, LastAttempt: l.LastAttempt,
		LastResult: uint32(int32(l.LastResult)), ConsecutiveFailures: uint32(l.ConsecutiveFailures),
	}
}

func wants(attrs []string, name string) bool {
	for _, a := range attrs {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

func rawGUID(g string) string {
	b, err := guid.ToBytes(g)
	if err != nil {
		return ""
	}
	return string(b)
}

func (f *Forest) handleSearch(name string) gldap.HandlerFunc {
	return func(w *gldap.ResponseWriter, r *gldap.Request) {
		f.LDAPRequests.Add(1)
		done := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultNoSuchObject))
		if f.hold(name) {
			return
		}
		defer func() { _ = w.Write(done) }()
		m, err := r.GetSearchMessage()
		if err != nil {
			done.SetResultCode(gldap.ResultProtocolError)
			return
		}
		v := f.view(name)
		if v.me == nil {
			done.SetResultCode(gldap.ResultUnavailable)
			done.SetDiagnosticMessage("this DC's NTDS Settings object was removed")
			return
		}
		entries, code := f.answer(v, name, m)
		for _, e := range entries {
			if err := w.Write(r.NewSearchResponseEntry(e.dn, gldap.WithAttributes(e.attrs))); err != nil {
				return
			}
		}
		done.SetResultCode(code)
	}
}

type entry struct {
	dn    string
	attrs map[string][]string
}

// answer serves exactly the searches fix8524's gatherer makes (see facts/ldapread).
func (f *Forest) answer(v *view, name string, m *gldap.SearchMessage) ([]entry, int) {
	fo := &v.base.Forest
	base := strings.TrimSpace(m.BaseDN)
	lb := strings.ToLower(base)
	filter := strings.ToLower(m.Filter)
	me := v.me
	removed := f.removedDCs()
	garbage := flagged(f.opts.Garbage, dcKeys(me)...)
	one := func(dn string, attrs map[string][]string) ([]entry, int) {
		return []entry{{dn, attrs}}, gldap.ResultSuccess
	}
	switch {
	case m.Scope == gldap.WholeSubtree && strings.HasPrefix(lb, "cn=microsoftdns,") && strings.Contains(filter, "dnsnode"):
		return f.dnsNodes(name, base[len("CN=MicrosoftDNS,"):], m.Filter)

	case m.Scope == gldap.BaseObject && lb == strings.ToLower("CN=Directory Service,CN=Windows NT,CN=Services,"+fo.ConfigDN):
		a := map[string][]string{"objectClass": {"top", "nTDSService"}}
		if n, ok := fo.TombstoneLifetimeDays.Get(); ok && fo.TombstoneLifetimeFrom == "directory" {
			a["tombstoneLifetime"] = []string{strconv.Itoa(n)}
		}
		return one(base, a)

	case base == "" && m.Scope == gldap.BaseObject:
		a := map[string][]string{
			"defaultNamingContext":       {v.domainDN(me.Domain)},
			"configurationNamingContext": {fo.ConfigDN},
			"schemaNamingContext":        {fo.SchemaDN},
			"rootDomainNamingContext":    {fo.RootDN},
			"dsServiceName":              {me.NTDSSettingsDN},
			"dnsHostName":                {me.DNSHostName},
			"namingContexts":             v.namingContexts(),
		}
		samba := me.Platform.Value == facts.PlatformSamba
		if samba {
			a["vendorName"] = []string{"Samba Team (https://www.samba.org)"}
		}
		if start, ranged := rangeStart(m.Attributes, ldapread.AttrReplAllInboundNeighbors); !samba && ranged {
			name, part := rangedValues(v.neighborXML(), start, f.opts.MaxValRange)
			return one("", map[string][]string{name: part})
		}
		if !samba && wants(m.Attributes, ldapread.AttrReplAllInboundNeighbors) {
			vals := v.neighborXML()
			if garbage {
				vals = append(vals[:len(vals):len(vals)], "<DS_REPL_NEIGHBOR><pszNamingContext>&bogus;", strings.Repeat("\x00garbage", 20000))
			}
			if n := f.opts.MaxValRange; n > 0 && len(vals) > n {
				name, part := rangedValues(vals, 0, n)
				a[name] = part
			} else if len(vals) > 0 {
				a[ldapread.AttrReplAllInboundNeighbors] = vals
			}
		}
		return one("", a)

	case strings.HasPrefix(base, "<GUID=") && m.Scope == gldap.BaseObject:
		g := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(base, "<GUID="), ">"))
		for _, l := range v.links() {
			if strings.EqualFold(l.SourceDSAGUID, g) && l.SourceDSADN != "" {
				return one(l.SourceDSADN, map[string][]string{"objectClass": {"top", "applicationSettings", "nTDSDSA"}})
			}
		}
		if dc := v.ix.DCByGUID(g); dc != nil {
			return one(dc.NTDSSettingsDN, map[string][]string{"objectClass": {"top", "applicationSettings", "nTDSDSA"}})
		}
		return nil, gldap.ResultNoSuchObject

	case lb == strings.ToLower("CN=Partitions,"+fo.ConfigDN) && m.Scope == gldap.SingleLevel:
		var out []entry
		for _, nc := range fo.NCs {
			out = append(out, crossRef(v, nc))
		}
		return out, gldap.ResultSuccess

	case lb == strings.ToLower("CN=Sites,"+fo.ConfigDN) && m.Scope == gldap.WholeSubtree:
		var out []entry
		for i := range v.base.DCs {
			dc := &v.base.DCs[i]
			if strings.Contains(filter, "ntdsdsa") {
				out = append(out, entry{dc.NTDSSettingsDN, dsaAttrs(dc, dc.DSAGUID)})
			} else if strings.Contains(filter, "server") {
				out = append(out, serverEntry(dc))
			}
		}
		if !strings.Contains(filter, "ntdsdsa") && strings.Contains(filter, "server") {
			for _, dc := range removed {
				out = append(out, serverEntry(&dc))
			}
		}
		return out, gldap.ResultSuccess

	case m.Scope == gldap.WholeSubtree && strings.Contains(filter, "primarygroupid"):
		var out []entry
		for _, dc := range append(ptrs(v.base.DCs), ptrs(removed)...) {
			if strings.HasSuffix(strings.ToLower(dc.ComputerDN), ","+lb) {
				out = append(out, entry{dc.ComputerDN, computerAttrs(dc)})
			}
		}
		return out, gldap.ResultSuccess

	case m.Scope == gldap.SingleLevel:
		// The children of a server object: its NTDS Settings, unless a tree delete removed it.
		for i := range v.base.DCs {
			if dc := &v.base.DCs[i]; dc.ServerDN != "" && strings.EqualFold(dc.ServerDN, base) {
				return []entry{{dc.NTDSSettingsDN, map[string][]string{"objectClass": {"top", "applicationSettings", "nTDSDSA"}}}}, gldap.ResultSuccess
			}
		}
		for _, dc := range removed {
			if dc.ServerDN == "" || !strings.EqualFold(dc.ServerDN, base) {
				continue
			}
			if own, ok := dc.OwnDSAGUID.Get(); ok && own != "" && !strings.EqualFold(own, dc.DSAGUID) {
				// Re-promoted: the DC runs as another DSA, whose NTDS Settings (created while the
				// stale one existed, hence the conflict name) remain under the same server.
				return []entry{{`CN=NTDS Settings\0ACNF:` + strings.ToLower(own) + "," + dc.ServerDN,
					map[string][]string{"objectClass": {"top", "applicationSettings", "nTDSDSA"}}}}, gldap.ResultSuccess
			}
			return nil, gldap.ResultSuccess
		}

	case m.Scope == gldap.BaseObject:
		if strings.EqualFold(base, me.NTDSSettingsDN) {
			own := me.DSAGUID
			if g, ok := me.OwnDSAGUID.Get(); ok && g != "" {
				own = g
			}
			a := dsaAttrs(me, own)
			if garbage {
				a["objectGUID"] = []string{"not a guid"}
			}
			return one(me.NTDSSettingsDN, a)
		}
		if dc := v.ix.DCByNTDSDN(base); dc != nil {
			return one(dc.NTDSSettingsDN, dsaAttrs(dc, dc.DSAGUID))
		}
		for _, dc := range append(ptrs(v.base.DCs), ptrs(removed)...) {
			if dc.ComputerDN != "" && strings.EqualFold(dc.ComputerDN, base) {
				return one(dc.ComputerDN, computerAttrs(dc))
			}
			if dc.ServerDN != "" && strings.EqualFold(dc.ServerDN, base) {
				e := serverEntry(dc)
				return one(e.dn, e.attrs)
			}
		}
		a := map[string][]string{}
		known := false
		if owner, ok := v.fsmo[lb]; ok {
			a["fSMORoleOwner"] = []string{owner}
			known = true
		}
		if fsmoObject(fo, lb) {
			known = true
		}
		if v.ncHeld[lb] {
			known = true
			if me.Platform.Value == facts.PlatformSamba && wants(m.Attributes, ldapread.AttrRepsFrom) {
				var vals []string
				for _, l := range v.links() {
					if strings.EqualFold(l.NC, base) {
						vals = append(vals, string(replstatus.EncodeRepsFrom(neighborOf(l))))
					}
				}
				if garbage {
					vals = append(vals, "\x01\x00\x00\x00garbage")
				}
				if len(vals) > 0 {
					a[ldapread.AttrRepsFrom] = vals
				}
			}
		}
		if known {
			return one(base, a)
		}
	}
	return nil, gldap.ResultNoSuchObject
}

var nameTerm = regexp.MustCompile(`\(name=([^()]*)\)`)

// dnsNodes serves a search for dnsNode objects below CN=MicrosoftDNS,<partition>: the nodes the
// World says this DC holds there, those the filter names, each with its dnsRecord values encoded
// as MS-DNSP 2.3.2.2 says (a tombstoned node: dNSTombstoned TRUE and a tombstone record).
func (f *Forest) dnsNodes(dc, partition, filter string) ([]entry, int) {
	zones, nodes, ok := f.world.ZoneNodes(dc, partition)
	if !ok {
		return nil, gldap.ResultNoSuchObject
	}
	want := map[string]bool{}
	for _, m := range nameTerm.FindAllStringSubmatch(filter, -1) {
		want[strings.ToLower(unescapeFilter(m[1]))] = true
	}
	inZones := map[string]bool{}
	for _, z := range zones {
		inZones[z] = true
	}
	var out []entry
	for _, n := range nodes {
		rel := workstation.RelativeName(n)
		if !want[strings.ToLower(rel)] || !inZones[n.Zone] {
			continue
		}
		a := map[string][]string{"objectClass": {"top", "dnsNode"}, "name": {rel}}
		var vals []string
		if n.Tombstoned {
			a[ldapread.AttrDNSTombstoned] = []string{"TRUE"}
			b, _ := dnsrecord.Encode(dnsrecord.Record{Type: dnsrecord.TypeZero, Tombstoned: n.TombstonedAt})
			vals = append(vals, string(b))
		}
		for _, addr := range n.Addresses {
			ip, err := netip.ParseAddr(addr)
			if err != nil {
				continue
			}
			r := dnsrecord.Record{Type: dnsrecord.TypeA, Rank: dnsrecord.RankZone, TTL: 1200, Address: ip}
			if ip.Is6() && !ip.Is4In6() {
				r.Type = dnsrecord.TypeAAAA
			}
			if b, err := dnsrecord.Encode(r); err == nil {
				vals = append(vals, string(b))
			}
		}
		for _, ns := range n.NS {
			if b, err := dnsrecord.Encode(dnsrecord.Record{Type: dnsrecord.TypeNS, Rank: dnsrecord.RankZone, TTL: 3600, Target: ns}); err == nil {
				vals = append(vals, string(b))
			}
		}
		if len(vals) > 0 {
			a[ldapread.AttrDNSRecord] = vals
		}
		out = append(out, entry{"DC=" + rel + ",DC=" + n.Zone + ",CN=MicrosoftDNS," + partition, a})
	}
	return out, gldap.ResultSuccess
}

// unescapeFilter undoes ldap.EscapeFilter's \XX escapes.
func unescapeFilter(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func serverEntry(dc *facts.DC) entry {
	return entry{dc.ServerDN, map[string][]string{
		"cn": {dc.Name}, "dNSHostName": {dc.DNSHostName}, "serverReference": {dc.ComputerDN}, "objectClass": {"top", "server"},
	}}
}

func ptrs(dcs []facts.DC) []*facts.DC {
	out := make([]*facts.DC, len(dcs))
	for i := range dcs {
		out[i] = &dcs[i]
	}
	return out
}

// rangeStart finds "attr;range=N-*" among the requested attributes.
func rangeStart(attrs []string, attr string) (int, bool) {
	for _, a := range attrs {
		name, opt, ok := strings.Cut(a, ";")
		if !ok || !strings.EqualFold(name, attr) || !strings.HasPrefix(strings.ToLower(opt), "range=") {
			continue
		}
		lo, _, _ := strings.Cut(opt[len("range="):], "-")
		if n, err := strconv.Atoi(lo); err == nil && n >= 0 {
			return n, true
		}
	}
	return 0, false
}

// rangedValues returns values[start:start+n] named as AD names a range ("-*" for the last one).
func rangedValues(vals []string, start, n int) (string, []string) {
	if n <= 0 {
		n = len(vals) + 1
	}
	if start > len(vals) {
		start = len(vals)
	}
	end := start + n
	if end >= len(vals) {
		return fmt.Sprintf("%s;range=%d-*", ldapread.AttrReplAllInboundNeighbors, start), vals[start:]
	}
	return fmt.Sprintf("%s;range=%d-%d", ldapread.AttrReplAllInboundNeighbors, start, end-1), vals[start:end]
}

func fsmoObject(fo *facts.Forest, lb string) bool {
	if lb == strings.ToLower(fo.SchemaDN) || lb == strings.ToLower("CN=Partitions,"+fo.ConfigDN) {
		return true
	}
	for _, d := range fo.Domains {
		l := strings.ToLower(d.DN)
		if lb == l || lb == "cn=rid manager$,cn=system,"+l || lb == "cn=infrastructure,"+l {
			return true
		}
	}
	return false
}

func dsaAttrs(dc *facts.DC, objectGUID string) map[string][]string {
	oc := []string{"top", "applicationSettings", "nTDSDSA"}
	if dc.IsRODC {
		oc = append(oc, "nTDSDSARO")
	}
	a := map[string][]string{
		"objectClass":          oc,
		"objectGUID":           {rawGUID(objectGUID)},
		"options":              {strconv.Itoa(dc.Options)},
		"msDS-hasMasterNCs":    dc.MasterNCs,
		"nTSecurityDescriptor": {string(secdesc.Build(dc.ProtectedFromDeletion.Value))},
	}
	if !dc.WhenCreated.IsZero() {
		a["whenCreated"] = []string{ldapread.FormatGeneralizedTime(dc.WhenCreated)}
	}
	if dc.InvocationID != "" {
		a["invocationId"] = []string{rawGUID(dc.InvocationID)}
	}
	if len(dc.MasterNCs) == 0 {
		delete(a, "msDS-hasMasterNCs")
	}
	if !dc.ProtectedFromDeletion.Known {
		delete(a, "nTSecurityDescriptor")
	}
	return a
}

func computerAttrs(dc *facts.DC) map[string][]string {
	a := map[string][]string{
		"objectClass":          {"top", "person", "organizationalPerson", "user", "computer"},
		"nTSecurityDescriptor": {string(secdesc.Build(false))},
	}
	if os, ok := dc.OperatingSystem.Get(); ok {
		a["operatingSystem"] = []string{os}
	}
	return a
}

func crossRef(v *view, nc string) entry {
	fo := &v.base.Forest
	a := map[string][]string{"nCName": {nc}, "objectClass": {"top", "crossRef"}}
	cn := strings.NewReplacer(",", "_", "=", "-").Replace(nc)
	switch {
	case strings.EqualFold(nc, fo.ConfigDN):
		a["dnsRoot"], a["systemFlags"], cn = []string{fo.RootDomain}, []string{"1"}, "Enterprise Configuration"
	case strings.EqualFold(nc, fo.SchemaDN):
		a["dnsRoot"], a["systemFlags"], cn = []string{fo.RootDomain}, []string{"1"}, "Enterprise Schema"
	default:
		a["systemFlags"] = []string{"5"}
		for _, d := range fo.Domains {
			if strings.EqualFold(d.DN, nc) {
				a["dnsRoot"], a["systemFlags"], cn = []string{d.DNSName}, []string{"3"}, d.NetBIOS
				if d.NetBIOS != "" {
					a["nETBIOSName"] = []string{d.NetBIOS}
				}
			}
		}
		if _, ok := a["dnsRoot"]; !ok {
			a["dnsRoot"] = []string{dnsRootOfAppNC(nc)}
		}
	}
	return entry{"CN=" + cn + ",CN=Partitions," + fo.ConfigDN, a}
}

// dnsRootOfAppNC turns DC=DomainDnsZones,DC=contoso,DC=com into domaindnszones.contoso.com.
func dnsRootOfAppNC(nc string) string {
	var labels []string
	for _, p := range strings.Split(nc, ",") {
		if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "DC") {
			labels = append(labels, strings.ToLower(val))
		}
	}
	return strings.Join(labels, ".")
}
