package winrm

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	mwinrm "github.com/masterzen/winrm"

	"github.com/fix8524/fix8524/remote"
)

func TestParseMasterzenRequests(t *testing.T) {
	p := mwinrm.NewParameters("PT20S", "en-US", 153600)
	url := "https://dc1.lab.test:5986/wsman"
	r, err := parseRequest([]byte(mwinrm.NewOpenShellRequest(url, p).String()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != actionCreate || r.ResourceURI != ResourceURIShell || r.OperationTimeout != 20*time.Second ||
		r.MaxEnvelopeSize != 153600 || r.Options["WINRS_CODEPAGE"] != "65001" || r.Shell == nil || !strings.HasPrefix(r.MessageID, "uuid:") {
		t.Fatalf("create: %+v", r)
	}
	line, err := remote.PowerShellCommandLine(remote.Command{Name: "probe_x", PowerShell: "x", Params: map[string]string{"A": "]]><evil/>"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err = parseRequest([]byte(mwinrm.NewExecuteCommandRequest(url, "SHELL-1", line, []string{"a&b"}, p).String()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Selectors["ShellId"] != "SHELL-1" || r.CommandLine == nil || r.CommandLine.Command != line || len(r.CommandLine.Arguments) != 1 || r.CommandLine.Arguments[0] != "a&b" {
		t.Fatalf("command: %+v %+v", r, r.CommandLine)
	}
	c := newCommand("u", nil, r.Options, r.CommandLine)
	if c.Name != "probe_x" || c.Params["A"] != "]]><evil/>" {
		t.Fatalf("decoded: %+v", c)
	}
	r, err = parseRequest([]byte(mwinrm.NewGetOutputRequest(url, "S", "C-1", "stdout stderr", p).String()))
	if err != nil || r.Receive == nil || r.Receive.DesiredStream.CommandID != "C-1" {
		t.Fatalf("receive: %+v %v", r, err)
	}
	r, err = parseRequest([]byte(mwinrm.NewSendInputRequest(url, "S", "C-1", []byte("in"), true, p).String()))
	if err != nil || r.Send == nil || len(r.Send.Streams) != 1 || r.Send.Streams[0].End != "true" {
		t.Fatalf("send: %+v %v", r, err)
	}
	r, err = parseRequest([]byte(mwinrm.NewSignalRequest(url, "S", "C-1", p).String()))
	if err != nil || r.Signal == nil || r.Signal.Code != signalTerm || r.Signal.CommandID != "C-1" {
		t.Fatalf("signal: %+v %v", r, err)
	}
	r, err = parseRequest([]byte(mwinrm.NewDeleteShellRequest(url, "S", p).String()))
	if err != nil || r.Action != actionDelete {
		t.Fatalf("delete: %+v %v", r, err)
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"PT60S": time.Minute, "PT20.500S": 20500 * time.Millisecond, "PT1M30S": 90 * time.Second, "P1DT2H": 26 * time.Hour} {
		if got, err := parseDuration(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"", "P", "PT", "60", "PT-1S", "PT1e9S", "PT99999999999999999999S"} {
		if _, err := parseDuration(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	p := mwinrm.NewParameters("PT20S", "en-US", 153600)
	f.Add([]byte(mwinrm.NewOpenShellRequest("http://x/wsman", p).String()))
	f.Add([]byte(mwinrm.NewExecuteCommandRequest("http://x/wsman", "S", "ipconfig", []string{"/all"}, p).String()))
	f.Add([]byte(mwinrm.NewSendInputRequest("http://x/wsman", "S", "C", []byte("x"), true, p).String()))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRequest(b)
		if err == nil && r.Action == "" {
			t.Fatal("parsed without an action")
		}
		if err == nil && r.CommandLine != nil {
			_ = newCommand("u", nil, r.Options, r.CommandLine)
		}
	})
}

func FuzzNTLMAcceptor(f *testing.F) {
	f.Add([]byte("NTLMSSP\x00\x01\x00\x00\x00\x37\x82\x08\xe2"), []byte("NTLMSSP\x00\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, neg, auth []byte) {
		a := &ntlmAcceptor{domain: "LAB", dnsDomain: "lab.test", computer: "DC1",
			users: func(u, d string) (string, bool) { return "pw", true }}
		if _, err := a.Challenge(neg); err != nil {
			return
		}
		if s, err := a.Authenticate(auth); err == nil {
			t.Fatalf("random AUTHENTICATE accepted: %+v", s)
		}
	})
}

func TestSealStateRejectsTampering(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 16)
	flags := uint32(flagSeal | flagSign | flagESS | flag128 | flagKeyExch | flagUnicode)
	srv := newSealState(flags, key)
	sig, sealed := srv.Wrap([]byte("hello"))
	if bytes.Contains(sealed, []byte("hello")) {
		t.Fatal("not sealed")
	}
	// A second state in the client role: swap directions by building it from the server's view.
	cli := &sealState{flags: flags, sealing: true, inSign: srv.outSign, outSign: srv.inSign}
	cli.inRC4, _ = newRC4(sealKeyFor(flags, key, magicServerSeal))
	cli.outRC4, _ = newRC4(sealKeyFor(flags, key, magicClientSeal))
	msg, err := cli.Unwrap(sig, sealed)
	if err != nil || string(msg) != "hello" {
		t.Fatalf("round trip: %q %v", msg, err)
	}
	sig2, sealed2 := srv.Wrap([]byte("world"))
	sealed2[0] ^= 1
	if _, err := cli.Unwrap(sig2, sealed2); err == nil {
		t.Fatal("tampered message accepted")
	}
	if _, err := cli.Unwrap([]byte("short"), sealed2); err == nil {
		t.Fatal("short signature accepted")
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, cmd *Command, stdout, stderr io.Writer) int { return 0 })
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:5985", "example.com:5985"} {
		if s, err := Listen(addr, Config{Handler: h}); err == nil {
			_ = s.Close()
			t.Errorf("listened on %s", addr)
		}
	}
	if _, err := Start(Config{}); err == nil {
		t.Error("started without a handler")
	}
}

func TestMuxDispatchesByMarker(t *testing.T) {
	called := ""
	m := &Mux{ByName: map[string]Handler{
		"restart_netlogon": HandlerFunc(func(ctx context.Context, cmd *Command, stdout, stderr io.Writer) int {
			called = cmd.Params["DC"]
			return 0
		}),
	}}
	line, _ := remote.PowerShellCommandLine(remote.Command{Name: "restart_netlogon", PowerShell: "Restart-Service Netlogon", Params: map[string]string{"DC": "dc1"}})
	var out, errb bytes.Buffer
	if code := m.Run(context.Background(), newCommand("u", nil, nil, &commandLineBody{Command: line}), &out, &errb); code != 0 || called != "dc1" {
		t.Fatalf("code %d called %q", code, called)
	}
	if code := m.Run(context.Background(), newCommand("u", nil, nil, &commandLineBody{Command: "nltest", Arguments: []string{"/dsregdns"}}), &out, &errb); code != 1 || !strings.Contains(errb.String(), "'nltest' is not recognized") {
		t.Fatalf("fallback: %d %q", code, errb.String())
	}
	bad := newCommand("u", nil, nil, &commandLineBody{Command: "powershell -enc " + base64.StdEncoding.EncodeToString([]byte("odd"))})
	if bad.PowerShellErr == nil || errors.Is(bad.PowerShellErr, remote.ErrNotPowerShell) {
		t.Fatalf("undecodable payload not flagged: %+v", bad)
	}
}
