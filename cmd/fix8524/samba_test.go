//go:build samba

package main

// Reads the real Samba AD lab (lab/samba/lab.sh up) with the fix8524 binary, run inside the lab's
// network namespace. It uses a running lab (bash lab/samba/lab.sh up 2) or builds one for the run:
//
//	go test -tags samba -run Samba -v ./cmd/fix8524

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/samba"
)

const labPassword = "Passw0rd!Lab1" // the lab's own constant (lab/samba/lab.sh)

// ownLab is the lab this package built because none was running (CI); TestMain tears it down.
var (
	ownLabOnce sync.Once
	ownLab     *samba.Lab
	ownLabErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if ownLab != nil {
		if err := ownLab.Down(); err != nil {
			fmt.Fprintln(os.Stderr, "tearing down the Samba lab:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func labEnv(t *testing.T) (ns, lab string) {
	ns, lab = os.Getenv("LAB_NS"), os.Getenv("LAB")
	if ns == "" {
		ns = "fix8524lab"
	}
	if lab == "" {
		lab = "/tmp/fix8524-lab"
	}
	if err := exec.Command("ip", "netns", "exec", ns, "true").Run(); err != nil {
		// No lab to read: build one for this package (torn down by PID in TestMain).
		ownLabOnce.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			ownLab, ownLabErr = samba.UpWith(ctx, 2, samba.Options{NS: ns, Dir: lab})
		})
		if ownLabErr != nil {
			t.Fatalf("no Samba lab namespace %s, and building one failed: %v", ns, ownLabErr)
		}
	}
	// The lab's breakers restart DC1; wait for its LDAP ports.
	for i := 0; ; i++ {
		err := exec.Command("ip", "netns", "exec", ns, "bash", "-c", "exec 3<>/dev/tcp/127.0.10.1/636 && exec 4<>/dev/tcp/127.0.10.1/389").Run()
		if err == nil {
			break
		}
		if i == 120 {
			t.Fatalf("DC1 (127.0.10.1) does not accept LDAP connections: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return ns, lab
}

func buildCLI(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "fix8524")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// labCAs returns the lab's CA file (lab.sh issues SAN certificates from $LAB/tls/ca.pem), or
// the concatenated self-signed CAs of Samba's own certificates.
func labCAs(t *testing.T, lab string) string {
	if p := filepath.Join(lab, "tls", "ca.pem"); fileExists(p) {
		return p
	}
	files, _ := filepath.Glob(filepath.Join(lab, "dc*", "private", "tls", "ca.pem"))
	if len(files) == 0 {
		t.Fatalf("no lab CA under %s", lab)
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	p := filepath.Join(t.TempDir(), "lab-ca.pem")
	if err := os.WriteFile(p, all, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func runInLab(t *testing.T, ns, bin, password string, args ...string) (int, string, string) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	cmd.Env = append(os.Environ(), "FIX8524_PASSWORD="+password)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

type labStatus struct {
	DCs []struct {
		Name     string `json:"name"`
		IP       string `json:"ip"`
		FQDN     string `json:"fqdn"`
		Exists   bool   `json:"exists"`
		SambaPid *int   `json:"sambaPid"`
		Resolver string `json:"resolver"`
	} `json:"dcs"`
}

// labInventory writes an inventory from `lab.sh status`: each DC's address (the lab's breakers
// delete DNS records, so names may not resolve) and DNS client server.
func labInventory(t *testing.T) (string, labStatus) {
	out, err := exec.Command("bash", "../../lab/samba/lab.sh", "status").Output()
	if err != nil {
		t.Fatalf("lab.sh status: %v", err)
	}
	var st labStatus
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("lab.sh status: %v", err)
	}
	var b strings.Builder
	for _, dc := range st.DCs {
		if !dc.Exists {
			continue
		}
		fmt.Fprintf(&b, "dc %q {\n  ips = [%q]\n", strings.ToUpper(dc.Name), dc.IP)
		if dc.Resolver != "" {
			fmt.Fprintf(&b, "  dns_servers = [%q]\n", dc.Resolver)
		}
		b.WriteString("}\n")
	}
	p := filepath.Join(t.TempDir(), "inventory.hcl")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, st
}

func TestSambaGather(t *testing.T) {
	ns, lab := labEnv(t)
	bin := buildCLI(t)
	ca := labCAs(t, lab)
	inv, st := labInventory(t)
	running := 0
	for _, dc := range st.DCs {
		if dc.Exists && dc.SambaPid != nil {
			running++
		}
	}
	for _, mode := range []string{"ldaps", "starttls"} {
		t.Run(mode, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "facts.json")
			code, stdout, stderr := runInLab(t, ns, bin, labPassword, "gather", "--dc", "127.0.10.1", "--tls", mode,
				"--tls-server-name", "dc1.lab.example.com", "--ca-file", ca, "--inventory", inv,
				"--user", "Administrator@lab.example.com", "--timeout", "60s", "-o", out)
			t.Logf("stderr:\n%s", stderr)
			if code != exitOK {
				t.Fatalf("exit %d", code)
			}
			if strings.Contains(stdout+stderr, labPassword) {
				t.Fatal("the password appears in the output")
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := facts.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			checkLabFacts(t, s, running)
		})
	}
}

func checkLabFacts(t *testing.T, s *facts.Snapshot, running int) {
	t.Helper()
	if s.Forest.RootDomain != "lab.example.com" || s.SeedDC != "DC1" || len(s.DCs) < 2 {
		t.Fatalf("forest %q, seed %q, %d DCs", s.Forest.RootDomain, s.SeedDC, len(s.DCs))
	}
	ix := facts.NewIndex(s)
	answering := 0
	for _, dc := range s.DCs {
		t.Logf("%s: operatingSystem %+v, platform %+v, protected %+v", dc.Name, dc.OperatingSystem, dc.Platform, dc.ProtectedFromDeletion)
		if len(dc.DSAGUID) != 36 || dc.DNSHostName == "" || dc.ComputerDN == "" {
			t.Errorf("%s: guid %q host %q computer %q", dc.Name, dc.DSAGUID, dc.DNSHostName, dc.ComputerDN)
		}
		own, ok := dc.OwnDSAGUID.Get()
		if !ok {
			t.Logf("%s does not answer: %s", dc.Name, dc.OwnDSAGUID.Why())
			continue
		}
		answering++
		if p, ok := dc.Platform.Get(); !ok || p != facts.PlatformSamba {
			t.Errorf("%s platform = %+v", dc.Name, dc.Platform)
		}
		if own != dc.DSAGUID {
			t.Logf("%s: own DSA GUID %s differs from the seed's view %s (re-promoted?)", dc.Name, own, dc.DSAGUID)
		}
		if via, ok := dc.Inbound.Get(); !ok || via != "repsFrom" {
			t.Errorf("%s inbound = %+v", dc.Name, dc.Inbound)
		}
	}
	if answering < running {
		t.Fatalf("%d DCs answered, %d are running", answering, running)
	}
	if len(s.Links) == 0 {
		t.Fatal("no links read from repsFrom")
	}
	for _, l := range s.Links {
		if l.ReadVia != "repsFrom" || l.SourceAddress != l.SourceDSAGUID+"._msdcs.lab.example.com" {
			t.Errorf("link %s<-%s %s: via %s, address %s", l.Destination, l.SourceDSAGUID, l.NC, l.ReadVia, l.SourceAddress)
		}
		if ix.SourceOf(&l) == nil && !l.SourceDeleted {
			t.Errorf("link %s<-%s: source unknown to the topology (DN %q)", l.Destination, l.SourceDSAGUID, l.SourceDSADN)
		}
		if l.LastAttempt.IsZero() {
			t.Errorf("link %s<-%s %s: never attempted?", l.Destination, l.SourceDSAGUID, l.NC)
		}
	}
	failing := 0
	for _, l := range s.Links {
		if l.LastResult != 0 {
			failing++
		}
	}
	if failing > 0 && len(s.DNS) == 0 {
		t.Error("failing links but no DNS observations (the inventory gives every DC's DNS server)")
	}
	t.Logf("%d DCs, %d links (%d failing), %d DNS and %d TCP observations, %d problems", len(s.DCs), len(s.Links), failing, len(s.DNS), len(s.Reach), len(s.Problems))
}

func TestSambaWrongPassword(t *testing.T) {
	ns, lab := labEnv(t)
	bin := buildCLI(t)
	ca := labCAs(t, lab)
	wrong := "Wr0ng-Pa55word-xyz"
	code, stdout, stderr := runInLab(t, ns, bin, wrong, "gather", "--dc", "127.0.10.1", "--tls-server-name", "dc1.lab.example.com",
		"--ca-file", ca, "--user", "Administrator@lab.example.com", "--timeout", "30s")
	if code != exitError {
		t.Fatalf("exit %d with a wrong password", code)
	}
	if strings.Contains(stdout+stderr, wrong) || !strings.Contains(stderr, "Invalid Credentials") {
		t.Fatalf("stderr: %s", stderr)
	}
}
