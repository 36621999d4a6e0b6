package plan

import (
	"time"

	"github.com/fix8524/fix8524/facts"
)

// FormatVersion is the version of the plan JSON this build writes and reads. It changes
// whenever a field changes meaning or disappears; adding a field does not change it.
const FormatVersion = 1

// Plan is what `fix8524 plan` proposes: a pure function of a playbook, facts and PlanOptions.
// It is plain data; approve and apply read it back from JSON.
type Plan struct {
	FormatVersion int         `json:"plan_format_version"`
	CreatedAt     time.Time   `json:"created_at"`
	Playbook      PlaybookRef `json:"playbook"`
	Facts         FactsRef    `json:"facts"`
	// Fingerprint is "sha256:<hex>" over a canonical encoding of exactly the facts the plan's
	// decisions depended on (per finding, see Finding.Fingerprint) and of the set of links the
	// playbook matched. Equal facts give an equal fingerprint; any change to a used fact changes
	// it. It is never empty.
	Fingerprint string `json:"fingerprint"`
	// Variables are the playbook variables' values used for this plan.
	Variables map[string]any `json:"variables,omitempty"`
	// Windows are the playbook's change windows, parsed and validated (apply enforces them).
	Windows   []WindowSpec `json:"windows,omitempty"`
	Findings  []Finding    `json:"findings"`
	Unmatched []LinkRef    `json:"unmatched,omitempty"` // failing links this playbook does not handle
	// Warnings are advisories for partnerships whose links all replicate now but depend on
	// something that may go away (the playbook's warning blocks), sorted by id, then name. They
	// carry no actions and are not part of the fingerprint.
	Warnings []Warning `json:"warnings,omitempty"`
	Summary  Summary   `json:"summary"`
	// Topology is every DC and inbound partnership of the facts, for drawing them (fix8524
	// report); absent in plans made before it was added. Not part of the fingerprint.
	Topology *Topology `json:"topology,omitempty"`
	// Coverage says how much of the forest the facts read: DCs read of DCs known, links read,
	// every DC not read with the reason, and every gathering problem. Nil only in a plan made
	// by an earlier fix8524 (which did not say). A partial plan says so in Summary.Partial.
	Coverage *facts.Coverage `json:"coverage,omitempty"`
}

// PlaybookRef identifies the playbook a plan was made with.
type PlaybookRef struct {
	Name   string   `json:"name"`
	Title  string   `json:"title,omitempty"`
	Files  []string `json:"files"`
	Digest string   `json:"digest"` // "sha256:<hex>" over the files' names and bytes
}

// FactsRef identifies the facts a plan was made from.
type FactsRef struct {
	Source     string    `json:"source"`
	GatheredAt time.Time `json:"gathered_at"`
	SeedDC     string    `json:"seed_dc,omitempty"`
}

// WindowSpec is a change window as the playbook declares it.
type WindowSpec struct {
	Name     string `json:"name"`
	Cron     string `json:"cron"`
	Duration string `json:"duration"`
	TimeZone string `json:"time_zone"`
}

// Summary counts what a plan holds.
type Summary struct {
	Links        int            `json:"links"`         // links in the facts
	FailingLinks int            `json:"failing_links"` // links with a non-zero last result
	MatchedLinks int            `json:"matched_links"` // failing links the playbook matched
	Findings     int            `json:"findings"`      // partnerships (destination, source DSA GUID)
	Diagnosed    int            `json:"diagnosed"`
	Incomplete   int            `json:"incomplete"`
	Actions      int            `json:"actions"`
	ManualSteps  int            `json:"manual_steps"`
	Blocked      int            `json:"blocked_actions"` // actions a guard, a hostile value or an unknown platform blocks
	ByRisk       map[Risk]int   `json:"actions_by_risk,omitempty"`
	ByDecision   map[string]int `json:"findings_by_decision,omitempty"`
	Unmatched    int            `json:"unmatched"`
	Flags        int            `json:"flagged_values"` // of findings and warnings
	Warnings     int            `json:"warnings"`       // warnings reported for healthy partnerships
	// Partial: some DC's inbound replication status could not be read (Coverage names them):
	// the plan cannot say anything about those DCs' links.
	Partial    bool `json:"partial"`
	DCsNotRead int  `json:"dcs_not_read"`
}

