package hostprobe

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/remote"
)

// Probe outputs as a Windows DC and a Samba DC print them.
const (
	windowsDNSJSON = `[{"InterfaceAlias":"Ethernet0","InterfaceIndex":6,"AddressFamily":2,"ServerAddresses":["192.0.2.12","127.0.0.1"]},` +
		`{"InterfaceAlias":"Ethernet0","InterfaceIndex":6,"AddressFamily":23,"ServerAddresses":["fec0:0:0:ffff::1","::1"]}]`
	eventsJSON = `{"Events":[{"Id":2087,"Time":"2026-11-25T22:14:03.1234567Z","Level":2,"LevelName":"Error",` +
		`"Data":["DC2","8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com","11004"],"Message":"could not resolve"},` +
		`{"Id":1925,"Time":"2026-11-25T22:10:00Z","Level":3,"Data":["DC=contoso,DC=com","8524"]}],"Errors":[]}`
	resolvConf = "# managed by the lab\nsearch lab.example.com\nnameserver 127.0.10.1\nnameserver 127.0.0.1\n"
)

// fakeRunners hands out fakeRunner and records the targets.
type fakeRunners struct {
	out     map[string]remote.Result
	err     error // returned by every Run
	openErr error
	targets []remote.DC
	ran     []string
	closed  int
}

func (f *fakeRunners) Runner(_ context.Context, t remote.DC) (remote.Runner, error) {
	f.targets = append(f.targets, t)
	if f.openErr != nil {
		return nil, f.openErr
	}
	return fakeRunner{f}, nil
}

type fakeRunner struct{ f *fakeRunners }

func (r fakeRunner) Run(_ context.Context, c remote.Command) (remote.Result, error) {
	r.f.ran = append(r.f.ran, c.Name)
	if r.f.err != nil {
		return remote.Result{}, r.f.err
	}
	res, ok := r.f.out[c.Name]
	if !ok {
		return remote.Result{ExitCode: 1, Stderr: []byte("no such command")}, nil
	}
	return res, nil
}

func (r fakeRunner) Close() error { r.f.closed++; return nil }

func choose(tr string) func(string, string) (string, string) {
	return func(string, string) (string, string) {
		if tr == "" {
			return "", "no WinRM credentials (give --winrm-user)"
		}
		return tr, ""
	}
}

func dcOf(name, platform string, ips ...string) facts.DC {
	dc := facts.DC{Name: name, DNSHostName: strings.ToLower(name) + ".contoso.com", Platform: facts.Some(platform)}
	if len(ips) > 0 {
		dc.IPs = facts.Some(ips)
	}
	return dc
}

var now = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

func TestWindowsOverWinRM(t *testing.T) {
	f := &fakeRunners{out: map[string]remote.Result{
		NameDNSClientWindows: {Stdout: []byte(windowsDNSJSON)},
		NameEvents:           {Stdout: []byte(eventsJSON)},
	}}
	r := &Reader{Runners: f, Choose: choose(remote.WinRM), Lookback: 48 * time.Hour, Now: func() time.Time { return now }}
	hf := r.ReadHost(context.Background(), dcOf("DC2", "windows", "192.0.2.12", "2001:db8::12"))
	srv, ok := hf.DNSServers.Get()
	// 127.0.0.1 and ::1 are the DC itself: its own addresses, without duplicates.
	if want := []string{"192.0.2.12", "2001:db8::12"}; !ok || !reflect.DeepEqual(srv, want) || hf.DNSServersFrom != "winrm" {
		t.Fatalf("dns servers %+v from %q, want %v from winrm", hf.DNSServers, hf.DNSServersFrom, want)
	}
	ev, ok := hf.Events.Get()
	if !ok || len(ev) != 2 {
		t.Fatalf("events %+v", hf.Events)
	}
	if e := ev[0]; e.ID != 2087 || e.FailingName != "8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com" || e.ErrorCode != 11004 || e.Level != "Error" {
		t.Errorf("2087: %+v", e)
	}
	if e := ev[1]; e.ID != 1925 || e.NC != "DC=contoso,DC=com" || e.ErrorCode != 8524 {
		t.Errorf("1925: %+v", e)
	}
	if len(f.targets) != 1 || f.targets[0].Transport != remote.WinRM || f.targets[0].DNSHostName != "dc2.contoso.com" || f.targets[0].IPs[0] != "192.0.2.12" {
		t.Errorf("target %+v", f.targets)
	}
	if !reflect.DeepEqual(f.ran, []string{NameDNSClientWindows, NameEvents}) || f.closed != 1 {
		t.Errorf("ran %v, closed %d", f.ran, f.closed)
	}
}

