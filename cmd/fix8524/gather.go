// Samba generates DC certificates with random, sometimes negative, serial numbers, which
// crypto/x509 rejects by default since Go 1.23. Accept them: the chain is still verified.
//go:debug x509negativeserial=1

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/facts/ldapread"
	"github.com/fix8524/fix8524/facts/repadmin"
	"github.com/fix8524/fix8524/internal/atomicfile"
	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/internal/termtext"
)

func init() {
	register(&command{name: "gather", summary: "read a forest (LDAP, DNS, TCP) into a facts file", run: runGather})
}

// connFlags are the connection flags shared by gather and plan --dc.
type connFlags struct {
	dc           string
	user         string
	passwordFile string
	ldapPort     int
	tlsMode      string
	caFile       string
	insecure     bool
	legacyCN     bool
	serverName   string
	kerberos     bool
	ntlm         bool
	keytab       string
	ccache       string
	krb5Conf     string
	inventory    string
	assumeSelf   bool
	parallelism  int
	timeout      time.Duration
	dcTimeout    time.Duration
}

func (c *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dc, "dc", "", "seed `HOST`: the DC to read the topology from (name or IP)")
	fs.StringVar(&c.user, "user", "", "bind as `USER` (UPN user@domain, DN, or DOMAIN\\user with --ntlm); the password comes from $FIX8524_PASSWORD, --password-file or a prompt")
	fs.StringVar(&c.passwordFile, "password-file", "", "read the password from `FILE` (first line)")
	fs.IntVar(&c.ldapPort, "ldap-port", 0, "LDAP `PORT` (default 636 for ldaps, 389 otherwise)")
	fs.StringVar(&c.tlsMode, "tls", ldapread.TLSLDAPS, "`MODE`: ldaps, starttls or none (none sends credentials in clear text: only on purpose)")
	fs.StringVar(&c.caFile, "ca-file", "", "trust the CA certificates in `FILE` (PEM) for the DCs' LDAP certificates")
	fs.BoolVar(&c.insecure, "insecure-skip-verify", false, "do not verify the DCs' certificates (DANGEROUS: anyone on the path can read the credentials)")
	fs.BoolVar(&c.legacyCN, "tls-legacy-cn", false, "accept a DC certificate that names the DC only in its Common Name (Samba's self-generated one); the chain is still verified")
	fs.StringVar(&c.serverName, "tls-server-name", "", "verify the seed DC's certificate for `NAME` (when --dc is an IP address)")
	fs.BoolVar(&c.kerberos, "kerberos", false, "bind with Kerberos (GSSAPI): a credential cache ($KRB5CCNAME or --ccache) or --keytab")
	fs.BoolVar(&c.ntlm, "ntlm", false, "bind with NTLM (where the DC accepts it)")
	fs.StringVar(&c.keytab, "keytab", "", "Kerberos keytab `FILE` for --user")
	fs.StringVar(&c.ccache, "ccache", "", "Kerberos credential cache `FILE` (default $KRB5CCNAME)")
	fs.StringVar(&c.krb5Conf, "krb5-conf", "", "krb5.conf `FILE` (default $KRB5_CONFIG or /etc/krb5.conf)")
	fs.StringVar(&c.inventory, "inventory", "", "inventory `FILE` (HCL): IP overrides, DNS client servers, transport settings")
	fs.BoolVar(&c.assumeSelf, "assume-self-dns", false, "when a DC's DNS client settings are unknown (not read over WinRM/SSH, no inventory dns_servers), assume it uses its own addresses (recorded as dns_servers_from = assumed-self). Off by default: it is a guess (a DC whose client points at an ISP resolver would be diagnosed \"DNS resolves now, retry\"); without it those findings stay incomplete and say what to gather. With it, a finding that rests on an assumed setting says so (plan: an \"Assumed:\" block naming the DC and what to verify; JSON: assumptions) and heal never acts on it unattended (held for a human: assumed_settings, exit 2); a human may still approve and apply it")
	fs.IntVar(&c.parallelism, "parallelism", 64, "read at most `N` DCs (and DNS servers, ports) at once")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "deadline for the whole gather")
	fs.DurationVar(&c.dcTimeout, "dc-timeout", 20*time.Second, "deadline for reading one DC (LDAP, and its DNS client settings and events over WinRM/SSH, which get at most half of it), and for every connection step to a DC (TCP connect, TLS handshake, bind; WinRM and SSH connections of apply and heal), the seed's first one included")
}

