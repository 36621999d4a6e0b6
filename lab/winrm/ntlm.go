package winrm

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	rwinrm "github.com/fix8524/fix8524/remote/winrm"

	//lint:ignore SA1019 NTLM is defined on MD4; this is a protocol implementation, not a security choice
	"golang.org/x/crypto/md4"
)

// Server side of NTLMv2 (MS-NLMP): CHALLENGE generation, AUTHENTICATE verification (NTProofStr,
// MIC, channel bindings) and the session security (sealing) that WinRM message encryption
// uses. bodgit/ntlmssp has no server side, so it is written here from the spec; the tests check
// it against two independent clients (bodgit/ntlmssp and Python's ntlm-auth via pywinrm).

const (
	flagUnicode        = 0x00000001
	flagOEM            = 0x00000002
	flagRequestTarget  = 0x00000004
	flagSign           = 0x00000010
	flagSeal           = 0x00000020
	flagNTLM           = 0x00000200
	flagAnonymous      = 0x00000800
	flagAlwaysSign     = 0x00008000
	flagTargetDomain   = 0x00010000
	flagESS            = 0x00080000
	flagTargetInfo     = 0x00800000
	flagVersion        = 0x02000000
	flag128            = 0x20000000
	flagKeyExch        = 0x40000000
	flag56             = 0x80000000
	ntlmSignature      = "NTLMSSP\x00"
	avEOL              = 0
	avNbComputer       = 1
	avNbDomain         = 2
	avDNSComputer      = 3
	avDNSDomain        = 4
	avFlags            = 6
	avTimestamp        = 7
	avChannelBindings  = 10
	avFlagMICPresent   = 0x2
	authenticateMICOff = 72
)

var errNTLM = errors.New("NTLM authentication failed")

// ntlmAcceptor runs one NTLM handshake on one connection.
type ntlmAcceptor struct {
	domain    string // NetBIOS domain name
	dnsDomain string
	computer  string
	users     func(user, domain string) (password string, ok bool)
	cert      *x509.Certificate // TLS certificate of the server (for channel bindings); nil on HTTP
	requireCB bool

	negotiate []byte
	challenge []byte
	serverCh  [8]byte
}

// readFields reads an NTLM (len, maxlen, offset) descriptor at off and returns the payload.
func readFields(msg []byte, off int) ([]byte, error) {
	if off+8 > len(msg) {
		return nil, fmt.Errorf("%w: message too short", errNTLM)
	}
	l := int(binary.LittleEndian.Uint16(msg[off:]))
	o := int(binary.LittleEndian.Uint32(msg[off+4:]))
	if l == 0 {
		return nil, nil
	}
	if o < 0 || o > len(msg) || l > len(msg)-o {
		return nil, fmt.Errorf("%w: field out of range", errNTLM)
	}
	return msg[o : o+l], nil
}

func checkHeader(msg []byte, typ uint32) error {
	if len(msg) < 12 || string(msg[:8]) != ntlmSignature || binary.LittleEndian.Uint32(msg[8:]) != typ {
		return fmt.Errorf("%w: not an NTLM type %d message", errNTLM, typ)
	}
	return nil
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, v := range u {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	h := hmac.New(md5.New, key)
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

func ntowfv2(password, user, domain string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	return hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(user)+domain))
}

