package hostprobe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fix8524/fix8524/remote"
)

// Names of the DNS client probes (Command.Name).
const (
	NameDNSClientWindows = "probe_dns_client"
	NameDNSClientPOSIX   = "probe_resolv_conf"
	NameResolvedUpstream = "probe_resolved_upstream"
)

// ResolvConfPath is where a POSIX resolver is configured; ResolvedUpstreamPath is where
// systemd-resolved lists the real servers behind its 127.0.0.53 stub.
const (
	ResolvConfPath       = "/etc/resolv.conf"
	ResolvedUpstreamPath = "/run/systemd/resolve/resolv.conf"
)

// DNSClientCommand returns the probe for p.
func DNSClientCommand(p Platform) remote.Command {
	if p == POSIX {
		return remote.Command{Name: NameDNSClientPOSIX, Argv: []string{"cat", ResolvConfPath}}
	}
	return remote.Command{Name: NameDNSClientWindows, PowerShell: `$a = @(Get-DnsClientServerAddress -AddressFamily IPv4,IPv6 |
  Select-Object InterfaceAlias,InterfaceIndex,AddressFamily,ServerAddresses)
ConvertTo-Json -Compress -Depth 3 -InputObject $a
`}
}

// Interface is the DNS client configuration of one interface and address family.
type Interface struct {
	Alias   string   `json:"alias"`
	Index   int      `json:"index"`
	Family  string   `json:"family"` // "IPv4" or "IPv6"
	Servers []string `json:"servers"`
}

// DNSClient is what a DC uses to resolve names.
type DNSClient struct {
	// Servers are the configured DNS server addresses in the order the resolver uses them,
	// across interfaces, without duplicates and without Windows' fec0:0:0:ffff::1-3
	// placeholders (see Placeholders).
	Servers    []string    `json:"servers"`
	Interfaces []Interface `json:"interfaces,omitempty"`
	Search     []string    `json:"search,omitempty"` // resolv.conf search/domain
	Options    []string    `json:"options,omitempty"`
	// StubResolver is true when resolv.conf points only at systemd-resolved's 127.0.0.53;
	// Upstream then lists the servers behind it (when they could be read).
	StubResolver bool     `json:"stub_resolver,omitempty"`
	Upstream     []string `json:"upstream,omitempty"`
	// Placeholders are addresses that are configured but are not real servers (Windows
	// fills IPv6 interfaces without DNS servers with fec0:0:0:ffff::1, ::2, ::3).
	Placeholders []string `json:"placeholders,omitempty"`
	Source       string   `json:"source"` // "Get-DnsClientServerAddress" or the file read
}

var windowsPlaceholders = map[string]bool{"fec0:0:0:ffff::1": true, "fec0:0:0:ffff::2": true, "fec0:0:0:ffff::3": true}

// ReadDNSClient runs the DNS client probe for p. On POSIX hosts that use the
// systemd-resolved stub it also reads the upstream servers.
func ReadDNSClient(ctx context.Context, r remote.Runner, p Platform) (*DNSClient, error) {
	c := DNSClientCommand(p)
	res, err := run(ctx, r, c)
	if err != nil {
		return nil, err
	}
	if p != POSIX {
		return ParseDNSClientJSON(res.Stdout)
	}
	d, err := ParseResolvConf(res.Stdout)
	if err != nil {
		return nil, err
	}
	d.Source = ResolvConfPath
	if d.StubResolver {
		up := remote.Command{Name: NameResolvedUpstream, Argv: []string{"cat", ResolvedUpstreamPath}}
		if res, err := run(ctx, r, up); err == nil {
			if u, err := ParseResolvConf(res.Stdout); err == nil {
				d.Upstream = u.Servers
			}
		} else if remote.IsTransport(err) {
			return nil, err
		}
	}
	return d, nil
}

