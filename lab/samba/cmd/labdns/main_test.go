package main

import (
	"testing"

	"github.com/miekg/dns"
)

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.10.9:53": true, "127.0.0.1:5353": true, "[::1]:53": true,
		"0.0.0.0:53": false, "10.0.0.1:53": false, "192.0.2.1:53": false, "127.0.10.9": false, "x:53": false,
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

func TestAnswer(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("abc._msdcs.lab.example.com.", dns.TypeCNAME)
	for mode, want := range map[string]int{"nxdomain": dns.RcodeNameError, "refused": dns.RcodeRefused, "servfail": dns.RcodeServerFailure} {
		h, err := newHandler(mode, "example.com")
		if err != nil {
			t.Fatal(err)
		}
		m := h.answer(q)
		if m.Rcode != want || m.Id != q.Id || len(m.Answer) != 0 || !m.Response {
			t.Errorf("%s: %v", mode, m)
		}
		if (mode == "nxdomain") != (len(m.Ns) == 1) {
			t.Errorf("%s: authority %v", mode, m.Ns)
		}
	}
	// a name outside the parent zone gets no SOA
	h, _ := newHandler("nxdomain", "example.com.")
	other := new(dns.Msg)
	other.SetQuestion("example.org.", dns.TypeA)
	if m := h.answer(other); len(m.Ns) != 0 {
		t.Errorf("SOA for a name outside the zone: %v", m.Ns)
	}
	if _, err := newHandler("bogus", "example.com."); err == nil {
		t.Error("bad mode accepted")
	}
	if _, err := newHandler("nxdomain", "bad..name"); err == nil {
		t.Error("bad parent zone accepted")
	}
}
