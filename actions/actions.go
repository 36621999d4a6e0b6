// Package actions runs the actions of a plan: each plan.Action becomes one remote
// command or one LDAP operation, carried by the transport its kind names:
//
//	powershell   a PowerShell script over WinRM (remote/winrm), facts passed as data in $P
//	argv         an argument vector over SSH (remote/ssh), each argument quoted by the transport
//	ldap_delete  an LDAP delete with the critical tree-delete control (actions/ldapdelete),
//	             on a connection bound to the action's target DC
//
// Go holds the transports and the kinds; the playbook says what to run. This package decides
// nothing about whether an action may run: apply's gates and guards do (with the rules about
// kinds the plan model holds), before it calls Executor.Run. What it does guarantee: AD-sourced
// values never reach command text unquoted (they are $P data or quoted argv elements), an
// ldap_delete deletes only the NTDS Settings object whose objectGUID the plan expects, and
// credentials never appear in an Outcome, an error or a display string.
//
// # Parameters
//
// plan.Action.Params values reach the script as strings in $P: a string as it is; any other
// value (a list of naming contexts, a number, a bool) as its JSON text, which the script turns
// back into a value with ConvertFrom-Json, e.g. foreach ($nc in ($P.ncs | ConvertFrom-Json)).
//
// # Replication retry
//
// When a plan has no replication-retry action of its own for a finding, RetryReplication builds
// one here, the single Go place that knows the commands: `repadmin /replicate <dest> <source>
// <NC>` over WinRM on a Windows destination, `samba-tool drs replicate <dest> <source> <NC> -P`
// over SSH on a Samba destination.
package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/remote"
)

// TargetOf returns the DC a planned action runs on.
func TargetOf(a plan.Action) remote.DC {
	return remote.DC{Name: a.Target, DNSHostName: a.TargetDNSHostName, IPs: append([]string(nil), a.TargetIPs...),
		Platform: string(a.Platform), Transport: a.Transport}
}

// LDAPConns opens an LDAP connection bound to a target DC, for ldap_delete and the leftovers
// check. close releases it.
type LDAPConns interface {
	LDAP(ctx context.Context, t remote.DC) (conn ldapdelete.Conn, close func(), err error)
}

// Executor runs planned actions. Runners and LDAP may be nil when no action needs them.
type Executor struct {
	Runners remote.Runners
	LDAP    LDAPConns
	// Timeout bounds one action, connection included (default 10 minutes).
	Timeout time.Duration
}

// Outcome is what running one action did.
type Outcome struct {
	// Command is the action as displayed in the journal (no secrets).
	Command string
	// Ran is true when the command reached the host (it may still have failed).
	Ran      bool
	ExitCode *int // nil when the command did not run to an exit
	Stdout   []byte
	Stderr   []byte
	Duration time.Duration
	// Err is why the action failed: a transport error, a refused LDAP delete, an invalid
	// action, or a non-zero exit (an *remote.ExitError) unless the action ignores its exit code.
	Err error
}

// OK reports whether the action succeeded as far as its own result goes (verification is the
// caller's next step).
func (o Outcome) OK() bool { return o.Err == nil }

// Params converts a planned action's parameters to the strings $P carries: strings as they
// are, anything else as JSON text.
func Params(in map[string]any) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		switch x := v.(type) {
		case string:
			out[k] = x
		case nil:
			out[k] = ""
		default:
			b, err := json.Marshal(x)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", k, err)
			}
			out[k] = string(b)
		}
	}
	return out, nil
}

// Command converts a powershell or argv action to the remote command the transport runs.
func Command(a plan.Action) (remote.Command, error) {
	c := remote.Command{Name: a.Name}
	switch a.Kind {
	case plan.KindPowerShell:
		if strings.TrimSpace(a.PowerShell) == "" {
			return c, fmt.Errorf("action %s: kind powershell without a script", a.ID)
		}
		p, err := Params(a.Params)
		if err != nil {
			return c, fmt.Errorf("action %s: %w", a.ID, err)
		}
		c.PowerShell, c.Params = a.PowerShell, p
	case plan.KindArgv:
		if len(a.Argv) == 0 {
			return c, fmt.Errorf("action %s: kind argv without arguments", a.ID)
		}
		c.Argv = append([]string(nil), a.Argv...)
	case "":
		return c, fmt.Errorf("action %s: the target's platform is unknown, so there is no command for it", a.ID)
	default:
		return c, fmt.Errorf("action %s: kind %q is not a remote command", a.ID, a.Kind)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("action %s: %w", a.ID, err)
	}
	return c, nil
}

