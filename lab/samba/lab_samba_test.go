//go:build samba

package samba

// The real lab: go test -tags samba ./lab/samba/ (as root, with the Debian packages of
// `lab.sh install`). One three-DC lab is built once; every breaker that can be undone runs
// break -> check -> heal-by-hand -> check -> reset on it; source-gone, which destroys dc2,
// runs last. Timings are printed (t.Log), never asserted.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

type timing struct {
	name string
	d    time.Duration
}

func TestSambaLab(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the Samba lab needs root (network namespace, mounts)")
	}
	if _, err := exec.LookPath("samba-tool"); err != nil {
		t.Skip("samba-tool not installed (run lab/samba/lab.sh install)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	// build labdns outside the namespace (the namespace has no route to the module proxy)
	labdns := filepath.Join(t.TempDir(), "labdns")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", labdns, "./cmd/labdns").CombinedOutput(); err != nil {
		t.Fatalf("build labdns: %v\n%s", err, out)
	}
	opts := Options{LabDNS: labdns, Log: testLog{t}}
	if ns := os.Getenv("LAB_NS"); ns != "" {
		opts.NS = ns
	}
	if dir := os.Getenv("LAB"); dir != "" {
		opts.Dir = dir
	}

	var times []timing
	measure := func(name string, f func() error) error {
		t0 := time.Now()
		err := f()
		times = append(times, timing{name, time.Since(t0)})
		t.Logf("TIMING %-34s %6.1f s", name, time.Since(t0).Seconds())
		return err
	}
	tStart := time.Now()

	l, err := Attach(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // registered before up: a half-built lab is torn down too
		if err := measure("down", l.Down); err != nil {
			t.Errorf("down: %v", err)
		}
		if err := l.Down(); err != nil { // twice: must be harmless
			t.Errorf("second down: %v", err)
		}
		if _, err := os.Stat(l.Dir); !os.IsNotExist(err) {
			t.Errorf("lab dir %s still there after down", l.Dir)
		}
		var sb strings.Builder
		for _, x := range times {
			fmt.Fprintf(&sb, "\n  %-34s %6.1f s", x.name, x.d.Seconds())
		}
		t.Logf("timings (total %.0f s):%s", time.Since(tStart).Seconds(), sb.String())
	})
	if err := measure("up 3", func() error { return l.Up(ctx, 3) }); err != nil {
		t.Fatalf("up: %v", err)
	}

	t.Run("baseline", func(t *testing.T) { checkBaseline(ctx, t, l) })

	type tc struct {
		kind    Kind
		check   func(t *testing.T, l *Lab, res []SyncResult, oldGUID string)
		healed  func(t *testing.T, l *Lab)
		noReset bool
	}
	cases := []tc{
		{kind: SourceRecords, check: checkSourceRecords},
		{kind: SourceRecordsLocal, check: checkSourceRecordsLocal},
		{kind: DestCNAMEOnly, check: checkDestCNAMEOnly},
		{kind: DestResolver, check: checkDestResolver},
		{kind: SourceOffline, check: checkSourceOffline},
		{kind: SourceOfflineScavenged, check: checkSourceOfflineScavenged},
		{kind: Repromoted, check: checkRepromoted},
		{kind: LinkAddress, check: checkLinkAddress},
		{kind: SourceGone, check: checkSourceGone, healed: checkGoneHealed, noReset: true},
	}
	// inject-8524 first: it needs a healthy lab and is not a Break kind
	t.Run(string(Inject8524), func(t *testing.T) {
		var err error
		if err = measure("break "+string(Inject8524), func() error {
			return l.Inject8524(ctx, Dest, BaseDN, Source)
		}); err != nil {
			t.Fatalf("inject: %v", err)
		}
		checkInjected(ctx, t, l)
		var res []SyncResult
		if err = measure("heal-by-hand "+string(Inject8524), func() (err error) {
			res, err = l.HealByHand(ctx, Inject8524)
			return err
		}); err != nil {
			t.Fatalf("heal: %v", err)
		}
		requireAllZero(t, "heal results", res)
		requireDestGreen(ctx, t, l)
		if err := measure("reset after "+string(Inject8524), func() error { return l.Reset(ctx) }); err != nil {
			t.Fatalf("reset: %v", err)
		}
	})
	for _, c := range cases {
		ok := t.Run(string(c.kind), func(t *testing.T) {
			oldGUID, err := l.GUID(ctx, Source)
			if err != nil {
				t.Fatalf("source guid: %v", err)
			}
			var res []SyncResult
			if err := measure("break "+string(c.kind), func() (err error) {
				res, err = l.Break(ctx, c.kind)
				return err
			}); err != nil {
				t.Fatalf("break: %v", err)
			}
			t.Logf("dc1 recorded while breaking: %s", summarize(res))
			c.check(t, l, res, oldGUID)
			if err := measure("heal-by-hand "+string(c.kind), func() (err error) {
				res, err = l.HealByHand(ctx, c.kind)
				return err
			}); err != nil {
				t.Fatalf("heal-by-hand: %v", err)
			}
			requireAllZero(t, "heal results", res)
			requireDestGreen(ctx, t, l)
			if c.healed != nil {
				c.healed(t, l)
			}
			if !c.noReset {
				if err := measure("reset after "+string(c.kind), func() error { return l.Reset(ctx) }); err != nil {
					t.Fatalf("reset: %v", err)
				}
			}
		})
		if !ok {
			// a broken lab makes every later case meaningless; try to get back to baseline
			if err := l.Reset(ctx); err != nil {
				t.Fatalf("lab could not be reset after %s: %v", c.kind, err)
			}
		}
	}
}

