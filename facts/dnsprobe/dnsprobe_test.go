package dnsprobe

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/fix8524/fix8524/facts"
)

// serve starts a miekg/dns server on 127.0.0.1 (UDP and TCP on one port) and returns its port.
func serve(t *testing.T, h dns.HandlerFunc) string {
	t.Helper()
	for try := 0; try < 20; try++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			pc.Close()
			continue
		}
		u := &dns.Server{PacketConn: pc, Handler: h}
		tc := &dns.Server{Listener: l, Handler: h}
		go func() { _ = u.ActivateAndServe() }()
		go func() { _ = tc.ActivateAndServe() }()
		t.Cleanup(func() { _ = u.Shutdown(); _ = tc.Shutdown() })
		return pc.LocalAddr().String()
	}
	t.Fatal("no free port")
	return ""
}

type dialLog struct {
	mu    sync.Mutex
	calls []string
}

// mapDial maps the logical 192.0.2.11:53 to addr; any other address is refused (never dialled).
func (d *dialLog) mapDial(addr string) DialFunc {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		d.mu.Lock()
		d.calls = append(d.calls, network+" "+address)
		d.mu.Unlock()
		if address != "192.0.2.11:53" {
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.AddrError{Err: "unmapped", Addr: address}}
		}
		var nd net.Dialer
		return nd.DialContext(ctx, network, addr)
	}
}

func handler(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	q := r.Question[0]
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	switch {
	case q.Name == "dc2.contoso.com." && q.Qtype == dns.TypeA:
		m.Authoritative = true
		rr, _ := dns.NewRR("dc2.contoso.com. 3600 IN A 192.0.2.12")
		m.Answer = append(m.Answer, rr)
	case q.Name == "big.contoso.com." && udp:
		m.Truncated = true
	case q.Name == "big.contoso.com.":
		for i := 0; i < 3; i++ {
			rr, _ := dns.NewRR("big.contoso.com. 60 IN A 192.0.2." + string(rune('1'+i)))
			m.Answer = append(m.Answer, rr)
		}
	case q.Name == "contoso.com." && q.Qtype == dns.TypeAXFR:
		soa, _ := dns.NewRR("contoso.com. 3600 IN SOA dc1.contoso.com. hostmaster.contoso.com. 7 900 600 86400 3600")
		a, _ := dns.NewRR("dc1.contoso.com. 3600 IN A 192.0.2.11")
		m.Answer = []dns.RR{soa, a, soa}
	case q.Name == "denied.contoso.com." && q.Qtype == dns.TypeAXFR:
		m.Rcode = dns.RcodeRefused
	case q.Name == "recurse.contoso.com.":
		if !r.RecursionDesired {
			m.Rcode = dns.RcodeRefused
		}
	default:
		m.Rcode = dns.RcodeNameError
		soa, _ := dns.NewRR("contoso.com. 3600 IN SOA dc1.contoso.com. hostmaster.contoso.com. 7 900 600 86400 3600")
		m.Ns = append(m.Ns, soa)
	}
	_ = w.WriteMsg(m)
}

