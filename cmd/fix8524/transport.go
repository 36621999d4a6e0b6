package main

import (
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/fix8524/fix8524/actions/connect"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/facts/hostprobe"
	"github.com/fix8524/fix8524/facts/inventory"
)

// transportFlags say how to reach DCs over WinRM and SSH (apply: to run actions; gather and plan
// --dc: to run the read-only probes); the inventory may refine them per DC.
type transportFlags struct {
	winrmUser       string
	winrmHTTPS      bool
	winrmPort       int
	winrmAuth       string
	winrmCA         string
	winrmServerName string
	sshUser         string
	sshPort         int
	sshKey          string
	sshKnownHosts   string
	eventsLookback  time.Duration
}

func (t *transportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.winrmUser, "winrm-user", "", "WinRM `USER` (DOMAIN\\user or UPN); password from $FIX8524_WINRM_PASSWORD, else as for --user. apply defaults to --user; gather reads DNS client settings and events over WinRM only when it is given (or the inventory names a winrm user)")
	fs.BoolVar(&t.winrmHTTPS, "winrm-https", false, "WinRM over HTTPS (5986) instead of HTTP (5985, NTLM-sealed, the Windows default listener)")
	fs.IntVar(&t.winrmPort, "winrm-port", 0, "WinRM `PORT` (default 5985, or 5986 with --winrm-https)")
	fs.StringVar(&t.winrmAuth, "winrm-auth", "ntlm", "WinRM authentication `SCHEME`: ntlm (works over HTTP) or kerberos (HTTPS only)")
	fs.StringVar(&t.winrmCA, "winrm-ca-file", "", "trust the CA certificates in `FILE` for WinRM HTTPS")
	fs.StringVar(&t.winrmServerName, "winrm-tls-server-name", "", "verify WinRM certificates for `NAME`")
	fs.StringVar(&t.sshUser, "ssh-user", "root", "SSH `USER` on Samba DCs")
	fs.IntVar(&t.sshPort, "ssh-port", 0, "SSH `PORT` (default 22)")
	fs.StringVar(&t.sshKey, "ssh-key", "", "SSH private key `FILE` (passphrase from $FIX8524_SSH_PASSPHRASE); without it, $FIX8524_SSH_PASSWORD")
	fs.StringVar(&t.sshKnownHosts, "ssh-known-hosts", "", "known_hosts `FILE` that verifies the DCs' host keys (default ~/.ssh/known_hosts)")
	fs.DurationVar(&t.eventsLookback, "events-lookback", hostprobe.DefaultLookback, "read the Directory Service events (2087, 2088, 1925, ...) of the last `DURATION` from Windows DCs (with WinRM credentials)")
}

// runners builds the WinRM/SSH runners from the flags, the inventory and the environment
// ($FIX8524_SSH_PASSPHRASE, $FIX8524_SSH_PASSWORD). defaultUser is the WinRM user when none
// is given (apply: --user). The caller sets WinRMPassword.
func (t *transportFlags) runners(e *env, inv *inventory.Inventory, defaultUser string) *connect.Runners {
	var mu sync.Mutex // runners are used side by side (host probes, replication pulls)
	r := &connect.Runners{Settings: t.settings(), Inventory: inv, DefaultUser: defaultUser,
		Logf: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(e.stderr, format+"\n", args...)
		}}
	r.SSHKeyPassphrase = e.getenv("FIX8524_SSH_PASSPHRASE")
	r.SSHPassword = e.getenv("FIX8524_SSH_PASSWORD")
	return r
}

// hostReader reads the DCs' DNS client settings and events over r for the gather, or is nil
// when no WinRM or SSH credentials are configured (those facts then come from the inventory
// or stay unknown). The probes of one DC get at most half of its deadline, so that a stalled
// WinRM or SSH endpoint leaves time for its LDAP read.
func (t *transportFlags) hostReader(r *connect.Runners, dcTimeout time.Duration) gather.HostReader {
	if !r.Configured() {
		return nil
	}
	return &hostprobe.Reader{Runners: r, Choose: r.Choose, Lookback: t.eventsLookback, Timeout: dcTimeout / 2}
}

// settings converts the flags for actions/connect.
func (t *transportFlags) settings() connect.Settings {
	return connect.Settings{
		WinRMUser: t.winrmUser, WinRMHTTPS: t.winrmHTTPS, WinRMPort: t.winrmPort, WinRMAuth: t.winrmAuth,
		WinRMCAFile: t.winrmCA, WinRMServerName: t.winrmServerName,
		SSHUser: t.sshUser, SSHPort: t.sshPort, SSHKey: t.sshKey, SSHKnownHosts: t.sshKnownHosts,
	}
}
