package apply_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

// staleScenario: DC3 is gone for good, its NTDS Settings remain; DC1 fails to replicate from it.
// The operator's inventory still has DC3's address: fix8524 probes it (nothing answers), so the
// cleanup's dsa_not_alive guard rests on an observation.
const staleScenario = `
scenario {
  title = "DC3 is gone; its NTDS Settings remain"
  now   = "2026-11-20T09:30:00Z"
}
forest { root_domain = "contoso.com" }
domain "contoso.com" { netbios = "CONTOSO" }
workstation {
  inventory "DC3" { ips = ["192.0.2.13"] }
}
dc "DC1" {
  guid        = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips         = ["192.0.2.11"]
  dns_servers = ["192.0.2.11", "192.0.2.12"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]
}
dc "DC2" {
  guid        = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips         = ["192.0.2.12"]
  dns_servers = ["192.0.2.12", "192.0.2.11"]
}
dc "DC3" {
  guid  = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
  ips   = ["192.0.2.13"]
  state = "gone"
  %s
}
dns_server "192.0.2.11" {
  host = "DC1"
  %s
}
dns_server "192.0.2.12" { host = "DC2" }
link {
  destination  = "DC1"
  source       = "DC3"
  failures     = 900
  last_success = "2026-08-01T00:00:00Z"
}
%s
`

// lab is a scenario world whose mutations are logged to a file, so that another process (the
// crash test's child) and this one see the same world.
type lab struct {
	t       *testing.T
	dir     string
	name    string // embedded scenario name, or "" for src
	src     string
	logPath string

	mu    sync.Mutex
	world *scenario.World
	runs  map[string]int // action name -> times Run executed it
	// hook runs before an action's effect (return an outcome to short-circuit).
	hook func(a plan.Action) *actions.Outcome
	// after runs after an action's effect is applied and logged.
	after func(a plan.Action)
	// noEffect makes actions "succeed" without changing anything.
	noEffect bool
	gathers  int
	// mangle edits the snapshot of the n-th Gather (1-based).
	mangle func(n int, s *facts.Snapshot)
	// lagging reports, per Inspect of an ldap_delete, whether the target's copy has not
	// received a deletion made on another DC yet (replication lag): it still holds the object.
	lagging func(a plan.Action) bool
	deleted map[string]string // DN (lower case) -> objectGUID of the objects metadata_cleanup deleted
}

func newLab(t *testing.T, dir, name, src string) *lab {
	l := &lab{t: t, dir: dir, name: name, src: src, logPath: filepath.Join(dir, "world.log"), runs: map[string]int{}}
	l.load()
	return l
}

func (l *lab) scenario() *scenario.Scenario {
	if l.name != "" {
		sc, err := scenario.Load(l.name)
		if err != nil {
			panic(err)
		}
		return sc
	}
	sc, diags := scenario.Parse("test.hcl", []byte(l.src))
	if diags.HasErrors() {
		panic(diags.Error())
	}
	return sc
}

// load rebuilds the world from the scenario and the mutation log.
func (l *lab) load() {
	w := l.scenario().NewWorld()
	if f, err := os.Open(l.logPath); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			applyMutation(w, sc.Text())
		}
		f.Close()
	}
	l.world = w
}

func applyMutation(w *scenario.World, line string) error {
	f := strings.SplitN(line, " ", 3)
	switch {
	case len(f) == 3 && f[0] == "register":
		return w.Register(f[1], f[2])
	case len(f) == 3 && f[0] == "replicate":
		_, err := w.Replicate(f[1], f[2])
		return err
	case len(f) >= 2 && f[0] == "delete":
		return w.DeleteDSA(strings.TrimPrefix(line, "delete "))
	}
	return fmt.Errorf("bad mutation %q", line)
}