func checkBaseline(ctx context.Context, t *testing.T, l *Lab) {
	st, err := l.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.DCs) != 3 || !st.NSExists {
		t.Fatalf("status: %d DCs, namespace %v", len(st.DCs), st.NSExists)
	}
	for _, d := range st.DCs {
		if !d.Running() || d.SSHDPid == 0 || d.Resolver != "127.0.10.1" {
			t.Errorf("%s: samba %d sshd %d resolver %q", d.Name, d.SambaPid, d.SSHDPid, d.Resolver)
		}
		reps, err := l.RepsFrom(ctx, d.Name)
		if err != nil {
			t.Fatalf("repsFrom %s: %v", d.Name, err)
		}
		if len(reps) != 10 {
			t.Errorf("%s: %d repsFrom values, want 5 NCs x 2 partners", d.Name, len(reps))
		}
		for _, r := range reps {
			if r.Result != 0 {
				t.Errorf("%s <- %s %s: %s", d.Name, r.SourceDSA, r.NC, r.Message)
			}
		}
		g, err := l.GUID(ctx, d.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st.DCs {
			if a := lookup(ctx, t, l, s.Name, CNAME(g), "CNAME"); !a.Exists() || a.Answers[0] != FQDN(d.Name)+"." {
				t.Errorf("CNAME of %s on %s: %+v", d.Name, s.Name, a)
			}
		}
		// the DC's own sshd, key-only root login, session bound to this DC
		out, err := l.SSH(ctx, d.Name, "echo $LAB_DC $SMB_CONF_PATH; grep nameserver /etc/resolv.conf")
		if err != nil {
			t.Fatalf("ssh %s: %v", d.Name, err)
		}
		want := d.Name + " " + l.SMBConf(d.Name) + "\nnameserver " + d.Resolver
		if strings.TrimSpace(string(out)) != want {
			t.Errorf("ssh %s: got %q, want %q", d.Name, out, want)
		}
	}
	// LDAPS with the lab CA, by name and by IP (the certificate carries both as SANs)
	for _, host := range []string{FQDN(Dest), IP(Dest)} {
		cmd := l.Command(ctx, "ldapsearch", "-LLL", "-x", "-H", "ldaps://"+host, "-s", "base", "-b", "", "dnsHostName")
		cmd.Env = append(cmd.Env, "LDAPTLS_CACERT="+l.CAFile(), "LDAPTLS_REQCERT=demand")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "dnsHostName: "+FQDN(Dest)) {
			t.Errorf("ldaps://%s with the lab CA: %v %s", host, err, out)
		}
	}
}

