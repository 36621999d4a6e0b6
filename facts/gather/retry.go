package gather

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"
)

// Retries of transient failures: the first wait, doubling up to the cap, while the DC's deadline
// leaves room for another attempt.
var retryFirstWait = 200 * time.Millisecond // a variable for tests

const (
	retryMaxWait = 2 * time.Second
	retryMax     = 5 // attempts in all
)

// attempts returns how many attempts a failure allows in all (1: not transient). Transient are
// a connection reset or aborted by the network, and a resolver timeout or temporary failure
// (one lost UDP packet). A DC that did not answer a connection at all is not tried again: TCP
// already retransmitted its SYN within the dial timeout, a silent DC is usually down, and each
// attempt would cost the whole dial timeout. Refusals, certificate errors, bind failures (a
// wrong password retried could lock the account) and "no such host" are not transient either.
func attempts(err error) int {
	if err == nil {
		return 1
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return retryMax
	}
	var de *net.DNSError
	if errors.As(err, &de) && (de.IsTimeout || de.IsTemporary) {
		return retryMax
	}
	return 1
}

// retry runs f until it succeeds, fails with an error that is not transient, or ctx has no room
// for another attempt; it waits with backoff between attempts. It returns f's last error and
// the number of attempts made.
func retry(ctx context.Context, f func() error) (int, error) {
	wait := retryFirstWait
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt >= attempts(err) || ctx.Err() != nil {
			return attempt, err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return attempt, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return attempt, err
		case <-t.C:
		}
		if wait *= 2; wait > retryMaxWait {
			wait = retryMaxWait
		}
	}
}

// attemptsNote says how often a failed read was tried ("" for once).
func attemptsNote(n int) string {
	if n <= 1 {
		return ""
	}
	return " (" + strconv.Itoa(n) + " attempts)"
}
