// Package connect builds the command runners that reach a domain controller: WinRM for Windows
// DCs, SSH for Samba DCs (and Windows OpenSSH where the inventory says so), from the operator's
// transport settings refined per DC by the inventory. `fix8524 apply` runs actions through them;
// `fix8524 gather` runs the read-only probes (facts/hostprobe) through them.
//
// The address dialled is the inventory's IP, else the target's first IP (DNS may be what is
// broken); the DC's DNS name is kept for TLS, Kerberos and known_hosts. Secrets (the WinRM
// password, the SSH key passphrase or password) are handed to the transports only: they never
// appear in an error or a log line of this package.
package connect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/remote"
	"github.com/fix8524/fix8524/remote/ssh"
	"github.com/fix8524/fix8524/remote/winrm"
)

// Settings are the transport settings given on the command line; the inventory refines them
// per DC (its values win).
type Settings struct {
	WinRMUser       string // DOMAIN\user or UPN
	WinRMHTTPS      bool
	WinRMPort       int
	WinRMAuth       string // ntlm (default) or kerberos
	WinRMCAFile     string
	WinRMServerName string

	SSHUser       string // default root
	SSHPort       int
	SSHKey        string // private key file
	SSHKnownHosts string // known_hosts file (default ~/.ssh/known_hosts)
}

// Runners opens WinRM and SSH runners; it implements remote.Runners.
type Runners struct {
	Settings  Settings
	Inventory *inventory.Inventory
	// DefaultUser is the WinRM user when neither Settings.WinRMUser nor the inventory names
	// one (apply: --user). Choose does not count it as WinRM credentials.
	DefaultUser string
	// WinRMPassword returns the WinRM password (NTLM): it is called when a runner that needs
	// it is built. Nil means no password.
	WinRMPassword func() (string, error)
	// SSHKeyPassphrase decrypts the SSH key; SSHPassword is used only without a key file.
	SSHKeyPassphrase string
	SSHPassword      string
	// Timeout bounds a command and ConnectTimeout a connection (0: the transport defaults);
	// the caller's context bounds both too.
	Timeout, ConnectTimeout time.Duration
	// Logf receives the SSH transport's warnings (an unverified host key, ...; never
	// credentials). Nil: standard error.
	Logf func(format string, args ...any)
}

var _ remote.Runners = (*Runners)(nil)

// Runner opens a runner for t over t.Transport ("winrm" or "ssh"). The caller closes it.
func (r *Runners) Runner(_ context.Context, t remote.DC) (remote.Runner, error) {
	var ts inventory.Transport
	var ips []string
	if r.Inventory != nil {
		ts = r.Inventory.TransportFor(t.Name)
		if d := r.Inventory.DC(t.Name); d != nil {
			ips = d.IPs
		}
	}
	if len(ips) == 0 {
		ips = t.IPs
	}
	host := t.DNSHostName
	if host == "" {
		host = t.Name
	}
	addr := ""
	if len(ips) > 0 {
		addr = ips[0]
	}
	s := r.Settings
	switch t.Transport {
	case remote.WinRM:
		cfg := winrm.Config{Target: remote.Target{Host: host, Address: addr, Port: s.WinRMPort}, HTTPS: s.WinRMHTTPS,
			Auth: winrm.Auth(s.WinRMAuth), User: firstNonEmpty(s.WinRMUser, r.DefaultUser), CACertFile: s.WinRMCAFile,
			TLSServerName: s.WinRMServerName, Timeout: r.Timeout, ConnectTimeout: r.ConnectTimeout}
		if w := ts.WinRM; w != nil {
			cfg.Target.Host = firstNonEmpty(w.Host, cfg.Target.Host)
			if w.Port != 0 {
				cfg.Target.Port = w.Port
			}
			if w.HTTPS != nil {
				cfg.HTTPS = *w.HTTPS
			}
			cfg.User = firstNonEmpty(w.User, cfg.User)
			cfg.CACertFile = firstNonEmpty(w.CAFile, cfg.CACertFile)
			if w.Auth != "" {
				cfg.Auth = winrm.Auth(w.Auth)
			}
		}
		if cfg.User == "" {
			return nil, errors.New("no WinRM user: give --winrm-user (or --user, or winrm { user = ... } in the inventory)")
		}
		if cfg.Auth != winrm.AuthKerberos && r.WinRMPassword != nil {
			pw, err := r.WinRMPassword()
			if err != nil {
				return nil, err
			}
			cfg.Password = pw
		}
		return winrm.New(cfg)
	case remote.SSH:
		cfg := ssh.Config{Target: remote.Target{Host: host, Address: addr, Port: s.SSHPort}, User: firstNonEmpty(s.SSHUser, "root"),
			KeyFile: s.SSHKey, Windows: t.Platform == "windows", Timeout: r.Timeout, ConnectTimeout: r.ConnectTimeout, Logf: r.Logf}
		if s.SSHKnownHosts != "" {
			cfg.KnownHostsFiles = []string{s.SSHKnownHosts}
		}
		if o := ts.SSH; o != nil {
			cfg.Target.Host = firstNonEmpty(o.Host, cfg.Target.Host)
			if o.Port != 0 {
				cfg.Target.Port = o.Port
			}
			cfg.User = firstNonEmpty(o.User, cfg.User)
			cfg.KeyFile = firstNonEmpty(o.KeyFile, cfg.KeyFile)
			if o.KnownHosts != "" {
				cfg.KnownHostsFiles = []string{o.KnownHosts}
			}
		}
		cfg.KeyPassphrase = r.SSHKeyPassphrase
		if cfg.KeyFile == "" {
			cfg.Password = r.SSHPassword
		}
		return ssh.New(cfg)
	}
	return nil, fmt.Errorf("no transport %q for %s", t.Transport, t)
}

