package hostprobe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fix8524/fix8524/actions/connect"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/facts/hostprobe"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/lab/sim"
	"github.com/fix8524/fix8524/lab/sshd"
	labwinrm "github.com/fix8524/fix8524/lab/winrm"
	"github.com/fix8524/fix8524/remote"
)

// The WinRM password of the lab server; it must never show up in facts, reasons or logs.
const (
	winrmUser     = `LAB\probe`
	winrmPassword = "Pw-Probe-7f3c-NEVER-SHOWN"
)

// The probes' output as a Windows DC prints it: ::1 is the DC itself.
const (
	dnsJSON    = `[{"InterfaceAlias":"Ethernet0","InterfaceIndex":6,"AddressFamily":2,"ServerAddresses":["192.0.2.12"]},{"InterfaceAlias":"Ethernet0","InterfaceIndex":6,"AddressFamily":23,"ServerAddresses":["::1"]}]`
	eventsJSON = `{"Events":[{"Id":2087,"Time":"2026-11-25T22:14:03Z","Level":2,"Data":["DC2","8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com","11004"]},` +
		`{"Id":1925,"Time":"2026-11-25T22:10:00Z","Level":3,"Data":["DC=contoso,DC=com","CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=contoso,DC=com","8524"]}],"Errors":[]}`
)

var now = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

// probeHandler answers the probe scripts by their "# fix8524:<name>" marker; block makes every
// command hang until the client gives up (a command that never finishes).
func probeHandler(block bool, seen *sync.Map) labwinrm.Handler {
	answer := func(out string) labwinrm.Handler {
		return labwinrm.HandlerFunc(func(ctx context.Context, cmd *labwinrm.Command, stdout, stderr io.Writer) int {
			if seen != nil {
				seen.Store(cmd.Name, cmd.Params)
			}
			if block {
				<-ctx.Done()
				return 1
			}
			_, _ = io.WriteString(stdout, out)
			return 0
		})
	}
	return &labwinrm.Mux{ByName: map[string]labwinrm.Handler{
		hostprobe.NameDNSClientWindows: answer(dnsJSON),
		hostprobe.NameEvents:           answer(eventsJSON),
	}}
}

func startWinRM(t *testing.T, h labwinrm.Handler) *labwinrm.Server {
	t.Helper()
	srv, err := labwinrm.Start(labwinrm.Config{Users: map[string]string{winrmUser: winrmPassword}, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func winrmRunners(port int, password string) *connect.Runners {
	return &connect.Runners{Settings: connect.Settings{WinRMUser: winrmUser, WinRMPort: port},
		WinRMPassword: func() (string, error) { return password, nil }}
}

func reader(r *connect.Runners, timeout time.Duration) *hostprobe.Reader {
	return &hostprobe.Reader{Runners: r, Choose: r.Choose, Timeout: timeout, Now: func() time.Time { return now }}
}

var windowsDC = facts.DC{Name: "DC2", DNSHostName: "dc2.contoso.com", Platform: facts.Some(facts.PlatformWindows), IPs: facts.Some([]string{"127.0.0.1"})}

// noSecrets fails when a secret appears in v's JSON (facts, reasons) or in the logs.
func noSecrets(t *testing.T, what string, v any, logs string, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) || strings.Contains(logs, s) {
			t.Errorf("%s: a secret leaked: %s %s", what, b, logs)
		}
	}
}

// within runs f and fails the test if it has not returned after limit: the guard against a
// stalled transport stalling its caller (far above the deadlines under test; not a timing
// assertion).
func within[T any](t *testing.T, limit time.Duration, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(limit):
		t.Fatalf("still running after %s: a stalled transport stalled the caller", limit)
	}
	var zero T
	return zero
}

