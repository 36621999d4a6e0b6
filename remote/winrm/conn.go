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
	if h.conn != nil && h.alive() {
		return false, nil
	}
	h.close()
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

// alive checks an idle connection before it is reused: a server that closed it (keep-alive
// timeout, restart) shows EOF now, before a request is written, so a non-idempotent request
// (run command) is never sent into a dead connection and never needs a retry.
func (h *httpConn) alive() bool {
	if err := h.conn.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return false
	}
	_, err := h.br.Peek(1)
	_ = h.conn.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() // no data, no EOF: still open and idle
}

func (h *httpConn) close() {
	if h.conn != nil {
		_ = h.conn.Close()
	}
	h.conn, h.br, h.state = nil, nil, nil
}

// do sends req on the connection and reads the whole response. On any error the connection
// is closed; nothing is retried.
func (h *httpConn) do(ctx context.Context, req *http.Request, body []byte) (*http.Response, []byte, error) {
	if _, err := h.ensure(ctx); err != nil {
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
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return err
}
