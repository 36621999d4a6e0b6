// Package report renders a fix8524 plan, and what the journal recorded about it, for people:
// one self-contained HTML page with the replication topology drawn (HTML), or Markdown for a
// change ticket or a pull request (Markdown). It is pure: plan, approval state and journal
// entries in, bytes out; no clock, no I/O, no network. Equal input gives equal bytes.
//
// Every string of the plan is untrusted (it comes from AD or from a plan file): the renderers
// work on a deep copy in which control, bidirectional and invisible characters are written as
// visible escapes (internal/termtext, the one escaping of every human view); the HTML goes through html/template only (no value becomes markup) under a
// Content-Security-Policy that admits only the page's own style and script, by hash; the
// Markdown puts values in code spans and fenced blocks sized so that no value can close them.
package report

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// Input is what a report shows.
type Input struct {
	Plan *plan.Plan
	// PlanFile names the plan in the report (its file name); "" when it has none.
	PlanFile string
	// Approval is the state of the plan's approval; nil when it was not looked at.
	Approval *Approval
	// Journal is what the journal holds; nil when it was not read.
	Journal *Journal
}

// Approval states.
const (
	ApprovalMissing = "missing" // no approval file next to the plan
	ApprovalValid   = "valid"   // an approval admits this plan now
	ApprovalRefused = "refused" // an approval exists and does not admit this plan (Problem says why)
)

// Approval is what the caller found about the plan's approval.
type Approval struct {
	Status  string // Approval* constant
	By      string
	At      time.Time
	Expires time.Time
	Reason  string
	KeyID   string // the signing key, "" when unsigned
	Problem string // why the approval does not admit the plan (ApprovalRefused)
}

// Journal is the journal's entries as read by the caller. The report keeps those about the
// plan (same plan fingerprint), oldest first.
type Journal struct {
	Source  string // where they were read ("the journal in /var/lib/fix8524")
	Entries []journal.Entry
}

// maxJournalRows bounds the journal table.
const maxJournalRows = 500

// model is what both renderers show, built from a cleaned copy of the input.
type model struct {
	Title    string
	Forest   string
	Headline string
	Tone     string // ok | warn | bad
	PlanFile string
	Meta     []pair
	Counts   []count
	// ByDecision counts the findings per decision (and those not diagnosed), most first.
	ByDecision []count
	Approval   string
	ApprTone   string
	Findings   []findingView
	Warnings   []warningView
	Unmatched  []unmatchedRow
	Journal    *journalView
	Coverage   coverageView
	Plan       *plan.Plan
	// unread is every DC not read, by lower-case name: the plan's coverage and its topology's
	// unread DCs together, so that the banner, the list and the drawing agree.
	unread map[string]facts.DCNotRead
}

// coverageView is what the plan says it read: DCs read of the DCs known, links read, every DC
// not read with the reason, and the gathering problems, folded by message.
type coverageView struct {
	Stated      bool // the plan carries its coverage (plans made before it did not)
	Partial     bool
	Known, Read int
	LinksRead   int
	NotRead     []facts.DCNotRead // sorted by name
	// Problems are the gathering problems grouped by message, most frequent first, at most
	// maxProblemGroups; ProblemCount counts them all, MoreGroups the groups left out.
	Problems     []problemGroup
	ProblemCount int
	MoreGroups   int
}

// problemGroup is one gathering problem message and where it happened.
type problemGroup struct {
	Message string
	Scopes  []string // at most maxProblemScopes
	N       int      // scopes in all
	More    int      // scopes left out
}

// Bounds of the gathering problems shown: a forest with a thousand silent DCs gives a thousand
// problems that say the same.
const (
	maxProblemGroups = 100
	maxProblemScopes = 20
)

type pair struct {
	K, V string
	Code bool // V is an identifier (monospace)
}

type count struct {
	Label string
	N     int
	Tone  string // "" | ok | warn | bad
	Note  string
}

