package winrm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// MS-WSMV 2.2.9.1 message encryption framing for NTLM ("HTTP-SPNEGO-session-encrypted"), as
// Windows, pywinrm and masterzen/winrm write it. The library's own builder is not used: the
// length field must be the length of the plaintext, and the parser must never index past the
// body (masterzen/winrm's decryptResponse panics on malformed replies).

// EncryptedProtocol is the protocol parameter of the multipart/encrypted content type.
const EncryptedProtocol = "application/HTTP-SPNEGO-session-encrypted"

// EncryptedContentType is the Content-Type of an NTLM-sealed WS-Management message.
const EncryptedContentType = `multipart/encrypted;protocol="` + EncryptedProtocol + `";boundary="Encrypted Boundary"`

const (
	boundary     = "--Encrypted Boundary"
	originalType = "application/soap+xml;charset=UTF-8"
	// MaxSignature bounds the signature length field of a sealed part (NTLM uses 16 bytes).
	MaxSignature = 1024
)

// EncodeEncrypted frames a sealed message: sig is the NTLM signature, sealed the sealed bytes
// (as long as the plaintext for NTLM's RC4), plainLen the plaintext length.
func EncodeEncrypted(sig, sealed []byte, plainLen int) []byte {
	var b bytes.Buffer
	b.WriteString(boundary + "\r\n")
	b.WriteString("\tContent-Type: " + EncryptedProtocol + "\r\n")
	b.WriteString("\tOriginalContent: type=" + originalType + ";Length=" + strconv.Itoa(plainLen) + "\r\n")
	b.WriteString(boundary + "\r\n")
	b.WriteString("\tContent-Type: application/octet-stream\r\n")
	var l [4]byte
	binary.LittleEndian.PutUint32(l[:], uint32(len(sig)))
	b.Write(l[:])
	b.Write(sig)
	b.Write(sealed)
	b.WriteString(boundary + "--\r\n")
	return b.Bytes()
}

// IsEncryptedContentType reports whether a Content-Type header announces an NTLM-sealed body.
func IsEncryptedContentType(ct string) bool {
	l := strings.ToLower(ct)
	return strings.HasPrefix(strings.TrimSpace(l), "multipart/encrypted") &&
		strings.Contains(l, strings.ToLower(`protocol="`+EncryptedProtocol+`"`))
}

// DecodeEncrypted parses a body written by EncodeEncrypted (or Windows). It returns the
// signature, the sealed bytes and the announced plaintext length. Because NTLM sealing does
// not change the length, the sealed part is cut by that length, not by searching for the
// boundary (which may occur inside ciphertext by chance).
func DecodeEncrypted(body []byte) (sig, sealed []byte, plainLen int, err error) {
	rest, ok := bytes.CutPrefix(body, []byte(boundary+"\r\n"))
	if !ok {
		return nil, nil, 0, fmt.Errorf("encrypted body: does not start with the MIME boundary")
	}
	hdr, rest, ok := bytes.Cut(rest, []byte(boundary+"\r\n"))
	if !ok {
		return nil, nil, 0, fmt.Errorf("encrypted body: second MIME part missing")
	}
	plainLen = -1
	for _, line := range strings.Split(string(hdr), "\r\n") {
		line = strings.TrimSpace(line)
		k, v, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "content-type":
			if !strings.EqualFold(strings.TrimSpace(v), EncryptedProtocol) {
				return nil, nil, 0, fmt.Errorf("encrypted body: unsupported protocol %q", strings.TrimSpace(v))
			}
		case "originalcontent":
			for _, p := range strings.Split(v, ";") {
				pk, pv, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(pk, "length") {
					n, err := strconv.Atoi(pv)
					if err != nil || n < 0 {
						return nil, nil, 0, fmt.Errorf("encrypted body: bad Length %q", pv)
					}
					plainLen = n
				}
			}
		}
	}
	if plainLen < 0 {
		return nil, nil, 0, fmt.Errorf("encrypted body: OriginalContent Length missing")
	}
	// The second part: one header line, then the binary payload.
	line, rest, ok := bytes.Cut(rest, []byte("\r\n"))
	if !ok || !strings.EqualFold(strings.TrimSpace(string(line)), "Content-Type: application/octet-stream") {
		return nil, nil, 0, fmt.Errorf("encrypted body: octet-stream part header missing")
	}
	if len(rest) < 4 {
		return nil, nil, 0, fmt.Errorf("encrypted body: truncated before the signature length")
	}
	sl := binary.LittleEndian.Uint32(rest)
	rest = rest[4:]
	if sl == 0 || sl > MaxSignature || int(sl) > len(rest) {
		return nil, nil, 0, fmt.Errorf("encrypted body: signature length %d out of range", sl)
	}
	sig, rest = rest[:sl], rest[sl:]
	if plainLen > len(rest) {
		return nil, nil, 0, fmt.Errorf("encrypted body: %d sealed bytes announced, %d present", plainLen, len(rest))
	}
	sealed, rest = rest[:plainLen], rest[plainLen:]
	if !bytes.HasPrefix(rest, []byte(boundary+"--")) {
		return nil, nil, 0, fmt.Errorf("encrypted body: closing MIME boundary missing after %d sealed bytes", plainLen)
	}
	if len(bytes.TrimSpace(rest[len(boundary)+2:])) != 0 {
		return nil, nil, 0, fmt.Errorf("encrypted body: data after the closing boundary (multi-part messages are not supported)")
	}
	return sig, sealed, plainLen, nil
}