// Challenge answers a NEGOTIATE message with a CHALLENGE message.
func (a *ntlmAcceptor) Challenge(negotiate []byte) ([]byte, error) {
	if err := checkHeader(negotiate, 1); err != nil {
		return nil, err
	}
	if len(negotiate) < 16 {
		return nil, fmt.Errorf("%w: short NEGOTIATE", errNTLM)
	}
	cf := binary.LittleEndian.Uint32(negotiate[12:])
	flags := uint32(flagRequestTarget | flagNTLM | flagAlwaysSign | flagTargetDomain |
		flagESS | flagTargetInfo | flagVersion)
	// Unicode when offered; otherwise OEM (Python's ntlm-auth offers only OEM in NEGOTIATE).
	unicode := cf&flagUnicode != 0
	if unicode {
		flags |= flagUnicode
	} else {
		flags |= flagOEM
	}
	flags |= cf & (flagSign | flagSeal | flag128 | flag56 | flagKeyExch)
	if _, err := rand.Read(a.serverCh[:]); err != nil {
		return nil, err
	}
	var ti bytes.Buffer
	av := func(id uint16, v []byte) {
		var h [4]byte
		binary.LittleEndian.PutUint16(h[0:], id)
		binary.LittleEndian.PutUint16(h[2:], uint16(len(v)))
		ti.Write(h[:])
		ti.Write(v)
	}
	av(avNbDomain, utf16le(a.domain))
	av(avNbComputer, utf16le(a.computer))
	av(avDNSDomain, utf16le(a.dnsDomain))
	av(avDNSComputer, utf16le(strings.ToLower(a.computer)+"."+a.dnsDomain))
	var ts [8]byte
	binary.LittleEndian.PutUint64(ts[:], filetime(time.Now()))
	av(avTimestamp, ts[:])
	av(avEOL, nil)

	target := []byte(a.domain)
	if unicode {
		target = utf16le(a.domain)
	}
	const head = 56
	msg := make([]byte, head, head+len(target)+ti.Len())
	copy(msg, ntlmSignature)
	binary.LittleEndian.PutUint32(msg[8:], 2)
	putFields(msg[12:], len(target), head)
	binary.LittleEndian.PutUint32(msg[20:], flags)
	copy(msg[24:32], a.serverCh[:])
	putFields(msg[40:], ti.Len(), head+len(target))
	copy(msg[48:56], []byte{10, 0, 0x61, 0x4a, 0, 0, 0, 15}) // Windows 10.0.19041, NTLM revision 15
	msg = append(msg, target...)
	msg = append(msg, ti.Bytes()...)
	a.negotiate = append([]byte(nil), negotiate...)
	a.challenge = msg
	return msg, nil
}

func putFields(b []byte, l, off int) {
	binary.LittleEndian.PutUint16(b[0:], uint16(l))
	binary.LittleEndian.PutUint16(b[2:], uint16(l))
	binary.LittleEndian.PutUint32(b[4:], uint32(off))
}

func filetime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + 116444736000000000
}

// ntlmSession is an authenticated NTLM context: who, and the sealing state.
type ntlmSession struct {
	User, Domain string
	Flags        uint32
	seal         *sealState
}

