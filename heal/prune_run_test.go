package heal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/internal/journal"
)

// A heal run deletes the plan files heal wrote long ago (beyond the newest 50), journals it,
// and leaves everything else in the state directory alone.
func TestHealPrunesOldPlanFiles(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(f.j.Dir(), "plans")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	old := f.clk.Now().Add(-100 * 24 * time.Hour)
	for i := 0; i < 55; i++ {
		p := filepath.Join(dir, fmt.Sprintf("heal-old%02d.json", i))
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		mt := old.Add(-time.Duration(i) * time.Hour) // old54 is the oldest
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(other, old, old); err != nil {
		t.Fatal(err)
	}
	r, _ := f.run("healthy", mustPolicy(t, ""))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	for i := 0; i < 55; i++ {
		_, err := os.Stat(filepath.Join(dir, fmt.Sprintf("heal-old%02d.json", i)))
		if gone := os.IsNotExist(err); gone != (i >= 50) {
			t.Errorf("heal-old%02d.json: gone %v, want %v (%v)", i, gone, i >= 50, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file heal did not write was removed: %v", err)
	}
	notes := 0
	for _, e := range f.entries(journal.KindNote) {
		if e.Name == "prune-plans" {
			notes++
			if !strings.Contains(e.Reason, "deleted 5 plan file(s)") || !strings.Contains(e.Reason, "heal-old54.json") {
				t.Errorf("journal: %s", e.Reason)
			}
		}
	}
	if notes != 1 {
		t.Errorf("%d prune-plans journal entries, want 1", notes)
	}
}
