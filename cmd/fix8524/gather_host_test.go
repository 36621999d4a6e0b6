package main

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/facts/hostprobe"
)

// hostOptions parses gather's flags and builds the gather's options (nothing is dialled).
func hostOptions(t *testing.T, vars map[string]string, args ...string) (gather.Options, string, error) {
	t.Helper()
	fs := flag.NewFlagSet("gather", flag.ContinueOnError)
	var c connFlags
	c.register(fs)
	var tf transportFlags
	tf.register(fs)
	if err := fs.Parse(append([]string{"--dc", "dc1.example.invalid"}, args...)); err != nil {
		t.Fatal(err)
	}
	e, _, stderr := testEnv(vars)
	o, err := c.gatherOptions(e, false, nil, &tf)
	return o, stderr.String(), err
}

func TestGatherHostReaderWiring(t *testing.T) {
	// No WinRM/SSH credentials: no host reader (the facts come from the inventory or stay
	// unknown); --user alone is not consent to log on to every DC over WinRM.
	o, _, err := hostOptions(t, map[string]string{"FIX8524_PASSWORD": "ldap-pw-1"}, "--user", "u@example.invalid")
	if err != nil || o.Host != nil {
		t.Fatalf("without transport credentials: host %v, %v", o.Host, err)
	}
	if o.AssumeSelfDNS {
		t.Error("assumed-self DNS is on by default")
	}

	// --winrm-user with $FIX8524_WINRM_PASSWORD.
	o, stderr, err := hostOptions(t, map[string]string{"FIX8524_WINRM_PASSWORD": "winrm-pw-2"},
		"--winrm-user", `EX\svc`, "--events-lookback", "72h", "--dc-timeout", "30s")
	if err != nil {
		t.Fatal(err)
	}
	rd, ok := o.Host.(*hostprobe.Reader)
	if !ok {
		t.Fatalf("host reader %T", o.Host)
	}
	if rd.Lookback != 72*time.Hour || rd.Timeout != 15*time.Second {
		t.Errorf("lookback %s, timeout %s", rd.Lookback, rd.Timeout)
	}
	if tr, why := rd.Choose("DC1", "windows"); tr != "winrm" {
		t.Errorf("windows DC: %q %s", tr, why)
	}
	if tr, _ := rd.Choose("DC2", "samba"); tr != "" {
		t.Errorf("samba DC without SSH credentials: %q", tr)
	}
	if strings.Contains(stderr, "winrm-pw-2") {
		t.Error("password on stderr")
	}

	// --winrm-user and --user: the LDAP password serves WinRM too (as apply does).
	o, _, err = hostOptions(t, map[string]string{"FIX8524_PASSWORD": "ldap-pw-3"}, "--user", "u@example.invalid", "--winrm-user", `EX\u`)
	if err != nil || o.Host == nil {
		t.Fatalf("shared password: %v %v", o.Host, err)
	}

	// --winrm-user without any password and no terminal: refused before anything is dialled.
	_, _, err = hostOptions(t, nil, "--winrm-user", `EX\svc`)
	if err == nil || !strings.Contains(err.Error(), "WinRM user needs a password") {
		t.Errorf("no WinRM password: %v", err)
	}
	// ... but Kerberos needs none.
	if o, _, err = hostOptions(t, nil, "--winrm-user", "svc@EXAMPLE.INVALID", "--winrm-auth", "kerberos", "--winrm-https"); err != nil || o.Host == nil {
		t.Errorf("kerberos: %v %v", o.Host, err)
	}

	// An SSH key: Samba DCs are read over SSH.
	o, _, err = hostOptions(t, nil, "--ssh-key", "/nonexistent/id_ed25519", "--assume-self-dns")
	if err != nil || o.Host == nil || !o.AssumeSelfDNS {
		t.Fatalf("ssh: %v %v", o.Host, err)
	}
	if tr, _ := o.Host.(*hostprobe.Reader).Choose("DC3", "samba"); tr != "ssh" {
		t.Errorf("samba DC with an SSH key: %q", tr)
	}
	// A key that cannot be read leaves the facts unknown with the reason; nothing is dialled.
	hf := o.Host.ReadHost(context.Background(), sambaDC())
	if hf.DNSServers.Known || !strings.Contains(hf.DNSServers.Reason, "cannot set up SSH") {
		t.Errorf("unreadable key: %+v", hf.DNSServers)
	}
}

func TestPlanTakesTransportFlags(t *testing.T) {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	l := addLiveFlags(fs)
	if err := fs.Parse([]string{"--dc", "dc1.example.invalid", "--winrm-user", `EX\svc`, "--ssh-key", "k", "--events-lookback", "1h"}); err != nil {
		t.Fatal(err)
	}
	if l.transport.winrmUser != `EX\svc` || l.transport.sshKey != "k" || l.transport.eventsLookback != time.Hour {
		t.Errorf("transport flags %+v", l.transport)
	}
	e, _, _ := testEnv(nil)
	if _, err := l.gather(context.Background(), e, nil); err == nil || !strings.Contains(err.Error(), "WinRM user needs a password") {
		t.Errorf("gather without a WinRM password: %v", err)
	}
}

func sambaDC() facts.DC {
	return facts.DC{Name: "DC3", DNSHostName: "dc3.example.invalid", Platform: facts.Some(facts.PlatformSamba), IPs: facts.Some([]string{"127.0.0.1"})}
}
