package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/fix8524/fix8524/facts/hostprobe"
	"github.com/fix8524/fix8524/lab/samba"
	labwinrm "github.com/fix8524/fix8524/lab/winrm"
)

// DCShell runs a command line on a lab DC through the DC's own sshd ((*samba.Lab).SSH does).
type DCShell interface {
	SSH(ctx context.Context, dc string, cmd ...string) ([]byte, error)
}

// WindowsStandIn is a lab/winrm Handler that stands in for a Windows DC of the Samba lab: the
// WS-Management server decodes the PowerShell script fix8524 sends, and the stand-in runs the
// Samba equivalent on the real DC it acts for, over the lab's SSH:
//
//	register_cname, register_host   (Restart-Service Netlogon; nltest /dsregdns / Register-DnsClient)
//	                                -> samba_dnsupdate --all-interfaces
//	retry_replication               (repadmin /replicate $P.destination $P.source <nc>, per NC)
//	                                -> samba-tool drs replicate DEST SOURCE NC -P, per NC
//	probe_dns_client                (Get-DnsClientServerAddress | ConvertTo-Json)
//	                                -> the DC's /etc/resolv.conf, as that JSON
//	probe_ds_events                 (Get-WinEvent 'Directory Service') -> fails: Samba keeps
//	                                no such log, so the events stay unknown
//
// It follows the script's own semantics where they matter: the naming contexts are read from
// $P.ncs the way the script reads them (a script that pipes $P.ncs through ConvertFrom-Json
// gets the list; one that iterates $P.ncs directly iterates a single JSON string, as
// PowerShell does, and repadmin fails on it). Parameters reach the Samba command line only
// after they matched the lab's names (a lab DC's name, a GUID, one of the lab's naming
// contexts), and quoted. Anything else fails as an unknown command would on Windows.
type WindowsStandIn struct {
	DC    string // the lab DC this server acts for: dc1, dc2 or dc3
	Shell DCShell
	Logf  func(format string, args ...any)

	mu    sync.Mutex
	calls []StandInCall
}

// StandInCall records one script the stand-in received and what it ran for it.
type StandInCall struct {
	Name     string // the fix8524 marker name ("" for a script without one)
	Params   map[string]string
	Commands []string // the command lines run on the DC
	Exit     int
}

// Calls returns the scripts received so far, in order.
func (w *WindowsStandIn) Calls() []StandInCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]StandInCall(nil), w.calls...)
}

func (w *WindowsStandIn) logf(format string, args ...any) {
	if w.Logf != nil {
		w.Logf(format, args...)
	}
}

// Run implements labwinrm.Handler.
func (w *WindowsStandIn) Run(ctx context.Context, cmd *labwinrm.Command, stdout, stderr io.Writer) int {
	call := StandInCall{Name: cmd.Name, Params: cmd.Params}
	call.Exit = w.run(ctx, cmd, &call, stdout, stderr)
	w.mu.Lock()
	w.calls = append(w.calls, call)
	w.mu.Unlock()
	w.logf("winrm stand-in for %s: %q exit %d, ran %q", w.DC, cmd.Name, call.Exit, call.Commands)
	return call.Exit
}

func (w *WindowsStandIn) run(ctx context.Context, cmd *labwinrm.Command, call *StandInCall, stdout, stderr io.Writer) int {
	if cmd.PowerShellErr != nil {
		fmt.Fprintf(stderr, "powershell: the encoded command could not be decoded: %v\r\n", cmd.PowerShellErr)
		return 1
	}
	if !labDCName(w.DC) || w.Shell == nil {
		fmt.Fprintf(stderr, "stand-in misconfigured (DC %q)\r\n", w.DC)
		return 1
	}
	switch cmd.Name {
	case "register_cname", "register_host":
		line := "samba_dnsupdate --all-interfaces 2>&1; echo \"samba_dnsupdate exit $?\""
		call.Commands = append(call.Commands, line)
		out, err := w.Shell.SSH(ctx, w.DC, line)
		_, _ = stdout.Write(out)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\r\n", cmd.Name, err)
			return 1
		}
		// samba_dnsupdate's exit code counts nsupdate's TSIG complaints even for records it
		// wrote (lab research §4.4); the Windows script succeeds when nltest does, and the
		// action's verification (DNS) decides.
		return 0
	case "retry_replication":
		return w.replicate(ctx, cmd, call, stdout, stderr)
	case hostprobe.NameDNSClientWindows:
		line := "cat " + hostprobe.ResolvConfPath
		call.Commands = append(call.Commands, line)
		out, err := w.Shell.SSH(ctx, w.DC, line)
		if err != nil {
			fmt.Fprintf(stderr, "Get-DnsClientServerAddress: %v\r\n", err)
			return 1
		}
		js, err := DNSClientJSON(out)
		if err != nil {
			fmt.Fprintf(stderr, "Get-DnsClientServerAddress: %v\r\n", err)
			return 1
		}
		_, _ = stdout.Write(js)
		return 0
	case hostprobe.NameEvents:
		fmt.Fprint(stderr, "Get-WinEvent : There is not an event log on the localhost computer that matches \"Directory Service\". (fix8524 e2e: a Samba DC keeps no Windows event log)\r\n")
		return 1
	}
	first := cmd.CommandLine
	if f := strings.Fields(first); len(f) > 0 {
		first = f[0]
	}
	fmt.Fprintf(stderr, "%s is not recognized as an internal or external command,\r\noperable program or batch file. (fix8524 e2e: no Samba equivalent for %s)\r\n", clipText(first, 40), clipText(cmd.Name, 40))
	return 1
}