// maxCAFileBytes bounds --ca-file (a bundle of a few hundred certificates fits).
const maxCAFileBytes = 4 << 20

// ldapOptions builds the LDAP options, reading the password from the environment, a file or a
// TTY prompt. Warnings go to stderr.
func (c *connFlags) ldapOptions(e *env, tlsSet bool) (ldapread.Options, error) {
	o := ldapread.Options{TLS: c.tlsMode, Port: c.ldapPort, AllowPlaintextCredentials: tlsSet && c.tlsMode == ldapread.TLSNone, LegacyCommonName: c.legacyCN,
		DialTimeout: c.dcTimeout, Timeout: c.dcTimeout}
	tc := &tls.Config{}
	if c.caFile != "" {
		pem, err := inputfile.ReadFile(c.caFile, "--ca-file", maxCAFileBytes)
		if err != nil {
			return o, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return o, fmt.Errorf("--ca-file %s holds no PEM certificate", c.caFile)
		}
		tc.RootCAs = pool
	}
	if c.insecure {
		fmt.Fprintln(e.stderr, "WARNING: --insecure-skip-verify: the DCs' certificates are NOT verified; anyone on the network path can impersonate a DC and capture the credentials.")
		tc.InsecureSkipVerify = true
	}
	o.TLSConfig = tc
	a := ldapread.Auth{User: c.user}
	switch {
	case c.kerberos && c.ntlm:
		return o, errors.New("--kerberos and --ntlm exclude each other")
	case c.kerberos:
		a.Method = ldapread.BindKerberos
		a.Keytab = c.keytab
		a.CCache = c.ccache
		if a.CCache == "" {
			a.CCache = e.getenv("KRB5CCNAME")
		}
		a.Krb5Conf = c.krb5Conf
		if a.Krb5Conf == "" {
			a.Krb5Conf = e.getenv("KRB5_CONFIG")
		}
		if u, realm, ok := strings.Cut(c.user, "@"); ok {
			a.User, a.Realm = u, strings.ToUpper(realm)
		}
	case c.ntlm:
		a.Method = ldapread.BindNTLM
	}
	if a.Method != ldapread.BindKerberos && c.user != "" {
		pw, err := c.password(e)
		if err != nil {
			return o, err
		}
		a.Password = pw
	}
	o.Auth = a
	if o.TLS == ldapread.TLSNone && a.Password != "" && o.AllowPlaintextCredentials {
		fmt.Fprintf(e.stderr, "WARNING: --tls none: the password is sent in clear text over LDAP port %d.\n", o.EffectivePort())
	}
	if c.user == "" && !c.kerberos {
		notef(e, e.stderr, "note: no --user: binding anonymously; most DCs allow only the rootDSE to anonymous clients.\n")
	}
	return o, o.Validate()
}

func (c *connFlags) password(e *env) (string, error) { return c.passwordFor(e, c.user) }

// passwordFor reads a password as for --user ($FIX8524_PASSWORD, --password-file, a prompt
// for who on a terminal).
func (c *connFlags) passwordFor(e *env, who string) (string, error) {
	if pw := e.getenv("FIX8524_PASSWORD"); pw != "" {
		return pw, nil
	}
	if c.passwordFile != "" {
		f, err := inputfile.Open(c.passwordFile, "--password-file", 64<<10)
		if err != nil {
			return "", err
		}
		defer f.Close()
		line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", fmt.Errorf("--password-file %s is empty", c.passwordFile)
		}
		return line, nil
	}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "Password for %s: ", who)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		return string(b), nil
	}
	return "", errors.New("--user needs a password: set FIX8524_PASSWORD, use --password-file, or run on a terminal to be prompted")
}

// gatherLive reads a live forest from --dc.
func (c *connFlags) gatherLive(ctx context.Context, e *env, tlsSet bool, needs gather.Needs, tf *transportFlags) (*facts.Snapshot, error) {
	o, err := c.gatherOptions(e, tlsSet, needs, tf)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return gather.Gather(ctx, o)
}

