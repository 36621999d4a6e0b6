// Command labdns is a tiny DNS server for the Samba lab that hosts none of the lab's
// zones: it stands for a DNS server a DC must not use (an ISP resolver, a server that
// neither hosts, forwards nor delegates the forest's zones). The dest-resolver breaker
// points the destination DC's DNS client at it.
//
// Modes:
//
//	nxdomain  NXDOMAIN for every name, with an SOA of the parent zone in the authority
//	          section, recursion available: what a public resolver says about a name that
//	          does not exist on the internet (default)
//	refused   REFUSED for every query (a server that serves nobody)
//	servfail  SERVFAIL for every query (a resolver that cannot reach anything)
//
// It listens on UDP and TCP on one address (loopback or an address inside the lab's
// network namespace only) and runs until SIGTERM/SIGINT.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/miekg/dns"
)

func main() {
	listen := flag.String("listen", "127.0.10.9:53", "address to listen on (loopback only)")
	mode := flag.String("mode", "nxdomain", "nxdomain | refused | servfail")
	parent := flag.String("parent", "example.com.", "zone whose SOA is sent with NXDOMAIN")
	pidfile := flag.String("pidfile", "", "write the process id to this file")
	flag.Parse()
	if *pidfile != "" {
		if err := os.WriteFile(*pidfile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
			log.Fatalf("labdns: pid file: %v", err)
		}
		defer os.Remove(*pidfile)
	}
	if err := run(*listen, *mode, *parent); err != nil {
		log.Fatalf("labdns: %v", err)
	}
}

func run(listen, mode, parent string) error {
	if err := checkLoopback(listen); err != nil {
		return err
	}
	h, err := newHandler(mode, parent)
	if err != nil {
		return err
	}
	udp := &dns.Server{Addr: listen, Net: "udp", Handler: h}
	tcp := &dns.Server{Addr: listen, Net: "tcp", Handler: h}
	errc := make(chan error, 2)
	go func() { errc <- udp.ListenAndServe() }()
	go func() { errc <- tcp.ListenAndServe() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	log.Printf("labdns: %s on %s", mode, listen)
	select {
	case s := <-sig:
		log.Printf("labdns: %v, stopping", s)
	case err = <-errc:
		err = fmt.Errorf("serve %s: %w", listen, err)
	}
	_ = udp.Shutdown()
	_ = tcp.Shutdown()
	return err
}

// checkLoopback refuses any listen address outside 127.0.0.0/8.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q: only loopback addresses are allowed", addr)
	}
	return nil
}

type handler struct {
	rcode int
	soa   *dns.SOA // with NXDOMAIN only
}

func newHandler(mode, parent string) (*handler, error) {
	switch mode {
	case "nxdomain":
		zone := dns.Fqdn(parent)
		if _, ok := dns.IsDomainName(zone); !ok {
			return nil, fmt.Errorf("parent zone %q is not a domain name", parent)
		}
		return &handler{rcode: dns.RcodeNameError, soa: &dns.SOA{
			Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300},
			Ns:  "ns.invalid.", Mbox: "hostmaster.invalid.",
			Serial: 1, Refresh: 7200, Retry: 3600, Expire: 1209600, Minttl: 300,
		}}, nil
	case "refused":
		return &handler{rcode: dns.RcodeRefused}, nil
	case "servfail":
		return &handler{rcode: dns.RcodeServerFailure}, nil
	}
	return nil, errors.New("mode must be nxdomain, refused or servfail")
}

// answer builds the reply to one query; it never returns records for a name.
func (h *handler) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(req, h.rcode)
	m.RecursionAvailable = h.rcode != dns.RcodeRefused
	if h.soa != nil && len(req.Question) == 1 && dns.IsSubDomain(h.soa.Hdr.Name, req.Question[0].Name) {
		m.Ns = []dns.RR{h.soa}
	}
	return m
}

func (h *handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	if err := w.WriteMsg(h.answer(req)); err != nil {
		log.Printf("labdns: write reply: %v", err)
	}
}