// Finding is the diagnosis of one partnership: every failing link from one source DSA (as the
// destination knows it) to one destination, across all its naming contexts. One DNS diagnosis
// covers all NCs of the pair, because the destination looks up the same GUID CNAME for each.
type Finding struct {
	ID       string        `json:"id"` // "DEST<-SOURCE", e.g. "DC1<-DC2" (plus "@guid" prefix when ambiguous)
	Link     LinkInfo      `json:"link"`
	Status   FindingStatus `json:"status"`
	Decision *DecisionRef  `json:"decision,omitempty"`
	// Walk lists every decision considered, in order, with its outcome.
	Walk     []WalkStep    `json:"walk"`
	Evidence []CheckResult `json:"evidence"`
	Actions  []Action      `json:"actions,omitempty"`
	Manual   []ManualStep  `json:"manual,omitempty"`
	Needs    []Need        `json:"needs,omitempty"`
	Flags    []Flag        `json:"flags,omitempty"`
	// Fingerprint is "sha256:<hex>" over the facts this finding's decisions depended on.
	Fingerprint string `json:"fingerprint"`
	// Incomplete is the one-line reason when Status is not FindingDiagnosed.
	Incomplete string `json:"incomplete,omitempty"`
	// Assumptions name the guesses the diagnosis rests on: one sentence per DC whose DNS client
	// settings were assumed rather than read (facts.DC.DNSServersFrom "assumed-self", from
	// gather --assume-self-dns) when the walk (or the winning decision's actions) read them.
	// heal never runs the actions of a finding with assumptions unattended.
	Assumptions []string `json:"assumptions,omitempty"`
	// Errors are playbook expressions that failed on these facts (the value counts as unknown).
	Errors []string `json:"errors,omitempty"`
}

// Warning is one warning block of the playbook that holds for a partnership whose links all
// succeed (last result 0): it works today and will fail once something it depends on goes
// away. It proposes no action; its manual steps are rendered like a decision's.
type Warning struct {
	// ID is "DEST<-SOURCE" like a finding's, plus "@<guid prefix>" when another warning's or a
	// finding's partnership has the same names.
	ID      string       `json:"id"`
	Name    string       `json:"name"`    // the playbook's warning name
	Message string       `json:"message"` // rendered for this partnership
	See     string       `json:"see,omitempty"`
	Doc     string       `json:"doc,omitempty"`
	Link    LinkInfo     `json:"link"`
	Manual  []ManualStep `json:"manual,omitempty"`
	Flags   []Flag       `json:"flags,omitempty"`
}

// LinkRef names one replication link (one NC).
type LinkRef struct {
	Destination   string `json:"destination"`
	Source        string `json:"source"`
	SourceDSAGUID string `json:"source_dsa_guid"`
	NC            string `json:"nc"`
	LastResult    int    `json:"last_result"`
}

// LinkInfo describes the partnership of a finding.
type LinkInfo struct {
	Destination     string   `json:"destination"`
	DestinationGUID string   `json:"destination_guid,omitempty"`
	Source          string   `json:"source"` // server name ("" when the source DSA is unknown to the topology)
	SourceDSAGUID   string   `json:"source_dsa_guid"`
	SourceDSADN     string   `json:"source_dsa_dn,omitempty"`
	SourceAddress   string   `json:"source_address,omitempty"`
	NCs             []NCLink `json:"ncs"`
}

// NCLink is the status of one NC of a partnership.
type NCLink struct {
	NC                  string    `json:"nc"`
	LastResult          int       `json:"last_result"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastSuccess         time.Time `json:"last_success"`
	LastAttempt         time.Time `json:"last_attempt"`
}

// DecisionRef is the decision that holds for a finding.
type DecisionRef struct {
	Name  string `json:"name"`
	Cause string `json:"cause"`
	See   string `json:"see"` // the article's section title
	Doc   string `json:"doc,omitempty"`
}

// WalkStep is one decision considered while walking the table.
type WalkStep struct {
	Decision string     `json:"decision"`
	Result   WalkResult `json:"result"`
	Unknown  []string   `json:"unknown,omitempty"` // what was unknown (facts, checks)
}

// CheckResult is the evidence of one check for one finding.
type CheckResult struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"` // dns | tcp | event | assert
	Doc    string `json:"doc,omitempty"`
	Status Status `json:"status"`
	// Reading is what the status means (Reading* constant): a check that looks for a problem
	// (ok_means = "problem") reads "problem_found" when it holds. Empty in plans made before
	// it existed.
	Reading Reading `json:"reading,omitempty"`
	Summary string  `json:"summary"`
	// Observations are what each server, port or DC showed (dns, tcp, event checks).
	Observations []Observation `json:"observations,omitempty"`
	// Facts are the facts an assert check read, with their values.
	Facts []FactValue `json:"facts,omitempty"`
}

// Observation is what one target showed for a check.
type Observation struct {
	Target    string   `json:"target"`            // DNS server IP, host:port, or DC name
	Query     string   `json:"query,omitempty"`   // "CNAME <name>" for DNS
	Status    Status   `json:"status"`            // for this target
	Rcode     string   `json:"rcode,omitempty"`   // DNS
	AA        bool     `json:"aa,omitempty"`      // DNS: authoritative answer
	Answers   []string `json:"answers,omitempty"` // DNS answer data, or event summaries
	Authority []string `json:"authority,omitempty"`
	Result    string   `json:"result,omitempty"` // TCP: open | refused | timeout | error
	Error     string   `json:"error,omitempty"`
	Note      string   `json:"note,omitempty"` // e.g. "not gathered"
}