type findingView struct {
	*plan.Finding
	Anchor      string // "f-1": ids never come from values
	N           int
	Tone        string
	StatusText  string
	Results     string
	MaxFailures int
	LastSuccess string
	Evidence    []evidenceView
	Actions     []actionView
	Manual      []manualView
	Needs       []string
	Walk        []plan.WalkStep
}

type evidenceView struct {
	plan.CheckResult
	Tone       string
	StatusText string
}

type actionView struct {
	plan.Action
	Command    string // what runs, as shown
	Lang       string // powershell | posix | ldap
	ParamsJSON string
	Where      string
	RiskClass  string // low | medium | high | other: a class name, never the plan's text
}

type manualView struct {
	plan.ManualStep
	Where  string
	Prompt string
	Lang   string
}

type warningView struct {
	*plan.Warning
	Anchor string
	Manual []manualView
}

type unmatchedRow struct {
	Destination, Source, NCs string
	Result                   int
	Count                    int
}

type journalView struct {
	Source string
	Rows   []journal.Entry
	Total  int // entries about the plan (Rows may hold fewer)
}

// build checks the input and makes the model from a cleaned copy of it.
func build(in Input) (*model, error) {
	if in.Plan == nil {
		return nil, errors.New("report: no plan")
	}
	p, err := cleanCopy(in.Plan)
	if err != nil {
		return nil, fmt.Errorf("report: copying the plan: %w", err)
	}
	m := &model{Plan: p, PlanFile: termtext.Text(in.PlanFile)}
	if p.Topology != nil {
		m.Forest = p.Topology.Forest
	}
	m.Title = "fix8524 report"
	if m.Forest != "" {
		m.Title += ": " + termtext.Escape(m.Forest)
	}
	m.coverage()
	m.headline()
	m.meta(in.Approval)
	m.counts()
	for i := range p.Findings {
		m.Findings = append(m.Findings, newFindingView(&p.Findings[i], i+1))
	}
	for i := range p.Warnings {
		w := &p.Warnings[i]
		m.Warnings = append(m.Warnings, warningView{Warning: w, Anchor: "w-" + strconv.Itoa(i+1), Manual: manualViews(w.Manual)})
	}
	m.byDecision()
	m.Unmatched = groupUnmatched(p.Unmatched)
	if in.Journal != nil {
		m.Journal = journalOf(in.Journal, in.Plan.Fingerprint)
	}
	return m, nil
}

func (m *model) headline() {
	p := m.Plan
	s := p.Summary
	var parts []string
	switch {
	case len(p.Findings) == 0 && len(p.Unmatched) == 0 && m.Coverage.Partial:
		m.Tone = "warn"
		parts = append(parts, "No replication link that was read fails with an error this playbook handles; the links of the DCs not read are unknown.")
	case len(p.Findings) == 0 && len(p.Unmatched) == 0:
		m.Tone = "ok"
		parts = append(parts, "No replication link fails with an error this playbook handles: nothing to do.")
	case len(p.Findings) > 0:
		m.Tone = "bad"
		diag := fmt.Sprintf("%d diagnosed", s.Diagnosed)
		if s.Incomplete > 0 {
			diag += fmt.Sprintf(", %d with the diagnosis incomplete", s.Incomplete)
		}
		parts = append(parts, fmt.Sprintf("%s fail%s with a DNS lookup error (%s).",
			plural(len(p.Findings), "partnership"), verbS(len(p.Findings)), diag))
		if s.Actions > 0 {
			parts = append(parts, fmt.Sprintf("%s proposed (%s)%s.", plural(s.Actions, "action"), riskText(s.ByRisk), blockedText(s.Blocked)))
		} else {
			parts = append(parts, "No action proposed.")
		}
		if s.ManualSteps > 0 {
			parts = append(parts, plural(s.ManualSteps, "manual step")+" for a person.")
		}
	default:
		m.Tone = "warn"
	}
	if n := len(p.Unmatched); n > 0 {
		parts = append(parts, fmt.Sprintf("%s fail%s with other errors this playbook does not handle: a person must look.", plural(n, "link"), verbS(n)))
	}
	if n := len(p.Warnings); n > 0 {
		if m.Tone == "ok" {
			m.Tone = "warn"
		}
		parts = append(parts, fmt.Sprintf("%s: links that replicate now and will fail later.", plural(n, "warning")))
	}
	m.Headline = strings.Join(parts, " ")
}