// Display renders an action on one line for plans, prompts and the journal, with AD values
// quoted and secrets redacted.
func Display(a plan.Action) string {
	switch a.Kind {
	case plan.KindLDAPDelete:
		if a.LDAPDelete == nil {
			return a.Name + " [ldap]: (no DN)"
		}
		s := a.Name + " [ldap] on " + a.Target + ": delete " + remote.PSLiteral(a.LDAPDelete.DN)
		if a.LDAPDelete.Tree {
			s += " with tree-delete control " + ldapdelete.TreeDeleteOID + " (critical)"
		}
		if a.LDAPDelete.ExpectGUID != "" {
			s += ", only if its objectGUID is " + a.LDAPDelete.ExpectGUID
		}
		return s
	}
	c, err := Command(a)
	if err != nil {
		return a.Name + " [" + string(a.Kind) + "]: (invalid: " + err.Error() + ")"
	}
	return c.Display() + " on " + a.Target
}

func (x *Executor) timeout() time.Duration {
	if x.Timeout > 0 {
		return x.Timeout
	}
	return 10 * time.Minute
}

// Run runs one action and reports what happened. It never panics on a bad action; an invalid
// action is an Outcome with Err and Ran false.
func (x *Executor) Run(ctx context.Context, a plan.Action) (out Outcome) {
	start := time.Now()
	out.Command = Display(a)
	defer func() { out.Duration = time.Since(start) }()
	ctx, cancel := context.WithTimeout(ctx, x.timeout())
	defer cancel()
	switch a.Kind {
	case plan.KindLDAPDelete:
		return x.runLDAPDelete(ctx, a, out)
	case plan.KindPowerShell, plan.KindArgv:
	default:
		_, out.Err = Command(a)
		if out.Err == nil {
			out.Err = fmt.Errorf("action %s: unsupported kind %q", a.ID, a.Kind)
		}
		return out
	}
	cmd, err := Command(a)
	if err != nil {
		out.Err = err
		return out
	}
	if err := transportMatches(a); err != nil {
		out.Err = err
		return out
	}
	if x.Runners == nil {
		out.Err = fmt.Errorf("action %s: no %s transport configured", a.ID, a.Transport)
		return out
	}
	r, err := x.Runners.Runner(ctx, TargetOf(a))
	if err != nil {
		out.Err = fmt.Errorf("action %s: connect to %s: %w", a.ID, TargetOf(a), err)
		return out
	}
	defer r.Close()
	cmd.Timeout = x.timeout()
	res, err := r.Run(ctx, cmd)
	out.Stdout, out.Stderr = res.Stdout, res.Stderr
	if err != nil {
		// A transport failure: the command may or may not have run. Ran stays true when
		// the failure came after the command started, which the transport cannot tell us
		// reliably; the caller treats the step as possibly completed either way.
		out.Ran = remote.KindOf(err) != remote.KindRefused && remote.KindOf(err) != remote.KindConfig &&
			remote.KindOf(err) != remote.KindUnreachable && remote.KindOf(err) != remote.KindAuth && remote.KindOf(err) != remote.KindTLS &&
			remote.KindOf(err) != remote.KindHostKey
		out.Err = fmt.Errorf("action %s on %s: %w", a.ID, TargetOf(a), err)
		return out
	}
	out.Ran = true
	out.ExitCode = &res.ExitCode
	if res.ExitCode != 0 && !a.IgnoreExit {
		out.Err = res.Check(cmd)
	}
	return out
}