// DNSClientJSON turns a resolv.conf into what the Windows DNS-client probe prints
// (Get-DnsClientServerAddress | Select-Object ... | ConvertTo-Json): one interface per address
// family with its servers in resolver order.
func DNSClientJSON(resolvConf []byte) ([]byte, error) {
	d, err := hostprobe.ParseResolvConf(resolvConf)
	if err != nil {
		return nil, err
	}
	type ifc struct {
		InterfaceAlias  string   `json:"InterfaceAlias"`
		InterfaceIndex  int      `json:"InterfaceIndex"`
		AddressFamily   int      `json:"AddressFamily"`
		ServerAddresses []string `json:"ServerAddresses"`
	}
	v4 := ifc{InterfaceAlias: "Ethernet", InterfaceIndex: 4, AddressFamily: 2, ServerAddresses: []string{}}
	v6 := ifc{InterfaceAlias: "Ethernet", InterfaceIndex: 4, AddressFamily: 23, ServerAddresses: []string{}}
	for _, s := range d.Servers {
		if strings.Contains(s, ":") {
			v6.ServerAddresses = append(v6.ServerAddresses, s)
		} else {
			v4.ServerAddresses = append(v4.ServerAddresses, s)
		}
	}
	return json.Marshal([]ifc{v4, v6})
}

var ncsFromJSONRE = regexp.MustCompile(`(?i)\$P\.ncs\s*\|\s*ConvertFrom-Json`)

// ScriptNCs returns the naming contexts a retry script iterates, the way PowerShell would:
// $P carries every non-string parameter as JSON text, so a script must pipe $P.ncs through
// ConvertFrom-Json to get a list; iterating $P.ncs directly iterates one string.
func ScriptNCs(body, ncs string) ([]string, error) {
	if !ncsFromJSONRE.MatchString(body) {
		return []string{ncs}, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(ncs), &list); err != nil {
		var one string
		if err2 := json.Unmarshal([]byte(ncs), &one); err2 != nil {
			return nil, fmt.Errorf("ConvertFrom-Json: %v", err)
		}
		list = []string{one}
	}
	return list, nil
}

func (w *WindowsStandIn) replicate(ctx context.Context, cmd *labwinrm.Command, call *StandInCall, stdout, stderr io.Writer) int {
	body := ""
	if cmd.PowerShell != nil {
		body = cmd.PowerShell.Body
	}
	dest, src := cmd.Params["destination"], cmd.Params["source"]
	ncs, err := ScriptNCs(body, cmd.Params["ncs"])
	if err != nil {
		fmt.Fprintf(stderr, "%v\r\n", err)
		return 1
	}
	var failed []string
	for _, nc := range ncs {
		canon, ok := labNC(nc)
		if !ok || !labHost(dest) || !labHost(src) {
			// what repadmin does with a naming context or DC it does not know
			fmt.Fprintf(stdout, "DsReplicaSync() failed with status 8440 (0x20f8):\r\nThe naming context specified for this replication operation is invalid.\r\n")
			failed = append(failed, nc)
			continue
		}
		line := "samba-tool drs replicate " + shQuote(dest) + " " + shQuote(src) + " " + shQuote(canon) + " -P 2>&1"
		call.Commands = append(call.Commands, line)
		out, err := w.Shell.SSH(ctx, w.DC, line)
		_, _ = stdout.Write(out)
		if err != nil {
			fmt.Fprintf(stdout, "%v\r\n", err)
			failed = append(failed, canon)
		}
	}
	if len(failed) > 0 {
		for i, f := range failed {
			failed[i] = clipText(f, 120)
		}
		fmt.Fprintf(stderr, "repadmin /replicate failed for: %s\r\n", strings.Join(failed, "; "))
		return 1
	}
	return 0
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func labDCName(s string) bool { return s == "dc1" || s == "dc2" || s == "dc3" }

// labHost: a lab DC by short name or FQDN (any case, optional trailing dot), or a DSA GUID.
func labHost(s string) bool {
	if guidRE.MatchString(s) {
		return true
	}
	h := strings.ToLower(strings.TrimSuffix(s, "."))
	h = strings.TrimSuffix(h, "."+samba.DNSDomain)
	return labDCName(h)
}

// labNC returns the lab's spelling of a naming context given in any case.
func labNC(s string) (string, bool) {
	for _, nc := range samba.NCs {
		if strings.EqualFold(nc, s) {
			return nc, true
		}
	}
	return "", false
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func clipText(s string, n int) string {
	if len(s) <= n {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…", s[:n])
}