func (l *lab) mutate(line string) error {
	f, err := os.OpenFile(l.logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	return applyMutation(l.world, line)
}

// Facts.
func (l *lab) Gather(_ context.Context, needs gather.Needs) (*facts.Snapshot, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gathers++
	s := l.world.Base()
	if needs != nil {
		dns, tcp := needs(s)
		l.world.Observe(s, dns, tcp)
	}
	if l.mangle != nil {
		l.mangle(l.gathers, s)
	}
	return s, nil
}

func (l *lab) Observe(_ context.Context, s *facts.Snapshot, dns []facts.DNSQuery, tcp []facts.TCPProbe) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.world.Observe(s, dns, tcp)
	return nil
}

// Executor.
func (l *lab) Run(_ context.Context, a plan.Action) actions.Outcome {
	out := actions.Outcome{Command: actions.Display(a)}
	l.mu.Lock()
	l.runs[a.Name]++
	hook := l.hook
	l.mu.Unlock()
	if hook != nil {
		if o := hook(a); o != nil {
			return *o
		}
	}
	zero := 0
	out.Ran, out.ExitCode = true, &zero
	if l.noEffect {
		out.Stdout = []byte("did nothing")
		return out
	}
	var err error
	switch a.Name {
	case "register_cname":
		err = l.mutate("register " + a.Target + " cname")
	case "register_host":
		err = l.mutate("register " + a.Target + " host")
	case "retry_replication":
		src := fmt.Sprint(a.Params["source"])
		if a.Params["source"] == nil && len(a.Argv) > 4 {
			src = a.Argv[4] // samba-tool drs replicate DEST SOURCE NC
		}
		l.mu.Lock()
		dc := facts.NewIndex(l.world.Base()).DCByName(src)
		l.mu.Unlock()
		if dc != nil {
			src = dc.Name
		}
		err = l.mutate("replicate " + a.Target + " " + src)
		if err == nil {
			l.mu.Lock()
			for _, k := range l.world.Base().Links {
				if strings.EqualFold(k.Destination, a.Target) && k.LastResult != 0 {
					err = fmt.Errorf("repadmin: replication still fails with %d", k.LastResult)
				}
			}
			l.mu.Unlock()
		}
	case "metadata_cleanup":
		err = l.mutate("delete " + a.LDAPDelete.DN)
		if err == nil {
			l.mu.Lock()
			if l.deleted == nil {
				l.deleted = map[string]string{}
			}
			l.deleted[strings.ToLower(a.LDAPDelete.DN)] = a.LDAPDelete.ExpectGUID
			l.mu.Unlock()
		}
	default:
		err = fmt.Errorf("unknown action %s", a.Name)
	}
	if l.after != nil {
		l.after(a)
	}
	if err != nil {
		one := 1
		out.ExitCode, out.Err, out.Stderr = &one, err, []byte(err.Error())
	}
	return out
}

func (l *lab) Inspect(_ context.Context, a plan.Action) (ldapdelete.ObjectState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, dc := range l.world.Base().DCs {
		if strings.EqualFold(dc.NTDSSettingsDN, a.LDAPDelete.DN) {
			return ldapdelete.ObjectState{Exists: true, GUID: dc.DSAGUID}, nil
		}
	}
	if g, ok := l.deleted[strings.ToLower(a.LDAPDelete.DN)]; ok && l.lagging != nil && l.lagging(a) {
		return ldapdelete.ObjectState{Exists: true, GUID: g}, nil
	}
	return ldapdelete.ObjectState{}, nil
}

func (l *lab) Leftovers(ctx context.Context, a plan.Action, dns ldapdelete.DNSQuerier, in ldapdelete.LeftoversInput) []ldapdelete.Leftover {
	return ldapdelete.Leftovers(ctx, nil, dns, in)
}

func (l *lab) count(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.runs[name]
}

func (l *lab) links() []facts.Link {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.world.Base().Links
}

var (
	pbOnce sync.Once
	pb     *engine.Playbook
	pbErr  error
)

func playbook(t *testing.T) *engine.Playbook {
	t.Helper()
	pbOnce.Do(func() {
		p, _, diags := playbooks.Load(engine.LoadOptions{})
		if diags.HasErrors() {
			pbErr = errors.New(diags.Error())
		}
		pb = p
	})
	if pbErr != nil {
		t.Fatal(pbErr)
	}
	return pb
}

