// Package samba drives the project's Samba AD lab (lab.sh beside this file): two or three
// real Samba domain controllers in a private network namespace on 127.0.10.x, and breakers
// that put them into the states the 8524 article describes ("DNS lookup failure").
//
// The package only shells out to lab.sh (which runs everything inside the namespace) and
// `ip netns exec`; it needs root and the Debian packages that `lab.sh install` installs.
// The lab's addresses exist only inside the namespace: a program that must talk to the DCs
// (the fix8524 binary in the end-to-end tests) is built outside and run with
// `ip netns exec <ns> ./fix8524 ...` (see (*Lab).Command).
//
// Roles in every breaker: the destination D is dc1 (it records the failure), the source S
// is dc2; dc3 is the third DC where a case needs one.
package samba

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Lab constants. The password exists only inside the lab.
const (
	DefaultNS     = "fix8524lab"
	DefaultDir    = "/tmp/fix8524-lab"
	AdminUser     = "Administrator"
	AdminPassword = "Passw0rd!Lab1"
	Realm         = "LAB.EXAMPLE.COM"
	Domain        = "LAB"
	DNSDomain     = "lab.example.com"
	BaseDN        = "DC=lab,DC=example,DC=com"
	ConfigDN      = "CN=Configuration," + BaseDN
	SchemaDN      = "CN=Schema," + ConfigDN
	DomainDNSDN   = "DC=DomainDnsZones," + BaseDN
	ForestDNSDN   = "DC=ForestDnsZones," + BaseDN
	BadDNSIP      = "127.0.10.9" // the server dest-resolver points dc1 at
	Dest          = "dc1"        // destination DC of every breaker
	Source        = "dc2"        // source DC of every breaker
)

// NCs are the five naming contexts every lab DC holds.
var NCs = []string{BaseDN, ConfigDN, SchemaDN, DomainDNSDN, ForestDNSDN}

// Kind names a breaker (lab.sh break KIND).
type Kind string

// The breakers. See README.md for what each one does and what Samba records.
const (
	SourceRecords          Kind = "source-records"           // S's CNAME and A deleted on every DNS server
	SourceRecordsLocal     Kind = "source-records-local"     // S's CNAME and A only on S's own DNS server; D asks dc1, then dc2
	DestCNAMEOnly          Kind = "dest-cname-only"          // CNAME on S's DNS server, missing on D's
	DestResolver           Kind = "dest-resolver"            // D's resolver points at a server without the zones
	SourceOffline          Kind = "source-offline"           // S stopped, DNS records intact
	SourceOfflineScavenged Kind = "source-offline-scavenged" // S stopped and its records scavenged
	SourceGone             Kind = "source-gone"              // S gone for good, NTDS Settings stale in D's copy (3 DCs)
	Repromoted             Kind = "repromoted"               // S re-promoted with a new GUID, D holds the old one (3 DCs)
	LinkAddress            Kind = "link-address"             // D's links to S dial an earlier incarnation's GUID name
	LinkAddressLatent      Kind = "link-address-latent"      // the same, while that old CNAME still resolves: the link works
	Inject8524             Kind = "inject-8524"              // 8524 written into D's repsFrom (Inject8524 method)
)

// Kinds lists the breakers that (*Lab).Break accepts.
func Kinds() []Kind {
	return []Kind{SourceRecords, SourceRecordsLocal, DestCNAMEOnly, DestResolver, SourceOffline,
		SourceOfflineScavenged, SourceGone, Repromoted, LinkAddress, LinkAddressLatent}
}

// Options adjust Up and Attach. Zero values mean the defaults.
type Options struct {
	NS     string    // network namespace (default DefaultNS)
	Dir    string    // lab state directory (default DefaultDir)
	Script string    // path of lab.sh (default: beside this source file; env FIX8524_LAB_SH)
	LabDNS string    // prebuilt labdns binary (default: lab.sh builds it with go build)
	Log    io.Writer // lab.sh progress lines (stderr); nil discards them
}

// Lab is a running (or attached) Samba lab.
type Lab struct {
	NS     string
	Dir    string
	Script string
	N      int // DCs built by Up (2 or 3)
	labDNS string
	log    io.Writer
}

// Up builds a lab of n DCs (2 or 3) with the default options, replacing any existing lab
// of the same namespace and directory.
func Up(ctx context.Context, n int) (*Lab, error) { return UpWith(ctx, n, Options{}) }