// ParseDNSClientJSON parses the Windows probe's output: an array of
// {InterfaceAlias, InterfaceIndex, AddressFamily, ServerAddresses}. AddressFamily may be the
// enum's number (2, 23: Windows PowerShell 5.1) or its name; ServerAddresses an array, a
// single string or null.
func ParseDNSClientJSON(b []byte) (*DNSClient, error) {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(b) > 0 && b[0] == '{' { // a single object if the script was changed
		b = append(append([]byte{'['}, b...), ']')
	}
	var raw []struct {
		InterfaceAlias  string          `json:"InterfaceAlias"`
		InterfaceIndex  int             `json:"InterfaceIndex"`
		AddressFamily   json.RawMessage `json:"AddressFamily"`
		ServerAddresses json.RawMessage `json:"ServerAddresses"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("parse Get-DnsClientServerAddress output: %w (output starts %s)", err, remote.Excerpt(b, 80))
	}
	d := &DNSClient{Source: "Get-DnsClientServerAddress"}
	seen := map[string]bool{}
	for _, r := range raw {
		fam, err := family(r.AddressFamily)
		if err != nil {
			return nil, fmt.Errorf("interface %q: %w", r.InterfaceAlias, err)
		}
		servers, err := stringList(r.ServerAddresses)
		if err != nil {
			return nil, fmt.Errorf("interface %q: ServerAddresses: %w", r.InterfaceAlias, err)
		}
		ifc := Interface{Alias: r.InterfaceAlias, Index: r.InterfaceIndex, Family: fam}
		for _, s := range servers {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("interface %q: server %s is not an IP address", r.InterfaceAlias, remote.Excerpt([]byte(s), 60))
			}
			addr := a.String()
			ifc.Servers = append(ifc.Servers, addr)
			if windowsPlaceholders[addr] {
				if !contains(d.Placeholders, addr) {
					d.Placeholders = append(d.Placeholders, addr)
				}
				continue
			}
			if !seen[addr] {
				seen[addr] = true
				d.Servers = append(d.Servers, addr)
			}
		}
		d.Interfaces = append(d.Interfaces, ifc)
	}
	return d, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func family(raw json.RawMessage) (string, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		switch n {
		case 2:
			return "IPv4", nil
		case 23:
			return "IPv6", nil
		}
		return "", fmt.Errorf("unknown AddressFamily %d", n)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch strings.ToLower(s) {
		case "ipv4", "2":
			return "IPv4", nil
		case "ipv6", "23":
			return "IPv6", nil
		}
		return "", fmt.Errorf("unknown AddressFamily %q", s)
	}
	return "", fmt.Errorf("AddressFamily %s is neither a number nor a name", remote.Excerpt(raw, 40))
}

func stringList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, fmt.Errorf("neither a string nor a list of strings")
	}
	return []string{one}, nil
}

// ParseResolvConf parses resolv.conf (resolv.conf(5)): nameserver, search, domain and options
// lines; '#' and ';' start comments. Nameserver values must be IP addresses (an IPv6 zone
// such as %eth0 is kept). Unknown keywords are ignored, as the resolver does.
func ParseResolvConf(b []byte) (*DNSClient, error) {
	d := &DNSClient{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexAny(text, "#;"); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 {
				return nil, fmt.Errorf("resolv.conf line %d: nameserver without an address", line)
			}
			a, err := netip.ParseAddr(f[1])
			if err != nil {
				return nil, fmt.Errorf("resolv.conf line %d: nameserver %s is not an IP address", line, remote.Excerpt([]byte(f[1]), 60))
			}
			addr := a.String()
			if !seen[addr] {
				seen[addr] = true
				d.Servers = append(d.Servers, addr)
			}
		case "search":
			d.Search = append([]string(nil), f[1:]...) // the last search/domain line wins
		case "domain":
			if len(f) > 1 {
				d.Search = []string{f[1]}
			}
		case "options":
			d.Options = append(d.Options, f[1:]...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("resolv.conf: %w", err)
	}
	d.StubResolver = len(d.Servers) == 1 && d.Servers[0] == "127.0.0.53"
	return d, nil
}

// NDots returns the resolv.conf ndots option (default 1), for callers that emulate the resolver.
func (d *DNSClient) NDots() int {
	n := 1
	for _, o := range d.Options {
		if v, ok := strings.CutPrefix(o, "ndots:"); ok {
			if x, err := strconv.Atoi(v); err == nil && x >= 0 {
				n = min(x, 15)
			}
		}
	}
	return n
}
