// Package dnsprobe asks DNS servers the questions the planner needs (facts.DNSQuery) and records
// what each server answered (facts.DNSObservation): rcode, AA, answers, authority, elapsed time
// and transport errors. UDP with EDNS0, TCP fallback on truncation, per-attempt timeouts,
// retries on timeout, optional AXFR.
//
// Every dial goes through Prober.Dial, so tests and the simulated forest can map a logical
// server address (e.g. a documentation IP) to a loopback listener; nothing else is dialled.
package dnsprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/relay"
)

// DialFunc dials network ("udp" or "tcp") address ("ip:port"), like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Prober sends DNS queries. The zero value is usable.
type Prober struct {
	Dial     DialFunc      // nil: a net.Dialer
	Timeout  time.Duration // per attempt; default 2s
	Retries  int           // extra UDP attempts after a timeout; default 1 (set -1 for none)
	Port     int           // default 53
	UDPSize  uint16        // EDNS0 buffer size; default 1232
	MaxAXFR  int           // records kept from a zone transfer; default 10000
	Parallel int           // QueryAll concurrency; default 16
}

func (p *Prober) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return 2 * time.Second
}

func (p *Prober) retries() int {
	switch {
	case p.Retries < 0:
		return 0
	case p.Retries == 0:
		return 1
	}
	return p.Retries
}

func (p *Prober) address(server string) string {
	port := p.Port
	if port == 0 {
		port = 53
	}
	return net.JoinHostPort(server, strconv.Itoa(port))
}

func (p *Prober) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.Dial != nil {
		return p.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// QueryAll answers every query, at most Parallel at a time, in the order given.
func (p *Prober) QueryAll(ctx context.Context, qs []facts.DNSQuery) []facts.DNSObservation {
	out := make([]facts.DNSObservation, len(qs))
	par := p.Parallel
	if par <= 0 {
		par = 16
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var rl relay.Relay
	for i := range qs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer rl.Catch()
			out[i] = p.Query(ctx, qs[i])
		}()
	}
	wg.Wait()
	rl.Raise()
	return out
}

// Query asks one server one question. It never returns an error: a failure is recorded in the
// observation's Error field.
func (p *Prober) Query(ctx context.Context, q facts.DNSQuery) facts.DNSObservation {
	q.Name = facts.CanonicalName(q.Name)
	q.Type = strings.ToUpper(q.Type)
	obs := facts.DNSObservation{DNSQuery: q}
	start := time.Now()
	defer func() { obs.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000 }()

	if net.ParseIP(q.Server) == nil {
		obs.Error = fmt.Sprintf("server %q is not an IP address", clip(q.Server))
		return obs
	}
	if q.Type == facts.TypeAXFR {
		p.axfr(ctx, q, &obs)
		return obs
	}
	qtype, ok := dns.StringToType[q.Type]
	if !ok {
		obs.Error = fmt.Sprintf("unsupported query type %q", clip(q.Type))
		return obs
	}
	if _, ok := dns.IsDomainName(q.Name); !ok || q.Name == "" {
		obs.Error = fmt.Sprintf("%q is not a domain name", clip(q.Name))
		return obs
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(q.Name), qtype)
	m.RecursionDesired = !q.NoRecurse
	size := p.UDPSize
	if size == 0 {
		size = 1232
	}
	m.SetEdns0(size, false)

	var r *dns.Msg
	var err error
	for attempt := 0; attempt <= p.retries(); attempt++ {
		r, err = p.exchange(ctx, "udp", m, q.Server)
		if err == nil || !isTimeout(err) || ctx.Err() != nil {
			break
		}
	}
	if err == nil && r.Truncated {
		r, err = p.exchange(ctx, "tcp", m, q.Server)
	}
	if err != nil {
		obs.Error = describe(err)
		return obs
	}
	fill(&obs, r)
	return obs
}

func fill(obs *facts.DNSObservation, r *dns.Msg) {
	obs.Rcode = dns.RcodeToString[r.Rcode]
	if obs.Rcode == "" {
		obs.Rcode = "RCODE" + strconv.Itoa(r.Rcode)
	}
	obs.Authoritative = r.Authoritative
	for _, rr := range r.Answer {
		obs.Answers = append(obs.Answers, FromRR(rr))
	}
	for _, rr := range r.Ns {
		obs.Authority = append(obs.Authority, FromRR(rr))
	}
}

func (p *Prober) exchange(ctx context.Context, network string, m *dns.Msg, server string) (*dns.Msg, error) {
	actx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	nc, err := p.dial(actx, network, p.address(server))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	stop := context.AfterFunc(actx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := actx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	co := &dns.Conn{Conn: nc, UDPSize: 65535}
	if err := co.WriteMsg(m); err != nil {
		return nil, err
	}
	for {
		r, err := co.ReadMsg()
		if err != nil {
			if actx.Err() != nil {
				return nil, context.DeadlineExceeded
			}
			return nil, err
		}
		if r.Id != m.Id {
			continue // a stray or spoofed answer: keep waiting for ours
		}
		if len(r.Question) > 0 && !strings.EqualFold(r.Question[0].Name, m.Question[0].Name) {
			return nil, fmt.Errorf("answer for %q does not match the question", clip(r.Question[0].Name))
		}
		return r, nil
	}
}

func (p *Prober) axfr(ctx context.Context, q facts.DNSQuery, obs *facts.DNSObservation) {
	actx, cancel := context.WithTimeout(ctx, 4*p.timeout())
	defer cancel()
	nc, err := p.dial(actx, "tcp", p.address(q.Server))
	if err != nil {
		obs.Error = describe(err)
		return
	}
	defer nc.Close()
	stop := context.AfterFunc(actx, func() { _ = nc.Close() })
	defer stop()
	m := new(dns.Msg)
	m.SetAxfr(dns.Fqdn(q.Name))
	t := &dns.Transfer{Conn: &dns.Conn{Conn: nc}, ReadTimeout: p.timeout(), DialTimeout: p.timeout(), WriteTimeout: p.timeout()}
	ch, err := t.In(m, "")
	if err != nil {
		obs.Error = describe(err)
		return
	}
	limit := p.MaxAXFR
	if limit <= 0 {
		limit = 10000
	}
	obs.Rcode = "NOERROR"
	for env := range ch {
		if env.Error != nil {
			obs.Answers = nil
			if e := env.Error.Error(); strings.Contains(e, "bad xfr rcode: ") {
				obs.Rcode = strings.ToUpper(strings.TrimSpace(e[strings.Index(e, "bad xfr rcode: ")+len("bad xfr rcode: "):]))
				if n, err := strconv.Atoi(obs.Rcode); err == nil {
					obs.Rcode = dns.RcodeToString[n]
				}
			} else {
				obs.Rcode = ""
				obs.Error = describe(env.Error)
			}
			continue
		}
		for _, rr := range env.RR {
			if len(obs.Answers) < limit {
				obs.Answers = append(obs.Answers, FromRR(rr))
			}
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// describe turns a transport error into a short, stable description.
func describe(err error) string {
	switch {
	case isTimeout(err):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return clip(err.Error())
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