func TestWinRMProbes(t *testing.T) {
	var seen sync.Map
	srv := startWinRM(t, probeHandler(false, &seen))
	r := reader(winrmRunners(srv.Port(), winrmPassword), 0)
	r.Lookback = 36 * time.Hour
	hf := r.ReadHost(context.Background(), windowsDC)
	if srv, ok := hf.DNSServers.Get(); !ok || !reflect.DeepEqual(srv, []string{"192.0.2.12", "127.0.0.1"}) || hf.DNSServersFrom != "winrm" {
		t.Fatalf("dns servers %+v from %q", hf.DNSServers, hf.DNSServersFrom)
	}
	ev, ok := hf.Events.Get()
	if !ok || len(ev) != 2 || ev[0].ID != 2087 || ev[0].FailingName == "" || ev[1].SourceDSADN == "" || ev[1].ErrorCode != 8524 {
		t.Fatalf("events %+v", hf.Events)
	}
	p, _ := seen.Load(hostprobe.NameEvents)
	if params, _ := p.(map[string]string); params["Since"] != "2026-11-24T20:00:00Z" {
		t.Errorf("the server received the event query %v", p)
	}
	noSecrets(t, "success", hf, "", winrmPassword)

	// A wrong password: unknown with the reason, never "none"; neither password anywhere.
	bad := "Wrong-" + winrmPassword
	hf = reader(winrmRunners(srv.Port(), bad), 0).ReadHost(context.Background(), windowsDC)
	if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "(auth)") || hf.DNSServersFrom != "" {
		t.Errorf("auth failure: dns %+v", hf.DNSServers)
	}
	if hf.Events.Known || !strings.Contains(hf.Events.Reason, "(auth)") {
		t.Errorf("auth failure: events %+v", hf.Events)
	}
	noSecrets(t, "auth failure", hf, "", winrmPassword, bad)

	// Nothing listens: refused.
	hf = reader(winrmRunners(sshd.FreePort(t), winrmPassword), 0).ReadHost(context.Background(), windowsDC)
	if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "(refused)") {
		t.Errorf("refused: %+v", hf.DNSServers)
	}
}

// A stalled WinRM endpoint (no HTTP answer at all; or a probe that never finishes) costs the
// reader its Timeout, not the gather's.
func TestWinRMStall(t *testing.T) {
	slow := startWinRM(t, probeHandler(false, nil))
	slow.InjectFault(labwinrm.Fault{Kind: labwinrm.FaultSlow, Delay: time.Hour})
	hanging := startWinRM(t, probeHandler(true, nil))
	for name, srv := range map[string]*labwinrm.Server{"no reply": slow, "command never finishes": hanging} {
		hf := within(t, time.Minute, func() gather.HostFacts {
			return reader(winrmRunners(srv.Port(), winrmPassword), time.Second).ReadHost(context.Background(), windowsDC)
		})
		if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "(timeout)") || hf.Events.Known {
			t.Errorf("%s: %+v", name, hf)
		}
	}
}

func TestSSHProbes(t *testing.T) {
	s := startSSHD(t, "# lab DC\nsearch lab.example.com\nnameserver 127.0.10.1\nnameserver 127.0.0.1\n", "dc2.lab.example.com")
	sambaDC := facts.DC{Name: "DC2", DNSHostName: "dc2.lab.example.com", Platform: facts.Some(facts.PlatformSamba), IPs: facts.Some([]string{"127.0.0.1"})}
	var logs strings.Builder
	runners := func(key, knownHosts string) *connect.Runners {
		return &connect.Runners{Settings: connect.Settings{SSHUser: s.User, SSHPort: s.Port, SSHKey: key, SSHKnownHosts: knownHosts},
			Timeout: 20 * time.Second, Logf: func(f string, a ...any) { fmt.Fprintf(&logs, f+"\n", a...) }}
	}
	hf := reader(runners(s.ClientKeyFile, s.knownHosts), 0).ReadHost(context.Background(), sambaDC)
	if srv, ok := hf.DNSServers.Get(); !ok || !reflect.DeepEqual(srv, []string{"127.0.10.1", "127.0.0.1"}) || hf.DNSServersFrom != "ssh" {
		t.Fatalf("dns servers %+v from %q", hf.DNSServers, hf.DNSServersFrom)
	}
	if hf.Events.Known || !strings.Contains(hf.Events.Reason, "Samba") {
		t.Errorf("events %+v", hf.Events)
	}

	// A key the server does not accept: auth; an unknown host key: hostkey. Key material never shows.
	hf = reader(runners(s.otherKey, s.knownHosts), 0).ReadHost(context.Background(), sambaDC)
	if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "(auth)") {
		t.Errorf("auth failure: %+v", hf.DNSServers)
	}
	other := startSSHD(t, "nameserver 192.0.2.1\n", "dc9.lab.example.com")
	hf = reader(runners(s.ClientKeyFile, other.knownHosts), 0).ReadHost(context.Background(), sambaDC)
	if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "(hostkey)") {
		t.Errorf("unknown host key: %+v", hf.DNSServers)
	}
	for _, f := range []string{s.ClientKeyFile, s.otherKey} {
		key := readKeyBody(t, f)
		noSecrets(t, "ssh", hf, logs.String(), key)
	}
}