// ---- per-breaker checks -------------------------------------------------------------

func checkSourceRecords(t *testing.T, l *Lab, res []SyncResult, g string) {
	ctx := context.Background()
	requireResults(t, res, 2)
	requireDestRecords(ctx, t, l, g, 2)
	for _, s := range []string{"dc1", "dc2", "dc3"} {
		requireAbsent(ctx, t, l, s, CNAME(g), "CNAME")
		requireAbsent(ctx, t, l, s, FQDN(Source), "A")
	}
}

func checkSourceRecordsLocal(t *testing.T, l *Lab, res []SyncResult, g string) {
	ctx := context.Background()
	requireResults(t, res, 2)
	requireDestRecords(ctx, t, l, g, 2)
	for _, s := range []string{"dc1", "dc3"} {
		requireAbsent(ctx, t, l, s, CNAME(g), "CNAME")
		requireAbsent(ctx, t, l, s, FQDN(Source), "A")
	}
	requirePresent(ctx, t, l, Source, CNAME(g), "CNAME")
	requirePresent(ctx, t, l, Source, FQDN(Source), "A")
	out, err := l.SSH(ctx, Dest, "grep nameserver /etc/resolv.conf")
	if err != nil || strings.TrimSpace(string(out)) != "nameserver "+IP(Dest)+"\nnameserver "+IP(Source) {
		t.Errorf("dc1's resolvers: %q %v", out, err)
	}
}

func checkDestCNAMEOnly(t *testing.T, l *Lab, res []SyncResult, g string) {
	ctx := context.Background()
	requireResults(t, res, 2)
	requireDestRecords(ctx, t, l, g, 2)
	requireAbsent(ctx, t, l, Dest, CNAME(g), "CNAME")
	requireAbsent(ctx, t, l, "dc3", CNAME(g), "CNAME")
	requirePresent(ctx, t, l, Source, CNAME(g), "CNAME")
	for _, s := range []string{"dc1", "dc2", "dc3"} {
		requirePresent(ctx, t, l, s, FQDN(Source), "A")
	}
}

func checkDestResolver(t *testing.T, l *Lab, res []SyncResult, g string) {
	ctx := context.Background()
	requireResults(t, res, 2)
	requireDestRecords(ctx, t, l, g, 2)
	st, err := l.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := st.DC(Dest); d.Resolver != BadDNSIP {
		t.Errorf("dc1 resolver %q, want %s", d.Resolver, BadDNSIP)
	}
	// the records are fine on every DC; the server dc1 asks hosts no zone at all
	requirePresent(ctx, t, l, Dest, CNAME(g), "CNAME")
	if a := lookup(ctx, t, l, BadDNSIP, DNSDomain, "SOA"); a.Status != "NXDOMAIN" {
		t.Errorf("SOA %s at %s: %+v, want NXDOMAIN", DNSDomain, BadDNSIP, a)
	}
	out, err := l.SSH(ctx, Dest, "cat /etc/resolv.conf")
	if err != nil || !strings.Contains(string(out), "nameserver "+BadDNSIP) {
		t.Errorf("dc1's own resolv.conf over ssh: %v %q", err, out)
	}
}

// link-address: dc1's links to DC2 carry DC2's current GUID but dial another GUID's name,
// which resolves nowhere: result 2, while DC2's own CNAME is registered everywhere.
func checkLinkAddress(t *testing.T, l *Lab, res []SyncResult, g string) {
	ctx := context.Background()
	requireResults(t, res, 2)
	reps, err := l.RepsFromLDAP(ctx, Dest)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range reps {
		if r.SourceGUID != g {
			continue
		}
		n++
		if r.Result != 2 || r.DNSName == "" || strings.HasPrefix(r.DNSName, g+".") || !strings.HasSuffix(r.DNSName, "._msdcs."+DNSDomain) {
			t.Errorf("dc1's link %s from %s: result %d, dials %q (want 2 and another GUID's _msdcs name)", r.NC, g, r.Result, r.DNSName)
		}
		if a := lookup(ctx, t, l, IP(Dest), r.DNSName, "CNAME"); a.Status != "NXDOMAIN" {
			t.Errorf("the stale name %s resolves on dc1: %+v", r.DNSName, a)
		}
	}
	if n != len(NCs) {
		t.Errorf("%d links from %s on dc1, want %d", n, g, len(NCs))
	}
	requirePresent(ctx, t, l, Dest, CNAME(g), "CNAME")
}

