package sim

import (
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/dnsprobe"
)

// dnsServer is one logical DNS server (an IP of the World) served on 127.0.0.1:port, UDP and TCP.
type dnsServer struct {
	ip   string
	addr string
	udp  *dns.Server
	tcp  *dns.Server
}

func (s *dnsServer) stop() {
	_ = s.udp.Shutdown()
	_ = s.tcp.Shutdown()
}

// dnsServer returns (starting it on first use) the simulated server of a logical IP.
func (f *Forest) dnsServer(ip string) (*dnsServer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.stop:
		return nil, fmt.Errorf("the simulated forest is closed")
	default:
	}
	if s := f.dns[ip]; s != nil {
		return s, nil
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) { f.serveDNS(ip, w, r) })
	for try := 0; try < 50; try++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			pc.Close()
			continue
		}
		s := &dnsServer{ip: ip, addr: pc.LocalAddr().String(), udp: &dns.Server{PacketConn: pc, Handler: h}, tcp: &dns.Server{Listener: l, Handler: h}}
		started := make(chan struct{}, 2)
		s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
		s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
		go func() { _ = s.udp.ActivateAndServe() }()
		go func() { _ = s.tcp.ActivateAndServe() }()
		<-started
		<-started
		f.dns[ip] = s
		return s, nil
	}
	return nil, fmt.Errorf("no free loopback port pair for simulated DNS server %s", ip)
}

func (f *Forest) serveDNS(ip string, w dns.ResponseWriter, r *dns.Msg) {
	f.DNSQueries.Add(1)
	if len(r.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	f.sleep(f.latency(ip))
	q := r.Question[0]
	obs := f.world.QueryDNS(facts.DNSQuery{Server: ip, Name: facts.CanonicalName(q.Name), Type: dns.TypeToString[q.Qtype], NoRecurse: !r.RecursionDesired})
	if obs.Error != "" {
		return // a dead server: no answer at all
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = obs.Authoritative
	m.RecursionAvailable = true
	if rc, ok := dns.StringToRcode[strings.ToUpper(obs.Rcode)]; ok {
		m.Rcode = rc
	} else {
		m.Rcode = dns.RcodeServerFailure
	}
	for _, rr := range obs.Answers {
		if x, err := dnsprobe.ToRR(rr); err == nil {
			m.Answer = append(m.Answer, x)
		}
	}
	for _, rr := range obs.Authority {
		if x, err := dnsprobe.ToRR(rr); err == nil {
			m.Ns = append(m.Ns, x)
		}
	}
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := 512
		if opt := r.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}
