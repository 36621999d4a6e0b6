package engine

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// testPlaybook exercises every feature the planner has, on a small decision table.
const testPlaybook = `
playbook "t" {
  title    = "test"
  matches  = link.last_result == 8524 || (link.last_result == 2 && link.destination.platform == "samba")
  evidence = [check.logged_2087]
}

check "answers" {
  tcp {
    host  = link.source.dns_host_name
    ports = [389, 135]
  }
}

check "cname_dest" {
  dns {
    name    = link.cname
    type    = "CNAME"
    servers = link.destination.dns_servers
  }
}

check "cname_src" {
  dns {
    name    = link.cname
    type    = "CNAME"
    servers = link.source.dns_servers
    match   = "any"
  }
}

check "logged_2087" {
  event {
    on    = link.destination
    ids   = [2087]
    match = event.failing_name == link.cname
  }
}

check "scavenged" {
  event {
    on  = link.source
    ids = [2501]
  }
}

decision "offline" {
  when  = !check.answers.ok
  cause = "${link.source.name} is down"
  see   = "offline"
}

decision "resolves" {
  when   = check.cname_dest.ok
  cause  = "resolves"
  see    = "ping"
  remedy = [action.retry]
}

decision "vanished" {
  when     = !check.cname_src.ok && check.scavenged.ok
  optional = [check.scavenged]
  cause    = "vanished"
  see      = "vanished"
}

decision "not_registered" {
  when   = !check.cname_src.ok
  cause  = "${link.source.name} did not register ${link.cname}"
  see    = "cname"
  remedy = [action.register, action.cleanup]

  manual "cmd" {
    shell    = "cmd"
    commands = [for s in link.source.dns_servers : ["nslookup", "-type=cname", link.cname, s]]
  }
  manual "ps" {
    shell   = "powershell"
    on      = link.source
    command = ["Get-ADDomainController", "-Identity", link.source.name, "-Server", link.destination.dns_host_name]
  }
  manual "sh" {
    shell   = "posix"
    command = ["samba-tool", "drs", "showrepl", link.source.dns_host_name, link.source.site]
  }
  manual "samba only" {
    when    = link.source.platform == "samba"
    command = ["samba_dnsupdate"]
  }
}

decision "other" {
  when  = true
  cause = "other"
  see   = "other"
}

action "register" {
  title  = "register ${link.source.name}"
  on     = link.source
  risk   = "low"
  params = { name = link.source.name, ncs = link.ncs }
  windows { powershell = "Restart-Service -Name Netlogon -Force" }
  samba {
    argv        = ["samba_dnsupdate", "--all-interfaces", link.source.dns_host_name]
    ignore_exit = true
  }
  verify = [check.cname_src]
}

action "retry" {
  title = "retry"
  on    = link.destination
  risk  = "low"
  windows { powershell = "repadmin /replicate" }
}

action "cleanup" {
  title = "cleanup"
  on    = link.destination
  risk  = "high"
  requires_approval_each = true
  ldap_delete {
    dn          = link.source_dsa_dn
    tree        = true
    expect_guid = link.source_dsa_guid
  }
  guard "not_seed" {
    condition = !link.source.is_seed
    message   = "${link.source.name} is the seed"
  }
  guard "not_protected" {
    condition = !link.source.protected_from_deletion
    message   = "protected"
  }
}
`

const (
	guid1 = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
	guid2 = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
	guid3 = "3c1d5e0b-6f7a-4b2c-9d8e-0a1b2c3d4e5f"
)

var t0 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func dc(name, guid, ip string) facts.DC {
	return facts.DC{
		Name: name, DNSHostName: strings.ToLower(name) + ".contoso.com", Domain: "contoso.com", Site: "Default-First-Site-Name",
		ServerDN:       "CN=" + name + ",CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=contoso,DC=com",
		NTDSSettingsDN: "CN=NTDS Settings,CN=" + name + ",CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=contoso,DC=com",
		DSAGUID:        guid, WhenCreated: t0.Add(-400 * 24 * time.Hour),
		Platform: facts.Some(facts.PlatformWindows), IPs: facts.Some([]string{ip}), DNSServers: facts.Some([]string{ip}),
		ProtectedFromDeletion: facts.Some(false), OwnDSAGUID: facts.Some(guid), Events: facts.Some([]facts.Event{}),
	}
}