func checkSourceOffline(t *testing.T, l *Lab, res []SyncResult, g string) {
	ctx := context.Background()
	requireResults(t, res, 1225)
	requireDestRecords(ctx, t, l, g, 1225)
	requireStopped(ctx, t, l, Source)
	requirePresent(ctx, t, l, Dest, CNAME(g), "CNAME")
	requirePresent(ctx, t, l, Dest, FQDN(Source), "A")
}

func checkSourceOfflineScavenged(t *testing.T, l *Lab, res []SyncResult, g string) {
	ctx := context.Background()
	requireResults(t, res, 2)
	requireDestRecords(ctx, t, l, g, 2)
	requireStopped(ctx, t, l, Source)
	requireAbsent(ctx, t, l, Dest, CNAME(g), "CNAME")
	requireAbsent(ctx, t, l, "dc3", FQDN(Source), "A")
}

func checkRepromoted(t *testing.T, l *Lab, res []SyncResult, oldGUID string) {
	ctx := context.Background()
	requireResults(t, res, 2)
	newGUID, err := l.GUID(ctx, Source)
	if err != nil {
		t.Fatal(err)
	}
	onDest, err := l.GUIDOn(ctx, Source, Dest)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dc2 own GUID %s, dc1 holds %s (before: %s)", newGUID, onDest, oldGUID)
	if newGUID == oldGUID || onDest != oldGUID {
		t.Fatalf("want dc1 to hold the old GUID %s while dc2 has a new one; dc1 %s, dc2 %s", oldGUID, onDest, newGUID)
	}
	requireDestRecords(ctx, t, l, oldGUID, 2)
	requireAbsent(ctx, t, l, Dest, CNAME(oldGUID), "CNAME")
	requirePresent(ctx, t, l, Dest, CNAME(newGUID), "CNAME")
	requirePresent(ctx, t, l, "dc3", CNAME(newGUID), "CNAME")
}

func checkSourceGone(t *testing.T, l *Lab, res []SyncResult, g string) {
	ctx := context.Background()
	requireResults(t, res, 2)
	requireDestRecords(ctx, t, l, g, 2)
	st, err := l.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := st.DC(Source); ok && (d.Exists || d.Running()) {
		t.Errorf("dc2 still exists: %+v", d)
	}
	if on, err := l.GUIDOn(ctx, Source, Dest); err != nil || on != g {
		t.Errorf("dc1 should still hold dc2's NTDS Settings %s: %q %v", g, on, err)
	}
	requireAbsent(ctx, t, l, Dest, CNAME(g), "CNAME")
	requireAbsent(ctx, t, l, "dc3", FQDN(Source), "A")
}

func checkGoneHealed(t *testing.T, l *Lab) {
	ctx := context.Background()
	if on, err := l.GUIDOn(ctx, Source, Dest); err != nil || on != "" {
		t.Errorf("after cleanup dc1 still holds NTDS Settings for dc2: %q %v", on, err)
	}
	reps, err := l.RepsFrom(ctx, Dest)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 5 {
		t.Errorf("dc1 has %d repsFrom values after cleanup, want 5 (dc3 only)", len(reps))
	}
}

func checkInjected(ctx context.Context, t *testing.T, l *Lab) {
	g, err := l.GUIDOn(ctx, Source, Dest)
	if err != nil {
		t.Fatal(err)
	}
	reps, err := l.RepsFrom(ctx, Dest)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range reps {
		want := uint32(0)
		if r.SourceGUID == g && r.NC == BaseDN {
			want, n = 8524, n+1
			if r.ResultName != "WERR_DS_DNS_LOOKUP_FAILURE" || r.ConsecutiveFailures < 3 {
				t.Errorf("injected value: %+v", r)
			}
		}
		if r.Result != want {
			t.Errorf("dc1 <- %s %s: %d (%s), want %d", r.SourceDSA, r.NC, r.Result, r.Message, want)
		}
	}
	if n != 1 {
		t.Errorf("%d repsFrom values with 8524, want 1", n)
	}
}