// UpWith builds a lab of n DCs, replacing any existing one (lab.sh up -f). On failure the
// half-built lab is torn down.
func UpWith(ctx context.Context, n int, o Options) (*Lab, error) {
	l, err := Attach(o)
	if err != nil {
		return nil, err
	}
	if err := l.Up(ctx, n); err != nil {
		if derr := l.Down(); derr != nil {
			return nil, fmt.Errorf("%w (and tearing down: %v)", err, derr)
		}
		return nil, err
	}
	return l, nil
}

// Up builds the lab of an attached Lab with n DCs (2 or 3), replacing any existing one of
// its namespace and directory. It does not tear down on failure: call Down.
func (l *Lab) Up(ctx context.Context, n int) error {
	if n != 2 && n != 3 {
		return fmt.Errorf("lab up: %d DCs requested, want 2 or 3", n)
	}
	l.N = n
	_, err := l.run(ctx, "up", "-f", fmt.Sprint(n))
	return err
}

// Attach returns a Lab for the options without building anything (for a lab brought up
// by `lab.sh up` or by another process).
func Attach(o Options) (*Lab, error) {
	l := &Lab{NS: o.NS, Dir: o.Dir, Script: o.Script, labDNS: o.LabDNS, log: o.Log}
	if l.NS == "" {
		l.NS = DefaultNS
	}
	if l.Dir == "" {
		l.Dir = DefaultDir
	}
	if l.Script == "" {
		l.Script = os.Getenv("FIX8524_LAB_SH")
	}
	if l.Script == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return nil, errors.New("lab: cannot locate lab.sh (set FIX8524_LAB_SH)")
		}
		l.Script = filepath.Join(filepath.Dir(file), "lab.sh")
	}
	if _, err := os.Stat(l.Script); err != nil {
		return nil, fmt.Errorf("lab: lab.sh: %w", err)
	}
	if l.log == nil {
		l.log = io.Discard
	}
	return l, nil
}

// Down stops every lab process by PID and deletes the namespace and all state. Safe to call
// twice and on a half-built lab.
func (l *Lab) Down() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, err := l.run(ctx, "down")
	return err
}

// Break puts the lab into the state of kind and returns the replication results the
// destination recorded while the breaker made it try (what it now holds in repsFrom).
func (l *Lab) Break(ctx context.Context, kind Kind) ([]SyncResult, error) {
	out, err := l.run(ctx, "break", string(kind))
	if err != nil {
		return nil, err
	}
	return ParseSyncResults(out)
}

// HealByHand does what an admin would do by hand for kind (samba_dnsupdate over SSH on the
// source, a resolver fix, a metadata cleanup, …) and one pull on dc1 from every other
// running DC; it returns those pulls' results. Its duration is the lab's floor MTTR.
func (l *Lab) HealByHand(ctx context.Context, kind Kind) ([]SyncResult, error) {
	out, err := l.run(ctx, "heal-by-hand", string(kind))
	if err != nil {
		return nil, err
	}
	return ParseSyncResults(out)
}

// Reset brings the lab back to its baseline: every existing DC running with default
// options and resolver, labdns stopped, every link replicating. Not part of any MTTR.
func (l *Lab) Reset(ctx context.Context) error {
	_, err := l.run(ctx, "reset")
	return err
}

// Inject8524 writes result 8524 into dc's repsFrom for nc (only the link from src when src
// is not empty) while dc is stopped, and restarts dc with its periodic pulls put off, so
// that the value stays until something replicates into dc (§4.5 of the lab research).
func (l *Lab) Inject8524(ctx context.Context, dc, nc, src string) error {
	if !validDC(dc) || (src != "" && !validDC(src)) {
		return fmt.Errorf("inject-8524: bad DC name %q/%q", dc, src)
	}
	args := []string{"inject-8524", dc, nc}
	if src != "" {
		args = append(args, src)
	}
	_, err := l.run(ctx, args...)
	return err
}

// Replicate makes dest pull nc from src (all five NCs when nc is empty), like
// `samba-tool drs replicate`. A failed pull is not an error: read the results.
func (l *Lab) Replicate(ctx context.Context, dest, src, nc string) ([]SyncResult, error) {
	if !validDC(dest) || !validDC(src) {
		return nil, fmt.Errorf("replicate: bad DC name %q/%q", dest, src)
	}
	args := []string{"replicate", dest, src}
	if nc != "" {
		args = append(args, nc)
	}
	out, err := l.run(ctx, args...)
	var ee *scriptError
	if err != nil && !(errors.As(err, &ee) && ee.code == 1) { // 1: some NC failed
		return nil, err
	}
	return ParseSyncResults(out)
}

