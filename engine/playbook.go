package engine

import (
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/fix8524/fix8524/plan"
)

// Playbook is a loaded, validated playbook: the decision table (checks, decisions, actions)
// with every expression parsed and type-checked once, ready to be evaluated per partnership.
type Playbook struct {
	Name        string
	Title       string
	Description string
	Files       []string // file names, in load order
	Digest      string   // "sha256:<hex>" over the files' names and bytes

	Checks    []*Check       // in file order
	Decisions []*Decision    // in file order: the walk order
	Warnings  []*WarningRule // in file order: every one that holds is reported
	Actions   []*Action      // in file order
	Windows   []plan.WindowSpec
	Variables []*Variable

	matches  *cexpr
	evidence []string // checks shown for every finding (supporting evidence)

	checkByName   map[string]*Check
	actionByName  map[string]*Action
	varValues     map[string]cty.Value
	sources       map[string]*hcl.File
	needForestDCs bool
	// warnLinkAttrs are the attributes of `link` the warnings' when expressions read, directly
	// or through their checks: the only ones built for a healthy partnership until a warning
	// holds (every one when warnLinkAll: an expression reads link as a whole).
	warnLinkAttrs []string
	warnLinkAll   bool
	// warnNeedDCs: the warnings' when reads a DC of the partnership (or the source's name), so
	// its DCs are looked up before evaluating it.
	warnNeedDCs bool
	// warnMemo: the warnings' when reads only attributes of warnStringAttrs, so its value
	// depends on their values alone and is computed once per distinct set of them.
	warnMemo bool
	// matchesPerLink: matches reads per-NC attributes of link (nc, failures, times), so it is
	// evaluated for every link rather than once per partnership and result.
	matchesPerLink bool
}

// Check is one `check` block.
type Check struct {
	Name string
	Doc  string
	Kind string // dns | tcp | event | assert
	// OKMeans says what the check holding means: OKMeansHealthy (the default: it looks for
	// something working, and failing is the problem) or OKMeansProblem (it looks for a problem,
	// and holding is finding it). It changes how evidence reads, never how it is evaluated.
	OKMeans   plan.OKMeans
	DeclRange hcl.Range

	// dns
	dnsName    *cexpr
	dnsServers *cexpr
	dnsType    string
	recurse    bool
	rcodes     []string
	answer     bool
	inAuth     bool // in_authority: the record may be in the authority section (NODATA)
	absent     bool // absent: ok when the answer says the record does not exist
	all        bool // match = "all" (dns, tcp)
	expect     *cexpr

	// tcp
	host  *cexpr
	ports *cexpr

	// event
	on     *cexpr
	ids    *cexpr
	within time.Duration
	match  *cexpr

	// assert
	cond *cexpr

	exprs []*cexpr // every expression of the check, for dependencies

	// used lists the attributes of check.NAME that expressions read; usedAll when one reads the
	// whole object. Only those are built at plan time.
	used    map[string]bool
	usedAll bool
	// placeholder stands for the check's result before it is evaluated (unknown).
	placeholder cty.Value
	// statusVals are the check's values by status when expressions read nothing of it but ok,
	// status and kind (nil otherwise).
	statusVals map[plan.Status]cty.Value
	// refs are the facts the check reads; for an event check's `on`, the events of those DCs.
	refs []factRef
}

// Decision is one `decision` block.
type Decision struct {
	Name      string
	DeclRange hcl.Range
	See       string
	Doc       string
	Remedy    []string // action names

	when     *cexpr
	cause    *cexpr
	manual   []*Manual
	optional []hcl.Traversal // facts or checks whose unknown-ness skips rather than stops
}

// WarningRule is one `warning` block: an advisory for a partnership whose links all replicate
// today but depend on something that may go away (see planWarnings). Its expressions read only
// facts and assert checks (transitively): healthy partnerships are many, and evaluating a
// warning never asks the gatherer for a DNS query, a TCP probe or events.
type WarningRule struct {
	Name      string
	DeclRange hcl.Range
	See       string
	Doc       string

	when    *cexpr
	message *cexpr
	manual  []*Manual
}

