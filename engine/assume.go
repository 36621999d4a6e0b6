package engine

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/fix8524/fix8524/facts"
)

// DNSServersAssumedSelf is facts.DNSServersAssumedSelf: DNS client settings that were not read
// but assumed to be the DC's own addresses (gather --assume-self-dns).
const DNSServersAssumedSelf = facts.DNSServersAssumedSelf

// assumptions returns one sentence per DC of the partnership whose assumed DNS client
// settings were read by what the finding rests on so far (the walked decisions' conditions,
// the checks they evaluated, recursively, and the winning decision's actions: exactly the fact
// dependencies recorded for the fingerprint). For each, a fingerprint entry is added, so that
// the same addresses read for real (or assumed where they had been read) make the finding
// stale for apply's drift check: the evidence the admin approved was not the same.
//
// The partnership's own DCs are traced by role (link.destination, link.source,
// link.current_source). DNS client settings read through forest.dcs (forest.dcs[*].dns_servers,
// forest.dcs[2].dns_servers, or whole DC objects) are traced conservatively: every DC of the
// forest whose settings were assumed is named, since the recorded path does not say which
// element the expression finally used. Settings of DCs returned by dcs_with_ip(...) are not
// traced (the shipped playbook uses it only to choose whose events to read).
func (fe *findingEval) assumptions() []string {
	roles := []struct {
		path string
		v    *dcValue
	}{
		{"link.destination", fe.g.dest},
		{"link.source", fe.g.src},
		{"link.current_source", fe.g.cur},
	}
	var out []string
	seen := map[*facts.DC]bool{}
	say := func(dc *facts.DC, servers []string) {
		seen[dc] = true
		out = append(out, safeText(assumedSentence(dc, servers)))
		fe.addDep("assumed|dns_servers|"+strings.ToLower(dc.Name), DNSServersAssumedSelf)
	}
	for _, r := range roles {
		if r.v == nil || r.v.dc == nil || seen[r.v.dc] {
			continue
		}
		dc := r.v.dc
		servers, known := dc.DNSServers.Get()
		if !known || dc.DNSServersFrom != DNSServersAssumedSelf || !fe.readFact(r.path+".dns_servers") {
			continue
		}
		say(dc, servers)
	}
	if fe.p == nil || len(fe.p.assumed) == 0 || !fe.readForestDCsDNS() {
		return out
	}
	for _, dc := range fe.p.assumed {
		if !seen[dc] {
			servers, _ := dc.DNSServers.Get()
			say(dc, servers)
		}
	}
	return out
}

// readForestDCsDNS reports whether the recorded dependencies read DNS client settings through
// forest.dcs: the list itself, an element, or an element's dns_servers.
func (fe *findingEval) readForestDCsDNS() bool {
	for k := range fe.deps {
		p, ok := strings.CutPrefix(k, "fact|forest.dcs")
		if !ok {
			continue
		}
		if strings.HasPrefix(p, "[") {
			end := strings.IndexByte(p, ']')
			if end < 0 {
				continue
			}
			p = p[end+1:]
		}
		if p == "" || p == ".dns_servers" || strings.HasPrefix(p, ".dns_servers[") || strings.HasPrefix(p, ".dns_servers.") {
			return true
		}
	}
	return false
}

// readFact reports whether the recorded dependencies read the fact at path: the fact itself,
// a part of it (link.source.dns_servers[0]) or a value that holds it (link.source, link).
func (fe *findingEval) readFact(path string) bool {
	for k := range fe.deps {
		p, ok := strings.CutPrefix(k, "fact|")
		if !ok {
			continue
		}
		if p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") || strings.HasPrefix(path, p+".") {
			return true
		}
	}
	return false
}

// assumedSentence says what was assumed about one DC and how to check it.
func assumedSentence(dc *facts.DC, servers []string) string {
	verify := "ipconfig /all (Windows) or /etc/resolv.conf (Samba)"
	if p, ok := dc.Platform.Get(); ok {
		switch p {
		case facts.PlatformWindows:
			verify = "ipconfig /all"
		case facts.PlatformSamba:
			verify = "cat /etc/resolv.conf"
		}
	}
	// Bounded whatever the facts hold (a hostile name, hundreds of addresses): at most
	// maxAssumedServers addresses, each value clipped, so the sentence stays one readable line.
	shown := servers
	more := ""
	if len(shown) > maxAssumedServers {
		shown, more = shown[:maxAssumedServers], fmt.Sprintf(" and %d more", len(servers)-maxAssumedServers)
	}
	clipped := make([]string, len(shown))
	for i, a := range shown {
		clipped[i] = clipValue(a)
	}
	addrs := strings.Join(clipped, ", ") + more
	if addrs == "" {
		addrs = "(none)"
	}
	name := clipValue(dc.Name)
	return fmt.Sprintf("%s's DNS client settings were not read (no WinRM/SSH access, no inventory dns_servers); the checks assumed it uses its own addresses %s. Verify with %s on %s before acting.",
		name, addrs, verify, name)
}

// maxAssumedServers and maxAssumedValue bound what an assumption sentence quotes.
const (
	maxAssumedServers = 8
	maxAssumedValue   = 64
)

// clipValue shortens a value to maxAssumedValue bytes (on a rune boundary), marking the cut.
func clipValue(v string) string {
	if len(v) <= maxAssumedValue {
		return v
	}
	cut := maxAssumedValue
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}