func TestEventQuery(t *testing.T) {
	var got remote.Command
	f := &fakeRunners{out: map[string]remote.Result{NameDNSClientWindows: {Stdout: []byte("[]")}, NameEvents: {Stdout: []byte(eventsJSON)}}}
	rec := &recordingRunners{fakeRunners: f, onRun: func(c remote.Command) {
		if c.Name == NameEvents {
			got = c
		}
	}}
	r := &Reader{Runners: rec, Choose: choose(remote.WinRM), Lookback: 2 * time.Hour, EventIDs: []int{2087}, MaxEvents: 5, Now: func() time.Time { return now }}
	hf := r.ReadHost(context.Background(), dcOf("DC1", "windows", "192.0.2.11"))
	if got.Params["Since"] != "2026-11-26T06:00:00Z" || got.Params["Ids"] != "2087" || got.Params["Max"] != "5" {
		t.Errorf("event query %v", got.Params)
	}
	// A DC with no DNS servers configured is a fact (a broken DC), not an unknown.
	if srv, ok := hf.DNSServers.Get(); !ok || len(srv) != 0 {
		t.Errorf("no servers: %+v", hf.DNSServers)
	}
	// The default lookback is 24 hours.
	r.Lookback = 0
	r.ReadHost(context.Background(), dcOf("DC1", "windows", "192.0.2.11"))
	if got.Params["Since"] != "2026-11-25T08:00:00Z" {
		t.Errorf("default lookback: since %s", got.Params["Since"])
	}
}

type recordingRunners struct {
	*fakeRunners
	onRun func(remote.Command)
}

func (r *recordingRunners) Runner(ctx context.Context, t remote.DC) (remote.Runner, error) {
	run, err := r.fakeRunners.Runner(ctx, t)
	if err != nil {
		return nil, err
	}
	return recordingRunner{run, r.onRun}, nil
}

type recordingRunner struct {
	remote.Runner
	onRun func(remote.Command)
}

func (r recordingRunner) Run(ctx context.Context, c remote.Command) (remote.Result, error) {
	r.onRun(c)
	return r.Runner.Run(ctx, c)
}

func TestSambaOverSSH(t *testing.T) {
	f := &fakeRunners{out: map[string]remote.Result{NameDNSClientPOSIX: {Stdout: []byte(resolvConf)}}}
	r := &Reader{Runners: f, Choose: choose(remote.SSH)}
	hf := r.ReadHost(context.Background(), dcOf("DC2", "samba", "127.0.10.2"))
	srv, ok := hf.DNSServers.Get()
	if want := []string{"127.0.10.1", "127.0.10.2"}; !ok || !reflect.DeepEqual(srv, want) || hf.DNSServersFrom != "ssh" {
		t.Fatalf("dns servers %+v from %q, want %v", hf.DNSServers, hf.DNSServersFrom, want)
	}
	if hf.Events.Known || !strings.Contains(hf.Events.Reason, "Samba") {
		t.Errorf("events on Samba: %+v", hf.Events)
	}
	if !reflect.DeepEqual(f.ran, []string{NameDNSClientPOSIX}) {
		t.Errorf("ran %v", f.ran)
	}

	// systemd-resolved's stub: the servers behind it count.
	f.out = map[string]remote.Result{
		NameDNSClientPOSIX:   {Stdout: []byte("nameserver 127.0.0.53\n")},
		NameResolvedUpstream: {Stdout: []byte("nameserver 192.0.2.53\n")},
	}
	hf = r.ReadHost(context.Background(), dcOf("DC2", "samba", "192.0.2.102"))
	if srv, _ := hf.DNSServers.Get(); !reflect.DeepEqual(srv, []string{"192.0.2.53"}) {
		t.Errorf("stub: %+v", hf.DNSServers)
	}
	// ... and when they cannot be read, the servers are unknown, not 127.0.0.53.
	delete(f.out, NameResolvedUpstream)
	hf = r.ReadHost(context.Background(), dcOf("DC2", "samba", "192.0.2.102"))
	if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "systemd-resolved") {
		t.Errorf("stub without upstream: %+v", hf.DNSServers)
	}
	// No nameserver line: the resolver asks the local host, i.e. the DC itself.
	f.out = map[string]remote.Result{NameDNSClientPOSIX: {Stdout: []byte("search lab.example.com\n")}}
	hf = r.ReadHost(context.Background(), dcOf("DC2", "samba", "192.0.2.102"))
	if srv, _ := hf.DNSServers.Get(); !reflect.DeepEqual(srv, []string{"192.0.2.102"}) {
		t.Errorf("empty resolv.conf: %+v", hf.DNSServers)
	}
}

func TestWindowsOverSSH(t *testing.T) {
	f := &fakeRunners{out: map[string]remote.Result{
		NameDNSClientWindows: {Stdout: []byte(windowsDNSJSON)},
		NameEvents:           {Stdout: []byte(eventsJSON)},
	}}
	r := &Reader{Runners: f, Choose: choose(remote.SSH)}
	hf := r.ReadHost(context.Background(), dcOf("DC2", "windows", "192.0.2.12"))
	if hf.DNSServersFrom != "ssh" || !hf.Events.Known {
		t.Errorf("Windows OpenSSH: %+v", hf)
	}
}

