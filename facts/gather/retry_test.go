package gather

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// Resets and resolver timeouts are retried with backoff within the deadline; refusals, bind
// failures and silent DCs are not (a wrong password retried could lock the account).
func TestRetryTransientOnly(t *testing.T) {
	defer func(w time.Duration) { retryFirstWait = w }(retryFirstWait)
	retryFirstWait = time.Millisecond
	reset := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNRESET)}
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"reset", fmt.Errorf("connecting to dc2:636: %w", reset), retryMax},
		{"resolver timeout", &net.DNSError{Err: "i/o timeout", Name: "dc2", IsTimeout: true}, retryMax},
		{"no such host", &net.DNSError{Err: "no such host", Name: "dc2", IsNotFound: true}, 1},
		{"refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, 1},
		{"bind", errors.New("binding to dc2:636: LDAP Result Code 49 \"Invalid Credentials\""), 1},
	}
	for _, c := range cases {
		n := 0
		got, err := retry(context.Background(), func() error { n++; return c.err })
		if got != c.want || n != c.want || err != c.err {
			t.Errorf("%s: %d attempts (%d calls, %v), want %d", c.name, got, n, err, c.want)
		}
	}
	// Succeeds on the third attempt.
	n := 0
	if got, err := retry(context.Background(), func() error {
		if n++; n < 3 {
			return reset
		}
		return nil
	}); err != nil || got != 3 {
		t.Errorf("flaky: %d attempts, %v", got, err)
	}
	// No attempt past the deadline.
	retryFirstWait = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	got, _ := retry(ctx, func() error { return reset })
	if got >= retryMax || time.Since(start) > 2*time.Second {
		t.Errorf("with a 300ms deadline: %d attempts in %v", got, time.Since(start))
	}
}
