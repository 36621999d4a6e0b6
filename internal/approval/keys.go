package approval

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/fix8524/fix8524/internal/inputfile"
)

// KeyID returns the key's identifier as `ssh-keygen -l` prints it: "SHA256:" and the
// unpadded base64 SHA-256 of the SSH wire encoding of the public key.
func KeyID(pub ed25519.PublicKey) string {
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return ""
	}
	return ssh.FingerprintSHA256(sp)
}

// MarshalPublicKey renders pub as an authorized_keys line: "ssh-ed25519 AAAA… comment".
func MarshalPublicKey(pub ed25519.PublicKey, comment string) string {
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return ""
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
	if c := strings.TrimSpace(comment); c != "" && !strings.ContainsAny(c, "\r\n") {
		line += " " + c
	}
	return line
}

// ParsePublicKey parses one authorized_keys-format line holding an ed25519 key and returns
// the key and its comment. Options (from=, command=, …) are refused: fix8524 would not honour
// them.
func ParsePublicKey(line string) (ed25519.PublicKey, string, error) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, ssh.KeyAlgoED25519+" ") {
		first, _, _ := strings.Cut(line, " ")
		if len(first) > 40 {
			first = first[:40] + "…"
		}
		return nil, "", fmt.Errorf("want an ssh-ed25519 key, got %q", first)
	}
	pk, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, "", fmt.Errorf("not an authorized_keys line: %w", err)
	}
	if len(options) > 0 {
		return nil, "", errors.New("key options are not supported")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, "", errors.New("more than one key on a line")
	}
	cpk, ok := pk.(ssh.CryptoPublicKey)
	if !ok || pk.Type() != ssh.KeyAlgoED25519 {
		return nil, "", fmt.Errorf("want an ssh-ed25519 key, got %s", pk.Type())
	}
	pub, ok := cpk.CryptoPublicKey().(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, "", errors.New("not an ed25519 public key")
	}
	return pub, comment, nil
}

// GenerateKey creates an ed25519 key pair, writes the private key to privPath (OpenSSH
// format, mode 0600, refusing to overwrite an existing file) and the public key to
// privPath+".pub" (authorized_keys format, mode 0600), and returns the public key line.
func GenerateKey(privPath, comment string) (string, error) {
	if strings.ContainsAny(comment, "\r\n") {
		return "", errors.New("the comment must be one line")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return "", fmt.Errorf("encoding the private key: %w", err)
	}
	line := MarshalPublicKey(pub, comment) + "\n"
	pubPath := privPath + ".pub"
	if _, err := os.Lstat(pubPath); err == nil {
		return "", fmt.Errorf("%s already exists; not overwriting", pubPath)
	}
	if err := writeNew(privPath, pem.EncodeToMemory(block)); err != nil {
		return "", err
	}
	if err := writeNew(pubPath, []byte(line)); err != nil {
		os.Remove(privPath)
		return "", err
	}
	return strings.TrimSpace(line), nil
}

func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; not overwriting", path)
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// LoadPrivateKey reads an ed25519 private key file (OpenSSH or PKCS#8 PEM). On Unix a file
// readable by group or others is refused.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s: permissions %04o are too open; chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := inputfile.ReadFile(path, "signing key", 64<<10)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// ParsePrivateKey decodes an ed25519 private key in OpenSSH or PKCS#8 PEM format. Errors never
// quote the key material.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	raw, err := ssh.ParseRawPrivateKey(data)
	if err != nil {
		var pm *ssh.PassphraseMissingError
		if errors.As(err, &pm) {
			return nil, errors.New("the key is passphrase-protected; fix8524 needs an unencrypted key file")
		}
		return nil, errors.New("not an OpenSSH or PKCS#8 PEM private key")
	}
	switch k := raw.(type) {
	case ed25519.PrivateKey:
		if len(k) == ed25519.PrivateKeySize {
			return k, nil
		}
	case *ed25519.PrivateKey:
		if k != nil && len(*k) == ed25519.PrivateKeySize {
			return *k, nil
		}
	default:
		return nil, fmt.Errorf("want an ed25519 key, got %T", raw)
	}
	return nil, errors.New("malformed ed25519 private key")
}

// TrustedKey is one entry of a trust file.
type TrustedKey struct {
	KeyID   string
	Key     ed25519.PublicKey
	Comment string
	Line    int // line number in the trust file
}

// TrustSet is the set of public keys whose signatures admit an approval.
type TrustSet struct {
	keys map[string]TrustedKey
}

// NewTrustSet builds a trust set from keys directly (for tests and embedding).
func NewTrustSet(keys ...ed25519.PublicKey) *TrustSet {
	t := &TrustSet{keys: map[string]TrustedKey{}}
	for _, k := range keys {
		id := KeyID(k)
		t.keys[id] = TrustedKey{KeyID: id, Key: k}
	}
	return t
}

// Lookup returns the trusted key with the given KeyID.
func (t *TrustSet) Lookup(keyID string) (TrustedKey, bool) {
	if t == nil {
		return TrustedKey{}, false
	}
	k, ok := t.keys[keyID]
	return k, ok
}

// Len returns the number of trusted keys.
func (t *TrustSet) Len() int {
	if t == nil {
		return 0
	}
	return len(t.keys)
}

// maxTrustLine bounds one line of a trust file.
const maxTrustLine = 16 << 10

// ParseTrust reads a trust file: one "ssh-ed25519 AAAA… comment" line per key, blank lines
// and # comments ignored. Errors name the line.
func ParseTrust(r io.Reader) (*TrustSet, error) {
	t := &TrustSet{keys: map[string]TrustedKey{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxTrustLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pub, comment, err := ParsePublicKey(line)
		if err != nil {
			return nil, fmt.Errorf("trust file line %d: %w", n, err)
		}
		id := KeyID(pub)
		if _, dup := t.keys[id]; !dup {
			t.keys[id] = TrustedKey{KeyID: id, Key: pub, Comment: comment, Line: n}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trust file line %d: %w", n+1, err)
	}
	return t, nil
}

// LoadTrust reads the trust file at path.
func LoadTrust(path string) (*TrustSet, error) {
	f, err := inputfile.Open(path, "trust keys", 4<<20)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ParseTrust(f)
	if err != nil {
		return nil, fmt.Errorf("trust keys %s: %w", path, err)
	}
	return t, nil
}
