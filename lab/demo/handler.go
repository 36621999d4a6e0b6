package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/scenario"
	labwinrm "github.com/fix8524/fix8524/lab/winrm"
	"github.com/fix8524/fix8524/remote"
)

// scriptAction is what one marker does on a demo DC.
type scriptAction struct {
	// mustContain: at least one of these (case-insensitive) is in the script, or the playbook
	// changed what the action does and the demo refuses to pretend.
	mustContain []string
	run         func(d *Demo, dc string, params map[string]string, stdout, stderr io.Writer) int
}

var scriptActions = map[string]scriptAction{
	"register_cname": {
		mustContain: []string{"restart-service -name netlogon", "nltest.exe /dsregdns", "nltest /dsregdns"},
		run: func(d *Demo, dc string, _ map[string]string, stdout, stderr io.Writer) int {
			if err := d.World.Register(dc, "cname"); err != nil {
				fmt.Fprintf(stderr, "nltest /dsregdns failed: %v\r\n", err)
				return 1
			}
			fmt.Fprintf(stdout, "Netlogon restarted on %s.\r\nFlags: 0\r\nThe command completed successfully\r\n", dc)
			return 0
		},
	},
	"register_host": {
		mustContain: []string{"register-dnsclient", "ipconfig /registerdns", "ipconfig.exe /registerdns"},
		run: func(d *Demo, dc string, _ map[string]string, stdout, stderr io.Writer) int {
			if err := d.World.Register(dc, "host"); err != nil {
				fmt.Fprintf(stderr, "Register-DnsClient: %v\r\n", err)
				return 1
			}
			fmt.Fprintf(stdout, "Register-DnsClient done\r\n")
			return 0
		},
	},
	"retry_replication": {
		mustContain: []string{"repadmin.exe /replicate", "repadmin /replicate"},
		run:         runReplicate,
	},
}

// Handler returns the WS-Management handler of one demo DC.
func (d *Demo) Handler(dc string) labwinrm.Handler {
	return labwinrm.HandlerFunc(func(ctx context.Context, cmd *labwinrm.Command, stdout, stderr io.Writer) int {
		if cmd.PowerShellErr != nil {
			fmt.Fprintf(stderr, "demo %s: cannot decode the PowerShell command: %v\r\n", dc, cmd.PowerShellErr)
			return 1
		}
		if cmd.PowerShell == nil || cmd.Name == "" {
			fmt.Fprintf(stderr, "demo %s: only fix8524 scripts (with a '# fix8524:<name>' marker) run here\r\n", dc)
			return 1
		}
		act, ok := scriptActions[cmd.Name]
		if !ok {
			fmt.Fprintf(stderr, "demo %s: the demo does not simulate %q\r\n", dc, cmd.Name)
			return 1
		}
		body := strings.ToLower(cmd.PowerShell.Body)
		found := false
		for _, s := range act.mustContain {
			if strings.Contains(body, s) {
				found = true
				break
			}
		}
		if !found {
			fmt.Fprintf(stderr, "demo %s: the script of %s no longer runs any of %q; the demo cannot simulate it (update lab/demo)\r\n", dc, cmd.Name, act.mustContain)
			return 1
		}
		d.logf("demo %s: %s %v", dc, cmd.Name, cmd.Params)
		return act.run(d, dc, cmd.Params, stdout, stderr)
	})
}

// runReplicate simulates repadmin /replicate $P.destination $P.source <nc> for every NC of
// $P.ncs (a JSON list, or one NC as plain text).
func runReplicate(d *Demo, dc string, p map[string]string, stdout, stderr io.Writer) int {
	base := d.World.Served()
	ix := facts.NewIndex(base)
	dest, src := resolveDC(base, ix, p["destination"]), resolveDC(base, ix, p["source"])
	if dest == nil || src == nil {
		fmt.Fprintf(stderr, "repadmin: cannot resolve destination %q or source %q\r\n", p["destination"], p["source"])
		return 1
	}
	if !strings.EqualFold(dest.Name, dc) {
		fmt.Fprintf(stderr, "repadmin: this demo DC is %s, the destination is %s\r\n", dc, dest.Name)
		return 1
	}
	ncs, err := ncList(p["ncs"], p["nc"])
	if err != nil {
		fmt.Fprintf(stderr, "repadmin: %v\r\n", err)
		return 1
	}
	failed := 0
	for _, nc := range ncs {
		res, err := d.World.Replicate(dest.Name, src.Name)
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "DsReplicaSync() failed for %s: %v\r\n", nc, err)
			failed++
		case res != scenario.ResultOK:
			fmt.Fprintf(stdout, "DsReplicaSync() failed with status %d (%#x):\r\n    %s\r\n", res, res, resultText(res))
			failed++
		default:
			fmt.Fprintf(stdout, "Sync from %s to %s completed successfully.\r\n", src.DNSHostName, dest.DNSHostName)
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "repadmin /replicate failed for %d naming context(s)\r\n", failed)
		return 1
	}
	return 0
}