// Choose picks the transport for the read-only probes of a DC, and says why there is none:
//
//   - a dc block of the inventory with only a winrm or only an ssh block chooses that one
//     (Windows OpenSSH, say);
//   - otherwise the platform does: windows → WinRM, samba → SSH; an unknown platform (a
//     joined Samba DC's computer object has no operatingSystem, a Windows DC's always has)
//     takes SSH when it has credentials, else WinRM when it has;
//   - the transport must have credentials: a WinRM user (--winrm-user, or the inventory's
//     winrm user; --user alone is not taken as consent to log on to every DC), or an SSH key
//     (--ssh-key, the inventory's key_file) or SSH password.
func (r *Runners) Choose(name, platform string) (transport, reason string) {
	if r == nil {
		return "", "no WinRM/SSH transport configured"
	}
	if d := r.Inventory.DC(name); d != nil {
		switch w, s := d.Transport.WinRM != nil, d.Transport.SSH != nil; {
		case w && !s:
			transport = remote.WinRM
		case s && !w:
			transport = remote.SSH
		}
	}
	if transport == "" {
		switch platform {
		case "windows":
			transport = remote.WinRM
		case "samba":
			transport = remote.SSH
		default:
			// Unknown platform (the gatherer asks before the DC's rootDSE tells): a Windows DC's
			// computer object always carries operatingSystem, a joined Samba DC's does not, so
			// SSH is the likely one; else WinRM, if only it has credentials.
			for _, tr := range []string{remote.SSH, remote.WinRM} {
				if ok, _ := r.hasCredentials(name, tr); ok {
					return tr, ""
				}
			}
			return "", "the DC's platform is unknown and there are no WinRM or SSH credentials for it (name the transport in the inventory: dc \"" + name + "\" { winrm { ... } } or ssh { ... })"
		}
	}
	if ok, why := r.hasCredentials(name, transport); !ok {
		return "", why
	}
	return transport, ""
}

func (r *Runners) hasCredentials(name, transport string) (bool, string) {
	ts := r.Inventory.TransportFor(name)
	switch transport {
	case remote.WinRM:
		user := r.Settings.WinRMUser
		auth := r.Settings.WinRMAuth
		if w := ts.WinRM; w != nil {
			user = firstNonEmpty(w.User, user)
			auth = firstNonEmpty(w.Auth, auth)
		}
		if user == "" {
			return false, "no WinRM credentials (give --winrm-user, or a winrm user in the inventory)"
		}
		if auth != string(winrm.AuthKerberos) && r.WinRMPassword == nil {
			return false, "no WinRM password"
		}
		return true, ""
	case remote.SSH:
		key := r.Settings.SSHKey
		if s := ts.SSH; s != nil {
			key = firstNonEmpty(s.KeyFile, key)
		}
		if key == "" && r.SSHPassword == "" {
			return false, "no SSH credentials (give --ssh-key, a key_file in the inventory, or $FIX8524_SSH_PASSWORD)"
		}
		return true, ""
	}
	return false, "no transport " + transport
}

// WinRMPasswordNeeded reports whether some DC may be reached over WinRM with a password:
// a WinRM user is configured (flags or inventory) with an authentication other than Kerberos.
// A caller that must not prompt in the middle of a gather asks for the password up front.
func (r *Runners) WinRMPasswordNeeded() bool {
	s := r.Settings
	if s.WinRMUser != "" && s.WinRMAuth != string(winrm.AuthKerberos) {
		return true
	}
	if r.Inventory == nil {
		return false
	}
	names := append([]string{""}, r.Inventory.Names()...) // "" is the defaults
	for _, n := range names {
		w := r.Inventory.Defaults.WinRM
		if n != "" {
			w = r.Inventory.TransportFor(n).WinRM
		}
		if w == nil {
			continue
		}
		if firstNonEmpty(w.User, s.WinRMUser) != "" && firstNonEmpty(w.Auth, s.WinRMAuth) != string(winrm.AuthKerberos) {
			return true
		}
	}
	return false
}

// Configured reports whether any WinRM or SSH credentials are configured at all (flags,
// environment or inventory), i.e. whether the read-only probes may run on some DC.
func (r *Runners) Configured() bool {
	s := r.Settings
	if s.WinRMUser != "" || s.SSHKey != "" || r.SSHPassword != "" {
		return true
	}
	if r.Inventory == nil {
		return false
	}
	if w := r.Inventory.Defaults.WinRM; w != nil && w.User != "" {
		return true
	}
	if o := r.Inventory.Defaults.SSH; o != nil && o.KeyFile != "" {
		return true
	}
	for _, n := range r.Inventory.Names() {
		ts := r.Inventory.TransportFor(n)
		if (ts.WinRM != nil && ts.WinRM.User != "") || (ts.SSH != nil && ts.SSH.KeyFile != "") {
			return true
		}
	}
	return false
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