// RepsFrom returns dc's inbound replication links as `samba-tool drs showrepl --json`
// reports them. Where showrepl fails (Samba 4.17 answers DsReplicaGetInfo with 8442 when
// repsTo names a DSA it does not know, as after a re-promotion), it falls back to reading
// repsFrom over LDAP and decoding it.
func (l *Lab) RepsFrom(ctx context.Context, dc string) ([]RepsFrom, error) {
	if !validDC(dc) {
		return nil, fmt.Errorf("repsFrom: bad DC name %q", dc)
	}
	out, err := l.run(ctx, "showrepl", dc)
	if err == nil {
		if reps, perr := ParseRepsFrom(out); perr == nil {
			return reps, nil
		}
	}
	out, err2 := l.run(ctx, "repsfrom", dc)
	if err2 != nil {
		return nil, fmt.Errorf("repsFrom of %s: showrepl: %v; LDAP: %w", dc, err, err2)
	}
	return ParseRepsFrom(out)
}

// RepsFromLDAP reads dc's repsFrom over LDAP only (labtool), which also gives each link's DNS
// name (DNSName); showrepl does not.
func (l *Lab) RepsFromLDAP(ctx context.Context, dc string) ([]RepsFrom, error) {
	if !validDC(dc) {
		return nil, fmt.Errorf("repsFrom: bad DC name %q", dc)
	}
	out, err := l.run(ctx, "repsfrom", dc)
	if err != nil {
		return nil, fmt.Errorf("repsFrom of %s over LDAP: %w", dc, err)
	}
	return ParseRepsFrom(out)
}

// Status reads `lab.sh status`.
func (l *Lab) Status(ctx context.Context) (*Status, error) {
	out, err := l.run(ctx, "status")
	if err != nil {
		return nil, err
	}
	return ParseStatus(out)
}

// GUID is the objectGUID of dc's NTDS Settings as dc itself knows it (its dsServiceName).
func (l *Lab) GUID(ctx context.Context, dc string) (string, error) {
	if !validDC(dc) {
		return "", fmt.Errorf("guid: bad DC name %q", dc)
	}
	out, err := l.run(ctx, "guid", dc)
	return parseGUIDLine(out, err)
}

// GUIDOn is the objectGUID of dc's NTDS Settings in server's copy of the directory; empty
// when server holds no NTDS Settings for dc.
func (l *Lab) GUIDOn(ctx context.Context, dc, server string) (string, error) {
	if !validDC(dc) || !validDC(server) {
		return "", fmt.Errorf("guid: bad DC name %q/%q", dc, server)
	}
	out, err := l.run(ctx, "guid", dc, "--on", server)
	if err == nil && len(bytes.TrimSpace(out)) == 0 {
		return "", nil
	}
	return parseGUIDLine(out, err)
}

func parseGUIDLine(out []byte, err error) (string, error) {
	if err != nil {
		return "", err
	}
	g := strings.ToLower(strings.TrimSpace(string(out)))
	if !isGUID(g) {
		return "", fmt.Errorf("guid: unexpected output %q", truncate(g, 60))
	}
	return g, nil
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
	}
	return true
}

// Lookup asks the DNS server of server (a DC name, or an IP inside the namespace) for name
// and type (A, CNAME, SOA, …).
func (l *Lab) Lookup(ctx context.Context, server, name, qtype string) (DNSAnswer, error) {
	out, err := l.run(ctx, "dns", server, name, qtype)
	if err != nil {
		return DNSAnswer{}, err
	}
	return ParseDNSAnswer(string(out))
}

// CNAME is the GUID CNAME name of a DSA GUID: <guid>._msdcs.lab.example.com.
func CNAME(guid string) string { return guid + "._msdcs." + DNSDomain }

// StartDC starts dc's samba and sshd ("power on"); StopDC stops both.
func (l *Lab) StartDC(ctx context.Context, dc string) error { return l.dcCmd(ctx, "start", dc) }

// StopDC stops dc's sshd and samba by PID.
func (l *Lab) StopDC(ctx context.Context, dc string) error { return l.dcCmd(ctx, "stop", dc) }

// KCC runs DC's KCC now (samba-tool drs kcc), as an admin would after fixing topology.
func (l *Lab) KCC(ctx context.Context, dc string) error {
	if !validDC(dc) {
		return fmt.Errorf("kcc: bad DC name %q", dc)
	}
	_, err := l.run(ctx, "kcc", dc)
	return err
}

