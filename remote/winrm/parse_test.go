package winrm

import (
	"bytes"
	"testing"
)

func TestEncryptedRoundTrip(t *testing.T) {
	sig := bytes.Repeat([]byte{1}, 16)
	// Ciphertext that contains the boundary and CRLFs must not confuse the parser.
	sealed := []byte("--Encrypted Boundary\r\n\tContent-Type: x\r\n--Encrypted Boundary--\r\n")
	body := EncodeEncrypted(sig, sealed, len(sealed))
	s2, d2, n, err := DecodeEncrypted(body)
	if err != nil || !bytes.Equal(s2, sig) || !bytes.Equal(d2, sealed) || n != len(sealed) {
		t.Fatalf("%q %q %d %v", s2, d2, n, err)
	}
	for _, bad := range [][]byte{nil, []byte("--Encrypted Boundary\r\n"), body[:len(body)-30], append(append([]byte{}, body...), "junk"...)} {
		if _, _, _, err := DecodeEncrypted(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if !IsEncryptedContentType(EncryptedContentType) || IsEncryptedContentType("application/soap+xml;charset=UTF-8") {
		t.Error("content type detection")
	}
}

func FuzzDecodeEncrypted(f *testing.F) {
	f.Add(EncodeEncrypted(bytes.Repeat([]byte{1}, 16), []byte("abc"), 3))
	f.Add([]byte("--Encrypted Boundary\r\n\tOriginalContent: type=x;Length=99999999999\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, sealed, n, err := DecodeEncrypted(b)
		if err != nil {
			return
		}
		if len(sealed) != n || len(sig) == 0 || len(sig) > MaxSignature {
			t.Fatalf("inconsistent: sig %d sealed %d n %d", len(sig), len(sealed), n)
		}
		again := EncodeEncrypted(sig, sealed, n)
		s2, d2, n2, err := DecodeEncrypted(again)
		if err != nil || !bytes.Equal(s2, sig) || !bytes.Equal(d2, sealed) || n2 != n {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

const receiveSample = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Body><rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="C1">aGVsbG8=</rsp:Stream><rsp:Stream Name="stderr" CommandId="C1">ZXJy</rsp:Stream><rsp:Stream Name="stdout" CommandId="C1" End="true"></rsp:Stream><rsp:CommandState CommandId="C1" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"><rsp:ExitCode>4294967295</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse></s:Body></s:Envelope>`

func TestParseReceive(t *testing.T) {
	out, err := ParseReceive([]byte(receiveSample), "C1")
	if err != nil || string(out.Stdout) != "hello" || string(out.Stderr) != "err" || !out.Done || out.ExitCode != -1 {
		t.Fatalf("%+v %v", out, err)
	}
	if _, err := ParseReceive([]byte(receiveSample), "OTHER"); err == nil {
		t.Error("stream of another command accepted")
	}
	noExit := bytes.Replace([]byte(receiveSample), []byte("<rsp:ExitCode>4294967295</rsp:ExitCode>"), nil, 1)
	if _, err := ParseReceive(noExit, "C1"); err == nil {
		t.Error("Done without ExitCode accepted")
	}
	badB64 := bytes.Replace([]byte(receiveSample), []byte("aGVsbG8="), []byte("!!"), 1)
	if _, err := ParseReceive(badB64, "C1"); err == nil {
		t.Error("bad base64 accepted")
	}
}

const faultSample = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot complete the operation within the time specified in OperationTimeout.</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858793" Machine="dc1"><f:Message>x</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`

func TestParseFault(t *testing.T) {
	f, ok := ParseFault([]byte(faultSample))
	if !ok || !f.TimedOut() || f.WSManCode != 2150858793 || f.Subcode != "w:TimedOut" {
		t.Fatalf("%+v %v", f, ok)
	}
	if _, ok := ParseFault([]byte(receiveSample)); ok {
		t.Error("a reply is not a fault")
	}
}

func FuzzParseReceive(f *testing.F) {
	f.Add([]byte(receiveSample))
	f.Add([]byte(faultSample))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := ParseReceive(b, "C1")
		if err == nil && out == nil {
			t.Fatal("nil without error")
		}
		_, _ = ParseFault(b)
	})
}