func resultText(code int) string {
	switch code {
	case scenario.ResultDNSLookupFailed:
		return "The DSA operation is unable to proceed because of a DNS lookup failure."
	case scenario.ResultRPCUnavailable:
		return "The RPC server is unavailable."
	case scenario.ResultFileNotFound:
		return "WERR_FILE_NOT_FOUND"
	case scenario.ResultConnRefused:
		return "WERR_CONNECTION_REFUSED"
	}
	return "error"
}

// resolveDC finds a DC by name, DNS host name or DSA GUID.
func resolveDC(s *facts.Snapshot, ix *facts.Index, v string) *facts.DC {
	if v == "" {
		return nil
	}
	if dc := ix.DCByName(v); dc != nil {
		return dc
	}
	for i := range s.DCs {
		if strings.EqualFold(s.DCs[i].DNSHostName, v) || strings.EqualFold(s.DCs[i].DSAGUID, v) {
			return &s.DCs[i]
		}
	}
	for _, l := range s.Links {
		if strings.EqualFold(l.SourceDSAGUID, v) {
			return ix.DCByName(facts.ServerNameFromDSADN(l.SourceDSADN))
		}
	}
	return nil
}

func ncList(jsonList, single string) ([]string, error) {
	if jsonList == "" {
		if single == "" {
			return nil, errors.New("no naming context given")
		}
		return []string{single}, nil
	}
	var ncs []string
	if strings.HasPrefix(strings.TrimSpace(jsonList), "[") {
		if err := json.Unmarshal([]byte(jsonList), &ncs); err != nil {
			return nil, fmt.Errorf("ncs is not a JSON list: %w", err)
		}
	} else {
		ncs = []string{jsonList}
	}
	if len(ncs) == 0 {
		return nil, errors.New("no naming context given")
	}
	return ncs, nil
}

// sambaRunner runs a Samba DC's argv commands in-process (the demo has no SSH server), by an
// explicit table of the commands the playbook uses.
type sambaRunner struct {
	d  *Demo
	dc string
}

func (r *sambaRunner) Close() error { return nil }

func (r *sambaRunner) Run(ctx context.Context, c remote.Command) (remote.Result, error) {
	if err := c.Validate(); err != nil {
		return remote.Result{}, err
	}
	if len(c.Argv) == 0 {
		return remote.Result{}, &remote.TransportError{Kind: remote.KindUnsupported, Op: "run " + c.Name, Target: r.dc,
			Err: errors.New("a Samba DC runs argv commands, not PowerShell")}
	}
	var out, errb strings.Builder
	code := 0
	switch {
	case c.Argv[0] == "samba_dnsupdate":
		if err := r.d.World.Register(r.dc, "all"); err != nil {
			// samba_dnsupdate's exit code counts failed updates.
			fmt.Fprintf(&errb, "update failed: %v\n", err)
			code = 2
		}
	case len(c.Argv) >= 6 && c.Argv[0] == "samba-tool" && c.Argv[1] == "drs" && c.Argv[2] == "replicate":
		base := r.d.World.Served()
		ix := facts.NewIndex(base)
		dest, src := resolveDC(base, ix, c.Argv[3]), resolveDC(base, ix, c.Argv[4])
		if dest == nil || src == nil {
			fmt.Fprintf(&errb, "ERROR: cannot find DC %q or %q\n", c.Argv[3], c.Argv[4])
			code = 1
			break
		}
		res, err := r.d.World.Replicate(dest.Name, src.Name)
		switch {
		case err != nil:
			fmt.Fprintf(&errb, "ERROR: %v\n", err)
			code = 1
		case res != 0:
			fmt.Fprintf(&errb, "ERROR(<class 'samba.drs_utils.drsException'>): DsReplicaSync failed (%d, '%s')\n", res, resultText(res))
			code = 1
		default:
			fmt.Fprintf(&out, "Replicate from %s to %s was successful.\n", src.DNSHostName, dest.DNSHostName)
		}
	default:
		fmt.Fprintf(&errb, "demo: %s: command not simulated\n", c.Argv[0])
		code = 127
	}
	r.d.logf("demo %s (samba): %s -> %d", r.dc, remote.ShellJoin(c.Argv), code)
	return remote.Result{ExitCode: code, Stdout: []byte(out.String()), Stderr: []byte(errb.String())}, nil
}
