package hostprobe_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/lab/sshd"
)

// probeSSHD is a private sshd on 127.0.0.1 (lab/sshd) for the SSH probes. The DC's
// /etc/resolv.conf is simulated: a `cat` first on the server's PATH prints resolvConf for
// /etc/resolv.conf and runs /bin/cat otherwise, so the test does not depend on this machine's
// resolver settings.
type probeSSHD struct {
	*sshd.Server
	otherKey   string // a key the server does not know
	knownHosts string // the host key for each of the host names given, on this port
}

func startSSHD(t *testing.T, resolvConf string, hostNames ...string) *probeSSHD {
	t.Helper()
	dir := t.TempDir()
	resolvPath := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolvPath, []byte(resolvConf), 0o644); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(resolvPath, "'") {
		t.Fatalf("%q cannot be single-quoted", resolvPath)
	}
	fakeCat := "#!/bin/sh\nif [ \"$#\" = 1 ] && [ \"$1\" = /etc/resolv.conf ]; then exec /bin/cat '" + resolvPath + "'; fi\nexec /bin/cat \"$@\"\n"
	s := &probeSSHD{Server: sshd.Start(t, sshd.Options{Commands: map[string]string{"cat": fakeCat}}), otherKey: filepath.Join(dir, "other_key")}
	sshd.NewKey(t).WriteFile(t, s.otherKey)
	s.knownHosts = s.KnownHosts(t, hostNames...)
	return s
}