// readKeyBody returns a line of the private key's base64 body (what a leak would show).
func readKeyBody(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 3 {
		t.Fatalf("%s: not a PEM key", path)
	}
	return lines[1]
}

// hostless hides the World's DNS client settings and events, so whatever the gather reports
// for them came through the transports.
type hostless struct{ *scenario.World }

func (w hostless) Base() *facts.Snapshot {
	s := w.World.Base()
	for i := range s.DCs {
		s.DCs[i].DNSServers, s.DCs[i].DNSServersFrom = facts.Unknown[[]string]("hidden by the test"), ""
		s.DCs[i].Events = facts.Unknown[[]facts.Event]("hidden by the test")
	}
	return s
}

// loopback sends every runner to 127.0.0.1: the simulated DCs have documentation addresses,
// which are never dialled.
type loopback struct {
	t     *testing.T
	inner remote.Runners
}

func (l loopback) Runner(ctx context.Context, tg remote.DC) (remote.Runner, error) {
	for _, ip := range tg.IPs {
		if a, err := netip.ParseAddr(ip); err != nil || !a.IsLoopback() && !netip.MustParsePrefix("192.0.2.0/24").Contains(a) {
			l.t.Errorf("runner for %s asked for %v", tg.Name, tg.IPs)
		}
	}
	tg.IPs = []string{"127.0.0.1"}
	return l.inner.Runner(ctx, tg)
}

