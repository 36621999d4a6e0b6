package metrics

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheckListenAddress: without allowRemote, whatever passes is a loopback IP.
func FuzzCheckListenAddress(f *testing.F) {
	for _, s := range []string{"127.0.0.1:9524", ":9524", "localhost:1", "[::1]:0", "0.0.0.0:1", "[::ffff:127.0.0.1]:1", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		got, err := CheckListenAddress(addr, false)
		if err != nil {
			return
		}
		host, _, err := net.SplitHostPort(got)
		if err != nil {
			t.Fatalf("%q -> %q: %v", addr, got, err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			t.Fatalf("%q passed as %q, not loopback", addr, got)
		}
	})
}

// FuzzLastSuccessFromTextfile: any file content gives a time or an error, never a panic.
func FuzzLastSuccessFromTextfile(f *testing.F) {
	f.Add([]byte("fix8524_heal_last_success_timestamp_seconds 1.7e9\n"))
	f.Add([]byte("# TYPE x gauge\nx{a=\"b\"} NaN\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "x.prom")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ts, err := LastSuccessFromTextfile(p)
		if err == nil && !ts.IsZero() && ts.Unix() <= 0 {
			t.Fatalf("time %v", ts)
		}
	})
}
