package heal

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzSentFile: whatever the file remembering delivered notifications holds, reading it never
// fails a run or panics, and a damaged file never silences an escalation.
func FuzzSentFile(f *testing.F) {
	f.Add([]byte(`{"contoso.com":{"key":"sha256:ab","sent":"2026-11-20T09:30:00Z"}}`))
	f.Add([]byte(`{"contoso.com":{"key":1}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{0xff, 0x00})
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, sentFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := readSent(dir)
		if err != nil {
			t.Fatalf("readSent: %v", err)
		}
		if len(m) == 0 && alreadySent(dir, "contoso.com", "sha256:ab", now, time.Hour) {
			t.Fatal("an unreadable memory silenced an escalation")
		}
		if err := rememberSent(dir, "contoso.com", "sha256:cd", now); err != nil {
			t.Fatal(err)
		}
		if !alreadySent(dir, "contoso.com", "sha256:cd", now.Add(time.Minute), time.Hour) ||
			alreadySent(dir, "contoso.com", "sha256:cd", now.Add(2*time.Hour), time.Hour) {
			t.Fatal("remembered escalation not recognised, or not forgotten after the reminder interval")
		}
	})
}