// ---- helpers --------------------------------------------------------------------------

func requireResults(t *testing.T, res []SyncResult, want uint32) {
	t.Helper()
	if len(res) != len(NCs) {
		t.Fatalf("%d results recorded by the breaker, want %d", len(res), len(NCs))
	}
	for _, r := range res {
		if r.Result != want {
			t.Errorf("breaker pull %s from %s: %d %s, want %d", r.NC, r.Source, r.Result, r.Error, want)
		}
	}
}

// requireDestRecords: what dc1 holds in repsFrom for source GUID g (read back from dc1).
func requireDestRecords(ctx context.Context, t *testing.T, l *Lab, g string, want uint32) {
	t.Helper()
	reps, err := l.RepsFrom(ctx, Dest)
	if err != nil {
		t.Fatal(err)
	}
	var ncs []string
	for _, r := range reps {
		if r.SourceGUID != g {
			continue
		}
		ncs = append(ncs, r.NC)
		if r.Result != want || r.ConsecutiveFailures < 1 {
			t.Errorf("dc1 repsFrom %s from %s: result %d (%s), %d failures; want %d", r.NC, g, r.Result, r.Message, r.ConsecutiveFailures, want)
		}
	}
	sort.Strings(ncs)
	if len(ncs) != len(NCs) {
		t.Errorf("dc1 has repsFrom from %s for %v, want all %d NCs", g, ncs, len(NCs))
	}
}

func requireDestGreen(ctx context.Context, t *testing.T, l *Lab) {
	t.Helper()
	reps, err := l.RepsFrom(ctx, Dest)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		if r.Result != 0 {
			t.Errorf("after heal: dc1 <- %s %s: %s", r.SourceGUID, r.NC, r.Message)
		}
	}
}

func requireAllZero(t *testing.T, what string, res []SyncResult) {
	t.Helper()
	if len(res) == 0 {
		t.Errorf("%s: none", what)
	}
	for _, r := range res {
		if r.Result != 0 {
			t.Errorf("%s: %s from %s: %d %s", what, r.NC, r.Source, r.Result, r.Error)
		}
	}
}

func requireStopped(ctx context.Context, t *testing.T, l *Lab, dc string) {
	t.Helper()
	st, err := l.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := st.DC(dc); d.Running() || d.SSHDPid != 0 {
		t.Errorf("%s should be stopped: samba %d sshd %d", dc, d.SambaPid, d.SSHDPid)
	}
}

func lookup(ctx context.Context, t *testing.T, l *Lab, server, name, qtype string) DNSAnswer {
	t.Helper()
	a, err := l.Lookup(ctx, server, name, qtype)
	if err != nil {
		t.Fatalf("dns %s %s at %s: %v", qtype, name, server, err)
	}
	return a
}

func requireAbsent(ctx context.Context, t *testing.T, l *Lab, server, name, qtype string) {
	t.Helper()
	if a := lookup(ctx, t, l, server, name, qtype); a.Status != "NXDOMAIN" {
		t.Errorf("%s %s at %s: %+v, want NXDOMAIN", qtype, name, server, a)
	}
}

func requirePresent(ctx context.Context, t *testing.T, l *Lab, server, name, qtype string) {
	t.Helper()
	if a := lookup(ctx, t, l, server, name, qtype); !a.Exists() {
		t.Errorf("%s %s at %s: %+v, want a record", qtype, name, server, a)
	}
}

// summarize: "2 WERR_FILE_NOT_FOUND x5 (attempts 1)" style, per distinct outcome.
func summarize(res []SyncResult) string {
	count := map[string]int{}
	var keys []string
	for _, r := range res {
		k := fmt.Sprintf("%d %s (attempts %d)", r.Result, r.Error, r.Attempts)
		if count[k] == 0 {
			keys = append(keys, k)
		}
		count[k]++
	}
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s x%d", k, count[k]))
	}
	return strings.Join(parts, ", ")
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
