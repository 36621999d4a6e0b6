package hostprobe

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/remote"
)

// scriptedRunner answers commands by name.
type scriptedRunner struct {
	out  map[string]remote.Result
	err  error
	seen []remote.Command
}

func (f *scriptedRunner) Run(ctx context.Context, c remote.Command) (remote.Result, error) {
	f.seen = append(f.seen, c)
	if f.err != nil {
		return remote.Result{}, f.err
	}
	r, ok := f.out[c.Name]
	if !ok {
		return remote.Result{ExitCode: 1, Stderr: []byte("cat: no such file")}, nil
	}
	return r, nil
}

func (f *scriptedRunner) Close() error { return nil }

func readFile(t *testing.T, name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWindowsDNSClient(t *testing.T) {
	r := &scriptedRunner{out: map[string]remote.Result{NameDNSClientWindows: {Stdout: readFile(t, "dnsclient-windows.json")}}}
	d, err := ReadDNSClient(context.Background(), r, Windows)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.0.2.10", "127.0.0.1", "198.51.100.53"}; !reflect.DeepEqual(d.Servers, want) {
		t.Errorf("servers %v want %v", d.Servers, want)
	}
	if len(d.Placeholders) != 3 || len(d.Interfaces) != 5 || d.Interfaces[1].Family != "IPv6" || d.Interfaces[3].Family != "IPv4" {
		t.Errorf("%+v", d)
	}
	if c := r.seen[0]; c.PowerShell == "" || len(c.Params) != 0 {
		t.Errorf("probe command: %+v", c)
	}
	for _, bad := range []string{`[{"AddressFamily":5}]`, `[{"AddressFamily":2,"ServerAddresses":["dc1; evil"]}]`, `nope`, `[{"AddressFamily":2,"ServerAddresses":7}]`} {
		if _, err := ParseDNSClientJSON([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if d, err := ParseDNSClientJSON([]byte("\xef\xbb\xbf[]")); err != nil || len(d.Servers) != 0 {
		t.Errorf("empty: %+v %v", d, err)
	}
}

func TestResolvConf(t *testing.T) {
	conf := "# generated\nsearch samba.test corp.test\nnameserver 127.0.0.1 ; self\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver 127.0.0.1\noptions ndots:2 timeout:1\nsortlist 10.0.0.0\n"
	d, err := ParseResolvConf([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"127.0.0.1", "192.0.2.53", "fe80::1%eth0"}; !reflect.DeepEqual(d.Servers, want) {
		t.Errorf("servers %v", d.Servers)
	}
	if !reflect.DeepEqual(d.Search, []string{"samba.test", "corp.test"}) || d.NDots() != 2 || d.StubResolver {
		t.Errorf("%+v", d)
	}
	if _, err := ParseResolvConf([]byte("nameserver dc1.samba.test\n")); err == nil {
		t.Error("name accepted as nameserver")
	}
	// systemd-resolved: the upstream servers are read too.
	r := &scriptedRunner{out: map[string]remote.Result{
		NameDNSClientPOSIX:   {Stdout: []byte("nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n")},
		NameResolvedUpstream: {Stdout: []byte("nameserver 192.0.2.1\nnameserver 192.0.2.2\n")},
	}}
	d, err = ReadDNSClient(context.Background(), r, POSIX)
	if err != nil || !d.StubResolver || !reflect.DeepEqual(d.Upstream, []string{"192.0.2.1", "192.0.2.2"}) || d.Source != ResolvConfPath {
		t.Fatalf("%+v %v", d, err)
	}
	if got := r.seen[0]; !reflect.DeepEqual(got.Argv, []string{"cat", "/etc/resolv.conf"}) {
		t.Errorf("argv %v", got.Argv)
	}
}

func FuzzParseResolvConf(f *testing.F) {
	f.Add([]byte("nameserver 192.0.2.1\nsearch a b\noptions ndots:3\n"))
	f.Add([]byte("nameserver\n"))
	f.Add([]byte("domain x\n# c\n;d\nnameserver ::1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseResolvConf(b)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, s := range d.Servers {
			if seen[s] || strings.ContainsAny(s, " \t\n;#") {
				t.Fatalf("bad server list %q", d.Servers)
			}
			seen[s] = true
		}
		_ = d.NDots()
	})
}

func FuzzParseDNSClientJSON(f *testing.F) {
	f.Add([]byte(`[{"InterfaceAlias":"e","InterfaceIndex":1,"AddressFamily":2,"ServerAddresses":["192.0.2.1"]}]`))
	f.Add([]byte(`{"AddressFamily":"IPv6","ServerAddresses":"::1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDNSClientJSON(b)
		if err == nil && d == nil {
			t.Fatal("nil result without error")
		}
	})
}

func TestEvents(t *testing.T) {
	since := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	r := &scriptedRunner{out: map[string]remote.Result{NameEvents: {Stdout: readFile(t, "events.json")}}}
	ev, err := ReadEvents(context.Background(), r, EventQuery{Since: since})
	if err != nil {
		t.Fatal(err)
	}
	c := r.seen[0]
	if c.Params["Ids"] != "2087,2088,1925,1926,2023,1655,1308,1865" || c.Params["Since"] != "2026-11-25T00:00:00Z" || c.Params["Max"] != "200" {
		t.Errorf("params %v", c.Params)
	}
	if strings.Contains(c.PowerShell, "2087") || strings.Contains(c.PowerShell, "2026") {
		t.Error("query values spliced into the script")
	}
	if len(ev.Events) != 4 {
		t.Fatalf("%d events", len(ev.Events))
	}
	e := ev.Events[0]
	if e.ID != 2087 || e.Level != "Error" || e.FailingName != "b0069e56-b19c-438a-8a4a-2b3fa1a6fa5b._msdcs.contoso.com" || e.ErrorCode != 11004 || e.SourceDSADN != "" {
		t.Errorf("2087: %+v", e)
	}
	e = ev.Events[1]
	if e.ID != 1925 || e.NC != "DC=contoso,DC=com" || !strings.HasPrefix(e.SourceDSADN, "CN=NTDS Settings,CN=DC1,") ||
		e.FailingName != "f8786828-ecf5-4b7d-ad12-8ab60178f7cd._msdcs.contoso.com" || e.ErrorCode != 8524 || e.Level != "Warning" {
		t.Errorf("1925: %+v", e)
	}
	e = ev.Events[2]
	if e.ErrorCode != 8524 || !reflect.DeepEqual(e.Numbers, []int{4, 60, 8524}) || e.Level != "Warning" || e.NC != "" {
		t.Errorf("1308: %+v", e)
	}
	e = ev.Events[3]
	if len(e.Sites) != 1 || e.NC != "" || len(e.Data) != 1 {
		t.Errorf("1865: %+v", e)
	}
	if _, err := ReadEvents(context.Background(), r, EventQuery{}); err == nil {
		t.Error("zero Since accepted")
	}
}

// TestClassifyIgnoresPosition: the same values in any order classify the same way.
func TestClassifyIgnoresPosition(t *testing.T) {
	vals := []string{"DC=ForestDnsZones,DC=contoso,DC=com", "8524", "CN=NTDS Settings,CN=DC9,CN=Servers,CN=S,CN=Sites,CN=Configuration,DC=contoso,DC=com", "52F6C43B-99EC-4040-A2B0-E9EBF2EC02B8._msdcs.contoso.com", "DC9"}
	var first Event
	for i := 0; i < len(vals); i++ {
		rot := append(append([]string{}, vals[i:]...), vals[:i]...)
		e := Event{Data: rot}
		Classify(&e)
		if e.FailingName != "52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8._msdcs.contoso.com" || e.NC != vals[0] || e.ErrorCode != 8524 || !strings.Contains(e.SourceDSADN, "DC9") {
			t.Fatalf("rotation %d: %+v", i, e)
		}
		if i == 0 {
			first = e
		}
	}
	_ = first
	for _, v := range []string{"x._msdcs.contoso.com", "CN=Users,DC=contoso,DC=com", "CN=NTDS Settings,CN=DC1", "99999999999", "-1", "0x"} {
		e := Event{Data: []string{v}}
		Classify(&e)
		if e.FailingName != "" || e.NC != "" || e.SourceDSADN != "" || e.ErrorCode != 0 {
			t.Errorf("%q misclassified: %+v", v, e)
		}
	}
}

func FuzzParseEventsJSON(f *testing.F) {
	f.Add([]byte(`{"Events":[{"Id":2087,"Time":"2026-01-01T00:00:00Z","Level":2,"Data":["a"]}],"Errors":"x"}`))
	f.Add([]byte(`{"Events":null,"Errors":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEventsJSON(b)
		if err != nil {
			return
		}
		for _, e := range ev.Events {
			if e.FailingName != "" && !guidCNAME.MatchString(e.FailingName) {
				t.Fatalf("bad failing name %q", e.FailingName)
			}
			if e.ErrorCode != 0 {
				if _, ok := KnownErrors[e.ErrorCode]; !ok {
					t.Fatalf("unknown error code %d", e.ErrorCode)
				}
			}
		}
	})
}

func TestErrorsKeepTheirKind(t *testing.T) {
	te := &remote.TransportError{Kind: remote.KindAuth, Op: "x", Target: "dc1", Err: errors.New("401")}
	_, err := ReadDNSClient(context.Background(), &scriptedRunner{err: te}, Windows)
	if remote.KindOf(err) != remote.KindAuth {
		t.Fatalf("kind lost: %v", err)
	}
	_, err = ReadDNSClient(context.Background(), &scriptedRunner{out: map[string]remote.Result{}}, POSIX)
	var ee *remote.ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("exit error: %v", err)
	}
}

// DNS Server event 2501 (scavenging) is read from the DNS Server log, every other ID from the
// Directory Service log; the script reads the DNS Server log only where it exists.
func TestEventsCommandSplitsLogs(t *testing.T) {
	since := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c := EventsCommand(EventQuery{Since: since})
	if c.Params["DnsIds"] != "2501" || strings.Contains(","+c.Params["Ids"]+",", ",2501,") || !strings.Contains(c.Params["Ids"], "2087") {
		t.Errorf("default query %v", c.Params)
	}
	c = EventsCommand(EventQuery{Since: since, IDs: []int{2087, 2501, 2502}})
	if c.Params["Ids"] != "2087" || c.Params["DnsIds"] != "2501,2502" {
		t.Errorf("split %v", c.Params)
	}
	c = EventsCommand(EventQuery{Since: since, IDs: []int{2501}})
	if c.Params["Ids"] != "" || c.Params["DnsIds"] != "2501" {
		t.Errorf("dns only %v", c.Params)
	}
	if !strings.Contains(c.PowerShell, "LogName='DNS Server'") || !strings.Contains(c.PowerShell, "-ListLog 'DNS Server'") {
		t.Error("the script does not read the DNS Server log, or reads it without checking it exists")
	}
}