// Authenticate verifies an AUTHENTICATE message against the CHALLENGE sent on this connection.
func (a *ntlmAcceptor) Authenticate(auth []byte) (*ntlmSession, error) {
	if a.challenge == nil {
		return nil, fmt.Errorf("%w: AUTHENTICATE without a CHALLENGE on this connection", errNTLM)
	}
	if err := checkHeader(auth, 3); err != nil {
		return nil, err
	}
	if len(auth) < 64 {
		return nil, fmt.Errorf("%w: short AUTHENTICATE", errNTLM)
	}
	nt, err := readFields(auth, 20)
	if err != nil {
		return nil, err
	}
	domB, err := readFields(auth, 28)
	if err != nil {
		return nil, err
	}
	userB, err := readFields(auth, 36)
	if err != nil {
		return nil, err
	}
	encKey, err := readFields(auth, 52)
	if err != nil {
		return nil, err
	}
	flags := binary.LittleEndian.Uint32(auth[60:])
	user, domain := string(userB), string(domB) // OEM: taken as bytes (ASCII in practice)
	if flags&flagUnicode != 0 {
		user, domain = fromUTF16le(userB), fromUTF16le(domB)
	}
	if flags&flagAnonymous != 0 || user == "" {
		return nil, fmt.Errorf("%w: anonymous logon refused", errNTLM)
	}
	if len(nt) <= 24 {
		return nil, fmt.Errorf("%w: NTLMv1 responses are refused (LmCompatibilityLevel 5)", errNTLM)
	}
	if flags&flagESS == 0 {
		return nil, fmt.Errorf("%w: extended session security is required", errNTLM)
	}
	password, ok := a.users(user, domain)
	if !ok {
		return nil, fmt.Errorf("%w: unknown user or domain", errNTLM)
	}
	key := ntowfv2(password, user, domain)
	proof, temp := nt[:16], nt[16:]
	want := hmacMD5(key, a.serverCh[:], temp)
	if subtle.ConstantTimeCompare(proof, want) != 1 {
		return nil, fmt.Errorf("%w: wrong password", errNTLM)
	}
	if len(temp) < 28 || temp[0] != 1 || temp[1] != 1 {
		return nil, fmt.Errorf("%w: malformed NTLMv2 client challenge", errNTLM)
	}
	avs, err := parseAVPairs(temp[28:])
	if err != nil {
		return nil, err
	}
	sessionBase := hmacMD5(key, proof)
	exported := sessionBase // KeyExchangeKey == SessionBaseKey for NTLMv2
	if flags&flagKeyExch != 0 {
		if len(encKey) != 16 {
			return nil, fmt.Errorf("%w: key exchange without a 16-byte session key", errNTLM)
		}
		c, err := rc4.NewCipher(sessionBase)
		if err != nil {
			return nil, err
		}
		exported = make([]byte, 16)
		c.XORKeyStream(exported, encKey)
	}
	if f, ok := avs[avFlags]; ok && len(f) == 4 && binary.LittleEndian.Uint32(f)&avFlagMICPresent != 0 {
		if len(auth) < authenticateMICOff+16 {
			return nil, fmt.Errorf("%w: MIC announced but missing", errNTLM)
		}
		zeroed := append([]byte(nil), auth...)
		mic := append([]byte(nil), zeroed[authenticateMICOff:authenticateMICOff+16]...)
		clear(zeroed[authenticateMICOff : authenticateMICOff+16])
		if !hmac.Equal(mic, hmacMD5(exported, a.negotiate, a.challenge, zeroed)) {
			return nil, fmt.Errorf("%w: message integrity code (MIC) does not match", errNTLM)
		}
	}
	cb := avs[avChannelBindings]
	switch {
	case a.cert != nil && len(cb) == 16 && !bytes.Equal(cb, make([]byte, 16)):
		if !hmac.Equal(cb, channelBindingHash(a.cert)) {
			return nil, fmt.Errorf("%w: channel binding token does not match this TLS certificate", errNTLM)
		}
	case a.cert != nil && a.requireCB:
		return nil, fmt.Errorf("%w: channel binding token required (CbtHardeningLevel=Strict)", errNTLM)
	}
	s := &ntlmSession{User: user, Domain: domain, Flags: flags}
	if flags&(flagSeal|flagSign) != 0 {
		s.seal = newSealState(flags, exported)
	}
	return s, nil
}

func parseAVPairs(b []byte) (map[uint16][]byte, error) {
	m := map[uint16][]byte{}
	for len(b) >= 4 {
		id := binary.LittleEndian.Uint16(b)
		l := int(binary.LittleEndian.Uint16(b[2:]))
		if 4+l > len(b) {
			return nil, fmt.Errorf("%w: AV pair out of range", errNTLM)
		}
		if id == avEOL {
			return m, nil
		}
		m[id] = b[4 : 4+l]
		b = b[4+l:]
	}
	return nil, fmt.Errorf("%w: AV pairs not terminated", errNTLM)
}

// channelBindingHash is MD5 of a gss_channel_bindings_struct whose application data is
// "tls-server-end-point:" + the certificate hash (RFC 5929 §4.1), as NTLM carries it.
func channelBindingHash(cert *x509.Certificate) []byte {
	app := append([]byte("tls-server-end-point:"), rwinrm.CertificateHash(cert)...)
	buf := make([]byte, 20, 20+len(app))
	binary.LittleEndian.PutUint32(buf[16:], uint32(len(app)))
	buf = append(buf, app...)
	sum := md5.Sum(buf)
	return sum[:]
}