func transportMatches(a plan.Action) error {
	want := map[plan.Kind]string{plan.KindPowerShell: remote.WinRM, plan.KindArgv: remote.SSH}[a.Kind]
	if a.Transport != "" && a.Transport != want && !(a.Kind == plan.KindPowerShell && a.Transport == remote.SSH) {
		return fmt.Errorf("action %s: kind %s cannot travel over %q", a.ID, a.Kind, a.Transport)
	}
	return nil
}

// ErrGUIDMismatch is returned when the object an ldap_delete targets does not have the
// objectGUID the plan expects: the DN now names another object, and nothing is deleted.
var ErrGUIDMismatch = errors.New("the object's objectGUID is not the one the plan expects")

func (x *Executor) runLDAPDelete(ctx context.Context, a plan.Action, out Outcome) Outcome {
	d := a.LDAPDelete
	if d == nil {
		out.Err = fmt.Errorf("action %s: ldap_delete without a DN", a.ID)
		return out
	}
	if d.Tree && !ldapdelete.IsNTDSSettingsDN(d.DN) {
		out.Err = fmt.Errorf("action %s: refusing a tree delete of %q: %w", a.ID, d.DN, ldapdelete.ErrNotNTDSSettings)
		return out
	}
	if x.LDAP == nil {
		out.Err = fmt.Errorf("action %s: no LDAP connection configured", a.ID)
		return out
	}
	conn, closeFn, err := x.LDAP.LDAP(ctx, TargetOf(a))
	if err != nil {
		out.Err = fmt.Errorf("action %s: LDAP connection to %s: %w", a.ID, TargetOf(a), err)
		return out
	}
	defer closeFn()
	st, err := ldapdelete.Inspect(conn, d.DN)
	if err != nil {
		out.Err = fmt.Errorf("action %s: read %q before deleting it: %w", a.ID, d.DN, err)
		return out
	}
	if !st.Exists {
		out.Err = fmt.Errorf("action %s: %q does not exist on %s (already deleted?)", a.ID, d.DN, a.Target)
		return out
	}
	if d.ExpectGUID != "" && !strings.EqualFold(st.GUID, d.ExpectGUID) {
		out.Err = fmt.Errorf("action %s: %q has objectGUID %s, the plan expects %s: %w", a.ID, d.DN, st.GUID, d.ExpectGUID, ErrGUIDMismatch)
		return out
	}
	out.Ran = true
	if d.Tree {
		err = ldapdelete.TreeDelete(conn, d.DN)
	} else {
		err = ldapdelete.Delete(conn, d.DN, false)
	}
	code := 0
	if err != nil {
		code = 1
		var le *ldapdelete.Error
		if errors.As(err, &le) && le.Code != 0 {
			code = int(le.Code)
		}
		out.Err = fmt.Errorf("action %s: %w", a.ID, err)
	}
	out.ExitCode = &code
	out.Stdout = []byte(fmt.Sprintf("delete %s: result %d\n", d.DN, code))
	return out
}

// Inspect reads the object an ldap_delete action targets, for re-checks (crash resume) and
// verification: whether it exists and its objectGUID.
func (x *Executor) Inspect(ctx context.Context, a plan.Action) (ldapdelete.ObjectState, error) {
	if a.LDAPDelete == nil {
		return ldapdelete.ObjectState{}, fmt.Errorf("action %s is not an LDAP delete", a.ID)
	}
	if x.LDAP == nil {
		return ldapdelete.ObjectState{}, errors.New("no LDAP connection configured")
	}
	ctx, cancel := context.WithTimeout(ctx, x.timeout())
	defer cancel()
	conn, closeFn, err := x.LDAP.LDAP(ctx, TargetOf(a))
	if err != nil {
		return ldapdelete.ObjectState{}, fmt.Errorf("LDAP connection to %s: %w", TargetOf(a), err)
	}
	defer closeFn()
	return ldapdelete.Inspect(conn, a.LDAPDelete.DN)
}

