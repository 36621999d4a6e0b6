package main

// Where apply and heal read fresh facts and send actions: the live forest of the connection and
// transport flags, or the demo's (demo.go).

import (
	"context"
	"fmt"
	"sync"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/actions/connect"
	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/facts/ldapread"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/remote"
)

// forest is where fresh facts come from and actions go: a live forest, or the demo's.
type forest interface {
	gather.Source
	apply.Executor
}

// liveForest is a live forest: gathered as plan --dc gathers, actions over WinRM, SSH and LDAP.
type liveForest struct {
	gather.Live
	*actions.Executor
}

// forest returns the live forest l reaches.
func (l *live) forest() forest {
	return liveForest{gather.Live{Options: l.gather}, &actions.Executor{Runners: l, LDAP: l}}
}

type live struct {
	e      *env
	conn   *connFlags
	tf     *transportFlags
	inv    *inventory.Inventory
	gather gather.Options
	ldap   ldapread.Options
	j      *journal.Store
	// runners builds the WinRM/SSH runners (actions/connect, shared with gather's probes).
	runners *connect.Runners

	mu         sync.Mutex
	winrmPass  string
	winrmAsked bool
}

// newLive builds the live facts source and transports from connection and transport flags
// (apply and heal share it). Secrets it reads are registered with the journal for redaction.
func newLive(e *env, c *connFlags, tf *transportFlags, tlsSet bool, j *journal.Store) (*live, error) {
	lo, err := c.ldapOptions(e, tlsSet)
	if err != nil {
		return nil, err
	}
	if lo.Auth.Password != "" {
		j.RegisterSecret(lo.Auth.Password)
	}
	var inv *inventory.Inventory
	if c.inventory != "" {
		i, diags := inventory.Load(c.inventory)
		if diags.HasErrors() {
			return nil, fmt.Errorf("--inventory: %s", diags.Error())
		}
		inv = i
	}
	l := &live{e: e, conn: c, tf: tf, inv: inv, ldap: lo, j: j}
	if lo.Auth.Password != "" {
		l.winrmPass = lo.Auth.Password
	}
	l.runners = tf.runners(e, inv, c.user)
	l.runners.ConnectTimeout = c.dcTimeout
	l.runners.WinRMPassword = func() (string, error) { return l.password("FIX8524_WINRM_PASSWORD") }
	for _, p := range []string{l.runners.SSHKeyPassphrase, l.runners.SSHPassword} {
		if p != "" {
			j.RegisterSecret(p)
		}
	}
	// The fresh facts are gathered as plan --dc gathers them (host facts over WinRM/SSH when
	// their credentials are given, assumed-self DNS when asked), or the drift gate would see
	// the difference as drift.
	l.gather = gather.Options{Seed: c.dc, SeedServerName: c.serverName, LDAP: lo, Inventory: inv, AssumeSelfDNS: c.assumeSelf,
		Parallelism: c.parallelism, DCTimeout: c.dcTimeout, Progress: progressBar(e), Host: tf.hostReader(l.runners, c.dcTimeout)}
	return l, nil
}

func (l *live) password(envVar string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if pw := l.e.getenv(envVar); pw != "" {
		l.j.RegisterSecret(pw)
		return pw, nil
	}
	if l.winrmPass != "" || l.winrmAsked {
		return l.winrmPass, nil
	}
	l.winrmAsked = true
	pw, err := l.conn.password(l.e)
	if err != nil {
		return "", err
	}
	l.winrmPass = pw
	l.j.RegisterSecret(pw)
	return pw, nil
}

// Runner implements remote.Runners: WinRM or SSH, from the flags refined by the inventory
// (actions/connect). The address dialled is the inventory's or the plan's IP (DNS may be what
// is broken); the DC's DNS name is used for TLS, Kerberos and known_hosts.
func (l *live) Runner(ctx context.Context, t remote.DC) (remote.Runner, error) {
	return l.runners.Runner(ctx, t)
}

// LDAP implements actions.LDAPConns: a bound connection to the target DC, as the gather binds.
func (l *live) LDAP(ctx context.Context, t remote.DC) (ldapdelete.Conn, func(), error) {
	host := t.DNSHostName
	if host == "" {
		host = t.Name
	}
	addr := host
	if l.inv != nil {
		if d := l.inv.DC(t.Name); d != nil && len(d.IPs) > 0 {
			addr = d.IPs[0]
		}
	}
	if addr == host && len(t.IPs) > 0 {
		addr = t.IPs[0]
	}
	c, err := ldapread.Connect(ctx, addr, host, l.ldap)
	if err != nil {
		return nil, nil, err
	}
	return c.Conn(), c.Close, nil
}
