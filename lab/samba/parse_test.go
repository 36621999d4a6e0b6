package samba

import (
	"os"
	"strings"
	"testing"
)

func TestParseResultMessage(t *testing.T) {
	for _, c := range []struct {
		in   string
		code uint32
		name string
		ok   bool
	}{
		{"was successful", 0, "WERR_OK", true},
		{"failed, result 2 (WERR_FILE_NOT_FOUND)", 2, "WERR_FILE_NOT_FOUND", true},
		{"failed, result 8524 (WERR_DS_DNS_LOOKUP_FAILURE)", 8524, "WERR_DS_DNS_LOOKUP_FAILURE", true},
		{"failed, result 4294967295 (X)", 4294967295, "X", true},
		{"failed, result 4294967296 (X)", 0, "", false},
		{"failed, result -2 (X)", 0, "", false},
		{"failed, result 2", 0, "", false},
		{"", 0, "", false},
	} {
		code, name, err := ParseResultMessage(c.in)
		if (err == nil) != c.ok || code != c.code || name != c.name {
			t.Errorf("%q: got %d %q %v", c.in, code, name, err)
		}
	}
}

func TestParseRepsFromSamples(t *testing.T) {
	for _, f := range []string{"showrepl-healthy.json", "repsfrom-healthy.json"} {
		data, err := os.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		reps, err := ParseRepsFrom(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(reps) != 10 {
			t.Errorf("%s: %d values, want 10", f, len(reps))
		}
		for _, r := range reps {
			if r.Result != 0 || r.ResultName != "WERR_OK" || r.ConsecutiveFailures != 0 || r.IsDeleted {
				t.Errorf("%s: %+v", f, r)
			}
			if strings.HasPrefix(f, "repsfrom") && r.DNSName != CNAME(r.SourceGUID) {
				t.Errorf("%s: dns name %q for %s", f, r.DNSName, r.SourceGUID)
			}
		}
	}
	data, err := os.ReadFile("testdata/showrepl-stale.json")
	if err != nil {
		t.Fatal(err)
	}
	reps, err := ParseRepsFrom(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		result  uint32
		deleted bool
		dsa     string
	}{{2, true, ""}, {8524, false, `Default-First-Site-Name\DC2`}, {1225, false, `Default-First-Site-Name\DC2`}}
	for i, w := range want {
		r := reps[i]
		if r.Result != w.result || r.IsDeleted != w.deleted || r.SourceDSA != w.dsa ||
			r.SourceGUID != "23c41307-c735-4070-8192-5c7d76d452d2" {
			t.Errorf("stale[%d]: %+v", i, r)
		}
	}
}

func TestParseRepsFromErrors(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{}`, `{"repsFrom": null}`,
		`{"repsFrom": [{"NC dn": "DC=x"}]}`,
		`{"repsFrom": [{"NC dn": "DC=x", "DSA objectGUID": "g", "last attempt message": "odd"}]}`,
	} {
		if _, err := ParseRepsFrom([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	// a numeric result wins over a message that does not parse
	reps, err := ParseRepsFrom([]byte(`{"repsFrom": [{"NC dn": "DC=x", "DSA objectGUID": "G", "result": 8524, "last attempt message": ""}]}`))
	if err != nil || len(reps) != 1 || reps[0].Result != 8524 || reps[0].SourceGUID != "g" {
		t.Errorf("numeric result: %+v %v", reps, err)
	}
}

func TestParseSyncResults(t *testing.T) {
	data, err := os.ReadFile("testdata/replicate-ok.json")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseSyncResults(data)
	if err != nil || len(rs) != 5 {
		t.Fatalf("%d results, %v", len(rs), err)
	}
	for _, r := range rs {
		if r.Result != 0 || r.Source != "DC2" || !isGUID(r.SourceGUID) || r.Attempts < 1 {
			t.Errorf("%+v", r)
		}
	}
	if _, err := ParseSyncResults([]byte(`{"error": "source DC DC9 not found on 127.0.10.1"}`)); err == nil ||
		!strings.Contains(err.Error(), "DC9") {
		t.Errorf("error object: %v", err)
	}
	for _, in := range []string{``, `[{"result": 2}]`, `[{"nc": "x", "result": -1}]`, `{"error": 1}`} {
		if _, err := ParseSyncResults([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestParseDNSAnswer(t *testing.T) {
	for _, c := range []struct {
		in     string
		status string
		n      int
		exists bool
		ok     bool
	}{
		{"NOERROR dc2.lab.example.com.", "NOERROR", 1, true, true},
		{"NOERROR 127.0.10.1 127.0.10.2", "NOERROR", 2, true, true},
		{"NOERROR", "NOERROR", 0, false, true},
		{"NXDOMAIN", "NXDOMAIN", 0, false, true},
		{"ERROR\n", "ERROR", 0, false, true},
		{"NXDOMAIN x", "", 0, false, false},
		{"noerror x", "", 0, false, false},
		{"", "", 0, false, false},
	} {
		a, err := ParseDNSAnswer(c.in)
		if (err == nil) != c.ok || a.Status != c.status || len(a.Answers) != c.n || a.Exists() != c.exists {
			t.Errorf("%q: %+v %v", c.in, a, err)
		}
	}
}

func TestParseStatus(t *testing.T) {
	data, err := os.ReadFile("testdata/status.json")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseStatus(data)
	if err != nil {
		t.Fatal(err)
	}
	if st.NS != DefaultNS || st.Dir != DefaultDir || len(st.DCs) != 3 || st.CAFile != DefaultDir+"/tls/ca.pem" {
		t.Fatalf("%+v", st)
	}
	for _, name := range []string{"dc1", "dc2", "dc3"} {
		d, ok := st.DC(name)
		if !ok || d.IP != IP(name) || d.FQDN != FQDN(name) || !d.Running() || d.SSHDPid == 0 {
			t.Errorf("%s: %+v", name, d)
		}
	}
	for _, in := range []string{``, `{}`, `{"ns": "x", "lab": "/l", "dcs": [{"name": "dc9"}]}`,
		`{"ns": "x", "lab": "/l", "dcs": [{"name": "dc1", "sambaPid": -1}]}`} {
		if _, err := ParseStatus([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestHelpers(t *testing.T) {
	if IP("dc2") != "127.0.10.2" || IP("dc4") != "" || IP("x") != "" || FQDN("dc3") != "dc3.lab.example.com" {
		t.Error("IP/FQDN")
	}
	if !isGUID("23c41307-c735-4070-8192-5c7d76d452d2") || isGUID("23C41307-c735-4070-8192-5c7d76d452d2") ||
		isGUID("23c41307c735-4070-8192-5c7d76d452d2x") {
		t.Error("isGUID")
	}
	if got := Redact("bind failed for " + AdminPassword + "!"); strings.Contains(got, AdminPassword) {
		t.Errorf("Redact: %q", got)
	}
	if got := tail("x "+AdminPassword+strings.Repeat("y", 50), 20); strings.Contains(got, "Passw0rd") || len(got) > 24 {
		t.Errorf("tail: %q", got)
	}
}

func FuzzParseRepsFrom(f *testing.F) {
	for _, name := range []string{"showrepl-healthy.json", "repsfrom-healthy.json", "showrepl-stale.json"} {
		if data, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"repsFrom": [{"NC dn": "a", "DSA objectGUID": "b", "last attempt message": "failed, result 9 (x)"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		reps, err := ParseRepsFrom(data)
		if err != nil {
			return
		}
		for _, r := range reps {
			if r.NC == "" || r.SourceGUID == "" {
				t.Fatalf("accepted an entry without NC or GUID: %+v", r)
			}
		}
	})
}

func FuzzParseResultMessage(f *testing.F) {
	f.Add("was successful")
	f.Add("failed, result 2 (WERR_FILE_NOT_FOUND)")
	f.Add("failed, result 99999999999 (X)")
	f.Fuzz(func(t *testing.T, s string) {
		code, _, err := ParseResultMessage(s)
		if err == nil && code == 0 && strings.TrimSpace(s) != "was successful" && !strings.Contains(s, "result 0") {
			t.Fatalf("%q parsed as success", s)
		}
	})
}

func FuzzParseSyncResults(f *testing.F) {
	if data, err := os.ReadFile("testdata/replicate-ok.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"error": "x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseSyncResults(data)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.NC == "" {
				t.Fatal("accepted a result without NC")
			}
		}
	})
}

func FuzzParseDNSAnswer(f *testing.F) {
	f.Add("NOERROR dc2.lab.example.com.")
	f.Add("NXDOMAIN")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseDNSAnswer(s)
		if err != nil {
			return
		}
		if a.Status == "" || (a.Status != "NOERROR" && len(a.Answers) > 0) {
			t.Fatalf("%q -> %+v", s, a)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	if data, err := os.ReadFile("testdata/status.json"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStatus(data)
		if err != nil {
			return
		}
		for _, d := range st.DCs {
			if !validDC(d.Name) || d.SambaPid < 0 {
				t.Fatalf("accepted %+v", d)
			}
		}
	})
}