// Leftovers checks, after an ldap_delete of a DC's NTDS Settings, what of that DC remains.
func (x *Executor) Leftovers(ctx context.Context, a plan.Action, dns ldapdelete.DNSQuerier, in ldapdelete.LeftoversInput) []ldapdelete.Leftover {
	var conn ldapdelete.Conn
	if x.LDAP != nil {
		c, closeFn, err := x.LDAP.LDAP(ctx, TargetOf(a))
		if err == nil {
			defer closeFn()
			conn = c
		}
	}
	return ldapdelete.Leftovers(ctx, conn, dns, in)
}

// RetryName is the command name of the replication retry RetryReplication builds.
const RetryName = "retry_replication"

// RetryReplication builds the replication retry of one partnership for a destination of the
// given platform, for the naming contexts ncs (all of the finding's when empty): on Windows one
// command that runs repadmin /replicate for each NC, on Samba one samba-tool drs replicate
// command per NC. It is used when the plan has no replication-retry action of its own, and for
// the NCs still failing after the plan's retry.
func RetryReplication(f *plan.Finding, destPlatform plan.Platform, destHost string, destIPs []string, sourceHost string, ncs []string) ([]plan.Action, error) {
	if len(ncs) == 0 {
		for _, nc := range f.Link.NCs {
			ncs = append(ncs, nc.NC)
		}
	}
	ncs = append([]string(nil), ncs...)
	sort.Strings(ncs)
	if len(ncs) == 0 {
		return nil, fmt.Errorf("finding %s has no naming context", f.ID)
	}
	dest := destHost
	if dest == "" {
		dest = f.Link.Destination
	}
	source := sourceHost
	if source == "" {
		// repadmin accepts the source's DSA GUID; samba-tool looks the name up in AD.
		source = f.Link.SourceDSAGUID
	}
	base := plan.Action{
		Name:   RetryName,
		Title:  "Retry replication " + f.Link.Destination + " <- " + f.Link.Source,
		Risk:   plan.RiskLow,
		Target: f.Link.Destination, TargetDNSHostName: destHost, TargetIPs: destIPs, Platform: destPlatform,
	}
	switch destPlatform {
	case plan.PlatformWindows:
		js, _ := json.Marshal(ncs)
		a := base
		a.ID, a.Key = f.ID+"/builtin:"+RetryName, "builtin:"+RetryName+":"+f.ID+":"+strings.Join(ncs, "|")
		a.Kind, a.Transport = plan.KindPowerShell, remote.WinRM
		a.Params = map[string]any{"destination": dest, "source": source, "ncs": string(js)}
		a.PowerShell = retryPowerShell
		return []plan.Action{a}, nil
	case plan.PlatformSamba:
		var out []plan.Action
		for i, nc := range ncs {
			// numbered by the NC's place in the finding, so that one NC keeps one id across
			// attempts that pull different sets of NCs
			n := len(f.Link.NCs) + i + 1
			for j, l := range f.Link.NCs {
				if strings.EqualFold(l.NC, nc) {
					n = j + 1
					break
				}
			}
			a := base
			a.ID, a.Key = fmt.Sprintf("%s/builtin:%s#%d", f.ID, RetryName, n), "builtin:"+RetryName+":"+f.ID+":"+nc
			a.Title += " (" + nc + ")"
			a.Kind, a.Transport = plan.KindArgv, remote.SSH
			a.Argv = []string{"samba-tool", "drs", "replicate", dest, source, nc, "-P"}
			a.ArgvDisplay = remote.ShellJoin(a.Argv)
			out = append(out, a)
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot retry replication on %s: its platform is %q", f.Link.Destination, destPlatform)
}

// retryPowerShell runs repadmin /replicate for every naming context in $P.ncs (JSON text).
const retryPowerShell = `$failed = @()
foreach ($nc in ($P.ncs | ConvertFrom-Json)) {
  $out = & repadmin.exe /replicate $P.destination $P.source $nc 2>&1 | Out-String
  Write-Output $out
  if ($LASTEXITCODE -ne 0) { $failed += $nc }
}
if ($failed.Count -gt 0) { throw ("repadmin /replicate failed for: " + ($failed -join '; ')) }
`
