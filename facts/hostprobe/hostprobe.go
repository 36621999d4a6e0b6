// Package hostprobe reads a DC's host facts for the gatherer (gather.HostReader) through
// read-only probes that run on the DC through a remote.Runner (WinRM or SSH): the DNS client
// servers (Get-DnsClientServerAddress on Windows, /etc/resolv.conf on Samba) and, on Windows,
// the Directory Service events of an 8524 (2087, 2088, 1925, 1926, 2023, 1655, 1308, 1865) with
// DNS Server event 2501 (scavenging) within a lookback window. Nothing here changes the DC.
//
// Every probe is a fixed remote.Command (exported, so a lab server can recognize it by its
// Name) and a parser for its output (exported and fuzzed, so facts can be rebuilt from saved
// output). AD-sourced values never reach the command text: the only parameters are the event
// query (IDs, start time, count), and they travel as $P data.
//
// A probe that cannot run leaves its fact unknown with the reason (no credentials for the
// transport, authentication refused, timeout, ...), never "none"; the gather goes on. The
// caller's context (the gatherer's per-DC deadline) bounds every probe, and Timeout can bound
// them tighter so that the DC's LDAP read keeps time of its own. No credential reaches a fact
// or a reason: the transports keep them out of their errors.
package hostprobe

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/remote"
)

// DefaultLookback is how far back events are read by default.
const DefaultLookback = 24 * time.Hour

// Reader implements gather.HostReader.
type Reader struct {
	// Runners opens a runner to a DC (*connect.Runners).
	Runners remote.Runners
	// Choose picks the transport for a DC by name and platform ("windows", "samba" or ""):
	// "winrm" or "ssh", or "" with the reason there is none (typically: no credentials for
	// it). *connect.Runners' Choose fits.
	Choose func(name, platform string) (transport, reason string)
	// Lookback is how far back events are read (default DefaultLookback); EventIDs which
	// (default DefaultEventIDs); MaxEvents how many at most, newest first (default 200).
	Lookback  time.Duration
	EventIDs  []int
	MaxEvents int
	// Timeout bounds all probes of one DC, connection included, within the caller's context
	// (0: the caller's context only).
	Timeout time.Duration
	Now     func() time.Time
}

var _ gather.HostReader = (*Reader)(nil)

// ReadHost reads dc's DNS client servers and (Windows) events.
func (r *Reader) ReadHost(ctx context.Context, dc facts.DC) gather.HostFacts {
	platform, _ := dc.Platform.Get()
	if r == nil || r.Runners == nil || r.Choose == nil {
		return unknownBoth(platform, "no WinRM/SSH transport configured")
	}
	tr, why := r.Choose(dc.Name, platform)
	if tr == "" {
		return unknownBoth(platform, why)
	}
	label := transportLabel(tr)
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	ips, _ := dc.IPs.Get()
	t := remote.DC{Name: dc.Name, DNSHostName: dc.DNSHostName, IPs: ips, Platform: platform, Transport: tr}
	run, err := r.Runners.Runner(ctx, t)
	if err != nil {
		return unknownBoth(platform, fmt.Sprintf("cannot set up %s to the DC: %s", label, oneLine(err)))
	}
	defer run.Close()

	// Windows OpenSSH runs PowerShell as WinRM does; SSH to anything else is POSIX.
	pp := Windows
	if tr == remote.SSH && platform != facts.PlatformWindows {
		pp = POSIX
	}
	var hf gather.HostFacts
	hf.DNSServers, hf.DNSServersFrom = r.dnsServers(ctx, run, pp, label, tr, ips)
	switch {
	case pp == POSIX:
		hf.Events = facts.Unknown[[]facts.Event](notWindowsEvents)
	case !hf.DNSServers.Known && isTransportFailure(hf.DNSServers.Reason):
		// The transport already failed: do not wait for it a second time.
		hf.Events = facts.Unknown[[]facts.Event]("not read: " + hf.DNSServers.Reason)
	default:
		hf.Events = r.events(ctx, run, label)
	}
	return hf
}

// notWindowsEvents is why a Samba DC has no events.
const notWindowsEvents = "read over SSH as a POSIX host: Samba writes no Directory Service event log (its log files are not read)"