// Manual is one `manual` block of a decision or a warning.
type Manual struct {
	Title string
	Shell string // cmd | powershell | posix

	text     *cexpr
	on       *cexpr
	commands *cexpr // list(list(string))
	command  *cexpr // list(string)
	when     *cexpr
}

// Action is one `action` block.
type Action struct {
	Name                 string
	DeclRange            hcl.Range
	Doc                  string
	Risk                 plan.Risk
	Verify               []string
	VerifyTimeout        time.Duration
	RequiresApprovalEach bool

	title  *cexpr
	on     *cexpr
	params *cexpr

	windowsPS       string // windows { powershell = "..." }
	hasWindows      bool
	sambaArgv       *cexpr
	sambaIgnoreExit bool
	hasSamba        bool
	ldapDN          *cexpr
	ldapTree        bool
	ldapGUID        *cexpr
	hasLDAP         bool

	guards []*Guard
}

// Guard is one `guard` block of an action.
type Guard struct {
	Name    string
	cond    *cexpr
	message *cexpr
}

// VariableValues returns the values of the playbook's variables as the plan records them
// (plan.Plan.Variables); nil when it declares none.
func (pb *Playbook) VariableValues() map[string]any {
	if len(pb.Variables) == 0 {
		return nil
	}
	out := make(map[string]any, len(pb.Variables))
	for _, v := range pb.Variables {
		out[v.Name] = goValue(v.Value)
	}
	return out
}

// Variable is one `variable` block with its resolved value.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	Value       cty.Value
}

// cexpr is a parsed expression with its static references, computed once at load.
type cexpr struct {
	expr   hcl.Expression
	facts  []hcl.Traversal // references rooted at link, forest or var
	refs   []factRef       // the same, deduplicated, with their paths
	trav   hcl.Traversal   // set when the expression is just a reference to a fact (fast path)
	checks []string        // check names referenced
	src    string          // the source text, for plans and diagnostics

	// konst is the value of an expression that reads nothing (a literal): isConst.
	konst   cty.Value
	isConst bool
	// For `on` expressions (compileOn): abs is the expression as an absolute traversal
	// (absOK), and onRefs are the references to its name and platform (see attrRef).
	abs    hcl.Traversal
	absOK  bool
	onRefs map[string]factRef
	// checkVars caches the `check` object by the statuses of checks (see checkVar): set when
	// the expression reads at most maxSharedChecks checks, each with statusVals.
	checkVars []atomic.Pointer[cty.Value]
}

// onAttrs are the attributes of an `on` DC the planner records as dependencies.
var onAttrs = []string{"name", "platform"}

// attrRef is the reference to an attribute of the DC an `on` expression names (absOK).
func (e *cexpr) attrRef(attr string) factRef {
	if r, ok := e.onRefs[attr]; ok {
		return r
	}
	t := append(append(hcl.Traversal{}, e.abs...), hcl.TraverseAttr{Name: attr})
	return newFactRef(t, traversalString(t))
}

// maxSharedChecks bounds checkVars (4^n entries).
const maxSharedChecks = 3

// factRef is a reference to a fact with its printed path ("link.source.dns_servers").
type factRef struct {
	t    hcl.Traversal
	path string
	key  string // "fact|" + path: its fingerprint entry
}

func newFactRef(t hcl.Traversal, path string) factRef {
	return factRef{t: t, path: path, key: "fact|" + path}
}

// Check returns the named check, or nil.
func (pb *Playbook) Check(name string) *Check { return pb.checkByName[name] }

// Action returns the named action, or nil.
func (pb *Playbook) Action(name string) *Action { return pb.actionByName[name] }

// Decision returns the named decision, or nil.
func (pb *Playbook) Decision(name string) *Decision {
	for _, d := range pb.Decisions {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// WarningRule returns the named warning block, or nil.
func (pb *Playbook) WarningRule(name string) *WarningRule {
	for _, w := range pb.Warnings {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// Sources returns the parsed source files, keyed by name, for rendering diagnostics.
func (pb *Playbook) Sources() map[string]*hcl.File { return pb.sources }