// gatherOptions builds the gather's options from the flags. With WinRM or SSH credentials
// (tf, the environment, the inventory) the gather reads the DCs' DNS client settings and events
// over them; secrets are read here, before the gather starts, so that no worker prompts.
func (c *connFlags) gatherOptions(e *env, tlsSet bool, needs gather.Needs, tf *transportFlags) (gather.Options, error) {
	if c.dc == "" {
		return gather.Options{}, errors.New("--dc HOST is required (or --demo, or --repadmin-csv FILE)")
	}
	lo, err := c.ldapOptions(e, tlsSet)
	if err != nil {
		return gather.Options{}, err
	}
	var inv *inventory.Inventory
	if c.inventory != "" {
		i, diags := inventory.Load(c.inventory)
		if diags.HasErrors() {
			return gather.Options{}, fmt.Errorf("--inventory: %s", diags.Error())
		}
		inv = i
	}
	o := gather.Options{
		Seed: c.dc, SeedServerName: c.serverName, LDAP: lo, Inventory: inv, Needs: needs, AssumeSelfDNS: c.assumeSelf,
		Parallelism: c.parallelism, DCTimeout: c.dcTimeout,
		Progress: progressBar(e),
	}
	if tf != nil {
		r := tf.runners(e, inv, "")
		if r.WinRMPasswordNeeded() {
			pw, err := c.winrmPassword(e, lo.Auth.Password)
			if err != nil {
				return gather.Options{}, err
			}
			r.WinRMPassword = func() (string, error) { return pw, nil }
		}
		r.ConnectTimeout = c.dcTimeout
		o.Host = tf.hostReader(r, c.dcTimeout)
	}
	return o, nil
}

// winrmPassword is $FIX8524_WINRM_PASSWORD, else the LDAP password, else read as for --user.
func (c *connFlags) winrmPassword(e *env, ldapPassword string) (string, error) {
	if pw := e.getenv("FIX8524_WINRM_PASSWORD"); pw != "" {
		return pw, nil
	}
	if ldapPassword != "" {
		return ldapPassword, nil
	}
	pw, err := c.passwordFor(e, "the WinRM user")
	if err != nil {
		return "", errors.New("the WinRM user needs a password: set FIX8524_WINRM_PASSWORD (or FIX8524_PASSWORD), use --password-file, run on a terminal to be prompted, or use --winrm-auth kerberos")
	}
	return pw, nil
}

// progressBar draws progress on stderr when it is a terminal, and nothing otherwise.
func progressBar(e *env) func(phase string, done, total int) {
	f, ok := e.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(phase string, done, total int) {
		if total <= 0 {
			return
		}
		const width = 30
		n := done * width / total
		fmt.Fprintf(f, "\r%-20s [%s%s] %d/%d", phase, strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
		if done == total {
			fmt.Fprint(f, "\r\033[K")
		}
	}
}

func runGather(ctx context.Context, e *env, args []string) int {
	args, demo, demoName := takeOptionalArg(args, "demo")
	fs := newFlags(e, "gather",
		"Usage: fix8524 gather --dc HOST [connection flags] [transport flags] [-o facts.json]",
		"       fix8524 gather --demo [SCENARIO] [-o facts.json]",
		"       fix8524 gather --repadmin-csv FILE [-o facts.json]",
	)
	var c connFlags
	c.register(fs)
	var tf transportFlags
	tf.register(fs)
	var pf playbookFlags
	pf.register(fs)
	var prof profileFlag
	prof.register(fs)
	demoUsage(fs)
	out := fs.String("o", "-", "write the facts to `FILE` (- for stdout)")
	requireComplete := fs.Bool("require-complete", false, "exit 1 when the read is partial (a DC could not be read); the facts are written anyway")
	csvFile := fs.String("repadmin-csv", "", "read link status from `FILE` (repadmin /showrepl * /csv); with --dc it fills the DCs whose status LDAP could not read")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if !demo {
		// The profile's seed DC reads a live forest: not when --repadmin-csv alone is given.
		var skip []string
		if *csvFile != "" {
			skip = append(skip, "dc")
		}
		if _, err := prof.apply(e, fs, skip...); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 gather:", err)
			return exitError
		}
	}
	tlsSet := flagSet(fs, "tls")
	var snap *facts.Snapshot
	var err error
	var needs gather.Needs
	var pb *engine.Playbook
	if demo || c.dc != "" {
		// The observations to make come from the playbook's checks.
		loaded, ok := pf.loadFor(e)
		if !ok {
			return exitError
		}
		pb, needs = loaded, loaded.Needs
	}
	switch {
	case demo:
		snap, err = c.demoGather(ctx, pb, demoName)
	case c.dc != "":
		snap, err = c.gatherLive(ctx, e, tlsSet, needs, &tf)
		if err == nil && *csvFile != "" {
			err = mergeRepadmin(snap, *csvFile)
		}
	case *csvFile != "":
		snap, err = repadminSnapshot(*csvFile)
	default:
		err = errors.New("give --dc HOST, --demo [SCENARIO] or --repadmin-csv FILE")
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 gather:", err)
		return exitError
	}
	if err := writeFacts(e, *out, snap); err != nil {
		fmt.Fprintln(e.stderr, "fix8524 gather:", err)
		return exitError
	}
	summarize(e.stderr, snap)
	if c.dc != "" && !demo {
		summarizeHost(e.stderr, snap)
	}
	if *requireComplete && !facts.CoverageOf(snap).Complete {
		fmt.Fprintln(e.stderr, "fix8524 gather: partial read (--require-complete)")
		return exitError
	}
	return exitOK
}