// RestartDC restarts dc's samba only (a service restart); its sshd stays.
func (l *Lab) RestartDC(ctx context.Context, dc string) error { return l.dcCmd(ctx, "restart", dc) }

func (l *Lab) dcCmd(ctx context.Context, verb, dc string) error {
	if !validDC(dc) {
		return fmt.Errorf("%s: bad DC name %q", verb, dc)
	}
	_, err := l.run(ctx, verb, dc)
	return err
}

// SSH runs a command on dc through its sshd (root, the lab key, the lab known_hosts). The
// session has SMB_CONF_PATH, KRB5_CONFIG, LAB and LAB_DC set for that DC.
func (l *Lab) SSH(ctx context.Context, dc string, cmd ...string) ([]byte, error) {
	if !validDC(dc) {
		return nil, fmt.Errorf("ssh: bad DC name %q", dc)
	}
	return l.run(ctx, append([]string{"ssh", dc}, cmd...)...)
}

// Exec runs argv inside the lab's network namespace (its resolv.conf names dc1's DNS) and
// returns its standard output.
func (l *Lab) Exec(ctx context.Context, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("exec: no command")
	}
	cmd := l.Command(ctx, argv...)
	return l.output(cmd, argv[0])
}

// Command returns an exec.Cmd that runs argv inside the namespace, with the lab's
// KRB5_CONFIG; for the fix8524 binary in the end-to-end tests.
func (l *Lab) Command(ctx context.Context, argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.NS}, argv...)...)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+l.KRB5Conf())
	return cmd
}

// IP is the address of a lab DC: dc1 → 127.0.10.1.
func IP(dc string) string {
	if !validDC(dc) {
		return ""
	}
	return "127.0.10." + dc[2:]
}

// FQDN is the DNS name of a lab DC: dc1 → dc1.lab.example.com.
func FQDN(dc string) string { return dc + "." + DNSDomain }

// CAFile is the lab CA that issued every DC's LDAPS certificate (SANs: dcN.lab.example.com,
// dcN, 127.0.10.N).
func (l *Lab) CAFile() string { return filepath.Join(l.Dir, "tls", "ca.pem") }

// SSHKey is the private key (ed25519) that logs in as root on every DC's sshd.
func (l *Lab) SSHKey() string { return filepath.Join(l.Dir, "ssh", "id_ed25519") }

// KnownHosts holds every DC's host key (names dcN.lab.example.com, dcN and its IP).
func (l *Lab) KnownHosts() string { return filepath.Join(l.Dir, "ssh", "known_hosts") }

// KRB5Conf is a krb5.conf for clients of the lab realm (KDCs found by DNS SRV).
func (l *Lab) KRB5Conf() string { return filepath.Join(l.Dir, "krb5.conf") }

// SMBConf is dc's smb.conf.
func (l *Lab) SMBConf(dc string) string { return filepath.Join(l.Dir, dc, "etc", "smb.conf") }

// scriptError is a failed lab.sh run.
type scriptError struct {
	args []string
	code int
	tail string
}

func (e *scriptError) Error() string {
	return fmt.Sprintf("lab.sh %s: exit %d: %s", strings.Join(e.args, " "), e.code, e.tail)
}

func (l *Lab) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "bash", append([]string{l.Script}, args...)...)
	cmd.Env = append(os.Environ(), "LAB="+l.Dir, "LAB_NS="+l.NS)
	if l.labDNS != "" {
		cmd.Env = append(cmd.Env, "LABDNS="+l.labDNS)
	}
	// own process group, so that a cancelled context ends lab.sh's children too
	ownProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = io.MultiWriter(&stderr, redactWriter{l.log})
	err := cmd.Run()
	if err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if ctx.Err() != nil {
			return stdout.Bytes(), fmt.Errorf("lab.sh %s: %w", strings.Join(args, " "), ctx.Err())
		}
		return stdout.Bytes(), &scriptError{args: redactAll(args), code: code, tail: tail(stderr.String(), 600)}
	}
	return stdout.Bytes(), nil
}

func (l *Lab) output(cmd *exec.Cmd, name string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s in %s: %v: %s", name, l.NS, err, tail(stderr.String(), 400))
	}
	return stdout.Bytes(), nil
}

// Redact replaces the lab's admin password in s; every error and log line of this package
// goes through it.
func Redact(s string) string { return strings.ReplaceAll(s, AdminPassword, "*****") }

func redactAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = Redact(a)
	}
	return out
}

func tail(s string, n int) string {
	s = Redact(strings.TrimSpace(s))
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

type redactWriter struct{ w io.Writer }

func (r redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
