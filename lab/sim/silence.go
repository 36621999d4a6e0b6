package sim

import (
	"net"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/fix8524/fix8524/facts"
)

// Silence the World declares (a dead DNS server, a port nothing answers on) reaches the client
// as a timeout at once, not after the client's own deadline. The client sees what it would see
// on a real network (no answer, "timeout"), so the simulation knows no more than before; but a
// simulated server that is merely slow (a loaded machine, a garbage collection, a second
// fix8524 starting next to this one) is no longer taken for a silent one by a short deadline.
// The demo's probes therefore wait as long as real ones (Forest.GatherOptions), and equal
// gatherings of one World give equal facts: apply --demo's drift check once refused a plan
// because one DNS answer on a loaded machine took longer than the 400 ms the demo then waited.

// silentDNSConn is a client's connection to a simulated DNS server: a question the World leaves
// unanswered makes the next read fail with a timeout at once.
type silentDNSConn struct {
	net.Conn
	f      *Forest
	server string // the logical server IP
	silent atomic.Bool
}

func (c *silentDNSConn) Write(b []byte) (int, error) {
	if q, ok := dnsQuestion(b, c.server); ok {
		c.silent.Store(c.f.world.QueryDNS(q).Error != "")
	}
	return c.Conn.Write(b)
}

func (c *silentDNSConn) Read(b []byte) (int, error) {
	if c.silent.Load() {
		return 0, &net.OpError{Op: "read", Net: c.Conn.LocalAddr().Network(), Addr: fakeAddr(net.JoinHostPort(c.server, "53")), Err: timeoutError{}}
	}
	return c.Conn.Read(b)
}

// silentDNSPacketConn is silentDNSConn over UDP: it stays a net.PacketConn, which tells DNS
// clients (miekg/dns) to send datagrams rather than length-prefixed messages.
type silentDNSPacketConn struct {
	*silentDNSConn
	pc net.PacketConn
}

func (c *silentDNSPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, err := c.Read(b)
	return n, c.RemoteAddr(), err
}

func (c *silentDNSPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if q, ok := dnsQuestion(b, c.server); ok {
		c.silent.Store(c.f.world.QueryDNS(q).Error != "")
	}
	return c.pc.WriteTo(b, addr)
}

// wrapDNSConn wraps a client connection to the simulated DNS server of a logical IP.
func (f *Forest) wrapDNSConn(c net.Conn, server string) net.Conn {
	sc := &silentDNSConn{Conn: c, f: f, server: server}
	if pc, ok := c.(net.PacketConn); ok {
		return &silentDNSPacketConn{silentDNSConn: sc, pc: pc}
	}
	return sc
}

// dnsQuestion decodes the question of a DNS message written by a client: a UDP datagram, or a
// TCP message with or without its two-byte length prefix (a prefix written alone is no question).
func dnsQuestion(b []byte, server string) (facts.DNSQuery, bool) {
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		if len(b) <= 2 || m.Unpack(b[2:]) != nil {
			return facts.DNSQuery{}, false
		}
	}
	if len(m.Question) != 1 {
		return facts.DNSQuery{}, false
	}
	q := m.Question[0]
	return facts.DNSQuery{Server: server, Name: facts.CanonicalName(q.Name), Type: dns.TypeToString[q.Qtype], NoRecurse: !m.RecursionDesired}, true
}

// silentPort is the error of a dial to a port the World says nothing answers on.
func silentPort(network, address string) error {
	return &net.OpError{Op: "dial", Net: network, Addr: fakeAddr(address), Err: timeoutError{}}
}