func repadminSnapshot(file string) (*facts.Snapshot, error) {
	f, err := inputfile.Open(file, "--repadmin-csv", repadmin.MaxBytes)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := repadmin.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("--repadmin-csv %s: %w", file, err)
	}
	s := repadmin.Snapshot(rows)
	s.Source = "repadmin-csv:" + filepath.Base(file)
	s.GatheredAt = time.Now().UTC()
	return s, nil
}

func mergeRepadmin(s *facts.Snapshot, file string) error {
	f, err := inputfile.Open(file, "--repadmin-csv", repadmin.MaxBytes)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := repadmin.Parse(f)
	if err != nil {
		return fmt.Errorf("--repadmin-csv %s: %w", file, err)
	}
	repadmin.Merge(s, rows)
	return nil
}

func writeFacts(e *env, out string, s *facts.Snapshot) error {
	if out == "" || out == "-" {
		return facts.Encode(e.stdout, s)
	}
	// atomically, and never over anything but a regular file
	return atomicfile.WriteFunc(out, 0o600, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := facts.Encode(bw, s); err != nil {
			return err
		}
		return bw.Flush()
	})
}

func summarize(w io.Writer, s *facts.Snapshot) {
	failing := 0
	for _, l := range s.Links {
		if l.LastResult != 0 {
			failing++
		}
	}
	fmt.Fprintf(w, "gathered %d DCs, %d links (%d failing), %d DNS and %d TCP observations from %s\n",
		len(s.DCs), len(s.Links), failing, len(s.DNS), len(s.Reach), termtext.Escape(s.Source))
	cov := facts.CoverageOf(s)
	fmt.Fprintf(w, "coverage: %s\n", cov)
	for _, d := range cov.NotRead {
		fmt.Fprintf(w, "  not read: %s: %s\n", termtext.Escape(d.Name), termtext.Line(d.Reason, 400))
	}
	writeProblems(w, cov.Problems)
}

// summarizeHost says where the DCs' DNS client settings came from, and why they are unknown.
func summarizeHost(w io.Writer, s *facts.Snapshot) {
	from := map[string]int{}
	var unknown []string
	for _, dc := range s.DCs {
		if dc.DNSServers.Known {
			from[dc.DNSServersFrom]++
			continue
		}
		unknown = append(unknown, termtext.Escape(dc.Name)+": "+termtext.Line(dc.DNSServers.Why(), 400))
	}
	var parts []string
	for _, k := range [][2]string{{"winrm", "read over WinRM"}, {"ssh", "read over SSH"}, {"inventory", "from the inventory"}, {facts.DNSServersAssumedSelf, "assumed to be the DC itself"}} {
		if from[k[0]] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", from[k[0]], k[1]))
		}
	}
	if len(unknown) > 0 {
		parts = append(parts, fmt.Sprintf("%d unknown", len(unknown)))
	}
	if len(parts) == 0 {
		return
	}
	fmt.Fprintf(w, "DNS client settings of the DCs: %s\n", strings.Join(parts, ", "))
	for i, u := range unknown {
		if i == 5 {
			fmt.Fprintf(w, "  ... and %d more (see the facts file)\n", len(unknown)-5)
			break
		}
		fmt.Fprintf(w, "  %s\n", u)
	}
}