func TestFailuresLeaveFactsUnknown(t *testing.T) {
	ctx := context.Background()
	dc := dcOf("DC2", "windows", "192.0.2.12")

	// No transport: the reason is Choose's.
	hf := (&Reader{Runners: &fakeRunners{}, Choose: choose("")}).ReadHost(ctx, dc)
	if hf.DNSServers.Known || hf.Events.Known || !strings.Contains(hf.DNSServers.Reason, "--winrm-user") || hf.DNSServersFrom != "" {
		t.Errorf("no transport: %+v", hf)
	}
	var nilReader *Reader
	if hf := nilReader.ReadHost(ctx, dc); hf.DNSServers.Known || hf.DNSServers.Reason == "" {
		t.Errorf("nil reader: %+v", hf)
	}

	// Authentication refused: both unknown with the kind; the events probe is not tried.
	auth := &remote.TransportError{Kind: remote.KindAuth, Op: "create shell", Target: "dc2.contoso.com:5985 (via 192.0.2.12)", StatusCode: 401, Err: errors.New("the server refused the credentials")}
	f := &fakeRunners{err: auth}
	hf = (&Reader{Runners: f, Choose: choose(remote.WinRM)}).ReadHost(ctx, dc)
	if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "(auth)") || !strings.Contains(hf.DNSServers.Reason, "WinRM") {
		t.Errorf("auth: dns %+v", hf.DNSServers)
	}
	if hf.Events.Known || !strings.Contains(hf.Events.Reason, "(auth)") || len(f.ran) != 1 {
		t.Errorf("auth: events %+v after %v", hf.Events, f.ran)
	}

	// The runner cannot even be built (a password that cannot be read, a bad key file).
	f = &fakeRunners{openErr: errors.New("read key file: no such file")}
	hf = (&Reader{Runners: f, Choose: choose(remote.SSH)}).ReadHost(ctx, dcOf("DC2", "samba", "192.0.2.102"))
	if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "cannot set up SSH") || !strings.Contains(hf.Events.Reason, "Samba") {
		t.Errorf("open: %+v", hf)
	}

	// Garbage output: the DNS servers are unknown; the events are still tried (the transport works).
	f = &fakeRunners{out: map[string]remote.Result{
		NameDNSClientWindows: {Stdout: []byte("<html>")},
		NameEvents:           {Stdout: []byte(`{"Events":[],"Errors":["Access is denied"]}`)},
	}}
	hf = (&Reader{Runners: f, Choose: choose(remote.WinRM)}).ReadHost(ctx, dc)
	if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "Get-DnsClientServerAddress") {
		t.Errorf("garbage: %+v", hf.DNSServers)
	}
	// Get-WinEvent errors: an empty list would read as "no events"; it is unknown instead.
	if hf.Events.Known || !strings.Contains(hf.Events.Reason, "Access is denied") {
		t.Errorf("event errors: %+v", hf.Events)
	}

	// A DC that points at itself but whose address is unknown: unknown, never this
	// workstation's 127.0.0.1.
	f = &fakeRunners{out: map[string]remote.Result{NameDNSClientWindows: {Stdout: []byte(windowsDNSJSON)}, NameEvents: {Stdout: []byte(eventsJSON)}}}
	hf = (&Reader{Runners: f, Choose: choose(remote.WinRM)}).ReadHost(ctx, dcOf("DC2", "windows"))
	if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "own address is unknown") {
		t.Errorf("self without address: %+v", hf.DNSServers)
	}
}

func TestResolvable(t *testing.T) {
	for _, c := range []struct {
		in, self, want []string
		err            bool
	}{
		{in: nil, want: []string{}},
		{in: []string{"192.0.2.1", "192.0.2.1"}, want: []string{"192.0.2.1"}},
		{in: []string{"127.0.0.1", "192.0.2.1"}, self: []string{"192.0.2.9"}, want: []string{"192.0.2.9", "192.0.2.1"}},
		{in: []string{"::1", "::ffff:127.0.0.1"}, self: []string{"192.0.2.9", "2001:db8::9"}, want: []string{"192.0.2.9", "2001:db8::9"}},
		{in: []string{"127.0.10.1"}, self: []string{"127.0.10.2"}, want: []string{"127.0.10.1"}}, // a lab DC's address, not "itself"
		{in: []string{"127.0.0.1"}, err: true},
		{in: []string{"dc1.contoso.com"}, err: true},
	} {
		got, err := Resolvable(c.in, c.self)
		if (err != nil) != c.err || (!c.err && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("Resolvable(%v, %v) = %v, %v; want %v (error %v)", c.in, c.self, got, err, c.want, c.err)
		}
	}
}

func FuzzResolvable(f *testing.F) {
	f.Add("127.0.0.1,192.0.2.1", "192.0.2.9")
	f.Add("::1", "")
	f.Add("fe80::1%eth0,x", "2001:db8::1")
	f.Fuzz(func(t *testing.T, in, self string) {
		servers, selves := strings.Split(in, ","), strings.Split(self, ",")
		got, err := Resolvable(servers, selves)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, s := range got {
			if seen[s] || s == "127.0.0.1" && !contains(selves, s) || s == "::1" && !contains(selves, s) {
				t.Fatalf("Resolvable(%q, %q) = %q", servers, selves, got)
			}
			seen[s] = true
		}
	})
}
