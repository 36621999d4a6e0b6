package e2e

import (
	"strings"
	"testing"
	"time"
)

func TestMTTRRoundTrip(t *testing.T) {
	m := MTTR{Case: "source-records", Path: "apply", Break: 7700 * time.Millisecond, Plan: 9100 * time.Millisecond,
		Fix: 20400 * time.Millisecond, Total: 29500 * time.Millisecond, Floor: 6 * time.Second}
	line := m.String()
	if line != "E2E-MTTR case=source-records path=apply break_s=7.7 plan_s=9.1 fix_s=20.4 mttr_s=29.5 floor_s=6.0" {
		t.Fatalf("line %q", line)
	}
	got, err := ParseMTTR("    e2e_samba_test.go:123: " + line)
	if err != nil || got != m {
		t.Fatalf("ParseMTTR = %+v, %v; want %+v", got, err, m)
	}
	if s := (MTTR{Case: "a b", Path: "x"}).String(); !strings.Contains(s, "case=invalid") {
		t.Fatalf("a name with a space: %q", s)
	}
	// a plan or floor that was not measured is "-", never a misleading 0.0
	heal := MTTR{Case: "windows-heal", Path: "heal", Break: 6700 * time.Millisecond, Fix: 17 * time.Second, Total: 20700 * time.Millisecond}
	if line := heal.String(); line != "E2E-MTTR case=windows-heal path=heal break_s=6.7 plan_s=- fix_s=17.0 mttr_s=20.7 floor_s=-" {
		t.Fatalf("unmeasured: %q", line)
	}
	if got, err := ParseMTTR(heal.String()); err != nil || got != heal {
		t.Fatalf("ParseMTTR(unmeasured) = %+v, %v; want %+v", got, err, heal)
	}
}

func TestParseMTTRErrors(t *testing.T) {
	for _, line := range []string{
		"",
		"E2E-MTTR",
		"E2E-MTTR case=a path=b", // no mttr_s
		"E2E-MTTR case=a path=b mttr_s=1 mttr_s=2", // twice
		"E2E-MTTR case=a path=b mttr_s=-1",
		"E2E-MTTR case=a path=b mttr_s=1e9",
		"E2E-MTTR case=a path=b mttr_s=1.25",
		"E2E-MTTR case=A path=b mttr_s=1",
		"E2E-MTTR case=a path=b mttr_s=1 other=2",
		"E2E-MTTR case=a path=b mttr_s",
		"E2E-MTTR case=a path=b mttr_s=-", // only plan and floor may be unmeasured
		"E2E-MTTR case=a path=b mttr_s=1 fix_s=-",
	} {
		if m, err := ParseMTTR(line); err == nil {
			t.Errorf("ParseMTTR(%q) = %+v, want an error", line, m)
		}
	}
}

func FuzzParseMTTR(f *testing.F) {
	f.Add("E2E-MTTR case=source-records path=apply break_s=7.7 plan_s=9.1 fix_s=20.4 mttr_s=29.5 floor_s=6.0")
	f.Add("x E2E-MTTR case=a path=b mttr_s=0")
	f.Add("E2E-MTTR case=a path=b mttr_s=9999999.9")
	f.Add("E2E-MTTR case=a path=heal plan_s=- mttr_s=1.0 floor_s=-")
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseMTTR(line)
		if err != nil {
			return
		}
		// what parses prints back to a line that parses to the same value
		again, err := ParseMTTR(m.String())
		if err != nil || again != m {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", line, again, err, m)
		}
	})
}
