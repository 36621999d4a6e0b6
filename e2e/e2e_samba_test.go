//go:build samba

package e2e

// The end-to-end suite (issue 6): the real fix8524 binary against real Samba AD DCs.
//
//	go test -tags samba -v -timeout 40m ./e2e/
//
// Root and the Samba packages (lab/samba/lab.sh install) are needed. One three-DC lab is built
// (namespace fix8524e2e, /tmp/fix8524-e2e; E2E_LAB_NS and E2E_LAB override them) and torn down
// by PID at the end, even on failure (E2E_KEEP_LAB=1 keeps it; E2E_REUSE_LAB=1 resets an
// existing one instead of building a new one; E2E_CASES=a,b runs only those cases). fix8524
// is built outside the namespace and run inside it. Every case breaks the lab the way the
// 8524 article describes, plans (LDAPS with the lab's CA), asserts the decision and its
// evidence, lets fix8524 (or, for the manual steps, a human: the harness) fix it, and asserts
// that replication really works again (fix8524 gather over LDAP and samba-tool drs showrepl). Timings and MTTR lines
// ("E2E-MTTR ...", see MTTR) are logged, never asserted.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/samba"
	"github.com/fix8524/fix8524/plan"
)

func TestSambaEndToEnd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the Samba lab needs root (network namespace, mounts)")
	}
	if _, err := exec.LookPath("samba-tool"); err != nil {
		t.Skip("samba-tool not installed (run lab/samba/lab.sh install)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	tStart := time.Now()
	s := &suite{dir: t.TempDir()}

	// Build outside the namespace (it has no route to the module proxy).
	s.bin = filepath.Join(s.dir, "fix8524")
	labdns := filepath.Join(s.dir, "labdns")
	if _, err := s.measure(t, "go build fix8524 + labdns", func() error {
		for _, b := range [][2]string{{s.bin, "../cmd/fix8524"}, {labdns, "../lab/samba/cmd/labdns"}} {
			if out, err := exec.CommandContext(ctx, "go", "build", "-o", b[0], b[1]).CombinedOutput(); err != nil {
				return fmt.Errorf("go build %s: %v\n%s", b[1], err, out)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	opts := samba.Options{NS: envOr("E2E_LAB_NS", defaultNS), Dir: envOr("E2E_LAB", defaultDir), LabDNS: labdns, Log: testLog{t},
		Script: os.Getenv("FIX8524_LAB_SH")}
	if opts.Script == "" {
		// bash reads a script while it runs it: a copy keeps an edit of lab.sh in the working
		// tree (another engineer's, or an editor's save) from breaking a running case
		var err error
		if opts.Script, err = snapshotLab(filepath.Join(s.dir, "lab")); err != nil {
			t.Fatal(err)
		}
	}
	l, err := samba.Attach(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.lab = l
	t.Cleanup(func() {
		if os.Getenv("E2E_KEEP_LAB") == "1" {
			t.Logf("E2E_KEEP_LAB=1: lab %s (%s) left up", l.NS, l.Dir)
		} else if _, err := s.measure(t, "down", l.Down); err != nil {
			t.Errorf("lab down: %v", err)
		}
		s.summary(t, time.Since(tStart))
	})
	if os.Getenv("E2E_REUSE_LAB") == "1" {
		if _, err := s.measure(t, "reset (reused lab)", func() error { return l.Reset(ctx) }); err != nil {
			t.Fatalf("reset of the existing lab: %v", err)
		}
		l.N = 3
	} else if _, err := s.measure(t, "up 3", func() error {
		nl, err := samba.UpWith(ctx, 3, opts)
		if err == nil {
			s.lab = nl
		}
		return err
	}); err != nil {
		t.Fatalf("lab up: %v", err)
	}

	cases := []struct {
		name  string
		run   func(context.Context, *testing.T, *suite)
		reset bool // Reset afterwards (else the next case starts from what this one left)
	}{
		{"baseline", caseBaseline, false},
		{"source-offline", caseSourceOffline, false}, // leaves dc2 up again and a cleanup plan for the next case
		{"source-records", caseSourceRecords, true},
		{"source-records-local", caseSourceRecordsLocal, true},
		{"dest-cname-only", caseDestCNAMEOnly, true},
		{"dest-resolver", caseDestResolver, true},
		{"inject-8524-windows", caseInject8524Windows, true},
		{"windows-heal", caseWindowsHeal, true},
		{"repromoted", caseRepromoted, true},
		{"link-address", caseLinkAddress, true},
		{"link-address-latent", caseLinkAddressLatent, true},
		{"source-gone", caseSourceGone, false}, // destroys dc2: last
	}
	only := map[string]bool{} // E2E_CASES=a,b: only these (and baseline), for debugging
	for _, n := range strings.Split(os.Getenv("E2E_CASES"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			only[n] = true
		}
	}
	for _, c := range cases {
		if len(only) > 0 && !only[c.name] && c.name != "baseline" {
			continue
		}
		ok := t.Run(c.name, func(t *testing.T) { c.run(ctx, t, s) })
		if ctx.Err() != nil {
			t.Fatalf("out of time after %s", c.name)
		}
		if !ok || c.reset {
			// The harness's converge restarts a DC whose pulls fail once; after a re-promotion a
			// partner's repsFrom can take longer to follow the new GUID (lab README, P2): a
			// second reset is allowed, and reported.
			var err error
			for try := 1; try <= 2; try++ {
				if _, err = s.measure(t, fmt.Sprintf("reset after %s (try %d)", c.name, try), func() error { return s.lab.Reset(ctx) }); err == nil {
					break
				}
				t.Logf("reset after %s, try %d: %v", c.name, try, err)
			}
			if err != nil {
				t.Fatalf("the lab could not be reset after %s: %v", c.name, err)
			}
		}
	}
}

// snapshotLab copies lab.sh and the labtool.py it runs into dir and returns the copy's path.
func snapshotLab(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, f := range []string{"lab.sh", "labtool.py"} {
		b, err := os.ReadFile(filepath.Join("..", "lab", "samba", f))
		if err != nil {
			return "", fmt.Errorf("snapshot of the lab harness: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o755); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "lab.sh"), nil
}

func (s *suite) summary(t *testing.T, total time.Duration) {
	var b strings.Builder
	for _, x := range s.tims {
		fmt.Fprintf(&b, "\n  %-44s %6.1f s", x.name, x.d.Seconds())
	}
	t.Logf("timings (whole suite %.0f s):%s", total.Seconds(), b.String())
	b.Reset()
	for _, m := range s.mttr {
		fmt.Fprintf(&b, "\n  %s", m)
	}
	t.Logf("MTTR:%s", b.String())
	// go test shows a passing package's log only with -v: E2E_REPORT names a file that gets
	// the MTTR lines either way (.ci/run prints it), so the numbers of every run are on record.
	if path := os.Getenv("E2E_REPORT"); path != "" && len(s.mttr) > 0 {
		if err := os.WriteFile(path, []byte(strings.TrimPrefix(b.String(), "\n")+"\n"), 0o644); err != nil {
			t.Logf("E2E_REPORT: %v", err)
		}
	}
}

// ---- cases ----------------------------------------------------------------------------------

func caseBaseline(ctx context.Context, t *testing.T, s *suite) {
	inv := s.inventory(ctx, t, "baseline")
	p, _, r := s.plan(ctx, t, "baseline", inv)
	if r.code != 0 || len(p.Findings) != 0 || p.Summary.FailingLinks != 0 || p.Summary.Links != 30 {
		t.Fatalf("healthy lab: exit %d, %d findings, %d/%d links failing\n%s", r.code, len(p.Findings), p.Summary.FailingLinks, p.Summary.Links, r)
	}
	if p.Facts.SeedDC != "DC1" || !strings.HasPrefix(p.Facts.Source, "ldap://") {
		t.Errorf("facts %+v", p.Facts)
	}
	s.requireGreen(ctx, t, inv, samba.Dest, []string{"dc2", "dc3"}, "")
}

// source-offline: the source is stopped and, as the article's offline case goes, its records
// have been scavenged meanwhile (with its records intact a Samba destination records 1225 and
// a Windows one 1722, not 8524: nothing for this playbook). Diagnosis: make it operational, a
// manual step; no cleanup is offered. Told that DC2 is gone (-var decommissioned), fix8524
// proposes the guarded cleanup; the plan is approved and kept: the next case tries it on a
// DC that is back online.
func caseSourceOffline(ctx context.Context, t *testing.T, s *suite) {
	g2, err := s.lab.GUID(ctx, "dc2")
	if err != nil {
		t.Fatal(err)
	}
	// First only stopped, records intact: Samba records 1225 (Windows: 1722), not a DNS lookup
	// failure. Not this playbook's error: listed as unhandled, and certainly no cleanup.
	if _, err := s.measure(t, "break source-offline (records intact)", func() error {
		return s.breakLab(ctx, t, samba.SourceOffline)
	}); err != nil {
		t.Fatalf("break: %v", err)
	}
	p0, _, r0 := s.plan(ctx, t, "source-offline-intact", s.inventory(ctx, t, "source-offline-intact"))
	noCleanup(t, p0)
	unhandled := 0
	for _, u := range p0.Unmatched {
		if u.Destination == "DC1" && u.SourceDSAGUID == g2 && u.LastResult == 1225 {
			unhandled++
		}
	}
	if unhandled != len(samba.NCs) || len(p0.Findings) != 0 {
		t.Errorf("DC2 stopped with its records: %d findings, unmatched %+v; want DC1<-DC2's %d links unhandled with 1225", len(p0.Findings), p0.Unmatched, len(samba.NCs))
	}
	t.Logf("DC2 stopped, records intact: plan exit %d, %d failing link(s), %d unhandled", r0.code, p0.Summary.FailingLinks, p0.Summary.Unmatched)
	if _, err := s.measure(t, "start dc2", func() error { return s.lab.StartDC(ctx, "dc2") }); err != nil {
		t.Fatalf("start dc2: %v", err)
	}

	brk, err := s.measure(t, "break source-offline-scavenged", func() error {
		return s.breakLab(ctx, t, samba.SourceOfflineScavenged)
	})
	if err != nil {
		t.Fatalf("break: %v", err)
	}
	broken := time.Now()
	inv := s.inventory(ctx, t, "source-offline")
	var p *plan.Plan
	planD, _ := s.measure(t, "plan source-offline", func() error {
		p, _, _ = s.plan(ctx, t, "source-offline", inv)
		return nil
	})
	f := finding(t, p, "DC1<-DC2")
	requireDecision(t, f, "source_offline")
	if f.Link.SourceDSAGUID != g2 {
		t.Errorf("source GUID %s, want %s", f.Link.SourceDSAGUID, g2)
	}
	if len(f.Actions) != 0 || len(f.Manual) == 0 || f.Manual[0].Title != "Make the source DC operational" {
		t.Errorf("want only manual steps, first 'Make the source DC operational': actions %v, manual %+v", actionNames(f), f.Manual)
	}
	noCleanup(t, p)
	if c := evidence(t, f, "source_answers"); c.Status != plan.StatusFailed {
		t.Errorf("source_answers %s: %s", c.Status, c.Summary)
	}

	// "DC2 is gone for good", says the operator: the guarded cleanup, every guard shown.
	cp, cpath, _ := s.plan(ctx, t, "source-offline-cleanup", inv, "-var", `decommissioned=["DC2"]`)
	cf := finding(t, cp, "DC1<-DC2")
	requireDecision(t, cf, "stale_metadata")
	a := action(t, cf, "metadata_cleanup")
	if a.Kind != plan.KindLDAPDelete || a.Risk != plan.RiskHigh || !a.RequiresApprovalEach || a.Blocked ||
		a.LDAPDelete == nil || !a.LDAPDelete.Tree || a.LDAPDelete.ExpectGUID != g2 ||
		!strings.HasPrefix(a.LDAPDelete.DN, "CN=NTDS Settings,CN=DC2,CN=Servers,") {
		t.Errorf("cleanup action %+v (delete %+v)", a, a.LDAPDelete)
	}
	guards := map[string]plan.Status{}
	for _, g := range a.Guards {
		guards[g.Name] = g.Status
	}
	for _, g := range []string{"dsa_not_alive", "guid_is_not_current", "stale_object_is_older", "not_the_seed_dc",
		"not_last_dc_of_domain", "holds_no_fsmo_role", "not_protected_from_deletion"} {
		if guards[g] != plan.StatusOK {
			t.Errorf("guard %s: %q (guards %v)", g, guards[g], guards)
		}
	}
	st := s.stateDir(t, "source-offline")
	s.approve(ctx, t, cpath, st, "DC1<-DC2/metadata_cleanup")
	s.offlineCleanup = cleanupPlan{path: cpath, state: st, guid: g2}

	// The human makes DC2 operational (the manual step): start it; it registers its records.
	fixD, err := s.measure(t, "heal-by-hand source-offline (start DC2)", func() error {
		_, err := s.lab.HealByHand(ctx, samba.SourceOfflineScavenged)
		return err
	})
	if err != nil {
		t.Fatalf("make DC2 operational: %v", err)
	}
	s.waitGreen(ctx, t, s.inventory(ctx, t, "source-offline-after"), samba.Dest, []string{"dc2", "dc3"}, "", time.Minute)
	s.logMTTR(t, MTTR{Case: "source-offline", Path: "manual", Break: brk, Plan: planD, Fix: fixD, Total: time.Since(broken), Floor: fixD})
}

type cleanupPlan struct {
	path, state, guid string
}

// source-records: DC2 failed to register (CNAME and A gone on every DNS server) while it is up.
// First the cleanup approved in source-offline is tried on this online DC: refused, nothing
// deleted. Then plan -> re-register on the source (samba_dnsupdate over SSH) -> retry ->
// result 0. Then the same break healed by hand, for the floor.
func caseSourceRecords(ctx context.Context, t *testing.T, s *suite) {
	g2, err := s.lab.GUID(ctx, "dc2")
	if err != nil {
		t.Fatal(err)
	}
	brk, err := s.measure(t, "break source-records", func() error {
		return s.breakLab(ctx, t, samba.SourceRecords)
	})
	if err != nil {
		t.Fatalf("break: %v", err)
	}
	inv := s.inventory(ctx, t, "source-records")

	if c := s.offlineCleanup; c.path != "" {
		res, r := s.apply(ctx, t, c.path, inv, c.state, "-var", `decommissioned=["DC2"]`)
		if r.code != 3 || res.Outcome != apply.Refused {
			t.Errorf("the cleanup of an online DC2: exit %d, outcome %s, findings %+v", r.code, res.Outcome, res.Findings)
		}
		t.Logf("cleanup of the online DC2 refused: %+v %+v", res.Refusals, res.Findings)
		if on, err := s.lab.GUIDOn(ctx, "dc2", samba.Dest); err != nil || on != c.guid {
			t.Errorf("DC2's NTDS Settings on dc1 after the refused cleanup: %q %v (want %s)", on, err, c.guid)
		}
	} else if only := os.Getenv("E2E_CASES"); only != "" && !slices.Contains(strings.Split(only, ","), "source-offline") {
		t.Log("E2E_CASES leaves out source-offline: no cleanup plan to try on an online DC")
	} else {
		t.Error("no cleanup plan from source-offline to try on an online DC")
	}
	broken := time.Now() // the MTTR clock leaves out the suite's own refusal check

	var p *plan.Plan
	var path string
	planD, _ := s.measure(t, "plan source-records", func() error {
		p, path, _ = s.settledPlan(ctx, t, "source-records", inv)
		return nil
	})
	f := finding(t, p, "DC1<-DC2")
	requireDecision(t, f, "source_cname_not_registered")
	for _, nc := range f.Link.NCs {
		if nc.LastResult != 2 {
			t.Errorf("%s: result %d, want 2 (Samba's WERR_FILE_NOT_FOUND)", nc.NC, nc.LastResult)
		}
	}
	cname := samba.CNAME(g2)
	requireObservation(t, evidence(t, f, "cname_on_source_dns"), plan.StatusFailed, samba.IP("dc1"), "NXDOMAIN", "")
	requireObservation(t, evidence(t, f, "ping_from_destination"), plan.StatusFailed, samba.IP("dc1"), "NXDOMAIN", "")
	if c := evidence(t, f, "source_answers"); c.Status != plan.StatusOK {
		t.Errorf("source_answers: %s (%s)", c.Status, c.Summary)
	}
	reg := action(t, f, "register_cname")
	if reg.Target != "DC2" || reg.Platform != "samba" || reg.Transport != "ssh" || reg.ArgvDisplay != "samba_dnsupdate --all-interfaces" {
		t.Errorf("register_cname: %+v", reg)
	}
	if a := action(t, f, "retry_replication"); a.Target != "DC1" || a.Transport != "ssh" {
		t.Errorf("retry_replication: %+v", a)
	}
	noCleanup(t, p)

	st := s.stateDir(t, "source-records")
	var res apply.Result
	var r result
	fixD, _ := s.measure(t, "approve + apply source-records", func() error {
		s.approve(ctx, t, path, st)
		res, r = s.apply(ctx, t, path, inv, st)
		return nil
	})
	fr := requireApplied(t, res, r, "DC1<-DC2")
	if len(fr.Steps) == 0 || fr.Steps[0].Name != "register_cname" || fr.Steps[0].Outcome != apply.Succeeded {
		t.Errorf("steps %+v", fr.Steps)
	}
	if a, err := s.lab.Lookup(ctx, "dc1", cname, "CNAME"); err != nil || !a.Exists() || a.Answers[0] != samba.FQDN("dc2")+"." {
		t.Errorf("CNAME %s on dc1 after apply: %+v %v", cname, a, err)
	}
	s.waitGreen(ctx, t, inv, samba.Dest, []string{"dc2", "dc3"}, "", time.Minute)
	total := time.Since(broken)
	s.journalRuns(ctx, t, st)

	// the lab's floor: the same break, fixed by hand (samba_dnsupdate over SSH, one pull)
	if err := s.breakLab(ctx, t, samba.SourceRecords); err != nil {
		t.Fatalf("break again: %v", err)
	}
	floor, err := s.measure(t, "heal-by-hand source-records (floor)", func() error {
		_, err := s.lab.HealByHand(ctx, samba.SourceRecords)
		return err
	})
	if err != nil {
		t.Fatalf("heal by hand: %v", err)
	}
	s.logMTTR(t, MTTR{Case: "source-records", Path: "apply", Break: brk, Plan: planD, Fix: fixD, Total: total, Floor: floor})
}

// source-records-local (issue 12): DC2 runs; its GUID CNAME and A record are only on its own
// DNS server (127.0.10.2). The workstation's resolver is DC1's DNS server (the namespace's
// resolv.conf), which lacks them, as does DC1's copy of AD's zones (tombstoned dnsNode objects);
// the inventory gives no address for DC2. fix8524 finds DC2 through 127.0.10.2, the second
// server of DC1's DNS client settings (read over SSH), reads it on that address and diagnoses
// what holds: DC2 has not registered where it points (dc1): source_cname_not_registered, never
// offline or gone, no cleanup. Apply re-registers over SSH (found address) and retries: result 0.
func caseSourceRecordsLocal(ctx context.Context, t *testing.T, s *suite) {
	g2, err := s.lab.GUID(ctx, "dc2")
	if err != nil {
		t.Fatal(err)
	}
	brk, err := s.measure(t, "break source-records-local", func() error {
		return s.breakLab(ctx, t, samba.SourceRecordsLocal)
	})
	if err != nil {
		t.Fatalf("break: %v", err)
	}
	broken := time.Now()
	inv := s.inventoryOf(ctx, t, "source-records-local", invOpts{noIPs: []string{"dc2"}})

	// Where DC2 was found, and what each source said (the dnsNode values Samba serves decoded).
	snap := s.gather(ctx, t, inv)
	ix := facts.NewIndex(snap)
	dc2 := ix.DCByName("DC2")
	if ips, ok := dc2.IPs.Get(); !ok || len(ips) != 1 || ips[0] != samba.IP("dc2") {
		t.Fatalf("DC2's addresses: %+v (lookups %+v)", dc2.IPs, dc2.AddressLookups)
	}
	said := map[string]facts.AddressLookup{}
	for _, l := range dc2.AddressLookups {
		said[l.Source+":"+l.Where] = l
		t.Logf("DC2 %s %s: %s %v %s", l.Source, l.Where, l.Result, l.Addresses, l.Detail)
	}
	if l := said["dns:"+samba.IP("dc2")]; l.Result != facts.LookupFound {
		t.Errorf("DC2's own DNS server: %+v", l)
	}
	if l := said["dns:"+samba.IP("dc1")]; l.Result != facts.LookupAbsent {
		t.Errorf("DC1's DNS server: %+v", l)
	}
	if l := said["resolver:"]; l.Result != facts.LookupAbsent {
		t.Errorf("the workstation's resolver: %+v", l)
	}
	adAbsent := false
	for k, l := range said {
		adAbsent = adAbsent || (strings.HasPrefix(k, "ad-zone:") && strings.HasSuffix(k, " on DC1") && l.Result == facts.LookupAbsent)
	}
	if !adAbsent || !facts.AddressesDisagree(dc2.AddressLookups) || !dc2.OwnDSAGUID.Known {
		t.Errorf("DC2: AD's zone on DC1 absent %v, disagreement %v, own GUID %+v", adAbsent, facts.AddressesDisagree(dc2.AddressLookups), dc2.OwnDSAGUID)
	}
	for _, name := range []string{"DC1", "DC3"} {
		found := false
		for _, l := range ix.DCByName(name).AddressLookups {
			found = found || (l.Source == facts.LookupADZone && l.Result == facts.LookupFound && len(l.Addresses) > 0 && l.Addresses[0] == samba.IP(strings.ToLower(name)))
		}
		if !found {
			t.Errorf("%s's address is not read from AD's zone on Samba: %+v", name, ix.DCByName(name).AddressLookups)
		}
	}
	if n, ok := snap.Forest.TombstoneLifetimeDays.Get(); !ok || n <= 0 {
		t.Errorf("tombstone lifetime %+v from %q", snap.Forest.TombstoneLifetimeDays, snap.Forest.TombstoneLifetimeFrom)
	}
	t.Logf("tombstone lifetime %d days (%s); forest DNS servers %+v", snap.Forest.TombstoneLifetimeDays.Value, snap.Forest.TombstoneLifetimeFrom, snap.Forest.DNSServers)

	var p *plan.Plan
	var path string
	planD, _ := s.measure(t, "plan source-records-local", func() error {
		p, path, _ = s.settledPlan(ctx, t, "source-records-local", inv)
		return nil
	})
	f := finding(t, p, "DC1<-DC2")
	requireDecision(t, f, "source_cname_not_registered")
	noCleanup(t, p)
	if c := evidence(t, f, "source_answers"); c.Status != plan.StatusOK {
		t.Errorf("source_answers: %s (%s)", c.Status, c.Summary)
	}
	if c := evidence(t, f, "source_addresses_agree"); c.Status != plan.StatusFailed {
		t.Errorf("source_addresses_agree: %s (%s)", c.Status, c.Summary)
	}
	requireObservation(t, evidence(t, f, "cname_on_source_dns"), plan.StatusFailed, samba.IP("dc1"), "NXDOMAIN", "")
	if reg := action(t, f, "register_cname"); reg.Target != "DC2" || reg.Transport != "ssh" {
		t.Errorf("register_cname: %+v", reg)
	}

	st := s.stateDir(t, "source-records-local")
	var res apply.Result
	var r result
	fixD, _ := s.measure(t, "approve + apply source-records-local", func() error {
		s.approve(ctx, t, path, st)
		res, r = s.apply(ctx, t, path, inv, st)
		return nil
	})
	requireApplied(t, res, r, "DC1<-DC2")
	if a, err := s.lab.Lookup(ctx, "dc1", samba.CNAME(g2), "CNAME"); err != nil || !a.Exists() {
		t.Errorf("CNAME on dc1 after apply: %+v %v", a, err)
	}
	s.waitGreen(ctx, t, inv, samba.Dest, []string{"dc2", "dc3"}, "", time.Minute)
	s.logMTTR(t, MTTR{Case: "source-records-local", Path: "apply", Break: brk, Plan: planD, Fix: fixD, Total: time.Since(broken)})
}

// journalRuns: `fix8524 journal --json` reads the case's journal, without the password.
func (s *suite) journalRuns(ctx context.Context, t *testing.T, state string) {
	t.Helper()
	r := s.fix(ctx, t, "journal", "--state", state, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"kind": "action"`) {
		t.Errorf("journal: %s", r)
	}
}

// dest-cname-only: DC2 points at itself and registered there; DC1's DNS server lacks the
// CNAME (the zone copies differ). Diagnosis: the DNS-relationship cause, manual steps; the
// evidence shows the record on DC2's server and its absence on DC1's.
func caseDestCNAMEOnly(ctx context.Context, t *testing.T, s *suite) {
	g2, err := s.lab.GUID(ctx, "dc2")
	if err != nil {
		t.Fatal(err)
	}
	// A DC that points at itself (the harness leaves dc2 on dc1's DNS; see the report)
	s.setResolver(ctx, t, "dc2", samba.IP("dc2"))
	brk, err := s.measure(t, "break dest-cname-only", func() error {
		return s.breakLab(ctx, t, samba.DestCNAMEOnly)
	})
	if err != nil {
		t.Fatalf("break: %v", err)
	}
	broken := time.Now()
	inv := s.inventory(ctx, t, "dest-cname-only")
	var p *plan.Plan
	planD, _ := s.measure(t, "plan dest-cname-only", func() error {
		p, _, _ = s.plan(ctx, t, "dest-cname-only", inv)
		return nil
	})
	f := finding(t, p, "DC1<-DC2")
	requireDecision(t, f, "dns_zone_copies_differ")
	if len(f.Actions) != 0 || len(f.Manual) == 0 {
		t.Errorf("want manual steps only: actions %v, %d manual", actionNames(f), len(f.Manual))
	}
	target := samba.FQDN("dc2") + "."
	requireObservation(t, evidence(t, f, "cname_on_source_dns"), plan.StatusOK, samba.IP("dc2"), "NOERROR", target)
	requireObservation(t, evidence(t, f, "cname_missing_on_destination_dns"), plan.StatusOK, samba.IP("dc1"), "NXDOMAIN", "")
	if c := evidence(t, f, "records_differ_between_dns_servers"); c.Status != plan.StatusOK {
		t.Errorf("records_differ_between_dns_servers: %s", c.Status)
	}
	if !strings.Contains(f.Decision.Cause, samba.IP("dc2")) || !strings.Contains(f.Decision.Cause, samba.IP("dc1")) {
		t.Errorf("cause does not name both DNS servers: %s", f.Decision.Cause)
	}
	_ = g2

	// The human: DC2 registers where DC1 looks (its resolver back on dc1), one pull.
	fixD, err := s.measure(t, "heal-by-hand dest-cname-only", func() error {
		s.setResolver(ctx, t, "dc2", samba.IP("dc1"))
		_, err := s.lab.HealByHand(ctx, samba.DestCNAMEOnly)
		return err
	})
	if err != nil {
		t.Fatalf("heal by hand: %v", err)
	}
	s.waitGreen(ctx, t, inv, samba.Dest, []string{"dc2", "dc3"}, "", time.Minute)
	s.logMTTR(t, MTTR{Case: "dest-cname-only", Path: "manual", Break: brk, Plan: planD, Fix: fixD, Total: time.Since(broken), Floor: fixD})
}

// dest-resolver: DC1's resolver points at a server hosting none of the zones (labdns on
// 127.0.10.9), read by fix8524 from DC1's resolv.conf over SSH. Diagnosis:
// destination_dns_client_invalid, manual.
func caseDestResolver(ctx context.Context, t *testing.T, s *suite) {
	brk, err := s.measure(t, "break dest-resolver", func() error {
		return s.breakLab(ctx, t, samba.DestResolver)
	})
	if err != nil {
		t.Fatalf("break: %v", err)
	}
	broken := time.Now()
	inv := s.inventory(ctx, t, "dest-resolver")
	var p *plan.Plan
	planD, _ := s.measure(t, "plan dest-resolver", func() error {
		p, _, _ = s.plan(ctx, t, "dest-resolver", inv)
		return nil
	})
	f := finding(t, p, "DC1<-DC2")
	requireDecision(t, f, "destination_dns_client_invalid")
	if len(f.Actions) != 0 {
		t.Errorf("actions %v, want manual steps only", actionNames(f))
	}
	c := evidence(t, f, "destination_dns_hosts_domain")
	if c.Status != plan.StatusFailed || len(c.Observations) != 1 || c.Observations[0].Target != samba.BadDNSIP {
		t.Errorf("destination_dns_hosts_domain: %s %+v", c.Status, c.Observations)
	}
	if !strings.Contains(f.Decision.Cause, samba.BadDNSIP) {
		t.Errorf("cause does not name %s: %s", samba.BadDNSIP, f.Decision.Cause)
	}
	posix := false
	for _, m := range f.Manual {
		posix = posix || (m.Shell == "posix" && m.On == "DC1")
	}
	if !posix {
		t.Errorf("no Samba (posix) step on DC1: %+v", f.Manual)
	}
	fixD, err := s.measure(t, "heal-by-hand dest-resolver", func() error {
		_, err := s.lab.HealByHand(ctx, samba.DestResolver)
		return err
	})
	if err != nil {
		t.Fatalf("heal by hand: %v", err)
	}
	s.waitGreen(ctx, t, s.inventory(ctx, t, "dest-resolver-after"), samba.Dest, []string{"dc2", "dc3"}, "", time.Minute)
	s.logMTTR(t, MTTR{Case: "dest-resolver", Path: "manual", Break: brk, Plan: planD, Fix: fixD, Total: time.Since(broken), Floor: fixD})
}

// inject-8524-windows: a real 8524 in DC1's repsFrom (the value a Windows DC records), DC1
// presented as a Windows DC behind a WS-Management server inside the namespace. The playbook
// matches 8524 on a Windows destination, DNS resolves now, and apply retries replication
// through the real WinRM protocol; the stand-in runs samba-tool drs replicate on DC1.
func caseInject8524Windows(ctx context.Context, t *testing.T, s *suite) {
	restore := s.presentAsWindows(ctx, t, "dc1")
	defer restore()
	h, _ := s.standIn(t, "dc1")
	brk, err := s.measure(t, "inject-8524 dc1 <- dc2 (domain NC)", func() error {
		return s.lab.Inject8524(ctx, samba.Dest, samba.BaseDN, "dc2")
	})
	if err != nil {
		t.Fatalf("inject: %v", err)
	}
	broken := time.Now()
	inv := s.inventory(ctx, t, "inject-8524", "dc1")
	var p *plan.Plan
	var path string
	planD, _ := s.measure(t, "plan inject-8524", func() error {
		p, path, _ = s.settledPlan(ctx, t, "inject-8524", inv)
		return nil
	})
	f := finding(t, p, "DC1<-DC2")
	if len(f.Link.NCs) != 1 || f.Link.NCs[0].NC != samba.BaseDN || f.Link.NCs[0].LastResult != 8524 {
		t.Fatalf("link %+v, want the domain NC with 8524", f.Link.NCs)
	}
	requireDecision(t, f, "dns_resolves_now")
	a := action(t, f, "retry_replication")
	if a.Platform != "windows" || a.Transport != "winrm" || a.Kind != plan.KindPowerShell || a.Target != "DC1" {
		t.Errorf("retry_replication: platform %s transport %s kind %s target %s", a.Platform, a.Transport, a.Kind, a.Target)
	}
	if ncs, ok := a.Params["ncs"].([]any); !ok || len(ncs) != 1 || ncs[0] != samba.BaseDN {
		t.Errorf("retry_replication params %+v", a.Params)
	}
	st := s.stateDir(t, "inject-8524")
	var res apply.Result
	var r result
	fixD, _ := s.measure(t, "approve + apply inject-8524 (WinRM)", func() error {
		s.approve(ctx, t, path, st)
		res, r = s.apply(ctx, t, path, inv, st)
		return nil
	})
	requireApplied(t, res, r, "DC1<-DC2")
	ran := false
	for _, c := range h.Calls() {
		if c.Name == "retry_replication" && c.Exit == 0 && len(c.Commands) == 1 && strings.Contains(c.Commands[0], samba.BaseDN) {
			ran = true
		}
	}
	if !ran {
		t.Errorf("the WS-Management stand-in did not run the retry: %v", calledNames(h))
	}
	s.waitGreen(ctx, t, inv, samba.Dest, []string{"dc2", "dc3"}, "", time.Minute)
	total := time.Since(broken)
	restore()
	// floor: inject again, heal by hand (restart with default intervals, one pull)
	if err := s.lab.Inject8524(ctx, samba.Dest, samba.BaseDN, "dc2"); err != nil {
		t.Fatalf("inject again: %v", err)
	}
	floor, err := s.measure(t, "heal-by-hand inject-8524 (floor)", func() error {
		_, err := s.lab.HealByHand(ctx, samba.Inject8524)
		return err
	})
	if err != nil {
		t.Fatalf("heal by hand: %v", err)
	}
	s.logMTTR(t, MTTR{Case: "inject-8524", Path: "winrm", Break: brk, Plan: planD, Fix: fixD, Total: total, Floor: floor})
}

// windows-heal: DC2, presented as a Windows DC behind a WS-Management server, failed to
// register. `fix8524 heal` with a low-risk policy re-registers it over WinRM (the stand-in runs
// samba_dnsupdate on DC2), retries replication over SSH on DC1, with no human: exit 0.
func caseWindowsHeal(ctx context.Context, t *testing.T, s *suite) {
	restore := s.presentAsWindows(ctx, t, "dc2")
	defer restore()
	h, _ := s.standIn(t, "dc2")
	brk, err := s.measure(t, "break source-records (DC2 as Windows)", func() error {
		return s.breakLab(ctx, t, samba.SourceRecords)
	})
	if err != nil {
		t.Fatalf("break: %v", err)
	}
	inv := s.inventory(ctx, t, "windows-heal", "dc2")
	// what heal will decide from: DC2's Windows body over WinRM
	p := s.withoutStrayFailures(ctx, t, "windows-heal", inv)
	f := finding(t, p, "DC1<-DC2")
	requireDecision(t, f, "source_cname_not_registered")
	if a := action(t, f, "register_cname"); a.Platform != "windows" || a.Transport != "winrm" || !strings.Contains(a.PowerShell, "nltest") {
		t.Errorf("register_cname: %s over %s", a.Platform, a.Transport)
	}
	broken := time.Now() // the MTTR clock leaves out the suite's own look at the plan
	st := s.stateDir(t, "windows-heal")
	policy, err := filepath.Abs("testdata/heal-low-risk.hcl")
	if err != nil {
		t.Fatal(err)
	}
	var r result
	fixD, _ := s.measure(t, "heal windows-heal", func() error {
		args := append([]string{"heal"}, s.conn(inv)...)
		r = s.fix(ctx, t, append(args, "--policy", policy, "--state", st, "--emergency", "--reason", e2eReason, "--verify-timeout", "2m")...)
		return nil
	})
	t.Logf("heal: %s", r)
	if r.code != 0 {
		t.Fatalf("heal: exit %d, want 0 (healed, no human)", r.code)
	}
	reg := false
	for _, c := range h.Calls() {
		reg = reg || (c.Name == "register_cname" && c.Exit == 0)
	}
	if !reg {
		t.Errorf("the WS-Management stand-in for DC2 did not re-register: %v", calledNames(h))
	}
	s.waitGreen(ctx, t, inv, samba.Dest, []string{"dc2", "dc3"}, "", time.Minute)
	// floor: the same repair by hand is source-records' floor (samba_dnsupdate on DC2, one pull)
	s.logMTTR(t, MTTR{Case: "windows-heal", Path: "heal", Break: brk, Fix: fixD, Total: time.Since(broken)})
	s.journalRuns(ctx, t, st)
}

// repromoted: DC2 demoted and promoted again under the same name; DC1 still replicates from
// the old DSA GUID. Diagnosis: guid_mismatch (DC2's own GUID differs from the one DC1 knows),
// with the guarded cleanup of the stale object; approved on its own and applied. Then the
// harness lets DC1 learn the new DC2 (what its next pull and KCC run would do).
func caseRepromoted(ctx context.Context, t *testing.T, s *suite) {
	old, err := s.lab.GUID(ctx, "dc2")
	if err != nil {
		t.Fatal(err)
	}
	brk, err := s.measure(t, "break repromoted", func() error {
		return s.breakLab(ctx, t, samba.Repromoted)
	})
	if err != nil {
		t.Fatalf("break: %v", err)
	}
	broken := time.Now()
	newG, err := s.lab.GUID(ctx, "dc2")
	if err != nil || newG == old {
		t.Fatalf("dc2's new GUID %q (old %s): %v", newG, old, err)
	}
	inv := s.inventory(ctx, t, "repromoted")
	var p *plan.Plan
	var path string
	planD, _ := s.measure(t, "plan repromoted", func() error {
		p, path, _ = s.settledPlan(ctx, t, "repromoted", inv)
		return nil
	})
	f := finding(t, p, "DC1<-DC2")
	requireDecision(t, f, "guid_mismatch")
	if f.Link.SourceDSAGUID != old {
		t.Errorf("DC1 replicates from %s, want the old %s", f.Link.SourceDSAGUID, old)
	}
	c := evidence(t, f, "guid_mismatch")
	vals := map[string]string{}
	for _, fv := range c.Facts {
		vals[fv.Fact] = fv.Value
	}
	if c.Status != plan.StatusOK || !strings.Contains(vals["link.source.own_dsa_guid"], newG) || !strings.Contains(vals["link.source_dsa_guid"], old) {
		t.Errorf("guid_mismatch evidence %s %v (own %s, known %s)", c.Status, vals, newG, old)
	}
	a := action(t, f, "metadata_cleanup")
	if a.Blocked || a.LDAPDelete == nil || a.LDAPDelete.ExpectGUID != old {
		t.Fatalf("cleanup %+v (delete %+v)", a, a.LDAPDelete)
	}
	st := s.stateDir(t, "repromoted")
	var res apply.Result
	var r result
	fixD, _ := s.measure(t, "approve + apply repromoted (cleanup)", func() error {
		s.approve(ctx, t, path, st, a.ID)
		res, r = s.apply(ctx, t, path, inv, st)
		return nil
	})
	requireApplied(t, res, r, "DC1<-DC2")
	if on, err := s.lab.GUIDOn(ctx, "dc2", samba.Dest); err != nil || on == old {
		t.Errorf("dc1 still holds the old NTDS Settings of DC2: %q %v", on, err)
	}
	// DC1 learns the new DC2 (pull from dc3, KCC) and replicates from it.
	learn, err := s.measure(t, "heal-by-hand repromoted (after the cleanup)", func() error {
		_, err := s.lab.HealByHand(ctx, samba.Repromoted)
		return err
	})
	if err != nil {
		t.Fatalf("heal by hand after the cleanup: %v", err)
	}
	if on, err := s.lab.GUIDOn(ctx, "dc2", samba.Dest); err != nil || on != newG {
		t.Errorf("dc1 holds DC2 as %q (%v), want the new %s", on, err, newG)
	}
	s.waitGreen(ctx, t, inv, samba.Dest, []string{"dc2", "dc3"}, "", time.Minute)
	total := time.Since(broken)
	s.logMTTR(t, MTTR{Case: "repromoted", Path: "apply", Break: brk, Plan: planD, Fix: fixD + learn, Total: total})
	s.staleLinkAddress(ctx, t, inv, old, newG)
}

// link-address: DC1's links to DC2 carry DC2's current GUID but dial the GUID name of an
// earlier incarnation (what Samba leaves on a partner after a re-promotion, lab P2). DC2's
// CNAME resolves everywhere, so the PING test passes; fix8524 must say link_address_stale with
// the stale name as evidence (not dns_resolves_now, whose retry would fail forever), and the
// plan's Samba manual step (KCC, restart the DC's samba, retry) heals it.
func caseLinkAddress(ctx context.Context, t *testing.T, s *suite) {
	g2, err := s.lab.GUID(ctx, "dc2")
	if err != nil {
		t.Fatal(err)
	}
	brk, err := s.measure(t, "break link-address", func() error {
		return s.breakLab(ctx, t, samba.LinkAddress)
	})
	if err != nil {
		t.Fatalf("break: %v", err)
	}
	broken := time.Now()
	inv := s.inventory(ctx, t, "link-address")
	var p *plan.Plan
	planD, _ := s.measure(t, "plan link-address", func() error {
		p, _, _ = s.plan(ctx, t, "link-address", inv)
		return nil
	})
	f := finding(t, p, "DC1<-DC2")
	requireDecision(t, f, "link_address_stale")
	if f.Link.SourceDSAGUID != g2 || f.Link.SourceAddress == "" || strings.HasPrefix(f.Link.SourceAddress, g2) {
		t.Errorf("DC1<-DC2: source DSA %s (want %s), address %q (want another GUID's name)", f.Link.SourceDSAGUID, g2, f.Link.SourceAddress)
	}
	if c := evidence(t, f, "link_address_current"); c.Status != plan.StatusFailed {
		t.Errorf("link_address_current: %s, want failed", c.Status)
	}
	if len(f.Actions) != 0 {
		t.Errorf("actions %v, want manual steps only", actionNames(f))
	}
	s.followLinkAddressStep(ctx, t, f, "dc1")
	fixD := time.Since(broken) - planD
	s.waitGreen(ctx, t, s.inventory(ctx, t, "link-address-after"), samba.Dest, []string{"dc2", "dc3"}, "", time.Minute)
	s.logMTTR(t, MTTR{Case: "link-address", Path: "manual", Break: brk, Plan: planD, Fix: fixD, Total: time.Since(broken)})
}

// link-address-latent: the same stale address, while the old incarnation's CNAME still
// resolves (to DC2): DC1 replicates fine. There is nothing to fix yet, and no finding; fix8524
// must warn (link_address_latent) with the stale name and the Samba step that rebuilds the link
// before a scavenging turns it into 8524. Following that step removes the warning.
func caseLinkAddressLatent(ctx context.Context, t *testing.T, s *suite) {
	g2, err := s.lab.GUID(ctx, "dc2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.measure(t, "break link-address-latent", func() error {
		return s.breakLab(ctx, t, samba.LinkAddressLatent)
	}); err != nil {
		t.Fatalf("break: %v", err)
	}
	inv := s.inventory(ctx, t, "link-address-latent")
	p := s.withoutStrayFailures(ctx, t, "link-address-latent", inv)
	for _, f := range p.Findings {
		if strings.HasPrefix(f.ID, "DC1<-DC2") {
			t.Errorf("%s: a finding (%s) for a link that replicates", f.ID, decisionOf(&f))
		}
	}
	var w *plan.Warning
	for i := range p.Warnings {
		if p.Warnings[i].ID == "DC1<-DC2" && p.Warnings[i].Name == "link_address_latent" {
			w = &p.Warnings[i]
		}
	}
	if w == nil {
		t.Fatalf("no link_address_latent warning for DC1<-DC2: %+v", p.Warnings)
	}
	if w.Link.SourceDSAGUID != g2 || w.Link.SourceAddress == "" || strings.HasPrefix(w.Link.SourceAddress, g2) ||
		!strings.Contains(w.Message, w.Link.SourceAddress) {
		t.Errorf("DC1<-DC2 warning: source DSA %s (want %s), address %q (want another GUID's name), message %q",
			w.Link.SourceDSAGUID, g2, w.Link.SourceAddress, w.Message)
	}
	step := posixCommands(w.Manual)
	if !strings.Contains(step, "samba-tool drs kcc dc1.") || !strings.Contains(step, "systemctl restart samba-ad-dc") {
		t.Fatalf("the warning's Samba step is %q, want the KCC run and the service restart", step)
	}
	// what the step says, as an admin would (the lab holds the credentials and runs samba)
	if err := s.lab.KCC(ctx, "dc1"); err != nil {
		t.Fatalf("kcc on dc1: %v", err)
	}
	if err := s.lab.RestartDC(ctx, "dc1"); err != nil {
		t.Fatalf("restart dc1: %v", err)
	}
	p = s.withoutStrayFailures(ctx, t, "link-address-latent-after", inv)
	for _, w := range p.Warnings {
		if w.ID == "DC1<-DC2" {
			t.Errorf("after the KCC run and the restart, still warned: %s: %s", w.Name, w.Message)
		}
	}
	s.waitGreen(ctx, t, inv, samba.Dest, []string{"dc2", "dc3"}, "", time.Minute)
}

// followLinkAddressStep checks the Samba manual step of a link_address_stale finding and does
// what it says on dc, as an admin would: the KCC run (through the lab, which holds the
// credentials) and the restart of the DC's samba (the lab's service manager: samba runs under
// the lab's PID control, not systemd).
func (s *suite) followLinkAddressStep(ctx context.Context, t *testing.T, f *plan.Finding, dc string) {
	t.Helper()
	step := posixCommands(f.Manual)
	if !strings.Contains(step, "samba-tool drs kcc "+dc+".") || !strings.Contains(step, "systemctl restart samba-ad-dc") || !strings.Contains(step, "samba-tool drs replicate "+dc+".") {
		t.Fatalf("%s: the Samba manual step is %q, want the KCC run, the service restart and the retry", f.ID, step)
	}
	if err := s.lab.KCC(ctx, dc); err != nil {
		t.Fatalf("kcc on %s: %v", dc, err)
	}
	if err := s.lab.RestartDC(ctx, dc); err != nil {
		t.Fatalf("restart %s: %v", dc, err)
	}
}

// staleLinkAddress: dc3, where the new DC2 was joined, replicates from the new DSA, but Samba
// 4.17 leaves its links dialling the old incarnation's name (<old GUID>._msdcs), which the
// cleanup removed: dc3 fails with result 2 although DC2's current CNAME resolves. fix8524
// must diagnose link_address_stale (not dns_resolves_now, whose retry would fail forever),
// and the plan's manual step for Samba (KCC, restart the DC service, retry) must heal it.
func (s *suite) staleLinkAddress(ctx context.Context, t *testing.T, inv, old, newG string) {
	if res, err := s.lab.Replicate(ctx, "dc3", "dc2", ""); err == nil && syncOK(res) {
		t.Logf("dc3 <- DC2 replicates: its links were rebuilt already (nothing stale to diagnose)")
		return
	}
	p, _, _ := s.settledPlan(ctx, t, "repromoted-dc3", inv)
	f := finding(t, p, "DC3<-DC2")
	if f.Status == plan.FindingDiagnosed && f.Decision != nil && f.Decision.Name == "dns_resolves_now" &&
		f.Link.SourceDSAGUID == newG && !strings.HasPrefix(f.Link.SourceAddress, old+".") {
		// dc3's KCC has rewritten the name already, but samba still dials its cached
		// connection to the old one: the facts cannot show it. The plan's retry would fail
		// again; its Samba manual step (restart, retry) is what heals it.
		t.Logf("DC3<-DC2: the link already names %s but still fails (Samba's cached connection): dns_resolves_now with its Samba step", f.Link.SourceAddress)
		if step := posixCommands(f.Manual); !strings.Contains(step, "systemctl restart samba-ad-dc") {
			t.Fatalf("DC3<-DC2: dns_resolves_now without the Samba restart step: %q", step)
		}
		if err := s.lab.RestartDC(ctx, "dc3"); err != nil {
			t.Fatalf("restart dc3: %v", err)
		}
	} else {
		requireDecision(t, f, "link_address_stale")
		if f.Link.SourceDSAGUID != newG || !strings.HasPrefix(f.Link.SourceAddress, old+"._msdcs.") {
			t.Errorf("DC3<-DC2: source DSA %s (want the new %s), address %q (want the old %s name)", f.Link.SourceDSAGUID, newG, f.Link.SourceAddress, old)
		}
		s.followLinkAddressStep(ctx, t, f, "dc3")
	}
	var last []samba.SyncResult
	for try := 1; try <= 4; try++ {
		res, err := s.lab.Replicate(ctx, "dc3", "dc2", "")
		if err == nil && syncOK(res) {
			return
		}
		last = res
		time.Sleep(3 * time.Second)
	}
	t.Errorf("dc3 <- DC2 still fails after the plan's manual step: %+v", last)
}

// posixCommands are the commands of the Samba (posix) manual step among steps (a finding's
// or a warning's), one per line.
func posixCommands(steps []plan.ManualStep) string {
	var step string
	for _, m := range steps {
		if m.Shell == "posix" {
			step = strings.Join(m.Commands, "\n")
		}
	}
	return step
}

func syncOK(res []samba.SyncResult) bool {
	for _, r := range res {
		if r.Result != 0 {
			return false
		}
	}
	return len(res) == len(samba.NCs)
}

// source-gone: DC2 is gone for good (three DCs), its NTDS Settings remain in DC1's and DC3's
// copies, and both fail to replicate from it. Without being told, fix8524 offers no cleanup;
// told (-var decommissioned), it proposes the guarded cleanup per destination; apply refuses
// them without their own approvals, deletes the object once with them (on DC1's copy), waits
// for that deletion to replicate to DC3's copy rather than deleting again, reports the
// leftovers; replication between the remaining DCs is green.
func caseSourceGone(ctx context.Context, t *testing.T, s *suite) {
	g2, err := s.lab.GUID(ctx, "dc2")
	if err != nil {
		t.Fatal(err)
	}
	brk, err := s.measure(t, "break source-gone", func() error {
		return s.breakLab(ctx, t, samba.SourceGone)
	})
	if err != nil {
		t.Fatalf("break: %v", err)
	}
	broken := time.Now()
	// dc3 pulls from DC2 too (what its next scheduled pull does, sooner or later, in any
	// forest): both partners fail, the plan holds a cleanup per destination, and the second
	// one meets the first's deletion on its way to dc3's copy (replication lag).
	s.recordFailure(ctx, t, "dc3", "dc2")
	// The operator still has DC2's last address: fix8524 probes it (nothing answers), the
	// observation the cleanup's dsa_not_alive guard needs (without it the cleanup stays blocked:
	// no address of DC2 was probed).
	inv := s.inventoryOf(ctx, t, "source-gone", invOpts{extra: fmt.Sprintf("dc \"DC2\" {\n  ips = [%q]\n}\n", samba.IP("dc2"))})
	p, _, _ := s.plan(ctx, t, "source-gone-untold", inv)
	noCleanup(t, p)
	t.Logf("untold: DC1<-DC2 %s", decisionOf(finding(t, p, "DC1<-DC2")))

	vars := []string{"-var", `decommissioned=["DC2"]`}
	var path string
	planD, _ := s.measure(t, "plan source-gone", func() error {
		p, path, _ = s.settledPlan(ctx, t, "source-gone", inv, vars...)
		return nil
	})
	f := finding(t, p, "DC1<-DC2")
	requireDecision(t, f, "stale_metadata")
	a := action(t, f, "metadata_cleanup")
	if a.Blocked || a.LDAPDelete == nil || a.LDAPDelete.ExpectGUID != g2 || len(a.Guards) < 7 {
		t.Fatalf("cleanup %+v", a)
	}
	// dc3 replicates from DC2 too: its own cleanup of DC2's object (on dc3's copy) is a
	// finding of its own, and every cleanup needs its own approval
	var cleanups []string
	for _, f := range p.Findings {
		for _, a := range f.Actions {
			if a.Kind == plan.KindLDAPDelete {
				cleanups = append(cleanups, a.ID)
			}
		}
	}
	t.Logf("cleanups proposed: %v", cleanups)
	dc3Cleanup := slices.Contains(cleanups, "DC3<-DC2/metadata_cleanup")
	if !dc3Cleanup {
		// dc3's pulls kept failing with another error (logged by recordFailure): the case
		// still runs, with DC1's cleanup alone
		t.Logf("no cleanup for DC3<-DC2 (dc3's failure is not stale metadata): %s", decisionOrUnmatched(p, "DC3<-DC2"))
	}
	st := s.stateDir(t, "source-gone")
	s.approve(ctx, t, path, st) // the plan only
	res, r := s.apply(ctx, t, path, inv, st, vars...)
	refusedByApproval := false
	for _, rf := range res.Refusals {
		refusedByApproval = refusedByApproval || (strings.HasPrefix(rf.Gate, "approval:") && strings.Contains(rf.Gate, "metadata_cleanup"))
	}
	if r.code != 3 || res.Outcome != apply.Refused || !refusedByApproval {
		t.Errorf("cleanup without its own approval: exit %d, %s, %+v", r.code, res.Outcome, res.Refusals)
	}
	if on, _ := s.lab.GUIDOn(ctx, "dc2", samba.Dest); on != g2 {
		t.Errorf("the refused cleanup deleted DC2's NTDS Settings (dc1 holds %q)", on)
	}
	fixD, _ := s.measure(t, "approve --allow-each + apply source-gone", func() error {
		s.approve(ctx, t, path, st, cleanups...)
		res, r = s.apply(ctx, t, path, inv, st, vars...)
		return nil
	})
	requireApplied(t, res, r, "DC1<-DC2")
	if on, err := s.lab.GUIDOn(ctx, "dc2", samba.Dest); err != nil || on != "" {
		t.Errorf("dc1 still holds NTDS Settings for DC2 after its cleanup: %q %v", on, err)
	}
	if dc3Cleanup {
		// The same object: deleted once (on dc1's copy); DC3's cleanup is that deletion,
		// which fix8524 waited for on dc3's copy. dc3 must hold nothing now.
		fr := requireApplied(t, res, r, "DC3<-DC2")
		if len(fr.Steps) == 0 || fr.Steps[0].Outcome != apply.Skipped {
			t.Fatalf("DC3<-DC2: steps %+v, want its cleanup skipped (the deletion made on DC1 replicated)", fr.Steps)
		}
		t.Logf("DC3<-DC2: %s", fr.Steps[0].Reason)
		if on, err := s.lab.GUIDOn(ctx, "dc2", "dc3"); err != nil || on != "" {
			t.Errorf("fix8524 reported DC3<-DC2 done, but dc3 still holds NTDS Settings for DC2: %q %v", on, err)
		}
	} else {
		// what an admin waits for: dc1's deletion replicating to dc3
		s.waitGone(ctx, t, "dc2", "dc3", 2*time.Minute)
	}
	leftovers := 0
	for _, fr := range res.Findings {
		for _, lo := range fr.Leftovers {
			leftovers++
			t.Logf("%s leftover %s: %s (deletable %v)", fr.ID, lo.Kind, lo.What, lo.Deletable)
		}
	}
	if leftovers == 0 {
		t.Errorf("no leftovers reported (the server and computer objects of DC2 remain after a tree delete)")
	}
	// Replication between the remaining DCs is green; repsFrom values that still name the
	// deleted DSA go with the next KCC run.
	s.waitGreen(ctx, t, inv, "dc3", []string{"dc1"}, g2, time.Minute)
	s.waitGreen(ctx, t, inv, samba.Dest, []string{"dc3"}, g2, time.Minute)
	s.logMTTR(t, MTTR{Case: "source-gone", Path: "apply", Break: brk, Plan: planD, Fix: fixD, Total: time.Since(broken)})
}
