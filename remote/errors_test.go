package remote

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want Kind
	}{
		{context.Canceled, KindCanceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), KindTimeout},
		{os.ErrDeadlineExceeded, KindTimeout},
		{x509.UnknownAuthorityError{}, KindTLS},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, KindRefused},
		{&net.DNSError{Err: "no such host", Name: "dc1"}, KindUnreachable},
		{io.ErrUnexpectedEOF, KindDropped},
		{syscall.ECONNRESET, KindDropped},
		{errors.New("something"), KindProtocol},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	te := &TransportError{Kind: KindAuth, Op: "create shell", Target: Target{Host: "dc1", Address: "127.0.0.1", Port: 5986}.String(), StatusCode: 401, Err: errors.New("HTTP 401"), Detail: "check"}
	wrapped := fmt.Errorf("run: %w", te)
	if KindOf(wrapped) != KindAuth || !IsTransport(wrapped) || KindOf(errors.New("x")) != "" {
		t.Error("KindOf")
	}
	if got, want := te.Error(), "dc1:5986 (via 127.0.0.1): create shell: auth (HTTP 401): HTTP 401 (check)"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}
