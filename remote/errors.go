package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// Kind says which way a transport failed, so callers can tell "could not reach the DC" from
// "reached it but could not log on" from "the command failed".
type Kind string

// Kinds of transport failure.
const (
	KindAuth        Kind = "auth"        // credentials rejected (401, SSH auth failure, NTLM/Kerberos failure)
	KindTLS         Kind = "tls"         // TLS handshake or certificate verification failed
	KindHostKey     Kind = "hostkey"     // SSH host key unknown or changed
	KindTimeout     Kind = "timeout"     // a deadline passed (connect, reply, or the whole command)
	KindCanceled    Kind = "canceled"    // the caller's context was canceled
	KindRefused     Kind = "refused"     // TCP connection refused: nothing listens on the port
	KindUnreachable Kind = "unreachable" // name resolution failed, no route to host
	KindDropped     Kind = "dropped"     // the connection was closed or reset mid-exchange
	KindProtocol    Kind = "protocol"    // the peer answered, but not in the protocol we speak
	KindHTTPStatus  Kind = "http_status" // an HTTP status other than 200 (401 is KindAuth)
	KindConfig      Kind = "config"      // our own settings cannot work (e.g. Kerberos to an IP address)
	KindUnsupported Kind = "unsupported" // the command cannot be carried by this transport
)

// TransportError is a failure to run a command because of the transport, not the command.
// It never contains credentials.
type TransportError struct {
	Kind       Kind
	Op         string // what was being done: "connect", "create shell", "receive output", ...
	Target     string // Target.String()
	StatusCode int    // HTTP status for KindHTTPStatus and KindAuth over HTTP; 0 otherwise
	Detail     string // a hint for the operator (what to check), may be empty
	Err        error
}

func (e *TransportError) Error() string {
	msg := fmt.Sprintf("%s: %s: %s", e.Target, e.Op, e.Kind)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

func (e *TransportError) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *TransportError in err's chain, or "" if there is none.
func KindOf(err error) Kind {
	var te *TransportError
	if errors.As(err, &te) {
		return te.Kind
	}
	return ""
}

// IsTransport reports whether err is (or wraps) a *TransportError.
func IsTransport(err error) bool { return KindOf(err) != "" }

// Classify guesses the Kind of a low-level network error (from net, crypto/tls, context).
// It returns KindProtocol when nothing more specific applies.
func Classify(err error) Kind {
	var (
		uae  x509.UnknownAuthorityError
		hne  x509.HostnameError
		cie  x509.CertificateInvalidError
		rhe  tls.RecordHeaderError
		ave  *tls.AlertError
		cve  *tls.CertificateVerificationError
		dnse *net.DNSError
		ne   net.Error
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeout
	case errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &cie), errors.As(err, &rhe),
		errors.As(err, &ave), errors.As(err, &cve):
		return KindTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.As(err, &dnse), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return KindUnreachable
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return KindDropped
	case errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	}
	return KindProtocol
}