// coverage reads the plan's coverage, and the topology's unread DCs, into m.Coverage and
// m.unread.
func (m *model) coverage() {
	p := m.Plan
	c := &m.Coverage
	m.unread = map[string]facts.DCNotRead{}
	add := func(name, why string) {
		k := strings.ToLower(name)
		if _, ok := m.unread[k]; ok {
			return
		}
		if why == "" {
			why = "not read (the plan gives no reason)"
		}
		m.unread[k] = facts.DCNotRead{Name: name, Reason: why}
		c.NotRead = append(c.NotRead, facts.DCNotRead{Name: termtext.Escape(name), Reason: termtext.Escape(why)})
	}
	if cov := p.Coverage; cov != nil {
		c.Stated = true
		c.Known, c.Read, c.LinksRead = cov.DCs, cov.DCsRead, cov.LinksRead
		for _, d := range cov.NotRead {
			add(d.Name, d.Reason)
		}
		c.problems(cov.Problems)
	}
	if t := p.Topology; t != nil {
		for _, dc := range t.DCs {
			if dc.Unread != "" {
				add(dc.Name, dc.Unread)
			}
		}
		if !c.Stated {
			c.Known, c.LinksRead = len(t.DCs), p.Summary.Links
			c.Read = c.Known - len(c.NotRead)
		}
	}
	sort.SliceStable(c.NotRead, func(i, j int) bool { return c.NotRead[i].Name < c.NotRead[j].Name })
	c.Partial = p.Summary.Partial || len(c.NotRead) > 0 || (c.Stated && !p.Coverage.Complete)
}

// problems folds the gathering problems by message.
func (c *coverageView) problems(ps []facts.Problem) {
	c.ProblemCount = len(ps)
	idx := map[string]int{}
	var groups []problemGroup
	for _, pr := range ps {
		i, ok := idx[pr.Message]
		if !ok {
			i = len(groups)
			idx[pr.Message] = i
			groups = append(groups, problemGroup{Message: termtext.Escape(pr.Message)})
		}
		g := &groups[i]
		g.N++
		if len(g.Scopes) < maxProblemScopes {
			g.Scopes = append(g.Scopes, termtext.Escape(pr.Scope))
		} else {
			g.More++
		}
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].N > groups[j].N })
	if len(groups) > maxProblemGroups {
		c.MoreGroups = len(groups) - maxProblemGroups
		groups = groups[:maxProblemGroups]
	}
	c.Problems = groups
}

// notReadText is "2 of 14 DCs could not be read" (or, for a plan that says it is partial
// without naming a DC, how many it says).
func (c coverageView) notReadText() string {
	n := len(c.NotRead)
	if n == 0 {
		return "the plan says some DCs could not be read"
	}
	if c.Known > 0 {
		return fmt.Sprintf("%d of %d DCs could not be read", n, c.Known)
	}
	return plural(n, "DC") + " could not be read"
}

// BannerText is the partial banner's sentence.
func (c coverageView) BannerText() string {
	return c.notReadText() + ": their inbound replication links are unknown, and this report cannot say that they replicate."
}

// Text is the coverage in one sentence.
func (c coverageView) Text() string {
	if c.Known == 0 && !c.Stated {
		return "The plan does not say how much of the forest was read (it was made by an earlier fix8524)."
	}
	s := fmt.Sprintf("%d of %d DCs read, %s read", c.Read, c.Known, plural(c.LinksRead, "link"))
	if c.Partial {
		return "Partial: " + s + ". The inbound replication status of the DCs below could not be read: their links are unknown, not healthy."
	}
	return "Complete: " + s + "."
}