// FactValue is one fact and the value the planner saw.
type FactValue struct {
	Fact  string `json:"fact"`  // e.g. "link.source.own_dsa_guid"
	Value string `json:"value"` // HCL-like rendering; "(unknown: reason)" when unknown
}

// Action is one remediation proposed for a finding.
type Action struct {
	ID                string   `json:"id"`   // "<finding id>/<action name>"
	Key               string   `json:"key"`  // same key = same effect (same action, target and body): apply runs it once
	Name              string   `json:"name"` // the playbook's action name
	Title             string   `json:"title"`
	Kind              Kind     `json:"kind,omitempty"` // empty when the platform is unknown
	Risk              Risk     `json:"risk"`
	Target            string   `json:"target"` // DC name
	TargetDNSHostName string   `json:"target_dns_host_name,omitempty"`
	TargetIPs         []string `json:"target_ips,omitempty"`
	Platform          Platform `json:"platform"`
	Transport         string   `json:"transport"` // winrm | ssh | ldap | "" when unknown
	// PowerShell is the script text from the playbook (never with facts spliced in); the
	// transport passes Params to it as data in $P.
	PowerShell string `json:"powershell,omitempty"`
	// Argv is the exact argument vector for an SSH command; ArgvDisplay is it quoted for a
	// POSIX shell (what the transport sends).
	Argv                 []string       `json:"argv,omitempty"`
	ArgvDisplay          string         `json:"argv_display,omitempty"`
	IgnoreExit           bool           `json:"ignore_exit,omitempty"`
	Params               map[string]any `json:"params,omitempty"`
	LDAPDelete           *LDAPDelete    `json:"ldap_delete,omitempty"`
	Verify               []string       `json:"verify,omitempty"`         // check names to re-run until they pass
	VerifyTimeout        string         `json:"verify_timeout,omitempty"` // Go duration
	Guards               []GuardResult  `json:"guards,omitempty"`
	RequiresApprovalEach bool           `json:"requires_approval_each,omitempty"`
	// Blocked is true when apply must refuse this action: a guard is false or unknown, a value
	// it uses is flagged as hostile, or the target's platform is unknown. Reasons says why.
	Blocked bool     `json:"blocked,omitempty"`
	Reasons []string `json:"blocked_reasons,omitempty"`
}

// LDAPDelete is an LDAP delete, with the tree-delete control when Tree is set.
type LDAPDelete struct {
	DN   string `json:"dn"`
	Tree bool   `json:"tree"`
	// ExpectGUID, when set, is the objectGUID the object at DN must have: apply reads it
	// first and refuses to delete anything else.
	ExpectGUID string `json:"expect_guid,omitempty"`
}

// GuardResult is one guard of an action, evaluated at plan time. Apply evaluates it again on
// fresh facts; a false or unknown guard is a hard refusal.
type GuardResult struct {
	Name      string `json:"name"`
	Condition string `json:"condition"` // the expression as written in the playbook
	Status    Status `json:"status"`
	Message   string `json:"message"`
}

// ManualStep is something a human must do, with exact commands for this link.
type ManualStep struct {
	Title string `json:"title"`
	Text  string `json:"text,omitempty"`
	On    string `json:"on,omitempty"`    // DC to run the commands on ("" = any admin workstation)
	Shell string `json:"shell,omitempty"` // cmd | powershell | posix
	// Commands are rendered for Shell: every value is quoted for it; a value that cannot be
	// quoted safely is replaced by a <VALUE-n> placeholder and listed in Flags.
	Commands []string `json:"commands,omitempty"`
	Flagged  bool     `json:"flagged,omitempty"` // a command uses a flagged value: read it before running it
}

// Need is something to gather before the diagnosis can go on.
type Need struct {
	Kind   NeedKind        `json:"kind"`
	Fact   string          `json:"fact,omitempty"`   // "link.source.dns_servers"
	DC     string          `json:"dc,omitempty"`     // the DC the fact is about
	Reason string          `json:"reason,omitempty"` // why it is unknown ("not gathered", "no WinRM credentials")
	DNS    *facts.DNSQuery `json:"dns,omitempty"`
	TCP    *facts.TCPProbe `json:"tcp,omitempty"`
	For    []string        `json:"for,omitempty"` // the checks or decisions that need it
}

// Flag reports a fact value that looks hostile or invalid (shell metacharacters, control
// characters, oversized, not a GUID/IP/DNS name where one is expected). Flagged values are
// never rendered unquoted; actions that use them are blocked.
type Flag struct {
	Fact    string `json:"fact"`
	Value   string `json:"value"` // Go-quoted and truncated for display
	Problem string `json:"problem"`
	// Raw is the value itself, for the planner to recognise it where it is rendered; it is
	// never written to a plan file.
	Raw string `json:"-"`
}