func unknownBoth(platform, reason string) gather.HostFacts {
	ev := reason
	if platform == facts.PlatformSamba {
		ev = notWindowsEvents
	}
	return gather.HostFacts{DNSServers: facts.Unknown[[]string](reason), Events: facts.Unknown[[]facts.Event](ev)}
}

func transportLabel(tr string) string {
	switch tr {
	case remote.WinRM:
		return "WinRM"
	case remote.SSH:
		return "SSH"
	}
	return tr
}

// transportFailurePrefix starts the reason of a fact a transport failure left unknown.
const transportFailurePrefix = "transport failure "

func isTransportFailure(reason string) bool { return strings.HasPrefix(reason, transportFailurePrefix) }

// failure renders why a probe failed: "transport failure (auth) over WinRM: ..." for a
// transport error, "reading X over WinRM: ..." otherwise.
func failure(what, label string, err error) string {
	if k := remote.KindOf(err); k != "" {
		return fmt.Sprintf("%s(%s) over %s reading %s: %s", transportFailurePrefix, k, label, what, oneLine(err))
	}
	return fmt.Sprintf("reading %s over %s: %s", what, label, oneLine(err))
}

func (r *Reader) dnsServers(ctx context.Context, run remote.Runner, pp Platform, label, tr string, self []string) (facts.Maybe[[]string], string) {
	d, err := ReadDNSClient(ctx, run, pp)
	if err != nil {
		return facts.Unknown[[]string](failure("the DNS client settings", label, err)), ""
	}
	servers := d.Servers
	if d.StubResolver {
		if len(d.Upstream) == 0 {
			return facts.Unknown[[]string](fmt.Sprintf("%s points at the systemd-resolved stub 127.0.0.53 and the servers behind it (%s) could not be read", d.Source, ResolvedUpstreamPath)), ""
		}
		servers = d.Upstream
	}
	if pp == POSIX && len(servers) == 0 {
		// resolv.conf(5): without a nameserver line the resolver asks the local host.
		servers = []string{"127.0.0.1"}
	}
	out, err := Resolvable(servers, self)
	if err != nil {
		return facts.Unknown[[]string](fmt.Sprintf("the DNS client settings (%s) %v", d.Source, err)), ""
	}
	return facts.Some(out), tr
}

// Resolvable turns a DC's DNS client servers into addresses this workstation can ask on the
// DC's behalf: a loopback server (127.0.0.1, ::1: "the DC itself", as Windows DCs are
// commonly set up) becomes the DC's own addresses, self. Order is kept, duplicates dropped.
// It fails when a server is loopback and self is empty: asking this workstation's own
// loopback instead would be wrong.
func Resolvable(servers, self []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range servers {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("list %q, which is not an IP address", s)
		}
		if a.Unmap() != netip.MustParseAddr("127.0.0.1") && a != netip.IPv6Loopback() {
			add(a.String())
			continue
		}
		if len(self) == 0 {
			return nil, fmt.Errorf("point at the DC itself (%s), but the DC's own address is unknown", s)
		}
		for _, ip := range self {
			add(ip)
		}
	}
	return out, nil
}

func (r *Reader) events(ctx context.Context, run remote.Runner, label string) facts.Maybe[[]facts.Event] {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	lookback := r.Lookback
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	ev, err := ReadEvents(ctx, run, EventQuery{Since: now().Add(-lookback), IDs: r.EventIDs, Max: r.MaxEvents})
	if err != nil {
		return facts.Unknown[[]facts.Event](failure("the Directory Service events", label, err))
	}
	if len(ev.Errors) > 0 {
		// Access denied, no such log, ...: what was returned may not be all there is, so it is
		// not a list to conclude "no such event" from.
		return facts.Unknown[[]facts.Event](fmt.Sprintf("Get-WinEvent over %s reported: %s", label, oneLine(fmt.Errorf("%s", strings.Join(ev.Errors, "; ")))))
	}
	out := make([]facts.Event, 0, len(ev.Events))
	for _, e := range ev.Events {
		out = append(out, facts.Event{ID: e.ID, Time: e.Time, Level: e.Level, Data: e.Data, Message: e.Message,
			FailingName: e.FailingName, SourceDSADN: e.SourceDSADN, NC: e.NC, ErrorCode: e.ErrorCode})
	}
	return facts.Some(out)
}

// oneLine renders an error on one line, at most 600 bytes.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 600 {
		n := 600
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}