func (m *model) meta(a *Approval) {
	p := m.Plan
	add := func(k, v string, code bool) {
		if v != "" {
			m.Meta = append(m.Meta, pair{K: k, V: v, Code: code})
		}
	}
	add("Forest", m.Forest, true)
	add("Seed DC", p.Facts.SeedDC, true)
	add("Facts", p.Facts.Source, true)
	add("Gathered at", stamp(p.Facts.GatheredAt), false)
	add("Plan made at", stamp(p.CreatedAt), false)
	add("Plan file", m.PlanFile, true)
	pb := p.Playbook.Name
	if p.Playbook.Title != "" {
		pb += " (" + p.Playbook.Title + ")"
	}
	add("Playbook", pb, false)
	add("Playbook digest", p.Playbook.Digest, true)
	add("Plan fingerprint", p.Fingerprint, true)
	if a == nil {
		return
	}
	switch a.Status {
	case ApprovalValid:
		m.ApprTone = "ok"
		m.Approval = fmt.Sprintf("approved by %s at %s, valid until %s", termtext.Escape(a.By), stamp(a.At), stamp(a.Expires))
		if a.KeyID != "" {
			m.Approval += ", signed by key " + termtext.Escape(a.KeyID)
		}
		if a.Reason != "" {
			m.Approval += " (" + termtext.Escape(a.Reason) + ")"
		}
	case ApprovalRefused:
		m.ApprTone = "bad"
		m.Approval = "an approval exists but does not admit this plan: " + termtext.Escape(a.Problem)
	default:
		m.ApprTone = "warn"
		m.Approval = "not approved"
	}
	add("Approval", m.Approval, false)
}

func (m *model) counts() {
	s := m.Plan.Summary
	tone := func(n int, t string) string {
		if n > 0 {
			return t
		}
		return ""
	}
	if c := m.Coverage; c.Known > 0 || c.Stated {
		dcs := count{Label: "DCs read", N: c.Read, Note: fmt.Sprintf("of %d known", c.Known)}
		if c.Partial {
			dcs.Tone, dcs.Note = "bad", fmt.Sprintf("of %d known: PARTIAL", c.Known)
		}
		m.Counts = append(m.Counts, dcs)
	}
	m.Counts = append(m.Counts,
		count{Label: "links", N: s.Links},
		count{Label: "failing links", N: s.FailingLinks, Tone: tone(s.FailingLinks, "bad")},
		count{Label: "partnerships to fix", N: s.Findings, Tone: tone(s.Findings, "bad")},
		count{Label: "actions", N: s.Actions, Note: riskText(s.ByRisk)},
		count{Label: "manual steps", N: s.ManualSteps},
	)
	// The rest only when there is something to count.
	for _, c := range []count{
		{Label: "diagnosis incomplete", N: s.Incomplete, Tone: "warn"},
		{Label: "blocked actions", N: s.Blocked, Tone: "bad"},
		{Label: "not handled", N: s.Unmatched, Tone: "warn"},
		{Label: "warnings", N: s.Warnings, Tone: "warn"},
	} {
		if c.N > 0 {
			m.Counts = append(m.Counts, c)
		}
	}
	if s.Flags > 0 {
		m.Counts = append(m.Counts, count{Label: "flagged values", N: s.Flags, Tone: "bad"})
	}
}

func (m *model) byDecision() {
	n := map[string]int{}
	for _, f := range m.Findings {
		k := "diagnosis " + f.StatusText
		if f.Decision != nil {
			k = f.Decision.Name
		}
		n[k]++
	}
	for k, v := range n {
		m.ByDecision = append(m.ByDecision, count{Label: k, N: v})
	}
	sort.Slice(m.ByDecision, func(i, j int) bool {
		a, b := m.ByDecision[i], m.ByDecision[j]
		if a.N != b.N {
			return a.N > b.N
		}
		return a.Label < b.Label
	})
}