func link(dest, destGUID, src, srcGUID, nc string, result int) facts.Link {
	return facts.Link{
		Destination: dest, DestinationGUID: destGUID, NC: nc, SourceDSAGUID: srcGUID,
		SourceDSADN:   "CN=NTDS Settings,CN=" + src + ",CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=contoso,DC=com",
		SourceAddress: srcGUID + "._msdcs.contoso.com", LastResult: result, ConsecutiveFailures: 3,
		LastSuccess: t0.Add(-2 * time.Hour), LastAttempt: t0.Add(-5 * time.Minute),
	}
}

// sampleFacts: DC1 fails to replicate from DC2 (two NCs) because DC2's CNAME is missing on every
// DNS server; DC2 answers; DC1 logged 2087.
func sampleFacts() *facts.Snapshot {
	d1, d2 := dc("DC1", guid1, "192.0.2.11"), dc("DC2", guid2, "192.0.2.12")
	d1.Events = facts.Some([]facts.Event{{ID: 2087, Time: t0.Add(-time.Hour), FailingName: guid2 + "._msdcs.contoso.com", ErrorCode: 8524}})
	cname := guid2 + "._msdcs.contoso.com"
	nx := func(server string) facts.DNSObservation {
		return facts.DNSObservation{DNSQuery: facts.DNSQuery{Server: server, Name: cname, Type: "CNAME"}, Rcode: "NXDOMAIN", Authoritative: true, ElapsedMS: 1.5}
	}
	return &facts.Snapshot{
		FormatVersion: facts.FormatVersion, GatheredAt: t0, Source: "test", SeedDC: "DC1",
		Forest: facts.Forest{RootDomain: "contoso.com", RootDN: "DC=contoso,DC=com", ConfigDN: "CN=Configuration,DC=contoso,DC=com",
			Domains: []facts.Domain{{DNSName: "contoso.com", DN: "DC=contoso,DC=com", NetBIOS: "CONTOSO"}}},
		DCs: []facts.DC{d1, d2},
		Links: []facts.Link{
			link("DC1", guid1, "DC2", guid2, "DC=contoso,DC=com", 8524),
			link("DC1", guid1, "DC2", guid2, "CN=Configuration,DC=contoso,DC=com", 8524),
			link("DC2", guid2, "DC1", guid1, "DC=contoso,DC=com", 0),
		},
		DNS: []facts.DNSObservation{nx("192.0.2.11"), nx("192.0.2.12")},
		Reach: []facts.ReachObservation{
			{TCPProbe: facts.TCPProbe{Host: "dc2.contoso.com", Port: 389}, Result: facts.ReachOpen, ElapsedMS: 2},
			{TCPProbe: facts.TCPProbe{Host: "dc2.contoso.com", Port: 135}, Result: facts.ReachOpen, ElapsedMS: 2},
		},
	}
}