var (
	magicClientSign = []byte("session key to client-to-server signing key magic constant\x00")
	magicServerSign = []byte("session key to server-to-client signing key magic constant\x00")
	magicClientSeal = []byte("session key to client-to-server sealing key magic constant\x00")
	magicServerSeal = []byte("session key to server-to-client sealing key magic constant\x00")
)

// sealState is the server half of NTLM session security with extended session security
// (MS-NLMP 3.4.3, 3.4.4.2): the RC4 streams run across all messages of the connection.
type sealState struct {
	flags           uint32
	inSign, outSign []byte
	inRC4, outRC4   *rc4.Cipher
	inSeq, outSeq   uint32
	sealing         bool
}

// sealKeyFor is SEALKEY with extended session security (MS-NLMP 3.4.5.3).
func sealKeyFor(flags uint32, exported, magic []byte) []byte {
	k := exported
	switch {
	case flags&flag128 != 0:
	case flags&flag56 != 0:
		k = exported[:7]
	default:
		k = exported[:5]
	}
	s := md5.Sum(append(append([]byte(nil), k...), magic...))
	return s[:]
}

// signKeyFor is SIGNKEY with extended session security (MS-NLMP 3.4.5.2).
func signKeyFor(exported, magic []byte) []byte {
	s := md5.Sum(append(append([]byte(nil), exported...), magic...))
	return s[:]
}

func newRC4(key []byte) (*rc4.Cipher, error) { return rc4.NewCipher(key) }

func newSealState(flags uint32, exported []byte) *sealState {
	in, _ := newRC4(sealKeyFor(flags, exported, magicClientSeal)) // 16-byte keys never fail
	out, _ := newRC4(sealKeyFor(flags, exported, magicServerSeal))
	return &sealState{
		flags: flags, sealing: flags&flagSeal != 0,
		inSign: signKeyFor(exported, magicClientSign), outSign: signKeyFor(exported, magicServerSign),
		inRC4: in, outRC4: out,
	}
}

func (s *sealState) mac(c *rc4.Cipher, key []byte, seq uint32, msg []byte) []byte {
	var sq [4]byte
	binary.LittleEndian.PutUint32(sq[:], seq)
	sum := hmacMD5(key, sq[:], msg)[:8]
	if s.flags&flagKeyExch != 0 {
		c.XORKeyStream(sum, sum)
	}
	sig := make([]byte, 16)
	binary.LittleEndian.PutUint32(sig, 1)
	copy(sig[4:], sum)
	copy(sig[12:], sq[:])
	return sig
}

// Wrap seals msg for the client; it returns the signature and the sealed bytes.
func (s *sealState) Wrap(msg []byte) (sig, sealed []byte) {
	sealed = append([]byte(nil), msg...)
	if s.sealing {
		s.outRC4.XORKeyStream(sealed, sealed)
	}
	sig = s.mac(s.outRC4, s.outSign, s.outSeq, msg)
	s.outSeq++
	return sig, sealed
}

// Unwrap unseals a client message and verifies its signature and sequence number.
func (s *sealState) Unwrap(sig, sealed []byte) ([]byte, error) {
	if len(sig) != 16 {
		return nil, fmt.Errorf("NTLM signature is %d bytes, want 16", len(sig))
	}
	msg := append([]byte(nil), sealed...)
	if s.sealing {
		s.inRC4.XORKeyStream(msg, msg)
	}
	want := s.mac(s.inRC4, s.inSign, s.inSeq, msg)
	if !hmac.Equal(sig, want) {
		return nil, errors.New("NTLM message signature or sequence number does not match")
	}
	s.inSeq++
	return msg, nil
}