func newFindingView(f *plan.Finding, n int) findingView {
	v := findingView{Finding: f, N: n, Anchor: "f-" + strconv.Itoa(n), Walk: f.Walk}
	switch {
	case f.Status == plan.FindingDiagnosed && f.Decision != nil:
		v.Tone, v.StatusText = "bad", "diagnosed"
	case f.Status == plan.FindingDiagnosed:
		// A plan file that says diagnosed without a decision: shown as what it is.
		v.Tone, v.StatusText = "warn", "diagnosed (no decision in the plan file)"
	default:
		v.Tone, v.StatusText = "warn", termtext.Escape(string(f.Status))
		if v.StatusText == "" {
			v.StatusText = "unknown status"
		}
	}
	results := map[int]bool{}
	var oldest time.Time
	never := false
	for _, nc := range f.Link.NCs {
		results[nc.LastResult] = true
		v.MaxFailures = max(v.MaxFailures, nc.ConsecutiveFailures)
		if nc.LastSuccess.IsZero() {
			never = true
		} else if oldest.IsZero() || nc.LastSuccess.Before(oldest) {
			oldest = nc.LastSuccess
		}
	}
	var rs []int
	for r := range results {
		rs = append(rs, r)
	}
	sort.Ints(rs)
	var parts []string
	for _, r := range rs {
		parts = append(parts, strconv.Itoa(r))
	}
	v.Results = strings.Join(parts, ", ")
	switch {
	case never:
		v.LastSuccess = "never"
	case !oldest.IsZero():
		v.LastSuccess = stamp(oldest)
	}
	for _, ev := range f.Evidence {
		e := evidenceView{CheckResult: ev}
		e.Tone, e.StatusText = readingTone(ev)
		v.Evidence = append(v.Evidence, e)
	}
	for _, a := range f.Actions {
		v.Actions = append(v.Actions, newActionView(a))
	}
	v.Manual = manualViews(f.Manual)
	for _, nd := range f.Needs {
		v.Needs = append(v.Needs, needText(nd))
	}
	return v
}

// readingTone names a piece of evidence as the article reads it (problem found / no problem /
// unknown); a plan without readings falls back to the check's status.
func readingTone(ev plan.CheckResult) (tone, text string) {
	switch ev.Reading {
	case plan.ReadingProblem:
		return "bad", "problem found"
	case plan.ReadingNoProblem:
		return "ok", "no problem"
	case plan.ReadingUnknown:
		return "warn", "unknown"
	}
	return statusTone(ev.Status)
}

// statusTone names a check or guard status.
func statusTone(s plan.Status) (tone, text string) {
	switch s {
	case plan.StatusOK:
		return "ok", "holds"
	case plan.StatusFailed:
		return "bad", "does not hold"
	case plan.StatusUnknown:
		return "warn", "unknown"
	}
	return "warn", termtext.Escape(string(s))
}

func newActionView(a plan.Action) actionView {
	v := actionView{Action: a, RiskClass: "other"}
	switch a.Risk {
	case plan.RiskLow, plan.RiskMedium, plan.RiskHigh:
		v.RiskClass = string(a.Risk)
	}
	v.Where = "on " + termtext.Escape(a.Target)
	if a.Platform != "" || a.Transport != "" {
		v.Where += " (" + orDash(string(a.Platform)) + " over " + orDash(a.Transport) + ")"
	}
	switch a.Kind {
	case plan.KindPowerShell:
		v.Lang, v.Command = "powershell", strings.TrimRight(a.PowerShell, "\n")
	case plan.KindArgv:
		v.Lang, v.Command = "sh", a.ArgvDisplay
	case plan.KindLDAPDelete:
		v.Lang = "ldap"
		if d := a.LDAPDelete; d != nil {
			v.Command = "LDAP delete: " + d.DN
			if d.Tree {
				v.Command = "LDAP tree delete: " + d.DN
			}
			if d.ExpectGUID != "" {
				v.Command += "\nonly if its objectGUID is " + d.ExpectGUID
			}
		}
	}
	if len(a.Params) > 0 {
		v.ParamsJSON = jsonText(a.Params)
	}
	return v
}