func mustLoad(t testing.TB, src string) *Playbook {
	t.Helper()
	pb, _, diags := Load([]Source{{Name: "t.hcl", Src: []byte(src)}}, LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return pb
}

func planOf(t testing.TB, pb *Playbook, s *facts.Snapshot) *plan.Plan {
	t.Helper()
	p, err := MakePlan(pb, s, PlanOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func only(t testing.TB, p *plan.Plan) *plan.Finding {
	t.Helper()
	if len(p.Findings) != 1 {
		b, _ := json.MarshalIndent(p.Findings, "", " ")
		t.Fatalf("want 1 finding, got %d:\n%s", len(p.Findings), b)
	}
	return &p.Findings[0]
}

func TestPlanSample(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	p := planOf(t, pb, sampleFacts())
	f := only(t, p)
	if f.ID != "DC1<-DC2" || f.Status != plan.FindingDiagnosed || f.Decision.Name != "not_registered" {
		t.Fatalf("%s %s %+v %s", f.ID, f.Status, f.Decision, f.Incomplete)
	}
	if len(f.Link.NCs) != 2 || f.Link.NCs[0].NC != "CN=Configuration,DC=contoso,DC=com" {
		t.Errorf("NCs %+v", f.Link.NCs)
	}
	wantWalk := []plan.WalkStep{{Decision: "offline", Result: plan.WalkFalse}, {Decision: "resolves", Result: plan.WalkFalse},
		{Decision: "vanished", Result: plan.WalkFalse}, {Decision: "not_registered", Result: plan.WalkHolds}}
	if !reflect.DeepEqual(f.Walk, wantWalk) {
		t.Errorf("walk %+v", f.Walk)
	}
	if f.Decision.Cause != "DC2 did not register "+guid2+"._msdcs.contoso.com" {
		t.Errorf("cause %q", f.Decision.Cause)
	}
	// Evidence includes the playbook's supporting evidence, in playbook order.
	var names []string
	for _, e := range f.Evidence {
		names = append(names, e.Name+"="+string(e.Status))
	}
	if strings.Join(names, " ") != "answers=ok cname_dest=failed cname_src=failed logged_2087=ok scavenged=failed" {
		t.Errorf("evidence %v", names)
	}
	if len(f.Actions) != 2 {
		t.Fatalf("actions %+v", f.Actions)
	}
	reg, clean := f.Actions[0], f.Actions[1]
	if reg.Kind != plan.KindPowerShell || reg.Transport != "winrm" || reg.Target != "DC2" || reg.Blocked ||
		reg.PowerShell != "Restart-Service -Name Netlogon -Force" || reg.Params["name"] != "DC2" || !reflect.DeepEqual(reg.Verify, []string{"cname_src"}) {
		t.Errorf("register %+v", reg)
	}
	if clean.Kind != plan.KindLDAPDelete || clean.Target != "DC1" || clean.LDAPDelete.ExpectGUID != guid2 || !clean.LDAPDelete.Tree ||
		!clean.RequiresApprovalEach || clean.Blocked || len(clean.Guards) != 2 || clean.Guards[0].Status != plan.StatusOK {
		t.Errorf("cleanup %+v", clean)
	}
	if len(f.Manual) != 3 { // "samba only" does not apply to a Windows source
		t.Fatalf("manual %+v", f.Manual)
	}
	if got := f.Manual[0].Commands; !reflect.DeepEqual(got, []string{"nslookup -type=cname " + guid2 + "._msdcs.contoso.com 192.0.2.12"}) {
		t.Errorf("cmd %q", got)
	}
	if got := f.Manual[1].Commands[0]; got != "Get-ADDomainController -Identity DC2 -Server dc1.contoso.com" || f.Manual[1].On != "DC2" {
		t.Errorf("ps %q", got)
	}
	if got := f.Manual[2].Commands[0]; got != "samba-tool drs showrepl dc2.contoso.com Default-First-Site-Name" {
		t.Errorf("sh %q", got)
	}
	if p.Summary.FailingLinks != 2 || p.Summary.MatchedLinks != 2 || p.Summary.Actions != 2 || p.Summary.ByRisk["high"] != 1 {
		t.Errorf("summary %+v", p.Summary)
	}
	if !strings.HasPrefix(p.Fingerprint, "sha256:") || !strings.HasPrefix(f.Fingerprint, "sha256:") {
		t.Errorf("fingerprints %q %q", p.Fingerprint, f.Fingerprint)
	}
}

func TestPlanNothingToDo(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	s := sampleFacts()
	for i := range s.Links {
		s.Links[i].LastResult = 0
	}
	p := planOf(t, pb, s)
	if len(p.Findings) != 0 || p.Fingerprint == "" {
		t.Errorf("%+v", p)
	}
	s.Links[0].LastResult = 1722
	p = planOf(t, pb, s)
	if len(p.Findings) != 0 || len(p.Unmatched) != 1 || p.Unmatched[0].LastResult != 1722 || p.Unmatched[0].Source != "DC2" {
		t.Errorf("unmatched %+v", p.Unmatched)
	}
}

// TestUnknownStopsTheWalk: a check over a missing observation is unknown, and the walk stops
// there with what to gather, instead of skipping to a later (wrong) decision.
func TestUnknownStopsTheWalk(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	s := sampleFacts()
	s.Reach = nil
	f := only(t, planOf(t, pb, s))
	if f.Status != plan.FindingIncomplete || f.Decision != nil || len(f.Actions) != 0 {
		t.Fatalf("%s %+v", f.Status, f.Decision)
	}
	if len(f.Walk) != 1 || f.Walk[0].Result != plan.WalkUnknown || !reflect.DeepEqual(f.Walk[0].Unknown, []string{"check.answers"}) {
		t.Errorf("walk %+v", f.Walk)
	}
	if len(f.Needs) != 2 || f.Needs[0].Kind != plan.NeedTCP || f.Needs[0].TCP.Port != 135 || f.Needs[1].TCP.Port != 389 {
		t.Errorf("needs %+v", f.Needs)
	}
	if !strings.Contains(f.Incomplete, `decision "offline"`) || !strings.Contains(f.Incomplete, "TCP dc2.contoso.com:389") {
		t.Errorf("incomplete %q", f.Incomplete)
	}

	// One port open is enough for match = "any": the other's absence does not matter.
	s.Reach = []facts.ReachObservation{{TCPProbe: facts.TCPProbe{Host: "dc2.contoso.com", Port: 389}, Result: facts.ReachOpen}}
	if f := only(t, planOf(t, pb, s)); f.Status != plan.FindingDiagnosed {
		t.Errorf("with 389 open: %s %s", f.Status, f.Incomplete)
	}

	// An unknown fact: the source's DNS client settings.
	s = sampleFacts()
	s.DCs[1].DNSServers = facts.Unknown[[]string]("no WinRM credentials")
	f = only(t, planOf(t, pb, s))
	if f.Status != plan.FindingIncomplete || f.Walk[len(f.Walk)-1].Decision != "not_registered" {
		t.Fatalf("%s %+v", f.Status, f.Walk)
	}
	if len(f.Needs) != 1 || f.Needs[0].Fact != "link.source.dns_servers" || f.Needs[0].DC != "DC2" || f.Needs[0].Reason != "no WinRM credentials" {
		t.Errorf("needs %+v", f.Needs)
	}
}

// TestOptionalSkips: a decision that marks a check optional is skipped, not stopped on, when
// only that check is unknown.
func TestOptionalSkips(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	s := sampleFacts()
	s.DCs[1].Events = facts.Unknown[[]facts.Event]("no WinRM credentials")
	f := only(t, planOf(t, pb, s))
	if f.Status != plan.FindingDiagnosed || f.Decision.Name != "not_registered" {
		t.Fatalf("%s %+v %s", f.Status, f.Decision, f.Incomplete)
	}
	if f.Walk[2].Decision != "vanished" || f.Walk[2].Result != plan.WalkSkipped {
		t.Errorf("walk %+v", f.Walk)
	}
	// With the events known and a 2501 among them, the optional decision holds.
	s.DCs[1].Events = facts.Some([]facts.Event{{ID: 2501, Time: t0}})
	if f := only(t, planOf(t, pb, s)); f.Decision == nil || f.Decision.Name != "vanished" {
		t.Errorf("with 2501: %+v", f.Walk)
	}
}

func TestMatchUnknown(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	s := sampleFacts()
	for i := range s.Links {
		if s.Links[i].LastResult != 0 {
			s.Links[i].LastResult = 2
		}
	}
	s.DCs[0].Platform = facts.Unknown[string]("LDAP read failed")
	f := only(t, planOf(t, pb, s))
	if f.Status != plan.FindingIncomplete || !strings.Contains(f.Incomplete, "link.destination.platform") || len(f.Walk) != 0 {
		t.Errorf("%s %q %+v", f.Status, f.Incomplete, f.Walk)
	}
	s.DCs[0].Platform = facts.Some(facts.PlatformSamba)
	if f := only(t, planOf(t, pb, s)); f.Status != plan.FindingDiagnosed {
		t.Errorf("samba: %s", f.Status)
	}
	s.DCs[0].Platform = facts.Some(facts.PlatformWindows)
	if p := planOf(t, pb, s); len(p.Findings) != 0 || len(p.Unmatched) != 2 {
		t.Errorf("windows result 2 is not ours: %+v", p.Findings)
	}
}

func TestPlatformChoosesTheBody(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	s := sampleFacts()
	s.DCs[1].Platform = facts.Some(facts.PlatformSamba)
	f := only(t, planOf(t, pb, s))
	reg := f.Actions[0]
	if reg.Kind != plan.KindArgv || reg.Transport != "ssh" || !reg.IgnoreExit || reg.Blocked ||
		!reflect.DeepEqual(reg.Argv, []string{"samba_dnsupdate", "--all-interfaces", "dc2.contoso.com"}) || reg.ArgvDisplay != "samba_dnsupdate --all-interfaces dc2.contoso.com" {
		t.Errorf("%+v", reg)
	}
	if len(f.Manual) != 4 {
		t.Errorf("the samba-only step should apply: %d steps", len(f.Manual))
	}
	s.DCs[1].Platform = facts.Unknown[string]("not read")
	f = only(t, planOf(t, pb, s))
	reg = f.Actions[0]
	if !reg.Blocked || reg.Platform != "unknown" || reg.Kind != "" {
		t.Errorf("%+v", reg)
	}
	found := false
	for _, n := range f.Needs {
		found = found || n.Fact == "link.source.platform"
	}
	if !found {
		t.Errorf("needs %+v", f.Needs)
	}
	if !strings.HasPrefix(f.Manual[3].Text, "(This step may not apply") {
		t.Errorf("manual %+v", f.Manual[3])
	}
}

func TestGuardsBlock(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	s := sampleFacts()
	s.SeedDC = "dc2.contoso.com"
	s.DCs[1].ProtectedFromDeletion = facts.Unknown[bool]("ACL not readable")
	f := only(t, planOf(t, pb, s))
	clean := f.Actions[1]
	if !clean.Blocked || clean.Guards[0].Status != plan.StatusFailed || clean.Guards[1].Status != plan.StatusUnknown {
		t.Fatalf("%+v", clean)
	}
	if !strings.Contains(strings.Join(clean.Reasons, "\n"), "DC2 is the seed") {
		t.Errorf("reasons %q", clean.Reasons)
	}
}

func TestGrouping(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	s := sampleFacts()
	d3 := dc("DC3", guid3, "192.0.2.13")
	s.DCs = append(s.DCs, d3)
	s.Links = append(s.Links, link("DC1", guid1, "DC3", guid3, "DC=contoso,DC=com", 8524), link("DC3", guid3, "DC2", guid2, "DC=contoso,DC=com", 8524))
	p := planOf(t, pb, s)
	var ids []string
	for _, f := range p.Findings {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, " ") != "DC1<-DC2 DC1<-DC3 DC3<-DC2" {
		t.Errorf("ids %v", ids)
	}
	// DC1<-DC3 has no reachability observation: incomplete, while the others are diagnosed.
	// DC3<-DC2 too: DC3's DNS server was not asked.
	if p.Findings[1].Status != plan.FindingIncomplete || p.Findings[0].Status != plan.FindingDiagnosed || p.Findings[2].Status != plan.FindingIncomplete || p.Summary.Incomplete != 2 {
		t.Errorf("%s %s", p.Findings[0].Status, p.Findings[1].Status)
	}
	// Two DSAs with the same server name: the ids carry the GUID.
	s.Links = append(s.Links, link("DC1", guid1, "DC2", guid3[:8]+guid2[8:], "DC=contoso,DC=com", 8524))
	p = planOf(t, pb, s)
	ids = nil
	for _, f := range p.Findings {
		ids = append(ids, f.ID)
	}
	if len(ids) != 4 || !strings.HasPrefix(ids[0], "DC1<-DC2@") || !strings.HasPrefix(ids[1], "DC1<-DC2@") {
		t.Errorf("ids %v", ids)
	}
}

func TestDeterministicAndFingerprint(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	a := planOf(t, pb, sampleFacts())
	s := sampleFacts()
	// Same facts in another order, with other timings: the same plan.
	s.DNS[0], s.DNS[1] = s.DNS[1], s.DNS[0]
	s.Links[0], s.Links[1] = s.Links[1], s.Links[0]
	s.DNS[0].ElapsedMS = 99
	s.Reach[0].ElapsedMS = 42
	b := planOf(t, pb, s)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("plans differ:\n%s\n%s", ja, jb)
	}
	fp := a.Fingerprint
	changed := func(name string, edit func(*facts.Snapshot)) string {
		s := sampleFacts()
		edit(s)
		return planOf(t, pb, s).Fingerprint
	}
	// Facts the decisions read change the fingerprint...
	for name, edit := range map[string]func(*facts.Snapshot){
		"dns answer":       func(s *facts.Snapshot) { s.DNS[0].Rcode = "SERVFAIL" },
		"reachability":     func(s *facts.Snapshot) { s.Reach[1].Result = facts.ReachTimeout },
		"source dns":       func(s *facts.Snapshot) { s.DCs[1].DNSServers = facts.Some([]string{"192.0.2.12", "192.0.2.11"}) },
		"link result":      func(s *facts.Snapshot) { s.Links[1].LastResult = 2; s.DCs[0].Platform = facts.Some("samba") },
		"another NC":       func(s *facts.Snapshot) { s.Links = append(s.Links, link("DC1", guid1, "DC2", guid2, "DC=x", 8524)) },
		"guard fact":       func(s *facts.Snapshot) { s.DCs[1].ProtectedFromDeletion = facts.Some(true) },
		"source events":    func(s *facts.Snapshot) { s.DCs[1].Events = facts.Some([]facts.Event{{ID: 2501, Time: t0}}) }, // one the check looks for
		"action target ip": func(s *facts.Snapshot) { s.DCs[1].Platform = facts.Some("samba") },
	} {
		if changed(name, edit) == fp {
			t.Errorf("%s: the fingerprint did not change", name)
		}
	}
	// ...facts nothing reads do not.
	for name, edit := range map[string]func(*facts.Snapshot){
		"os": func(s *facts.Snapshot) { s.DCs[1].OperatingSystem = facts.Some("Windows Server 2025") },
		"unused dns": func(s *facts.Snapshot) {
			s.DNS = append(s.DNS, facts.DNSObservation{DNSQuery: facts.DNSQuery{Server: "192.0.2.99", Name: "x", Type: "A"}, Rcode: "NOERROR"})
		},
		"gathered at":  func(s *facts.Snapshot) { s.GatheredAt = s.GatheredAt.Add(time.Minute) },
		"healthy link": func(s *facts.Snapshot) { s.Links[2].ConsecutiveFailures = 0 },
		"ttl":          func(s *facts.Snapshot) { s.DNS[0].Answers = nil },
	} {
		if changed(name, edit) != fp {
			t.Errorf("%s: the fingerprint changed", name)
		}
	}
}

// hostile values: shell and PowerShell metacharacters, control characters, oversize, bad GUID.
var hostileNames = []string{
	`DC2"; calc.exe & rem `,
	"DC2$(Invoke-Evil)`whoami`'x'",
	"DC2\x00NUL",
	"DC2\nnewline",
	"DC2 %PATH% !x! ^& | > <",
	strings.Repeat("A", 10000),
	"-DC2",
	"DC2\u202egnp.exe",
}

func TestHostileFacts(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	for _, bad := range hostileNames {
		for _, variant := range []string{"name", "host"} {
			s := sampleFacts()
			s.DCs[1].Name = bad
			s.DCs[1].Site = bad
			s.DCs[1].DNSServers = facts.Some([]string{"192.0.2.12", bad})
			if variant == "host" {
				s.DCs[1].DNSHostName = bad + ".contoso.com"
				s.Links[0].SourceDSAGUID = bad
			}
			p, err := MakePlan(pb, s, PlanOptions{Now: t0})
			if err != nil {
				t.Fatalf("%q: %v", bad, err)
			}
			if len(p.Findings) == 0 {
				t.Fatalf("%q %s: no finding", bad, variant)
			}
			f := p.Findings[0]
			if len(f.Flags) == 0 {
				t.Errorf("%q: nothing flagged", bad)
			}
			if variant == "name" && (f.Status != plan.FindingDiagnosed || len(f.Manual) < 3) {
				t.Fatalf("%q: the planner did not keep going: %s %s", bad, f.Status, f.Incomplete)
			}
			for _, fl := range f.Flags {
				if strings.ContainsAny(fl.Value, "\x00\n") || len(fl.Value) > 200 {
					t.Errorf("%q: flag value not made safe: %q", bad, fl.Value)
				}
			}
			for _, a := range f.Actions {
				if a.Target == bad && !a.Blocked {
					t.Errorf("%q: action %s on a hostile target is not blocked", bad, a.Name)
				}
				if strings.ContainsAny(a.Title, "\x00\n") {
					t.Errorf("%q: title %q", bad, a.Title)
				}
			}
			for _, m := range f.Manual {
				for _, c := range m.Commands {
					if strings.Contains(c, bad) && !quotedIn(c, bad, m.Shell) {
						t.Errorf("%q: rendered unquoted in %s: %s", bad, m.Shell, c)
					}
					if strings.ContainsAny(c, "\x00\n\r\u202e") {
						t.Errorf("%q: control character in %q", bad, c)
					}
				}
				if variant == "name" && len(m.Commands) > 0 && !m.Flagged && m.Title != "samba only" {
					t.Errorf("%q: manual step %q uses a flagged value but is not flagged", bad, m.Title)
				}
			}
			b, err := json.Marshal(p)
			if err != nil || len(b) == 0 {
				t.Errorf("%q: plan does not encode: %v", bad, err)
			}
		}
	}
}

// quotedIn reports whether every occurrence of v in c is inside the shell's quoting of v.
func quotedIn(c, v, shell string) bool {
	q, err := quoteArg(shell, v)
	if err != nil {
		return false
	}
	return strings.Count(c, v) == strings.Count(c, q) || strings.Contains(c, q)
}

func TestValueProblems(t *testing.T) {
	for _, tc := range []struct{ attr, v, want string }{
		{"name", "DC2", ""},
		{"name", "DC2;x", "not a valid DC name"},
		{"name", "-rf", "not a valid DC name"},
		{"dns_host_name", "dc2.contoso.com", ""},
		{"dns_host_name", "-dc2.contoso.com", "not a valid DNS name"},
		{"dsa_guid", guid2, ""},
		{"dsa_guid", "8a7baee5", "not a GUID"},
		{"ips", "192.0.2.1", ""},
		{"ips", "2001:db8::1", ""},
		{"ips", "192.0.2.1; x", "not an IP address"},
		{"nc", "DC=contoso,DC=com", ""},
		{"nc", "-x DC=contoso", "not a distinguished name"},
		{"source_dsa_dn", `CN=NTDS Settings\0ADEL:abc,CN=DC2,CN=Servers`, ""},
		{"site", "a\x00b", "NUL"},
		{"site", strings.Repeat("x", 2000), "oversized"},
		{"site", "a\u202eb", "U+202E"},
	} {
		got := valueProblem(tc.attr, tc.v)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s %q: %q, want %q", tc.attr, tc.v, got, tc.want)
		}
	}
}

func TestQuoteArg(t *testing.T) {
	for _, v := range append(hostileNames[:2:2], "a b", "it's", "‘curly’", `C:\path\`, "", "-x") {
		ps, err := quoteArg(ShellPowerShell, v)
		if err != nil {
			t.Fatal(err)
		}
		inner := ps[1 : len(ps)-1]
		for _, q := range []string{"'", "\u2018", "\u2019"} {
			if strings.Count(inner, q)%2 != 0 {
				t.Errorf("PowerShell: %q has an undoubled %q", ps, q)
			}
		}
	}
	for _, bad := range []string{"100%", `a"b`, "x!y", "a^b"} {
		if _, err := quoteArg(ShellCmd, bad); err == nil {
			t.Errorf("cmd quoted %q", bad)
		}
	}
	if q, _ := quoteArg(ShellCmd, `C:\dir\`); q != `"C:\dir\\"` {
		t.Errorf("cmd trailing backslash: %s", q)
	}
	for _, ctl := range []string{"a\x00b", "a\nb", "a\u202eb", string([]byte{0xff})} {
		for _, sh := range []string{ShellCmd, ShellPowerShell, ShellPOSIX} {
			if _, err := quoteArg(sh, ctl); err == nil {
				t.Errorf("%s quoted %q", sh, ctl)
			}
		}
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, v := range append(hostileNames[:2:2], "a b", "it's", "$HOME", "*", "~", "a=b", "'", `\`, "") {
		q, err := quoteArg(ShellPOSIX, v)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sh, "-c", "printf %s "+q).Output()
		if err != nil || string(out) != v {
			t.Errorf("sh: %q -> %s -> %q (%v)", v, q, out, err)
		}
	}
}

func TestNeeds(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	s := sampleFacts()
	s.DNS, s.Reach = nil, nil
	dns, tcp := pb.Needs(s)
	var got []string
	for _, q := range dns {
		got = append(got, q.Key())
	}
	// cname_dest and cname_src ask the same two queries: deduplicated.
	want := []string{"192.0.2.11|" + guid2 + "._msdcs.contoso.com|CNAME|rd", "192.0.2.12|" + guid2 + "._msdcs.contoso.com|CNAME|rd"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dns %v", got)
	}
	if len(tcp) != 2 || tcp[0].Key() != "dc2.contoso.com|135" {
		t.Errorf("tcp %+v", tcp)
	}
	// Healthy links need nothing.
	for i := range s.Links {
		s.Links[i].LastResult = 0
	}
	if dns, tcp := pb.Needs(s); len(dns)+len(tcp) != 0 {
		t.Errorf("healthy: %v %v", dns, tcp)
	}
}

func TestVerify(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	p := planOf(t, pb, sampleFacts())
	f := only(t, p)
	s := sampleFacts()
	res, err := Verify(pb, s, f, []string{"cname_src"}, PlanOptions{Now: t0})
	if err != nil || len(res) != 1 || res[0].Status != plan.StatusFailed {
		t.Fatalf("%+v %v", res, err)
	}
	// After the fix: the link is healthy and DC2's server answers the CNAME.
	for i := range s.Links {
		s.Links[i].LastResult = 0
	}
	s.DNS = []facts.DNSObservation{{DNSQuery: facts.DNSQuery{Server: "192.0.2.12", Name: guid2 + "._msdcs.contoso.com", Type: "CNAME"}, Rcode: "NOERROR",
		Answers: []facts.RR{{Name: guid2 + "._msdcs.contoso.com", Type: "CNAME", Data: "dc2.contoso.com."}}}}
	res, err = Verify(pb, s, f, []string{"cname_src"}, PlanOptions{Now: t0})
	if err != nil || res[0].Status != plan.StatusOK {
		t.Fatalf("%+v %v", res, err)
	}
	s.DNS = nil
	dns, _, err := VerifyNeeds(pb, s, f, []string{"cname_src"})
	if err != nil || len(dns) != 1 || dns[0].Server != "192.0.2.12" {
		t.Errorf("%v %v", dns, err)
	}
	if _, err := Verify(pb, s, f, []string{"nope"}, PlanOptions{}); err == nil {
		t.Error("unknown check accepted")
	}
	// Links gone (metadata cleanup): the plan's own link data is used.
	s.Links = nil
	if _, err := Verify(pb, s, f, []string{"cname_src"}, PlanOptions{}); err != nil {
		t.Error(err)
	}
}

// An event check's fingerprint keeps which of its IDs matched, not when or how often: a failing
// partnership logs its events again at every attempt, and an approved plan must not go stale for
// that. A match appearing or vanishing, or the log becoming unreadable, still counts.
func TestEventFingerprintKeepsWhatMatched(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	withEvents := func(evs ...facts.Event) string {
		s := sampleFacts()
		s.DCs[1].Events = facts.Some(evs)
		return planOf(t, pb, s).Fingerprint
	}
	old := facts.Event{ID: 1925, Time: t0.Add(-3 * time.Hour)}
	scav := facts.Event{ID: 2501, Time: t0.Add(-2 * time.Hour)}
	base := withEvents(old)
	if got := withEvents(old, facts.Event{ID: 1925, Time: t0.Add(-time.Minute)}, facts.Event{ID: 4013, Time: t0}); got != base {
		t.Error("events the check does not look for changed the fingerprint")
	}
	withScav := withEvents(old, scav)
	if withScav == base {
		t.Error("a 2501 appearing did not change the fingerprint")
	}
	if got := withEvents(old, scav, facts.Event{ID: 2501, Time: t0.Add(-time.Minute)}); got != withScav {
		t.Error("2501 logged once more changed the fingerprint")
	}
	s := sampleFacts()
	s.DCs[1].Events = facts.Maybe[[]facts.Event]{}
	if planOf(t, pb, s).Fingerprint == base {
		t.Error("a log that could not be read has the fingerprint of one that was")
	}
}