func startForest(t *testing.T, name string) *sim.Forest {
	t.Helper()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := sim.Start(context.Background(), hostless{sc.NewWorld()}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func parseInventory(t *testing.T, src string) *inventory.Inventory {
	t.Helper()
	inv, diags := inventory.Parse("inventory.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return inv
}

// TestGatherOverWinRM: the gatherer reads DC1's DNS client settings and events over WinRM into
// the snapshot (and asks those servers); DC2's WinRM endpoint stalls, so its host facts are
// unknown with the reason, while its LDAP facts are still read and the gather finishes.
func TestGatherOverWinRM(t *testing.T) {
	f := startForest(t, scenario.Default) // DC1 <- DC2 fails with 8524; both Windows
	good := startWinRM(t, probeHandler(false, nil))
	stalled := startWinRM(t, probeHandler(false, nil))
	stalled.InjectFault(labwinrm.Fault{Kind: labwinrm.FaultSlow, Delay: time.Hour})
	inv := parseInventory(t, fmt.Sprintf("dc \"DC1\" {\n  winrm { port = %d }\n}\ndc \"DC2\" {\n  winrm { port = %d }\n}\n", good.Port(), stalled.Port()))

	gatherWith := func(password string) *facts.Snapshot {
		r := winrmRunners(0, password)
		r.Inventory = inv
		rd := &hostprobe.Reader{Runners: loopback{t, r}, Choose: r.Choose, Timeout: time.Second, Now: func() time.Time { return now }}
		o, err := f.GatherOptions("sim:test", nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Host = rd
		s, err := within(t, 2*time.Minute, func() gatherResult {
			s, err := gather.Gather(context.Background(), o)
			return gatherResult{s, err}
		}).get()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	s := gatherWith(winrmPassword)
	ix := facts.NewIndex(s)
	dc1, dc2 := ix.DCByName("DC1"), ix.DCByName("DC2")
	// DC1 is 192.0.2.11 in the scenario: its ::1 became that address.
	if srv, ok := dc1.DNSServers.Get(); !ok || !reflect.DeepEqual(srv, []string{"192.0.2.12", "192.0.2.11"}) || dc1.DNSServersFrom != "winrm" {
		t.Fatalf("DC1 dns servers %+v from %q", dc1.DNSServers, dc1.DNSServersFrom)
	}
	if ev, ok := dc1.Events.Get(); !ok || len(ev) != 2 || ev[0].ID != 2087 {
		t.Fatalf("DC1 events %+v", dc1.Events)
	}
	if dc2.DNSServers.Known || !strings.Contains(dc2.DNSServers.Reason, "(timeout)") || dc2.Events.Known {
		t.Errorf("DC2 (stalled WinRM): %+v / %+v", dc2.DNSServers, dc2.Events)
	}
	if !dc2.OwnDSAGUID.Known || !dc2.Inbound.Known {
		t.Errorf("DC2's LDAP read lost to the stalled WinRM: %+v %+v", dc2.OwnDSAGUID, dc2.Inbound)
	}
	asked := map[string]bool{}
	for _, o := range s.DNS {
		asked[o.Server] = true
	}
	if !asked["192.0.2.12"] || !asked["192.0.2.11"] {
		t.Errorf("the DNS servers read over WinRM were not asked: %v", asked)
	}
	noSecrets(t, "gather", s, "", winrmPassword)

	// Wrong credentials: both DCs' host facts unknown (auth or the stall), the gather completes.
	bad := "Wrong-" + winrmPassword
	s = gatherWith(bad)
	dc1 = facts.NewIndex(s).DCByName("DC1")
	if dc1.DNSServers.Known || !strings.Contains(dc1.DNSServers.Reason, "(auth)") {
		t.Errorf("DC1 with a wrong password: %+v", dc1.DNSServers)
	}
	noSecrets(t, "gather with a wrong password", s, "", winrmPassword, bad)
}

type gatherResult struct {
	s   *facts.Snapshot
	err error
}

func (g gatherResult) get() (*facts.Snapshot, error) { return g.s, g.err }

// TestGatherOverSSH: Samba DCs' resolv.conf values land in the snapshot.
func TestGatherOverSSH(t *testing.T) {
	f := startForest(t, "samba-result-2")
	s := startSSHD(t, "nameserver 192.0.2.101\nnameserver 127.0.0.1\n", "dc1.lab.example.com", "dc2.lab.example.com")
	r := &connect.Runners{Settings: connect.Settings{SSHUser: s.User, SSHPort: s.Port, SSHKey: s.ClientKeyFile, SSHKnownHosts: s.knownHosts}}
	rd := &hostprobe.Reader{Runners: loopback{t, r}, Choose: r.Choose, Timeout: 20 * time.Second}
	o, err := f.GatherOptions("sim:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Host = rd
	o.DCTimeout = 30 * time.Second
	snap, err := gather.Gather(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ix := facts.NewIndex(snap)
	for dc, want := range map[string][]string{"DC1": {"192.0.2.101"}, "DC2": {"192.0.2.101", "192.0.2.102"}} {
		d := ix.DCByName(dc)
		if srv, ok := d.DNSServers.Get(); !ok || !reflect.DeepEqual(srv, want) || d.DNSServersFrom != "ssh" {
			t.Errorf("%s: dns servers %+v from %q, want %v", dc, d.DNSServers, d.DNSServersFrom, want)
		}
		if d.Events.Known || !strings.Contains(d.Events.Reason, "Samba") {
			t.Errorf("%s: events %+v", dc, d.Events)
		}
	}
}