func manualViews(steps []plan.ManualStep) []manualView {
	var out []manualView
	for _, m := range steps {
		v := manualView{ManualStep: m, Where: "on an admin workstation"}
		if m.On != "" {
			v.Where = "on " + termtext.Escape(m.On)
		}
		switch m.Shell {
		case "cmd":
			v.Prompt, v.Lang = `C:\>`, "bat"
		case "powershell":
			v.Prompt, v.Lang = "PS>", "powershell"
		case "posix":
			v.Prompt, v.Lang = "$", "sh"
		}
		out = append(out, v)
	}
	return out
}

// needText says what to gather; it never trusts the plan file to fill the fields its kind needs.
func needText(n plan.Need) string {
	var s string
	switch {
	case n.Kind == plan.NeedDNS && n.DNS != nil:
		s = fmt.Sprintf("DNS %s %s from %s", n.DNS.Type, n.DNS.Name, n.DNS.Server)
		if n.DNS.NoRecurse {
			s += " (no recursion)"
		}
	case n.Kind == plan.NeedTCP && n.TCP != nil:
		s = fmt.Sprintf("TCP %s port %d", n.TCP.Host, n.TCP.Port)
	default:
		s = n.Fact
		if n.DC != "" {
			s += " of " + n.DC
		}
		if n.Reason != "" {
			s += " (" + n.Reason + ")"
		}
	}
	if len(n.For) > 0 {
		s += ", for " + strings.Join(n.For, ", ")
	}
	return termtext.Escape(s)
}

// groupUnmatched groups unmatched links by partnership and result (all of them: the report is
// where a person looks at every one).
func groupUnmatched(links []plan.LinkRef) []unmatchedRow {
	var out []unmatchedRow
	for _, g := range plan.GroupAllUnmatched(links) {
		ncs := append([]string(nil), g.NCs...)
		sort.Strings(ncs)
		out = append(out, unmatchedRow{Destination: g.Destination, Source: g.Source, Result: g.Result, Count: len(g.NCs), NCs: strings.Join(ncs, "; ")})
	}
	return out
}

func journalOf(j *Journal, fingerprint string) *journalView {
	v := &journalView{Source: termtext.Text(j.Source)}
	for _, e := range j.Entries {
		if e.PlanFingerprint == "" || e.PlanFingerprint != fingerprint {
			continue
		}
		v.Total++
		if len(v.Rows) < maxJournalRows {
			e.Actor, e.Name, e.Target, e.Link = termtext.Escape(e.Actor), termtext.Escape(e.Name), termtext.Escape(e.Target), termtext.Escape(e.Link)
			e.Reason, e.Command, e.Error, e.Verification = termtext.Text(e.Reason), termtext.Text(e.Command), termtext.Text(e.Error), termtext.Text(e.Verification)
			e.Kind, e.Outcome = journal.Kind(termtext.Escape(string(e.Kind))), journal.Outcome(termtext.Escape(string(e.Outcome)))
			v.Rows = append(v.Rows, e)
		}
	}
	sort.SliceStable(v.Rows, func(i, k int) bool {
		if !v.Rows[i].Time.Equal(v.Rows[k].Time) {
			return v.Rows[i].Time.Before(v.Rows[k].Time)
		}
		return v.Rows[i].ID < v.Rows[k].ID
	})
	return v
}

// ---- small text helpers ----

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func verbS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

// riskText is "2 low, 1 high" in risk order, then any other level the plan file names.
func riskText(by map[plan.Risk]int) string {
	var parts []string
	seen := map[plan.Risk]bool{}
	for _, r := range plan.Risks {
		seen[r] = true
		if n := by[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, r))
		}
	}
	var other []string
	for r, n := range by {
		if !seen[r] && n > 0 {
			other = append(other, fmt.Sprintf("%d %s", n, termtext.Escape(string(r))))
		}
	}
	sort.Strings(other)
	return strings.Join(append(parts, other...), ", ")
}

func blockedText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d blocked", n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return termtext.Escape(s)
}