func TestQuery(t *testing.T) {
	addr := serve(t, handler)
	var log dialLog
	p := &Prober{Dial: log.mapDial(addr), Timeout: time.Second}
	ctx := context.Background()

	o := p.Query(ctx, facts.DNSQuery{Server: "192.0.2.11", Name: "DC2.Contoso.com.", Type: "a"})
	if o.Error != "" || o.Rcode != "NOERROR" || !o.Authoritative || len(o.Answers) != 1 || o.Answers[0] != (facts.RR{Name: "dc2.contoso.com", Type: "A", TTL: 3600, Data: "192.0.2.12"}) {
		t.Fatalf("A: %+v", o)
	}
	if o.Name != "dc2.contoso.com" || o.Type != "A" {
		t.Errorf("query not canonical in observation: %+v", o.DNSQuery)
	}
	o = p.Query(ctx, facts.DNSQuery{Server: "192.0.2.11", Name: "gone.contoso.com", Type: "CNAME"})
	if o.Rcode != "NXDOMAIN" || len(o.Authority) != 1 || o.Authority[0].Data != "dc1.contoso.com. hostmaster.contoso.com. 7 900 600 86400 3600" {
		t.Fatalf("NXDOMAIN: %+v", o)
	}
	o = p.Query(ctx, facts.DNSQuery{Server: "192.0.2.11", Name: "big.contoso.com", Type: "A"})
	if o.Error != "" || len(o.Answers) != 3 {
		t.Fatalf("TCP fallback: %+v", o)
	}
	o = p.Query(ctx, facts.DNSQuery{Server: "192.0.2.11", Name: "recurse.contoso.com", Type: "A", NoRecurse: true})
	if o.Rcode != "REFUSED" {
		t.Fatalf("RD=0 not sent: %+v", o)
	}
	o = p.Query(ctx, facts.DNSQuery{Server: "192.0.2.11", Name: "contoso.com", Type: "AXFR"})
	if o.Error != "" || o.Rcode != "NOERROR" || len(o.Answers) != 3 {
		t.Fatalf("AXFR: %+v", o)
	}
	o = p.Query(ctx, facts.DNSQuery{Server: "192.0.2.11", Name: "denied.contoso.com", Type: "AXFR"})
	if o.Rcode != "REFUSED" || len(o.Answers) != 0 {
		t.Fatalf("AXFR refused: %+v", o)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	var sawTCP bool
	for _, c := range log.calls {
		if !strings.HasSuffix(c, " 192.0.2.11:53") {
			t.Errorf("dialled %s", c)
		}
		sawTCP = sawTCP || strings.HasPrefix(c, "tcp ")
	}
	if !sawTCP {
		t.Error("no TCP dial for the truncated answer")
	}
}

func TestTransportErrors(t *testing.T) {
	// A UDP socket that never answers: a timeout after 1+Retries attempts.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var log dialLog
	p := &Prober{Dial: log.mapDial(silent.LocalAddr().String()), Timeout: 50 * time.Millisecond, Retries: 2}
	o := p.Query(context.Background(), facts.DNSQuery{Server: "192.0.2.11", Name: "dc2.contoso.com", Type: "A"})
	if o.Error != "timeout" || o.Rcode != "" || o.Responded() {
		t.Fatalf("silent server: %+v", o)
	}
	if len(log.calls) != 3 {
		t.Errorf("attempts = %d, want 3", len(log.calls))
	}
	// A closed UDP port: ICMP port unreachable -> connection refused.
	closed, _ := net.ListenPacket("udp", "127.0.0.1:0")
	caddr := closed.LocalAddr().String()
	closed.Close()
	p = &Prober{Dial: (&dialLog{}).mapDial(caddr), Timeout: time.Second}
	o = p.Query(context.Background(), facts.DNSQuery{Server: "192.0.2.11", Name: "dc2.contoso.com", Type: "A"})
	if o.Error != "connection refused" {
		t.Fatalf("closed port: %+v", o)
	}
	// Bad input never reaches the network.
	for _, q := range []facts.DNSQuery{{Server: "dns.example", Name: "a", Type: "A"}, {Server: "192.0.2.11", Name: "a", Type: "BOGUS"}, {Server: "192.0.2.11", Name: strings.Repeat("a", 300), Type: "A"}} {
		if o := p.Query(context.Background(), q); o.Error == "" {
			t.Errorf("%+v: no error", q)
		}
	}
	// A canceled context stops at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p = &Prober{Dial: (&dialLog{}).mapDial(silent.LocalAddr().String()), Timeout: time.Hour}
	if o := p.Query(ctx, facts.DNSQuery{Server: "192.0.2.11", Name: "a.b", Type: "A"}); o.Error == "" {
		t.Fatalf("canceled: %+v", o)
	}
}

func TestQueryAllOrder(t *testing.T) {
	addr := serve(t, handler)
	p := &Prober{Dial: (&dialLog{}).mapDial(addr), Parallel: 3}
	var qs []facts.DNSQuery
	for i := 0; i < 20; i++ {
		name := "gone.contoso.com"
		if i%2 == 0 {
			name = "dc2.contoso.com"
		}
		qs = append(qs, facts.DNSQuery{Server: "192.0.2.11", Name: name, Type: "A"})
	}
	obs := p.QueryAll(context.Background(), qs)
	for i, o := range obs {
		if o.Name != qs[i].Name {
			t.Fatalf("obs[%d] = %s, want %s", i, o.Name, qs[i].Name)
		}
	}
}

func TestRRRoundTrip(t *testing.T) {
	for _, r := range []facts.RR{
		{Name: "dc2.contoso.com", Type: "A", TTL: 3600, Data: "192.0.2.12"},
		{Name: "dc2.contoso.com", Type: "AAAA", TTL: 3600, Data: "2001:db8::12"},
		{Name: "52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8._msdcs.contoso.com", Type: "CNAME", TTL: 600, Data: "dc2.contoso.com."},
		{Name: "_msdcs.contoso.com", Type: "NS", TTL: 3600, Data: "dc1.contoso.com."},
		{Name: "contoso.com", Type: "SOA", TTL: 3600, Data: "dc1.contoso.com. hostmaster.contoso.com. 7 900 600 86400 3600"},
		{Name: "_ldap._tcp.contoso.com", Type: "SRV", TTL: 600, Data: "0 100 389 dc1.contoso.com."},
	} {
		rr, err := ToRR(r)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if back := FromRR(rr); back != r {
			t.Errorf("round trip %+v -> %+v", r, back)
		}
	}
	for _, bad := range []facts.RR{{Name: "a", Type: "NOPE"}, {Name: "a", Type: "SOA", Data: "x"}, {Name: "a", Type: "A", Data: "not-an-ip"}} {
		if _, err := ToRR(bad); err == nil {
			t.Errorf("ToRR(%+v) succeeded", bad)
		}
	}
}

// FuzzAnswer feeds arbitrary bytes as a DNS response to the prober: it must record something
// (an rcode or an error) and never panic.
func FuzzAnswer(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("dc2.contoso.com.", dns.TypeA)
	m.Response = true
	rr, _ := dns.NewRR("dc2.contoso.com. 3600 IN A 192.0.2.12")
	m.Answer = []dns.RR{rr}
	seed, _ := m.Pack()
	f.Add(seed)
	f.Add([]byte{0, 0, 0x81, 0x80})
	f.Fuzz(func(t *testing.T, resp []byte) {
		p := &Prober{Timeout: 200 * time.Millisecond, Retries: -1, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			c1, c2 := net.Pipe()
			go func() {
				defer c2.Close()
				buf := make([]byte, 4096)
				n, err := c2.Read(buf)
				if err != nil || n < 2 {
					return
				}
				out := append([]byte(nil), resp...)
				if len(out) >= 2 {
					out[0], out[1] = buf[0], buf[1] // echo the ID so the answer is considered
				}
				_, _ = c2.Write(out)
			}()
			return packetConn{c1}, nil
		}}
		o := p.Query(context.Background(), facts.DNSQuery{Server: "192.0.2.11", Name: "dc2.contoso.com", Type: "A"})
		if o.Rcode == "" && o.Error == "" {
			t.Fatalf("neither rcode nor error: %+v", o)
		}
	})
}

// packetConn makes a net.Pipe end look like a UDP socket to miekg/dns (message boundaries are
// kept by the pipe's synchronous writes).
type packetConn struct{ net.Conn }

func (packetConn) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (packetConn) RemoteAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