// env is one test's plan, approval files, journal and lab.
type env struct {
	t        *testing.T
	dir      string
	lab      *lab
	plan     *plan.Plan
	planPath string
	bytes    []byte
	j        *journal.Store
	now      time.Time
	clock    time.Time // advanced by sleep
	out      strings.Builder
}

// inWindow is a weeknight inside the playbook's "weeknights" window.
var inWindow = time.Date(2026, 11, 18, 23, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, name, src string) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, lab: newLab(t, dir, name, src), now: inWindow, clock: inWindow}
	e.replan()
	j, err := journal.Create(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	e.j = j
	return e
}

// replan makes and writes the plan from the lab's current state.
func (e *env) replan() {
	e.t.Helper()
	s, err := gather.Complete(context.Background(), e.lab, playbook(e.t).Needs)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := engine.MakePlan(playbook(e.t), s, engine.PlanOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.plan = p
	e.bytes, err = json.MarshalIndent(p, "", "  ")
	if err != nil {
		e.t.Fatal(err)
	}
	e.planPath = filepath.Join(e.dir, "plan.json")
	if err := os.WriteFile(e.planPath, e.bytes, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// approve writes an approval of the plan as it is on disk.
func (e *env) approve(at time.Time, ttl time.Duration, signer ed25519.PrivateKey, eachIDs ...string) {
	e.t.Helper()
	a, err := approval.ApproveAt(at, e.bytes, e.plan.Fingerprint, "alice", ttl, "CHG-1", signer)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := approval.Save(e.planPath, a); err != nil {
		e.t.Fatal(err)
	}
	var each []*approval.Approval
	for _, id := range eachIDs {
		x, err := approval.ApproveAt(at, e.bytes, apply.EachFingerprint(e.plan.Fingerprint, id), "alice", ttl, "", signer)
		if err != nil {
			e.t.Fatal(err)
		}
		each = append(each, x)
	}
	if len(each) > 0 {
		if _, err := apply.SaveEach(e.planPath, each); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) options() apply.Options {
	return apply.Options{
		Plan: e.plan, PlanBytes: e.bytes, PlanPath: e.planPath, Playbook: playbook(e.t),
		Approvals: apply.FileApprovals{PlanPath: e.planPath},
		Facts:     e.lab, Exec: e.lab, Journal: e.j, Out: &e.out,
		Now:   func() time.Time { return e.clock },
		Sleep: func(_ context.Context, d time.Duration) error { e.clock = e.clock.Add(d); return nil },
	}
}

func (e *env) run(mod func(*apply.Options)) apply.Result {
	e.t.Helper()
	o := e.options()
	if mod != nil {
		mod(&o)
	}
	res, err := apply.Run(context.Background(), o)
	if err != nil {
		e.t.Fatalf("Run: %v\n%s", err, e.out.String())
	}
	return res
}

func (e *env) entries() []journal.Entry {
	e.t.Helper()
	var out []journal.Entry
	for id := int64(1); ; id++ {
		en, err := e.j.Get(id)
		if errors.Is(err, journal.ErrNotFound) {
			return out
		}
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, en)
	}
}

// journalHas reports whether an entry of kind with name (prefix) and outcome exists.
func (e *env) journalHas(kind journal.Kind, name string, outcome journal.Outcome) bool {
	for _, en := range e.entries() {
		if en.Kind == kind && strings.HasPrefix(en.Name, name) && en.Outcome == outcome {
			return true
		}
	}
	return false
}

func (e *env) dumpJournal() string {
	var b strings.Builder
	for _, en := range e.entries() {
		fmt.Fprintf(&b, "%d %s %s %s %s %q %q\n", en.ID, en.Kind, en.Name, en.Target, en.Outcome, en.Reason, en.Verification)
	}
	return b.String()
}

func healthy(links []facts.Link) bool {
	for _, l := range links {
		if l.LastResult != 0 {
			return false
		}
	}
	return true
}
