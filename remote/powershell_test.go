package remote

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestPowerShellRoundTrip(t *testing.T) {
	for _, v := range hostile {
		c := Command{Name: "probe_dns", PowerShell: "Get-Thing -Name $P.DC | ConvertTo-Json\n", Params: map[string]string{"DC": v, "NC": "DC=contoso,DC=com"}}
		line, err := PowerShellCommandLine(c)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(line, "'\"\n;&|$`\u2019") {
			t.Fatalf("command line carries a special character: %s", line)
		}
		inv, err := ParsePowerShellCommandLine(line)
		if err != nil {
			t.Fatal(err)
		}
		if inv.Name != "probe_dns" || inv.Body != c.PowerShell || !maps.Equal(inv.Params, c.Params) {
			t.Fatalf("round trip of %q: %+v", v, inv)
		}
		if !strings.HasPrefix(inv.Script, "# fix8524:probe_dns\n") {
			t.Fatalf("marker line: %q", inv.Script)
		}
		// The value never appears in the script text, only its base64.
		if len(v) > 3 && strings.Contains(inv.Script, v) {
			t.Fatalf("value %q spliced into script", v)
		}
	}
}

func TestPowerShellCommandLineTooLong(t *testing.T) {
	c := Command{Name: "big", PowerShell: strings.Repeat("x", 4000)}
	if _, err := PowerShellCommandLine(c); err == nil || !strings.Contains(err.Error(), "8191") {
		t.Fatalf("want a length error, got %v", err)
	}
}

func TestParsePowerShellForeign(t *testing.T) {
	// pywinrm run_ps and masterzen winrm.Powershell produce plain encoded scripts.
	enc := EncodePowerShell("Write-Output 'hi'")
	for _, line := range []string{
		"powershell -encodedcommand " + enc,
		`"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -enc ` + enc,
		"pwsh -e " + enc,
		"PowerShell.exe -ec " + enc,
	} {
		inv, err := ParsePowerShellCommandLine(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if inv.Name != "" || inv.Params != nil || inv.Body != "Write-Output 'hi'" {
			t.Fatalf("%s: %+v", line, inv)
		}
	}
	for _, line := range []string{"", "ipconfig /all", "powershell -Command Get-Date", "cmd /c powershell -enc " + enc, "powershell -enc"} {
		if _, err := ParsePowerShellCommandLine(line); !errors.Is(err, ErrNotPowerShell) {
			t.Errorf("%q: %v", line, err)
		}
	}
	if _, err := ParsePowerShellCommandLine("powershell -enc !!!"); err == nil {
		t.Error("bad base64 accepted")
	}
}

func FuzzParsePowerShellCommandLine(f *testing.F) {
	line, _ := PowerShellCommandLine(Command{Name: "x", PowerShell: "y", Params: map[string]string{"A": "b"}})
	f.Add(line)
	f.Add("powershell -enc " + EncodePowerShell("# fix8524:x\nbroken"))
	f.Add("powershell -enc " + EncodePowerShell(MarkerPrefix+"x\n"+bootstrapPrologue+paramsPrefix+"e30="+paramsSuffix+"body"))
	f.Add("pwsh -e AAAA")
	f.Fuzz(func(t *testing.T, line string) {
		inv, err := ParsePowerShellCommandLine(line)
		if err != nil {
			return
		}
		if inv.Name != "" {
			// A parsed fix8524 script re-encodes to the same script.
			c := Command{Name: inv.Name, PowerShell: inv.Body, Params: inv.Params}
			if c.PowerShell == "" || c.Validate() != nil {
				return
			}
			s, err := PowerShellScript(c)
			if err != nil {
				t.Fatal(err)
			}
			inv2, err := ParsePowerShellScript(s)
			if err != nil || inv2.Name != inv.Name || inv2.Body != inv.Body || !maps.Equal(inv2.Params, inv.Params) {
				t.Fatalf("re-encode mismatch: %+v %+v %v", inv, inv2, err)
			}
		}
	})
}

const clixmlSample = "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><Obj S=\"progress\" RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N=\"SourceId\">1</I64><PR N=\"Record\"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj><S S=\"Error\">Restart-Service : Cannot find any service with service name 'Netlogn'._x000D__x000A_</S><S S=\"Error\">At line:1 char:1_x000D__x000A_</S><S S=\"Error\">+ Restart-Service Netlogn_x000D__x000A_</S><S S=\"Warning\">careful _xD83D__xDE00_</S></Objs>"

func TestDecodeCLIXML(t *testing.T) {
	got, ok := DecodeCLIXML([]byte(clixmlSample))
	if !ok {
		t.Fatal("not recognized")
	}
	want := "Restart-Service : Cannot find any service with service name 'Netlogn'.\r\nAt line:1 char:1\r\n+ Restart-Service Netlogn\r\ncareful 😀"
	want = strings.ReplaceAll(want, "\r\n", "\n")
	if strings.ReplaceAll(got, "\r", "") != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if s, ok := DecodeCLIXML([]byte("plain error\n")); ok || s != "plain error\n" {
		t.Errorf("plain: %q %v", s, ok)
	}
}

func FuzzDecodeCLIXML(f *testing.F) {
	f.Add([]byte(clixmlSample))
	f.Add([]byte("#< CLIXML\n<Objs><S S=\"Error\">_x00"))
	f.Add([]byte("#< CLIXML"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeCLIXML(b)
		_ = decodeXMLEscapes(string(b))
	})
}
