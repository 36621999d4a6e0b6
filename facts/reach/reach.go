// Package reach tests TCP reachability (a connect, nothing sent) of DC ports: LDAP 389/636,
// RPC endpoint mapper 135, WinRM 5985/5986, SSH 22 and whatever a playbook's tcp checks name.
//
// A DC is probed on each of its known addresses; a DC with no known address is not dialled at
// all (its result is unknown, with where its addresses were looked for). Only what the network
// said about an address dialled (open, refused, timeout, unreachable) is an observation: a name
// that does not resolve, or a failure before anything was sent, is unknown, never "does not
// answer".
package reach

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
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

// Target is a probe and the addresses (IPs, or a host name for a host that is no DC) to dial
// for it. With no address, Why says why none is known.
type Target struct {
	Probe     facts.TCPProbe
	Addresses []string
	Why       string
}

// Probe dials every address of the target (one after the other) and aggregates (Aggregate).
func (p *Prober) Probe(ctx context.Context, t Target) facts.ReachObservation {
	return Observe(t, func(address string) facts.ReachAttempt { return p.dialOne(ctx, address, t.Probe.Port) })
}

// Observe makes a target's observation with attempt dialling one address (Probe's logic, for
// a simulation that answers without a network).
func Observe(t Target, attempt func(address string) facts.ReachAttempt) facts.ReachObservation {
	if len(t.Addresses) == 0 {
		why := t.Why
		if why == "" {
			why = "no address known for " + clip(t.Probe.Host)
		}
		return facts.ReachObservation{TCPProbe: t.Probe, Result: facts.ReachUnknown, Error: clip(why)}
	}
	attempts := make([]facts.ReachAttempt, 0, len(t.Addresses))
	for _, a := range t.Addresses {
		attempts = append(attempts, attempt(a))
	}
	return Aggregate(t.Probe, attempts)
}

// Aggregate makes one observation of a probe's attempts: open when an address answered;
// refused, timeout or unreachable when every address was dialled and none answered (refused
// when all refused, unreachable when all were unreachable, else timeout); unknown when an
// address could not be dialled (its error says why) and none answered. A single attempt keeps
// its own result (an error stays an error).
func Aggregate(probe facts.TCPProbe, attempts []facts.ReachAttempt) facts.ReachObservation {
	obs := facts.ReachObservation{TCPProbe: probe}
	if len(attempts) == 0 {
		obs.Result, obs.Error = facts.ReachUnknown, "no address known for "+clip(probe.Host)
		return obs
	}
	obs.Attempts = attempts
	obs.Address = attempts[0].Address
	var refused, timeout, unreach int
	var notDialled []string
	for _, a := range attempts {
		obs.ElapsedMS += a.ElapsedMS
		switch a.Result {
		case facts.ReachOpen:
			obs.Address, obs.Result, obs.Error = a.Address, facts.ReachOpen, ""
			return obs
		case facts.ReachRefused:
			refused++
		case facts.ReachTimeout:
			timeout++
		case facts.ReachUnreachable:
			unreach++
		default:
			notDialled = append(notDialled, a.Address+": "+a.Error)
		}
	}
	switch {
	case len(attempts) == 1:
		obs.Result, obs.Error = attempts[0].Result, attempts[0].Error
	case len(notDialled) > 0:
		obs.Result, obs.Error = facts.ReachUnknown, clip("not every address could be dialled: "+strings.Join(notDialled, "; "))
	case refused == len(attempts):
		obs.Result, obs.Error = facts.ReachRefused, "connection refused on every address"
	case unreach == len(attempts):
		obs.Result, obs.Error = facts.ReachUnreachable, "every address is unreachable"
	default:
		obs.Result, obs.Error = facts.ReachTimeout, "no address answered"
	}
	return obs
}

// dialOne connects to address:port and closes the connection at once.
func (p *Prober) dialOne(ctx context.Context, address string, port int) facts.ReachAttempt {
	obs := facts.ReachAttempt{Address: address}
	if port <= 0 || port > 65535 {
		obs.Result, obs.Error = facts.ReachError, "port "+strconv.Itoa(port)+" is out of range"
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
	c, err := dial(cctx, "tcp", net.JoinHostPort(address, strconv.Itoa(port)))
	obs.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	obs.Result, obs.Error = Classify(err, cctx.Err() != nil)
	if err == nil {
		_ = c.Close()
	}
	return obs
}

// Classify turns a dial error into a result: refused, timeout (or expired, the dial's deadline
// passed), unreachable (the network said so), error for anything that is no observation of the
// address (a name that does not resolve, a local failure).
func Classify(err error, expired bool) (result, message string) {
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return facts.ReachOpen, ""
	case errors.As(err, &dnsErr):
		return facts.ReachError, clip("the name does not resolve: " + err.Error())
	case errors.Is(err, syscall.ECONNREFUSED):
		return facts.ReachRefused, "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return facts.ReachUnreachable, clip(err.Error())
	case isTimeout(err) || expired:
		return facts.ReachTimeout, "no answer"
	}
	return facts.ReachError, clip(err.Error())
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
