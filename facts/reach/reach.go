// Package reach tests TCP reachability (a connect, nothing sent) of DC ports: LDAP 389/636,
// RPC endpoint mapper 135, WinRM 5985/5986, SSH 22 and whatever a playbook's tcp checks name.
package reach

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/relay"
)

// StandardPorts are probed on the DCs of failing links when the playbook asks for nothing else.
var StandardPorts = []int{389, 636, 135, 5985, 5986, 22}

// DialFunc dials like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Prober makes TCP connect tests. The zero value is usable.
type Prober struct {
	Dial     DialFunc      // nil: a net.Dialer
	Timeout  time.Duration // per probe; default 2s
	Parallel int           // ProbeAll concurrency; default 32
}

// Target is a probe and the address (IP or host name, no port) to dial for it.
type Target struct {
	Probe   facts.TCPProbe
	Address string
}

// Probe connects to address:port and closes the connection at once.
func (p *Prober) Probe(ctx context.Context, t Target) facts.ReachObservation {
	obs := facts.ReachObservation{TCPProbe: t.Probe, Address: t.Address}
	if t.Address == "" {
		obs.Result, obs.Error = facts.ReachError, "no address known for "+clip(t.Probe.Host)
		return obs
	}
	if t.Probe.Port <= 0 || t.Probe.Port > 65535 {
		obs.Result, obs.Error = facts.ReachError, "port "+strconv.Itoa(t.Probe.Port)+" is out of range"
		return obs
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	dial := p.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	c, err := dial(cctx, "tcp", net.JoinHostPort(t.Address, strconv.Itoa(t.Probe.Port)))
	obs.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	switch {
	case err == nil:
		_ = c.Close()
		obs.Result = facts.ReachOpen
	case errors.Is(err, syscall.ECONNREFUSED):
		obs.Result, obs.Error = facts.ReachRefused, "connection refused"
	case isTimeout(err) || cctx.Err() != nil:
		obs.Result, obs.Error = facts.ReachTimeout, "no answer"
	default:
		obs.Result, obs.Error = facts.ReachError, clip(err.Error())
	}
	return obs
}

// ProbeAll runs every probe, at most Parallel at a time; results keep the order of ts.
func (p *Prober) ProbeAll(ctx context.Context, ts []Target) []facts.ReachObservation {
	out := make([]facts.ReachObservation, len(ts))
	par := p.Parallel
	if par <= 0 {
		par = 32
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var rl relay.Relay
	for i := range ts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer rl.Catch()
			out[i] = p.Probe(ctx, ts[i])
		}()
	}
	wg.Wait()
	rl.Raise()
	return out
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
