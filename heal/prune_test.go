package heal

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

func TestPrunePlans(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	touch := func(name string, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// keepNewestPlans recent-enough files, then 5 old ones beyond them
	for i := 0; i < keepNewestPlans; i++ {
		touch(fmt.Sprintf("heal-new%02d.json", i), 200*24*time.Hour+time.Duration(i)*time.Minute)
	}
	for i := 0; i < 5; i++ {
		touch(fmt.Sprintf("heal-old%d.json", i), 300*24*time.Hour+time.Duration(i)*time.Minute)
	}
	except := touch("heal-current.json", 400*24*time.Hour) // this run's file, whatever its time
	touch("held-x.json", 400*24*time.Hour)                 // another kind: not this prefix
	touch("heal-notes.txt", 400*24*time.Hour)              // not a plan file
	if err := os.Mkdir(filepath.Join(dir, "heal-dir.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, "heal-link.json")); err != nil {
		t.Fatal(err)
	}
	touch("heal-old0.html", 300*24*time.Hour)  // the report of a pruned plan: goes with it
	touch("heal-new00.html", 300*24*time.Hour) // the report of a kept plan: stays
	deleted, err := prunePlans(dir, "heal-", 90*24*time.Hour, now, except)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(deleted)
	want := []string{"heal-old0.json", "heal-old1.json", "heal-old2.json", "heal-old3.json", "heal-old4.json"}
	if fmt.Sprint(deleted) != fmt.Sprint(want) {
		t.Errorf("deleted %v, want %v", deleted, want)
	}
	if _, err := os.Lstat(filepath.Join(dir, "heal-old0.html")); err == nil {
		t.Error("the report of a pruned plan is left behind")
	}
	for _, keep := range []string{"heal-new00.html", "heal-new00.json", "heal-new49.json", "heal-current.json", "held-x.json", "heal-notes.txt", "heal-dir.json", "heal-link.json"} {
		if _, err := os.Lstat(filepath.Join(dir, keep)); err != nil {
			t.Errorf("%s was removed: %v", keep, err)
		}
	}
	// young files are never pruned, and a zero retention prunes nothing
	if d, err := prunePlans(dir, "held-", 500*24*time.Hour, now, ""); err != nil || len(d) != 0 {
		t.Errorf("young: %v %v", d, err)
	}
	if d, err := prunePlans(dir, "held-", 0, now, ""); err != nil || len(d) != 0 {
		t.Errorf("disabled: %v %v", d, err)
	}
	if d, err := prunePlans(filepath.Join(dir, "missing"), "heal-", time.Hour, now, ""); err != nil || d != nil {
		t.Errorf("missing dir: %v %v", d, err)
	}
}
