package winrm

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// httpConn is an HTTP/1.1 client over exactly one TCP (or TLS) connection at a time. NTLM
// authenticates a connection, not a request, so the client must know which connection a
// request travels on; net/http's pool hides that. Every exchange is bounded by a deadline on
// the socket derived from the context, so a timeout or cancellation really stops it.
type httpConn struct {
	dialAddr string      // host:port to dial (Target.Address or Host)
	tls      *tls.Config // nil for HTTP
	connect  time.Duration

	conn  net.Conn
	br    *bufio.Reader
	gen   int // incremented on every new connection
	state *tls.ConnectionState
}

const maxResponse = 64 << 20

// ensure dials when there is no open connection. It returns true for a new connection.
func (h *httpConn) ensure(ctx context.Context) (bool, error) {
	if h.conn != nil {
		return false, nil
	}
	dctx, cancel := context.WithTimeout(ctx, h.connect)
	defer cancel()
	d := net.Dialer{KeepAlive: 30 * time.Second}
	c, err := d.DialContext(dctx, "tcp", h.dialAddr)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	if h.tls != nil {
		tc := tls.Client(c, h.tls)
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = c.Close()
			return false, fmt.Errorf("TLS handshake: %w", err)
		}
		st := tc.ConnectionState()
		h.state = &st
		c = tc
	}
	h.conn = c
	h.br = bufio.NewReader(c)
	h.gen++
	return true, nil
}

func (h *httpConn) close() {
	if h.conn != nil {
		_ = h.conn.Close()
	}
	h.conn, h.br, h.state = nil, nil, nil
}

// errStale marks a reused connection the server had already closed: nothing was processed.
var errStale = errors.New("connection closed by the server before the request was read")

// do sends req on the connection and reads the whole response. On any error the connection
// is closed. A reused connection that fails before any response byte is reported as errStale
// so the caller may reconnect and resend (the server cannot have processed the request).
func (h *httpConn) do(ctx context.Context, req *http.Request, body []byte) (*http.Response, []byte, error) {
	fresh, err := h.ensure(ctx)
	if err != nil {
		return nil, nil, err
	}
	conn := h.conn
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	req.ContentLength = int64(len(body))
	req.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	req.Close = false
	if err := req.Write(conn); err != nil {
		h.close()
		return nil, nil, h.ctxErr(ctx, fmt.Errorf("send request: %w", err))
	}
	resp, err := http.ReadResponse(h.br, req)
	if err != nil {
		h.close()
		if !fresh && ctx.Err() == nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)) {
			return nil, nil, errStale
		}
		return nil, nil, h.ctxErr(ctx, fmt.Errorf("read response: %w", err))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	_ = resp.Body.Close()
	if err != nil {
		h.close()
		return nil, nil, h.ctxErr(ctx, fmt.Errorf("read response body: %w", err))
	}
	if len(data) > maxResponse {
		h.close()
		return nil, nil, fmt.Errorf("response body larger than %d bytes", maxResponse)
	}
	if resp.Close {
		h.close()
	}
	return resp, data, nil
}

// ctxErr prefers the context's error when the context ended: a socket deadline set by
// cancellation should read as "canceled", not as an I/O timeout.
func (h *httpConn) ctxErr(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil {
		return fmt.Errorf("%w (%v)", ce, err)
	}
	return err
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
