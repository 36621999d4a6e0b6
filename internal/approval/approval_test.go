package approval

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

var (
	plan = []byte(`{"fingerprint":"fp-1","links":[{"dest":"dc1","source":"dc2"}]}` + "\n")
	t0   = time.Date(2025, 6, 7, 20, 0, 0, 0, time.UTC)
)

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func mustApprove(t *testing.T, signer ed25519.PrivateKey) *Approval {
	t.Helper()
	a, err := ApproveAt(t0, plan, "fp-1", "alice", 4*time.Hour, "CHG-1", signer)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestVerifyMatrix walks every refusal reason and the admitted cases.
func TestVerifyMatrix(t *testing.T) {
	pub, priv := newKey(t)
	otherPub, otherPriv := newKey(t)
	trust := NewTrustSet(pub)
	emptyTrust := NewTrustSet()

	unsigned := mustApprove(t, nil)
	signed := mustApprove(t, priv)
	byOther := mustApprove(t, otherPriv)
	_ = otherPub

	edited := *signed
	edited.Reason = "something else" // signature no longer covers the content
	edited.Expires = edited.Expires.Add(24 * time.Hour)

	corruptSig := *signed
	sig, _ := base64.StdEncoding.DecodeString(corruptSig.Signature)
	sig[0] ^= 1
	corruptSig.Signature = base64.StdEncoding.EncodeToString(sig)

	swappedKey := *signed // claims another key's identity but keeps the signature
	swappedKey.PublicKey = MarshalPublicKey(otherPub, "")
	swappedKey.KeyID = KeyID(otherPub)

	garbledSig := *signed
	garbledSig.Signature = "!!!"

	inFuture, _ := ApproveAt(t0.Add(10*time.Minute), plan, "fp-1", "alice", time.Hour, "", nil)
	slightlyAhead, _ := ApproveAt(t0.Add(4*time.Minute), plan, "fp-1", "alice", time.Hour, "", nil)

	tampered := append(bytes.Clone(plan[:len(plan)-1]), ' ', '\n')

	cases := []struct {
		name  string
		plan  []byte
		fp    string
		a     *Approval
		now   time.Time
		trust *TrustSet
		want  error // nil: admitted
	}{
		{"unsigned, no keys required", plan, "fp-1", unsigned, t0.Add(time.Hour), nil, nil},
		{"signed, no keys required", plan, "fp-1", signed, t0.Add(time.Hour), nil, nil},
		{"signed by a trusted key", plan, "fp-1", signed, t0.Add(time.Hour), trust, nil},
		{"just before expiry", plan, "fp-1", unsigned, t0.Add(4*time.Hour - time.Second), nil, nil},
		{"within clock skew tolerance", plan, "fp-1", slightlyAhead, t0, nil, nil},
		{"none", plan, "fp-1", nil, t0, nil, ErrNoApproval},
		{"expired at expiry", plan, "fp-1", unsigned, t0.Add(4 * time.Hour), nil, ErrExpired},
		{"expired long ago", plan, "fp-1", signed, t0.Add(48 * time.Hour), trust, ErrExpired},
		{"not yet valid (clock skew)", plan, "fp-1", inFuture, t0, nil, ErrNotYetValid},
		{"another plan", plan, "fp-2", unsigned, t0, nil, ErrFingerprintMismatch},
		{"tampered plan", tampered, "fp-1", unsigned, t0, nil, ErrPlanTampered},
		{"tampered and expired reports tampered", tampered, "fp-1", unsigned, t0.Add(48 * time.Hour), nil, ErrPlanTampered},
		{"unsigned while keys required", plan, "fp-1", unsigned, t0, trust, ErrUnsigned},
		{"unsigned with an empty trust set", plan, "fp-1", unsigned, t0, emptyTrust, ErrUnsigned},
		{"unknown key", plan, "fp-1", byOther, t0, trust, ErrUnknownKey},
		{"edited after signing, trusted", plan, "fp-1", &edited, t0, trust, ErrBadSignature},
		{"edited after signing, no trust", plan, "fp-1", &edited, t0, nil, ErrBadSignature},
		{"corrupt signature", plan, "fp-1", &corruptSig, t0, trust, ErrBadSignature},
		{"swapped public key", plan, "fp-1", &swappedKey, t0, nil, ErrBadSignature},
		{"garbled signature", plan, "fp-1", &garbledSig, t0, nil, ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.plan, c.fp, c.a, c.now, c.trust)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v; want %v", err, c.want)
			}
			r, ok := ReasonOf(err)
			if !ok || r != c.want.(*RefusalError).Reason {
				t.Fatalf("ReasonOf = %q, %v", r, ok)
			}
			if !strings.HasPrefix(err.Error(), "approval refused: ") {
				t.Fatalf("message: %q", err)
			}
		})
	}
}

func TestApproveValidation(t *testing.T) {
	_, priv := newKey(t)
	bad := []struct {
		name   string
		plan   []byte
		fp, by string
		ttl    time.Duration
		reason string
	}{
		{"empty plan", nil, "fp", "alice", time.Hour, ""},
		{"no fingerprint", plan, "", "alice", time.Hour, ""},
		{"no approver", plan, "fp", " ", time.Hour, ""},
		{"newline in approver", plan, "fp", "alice\nmallory", time.Hour, ""},
		{"escape in reason", plan, "fp", "alice", time.Hour, "ok\x1b[2J"},
		{"zero ttl", plan, "fp", "alice", 0, ""},
		{"ttl too long", plan, "fp", "alice", MaxTTL + time.Second, ""},
	}
	for _, c := range bad {
		if _, err := ApproveAt(t0, c.plan, c.fp, c.by, c.ttl, c.reason, priv); err == nil {
			t.Errorf("%s: ApproveAt succeeded", c.name)
		}
	}
	if _, err := ApproveAt(t0, plan, "fp", "alice", time.Hour, "", ed25519.PrivateKey{1, 2, 3}); err == nil {
		t.Error("short signing key accepted")
	}
	a, err := ApproveAt(t0.Add(123456789), plan, "fp", "alice", 90*time.Minute, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.At.Equal(t0) || !a.Expires.Equal(t0.Add(90*time.Minute)) || a.PlanDigest != Digest(plan) || a.Signed() {
		t.Fatalf("approval: %+v", a)
	}
}

func TestSidecarRoundTrip(t *testing.T) {
	_, priv := newKey(t)
	dir := t.TempDir()
	planPath := filepath.Join(dir, "p.json")
	if err := os.WriteFile(planPath, plan, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(planPath)
	if !errors.Is(err, ErrNoApproval) || !strings.Contains(err.Error(), "fix8524 approve") {
		t.Fatalf("Load without sidecar: %v", err)
	}
	a := mustApprove(t, priv)
	path, err := Save(planPath, a)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "p.json.approval.json") {
		t.Fatalf("sidecar path %s", path)
	}
	got, err := Load(planPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(plan, "fp-1", got, t0.Add(time.Minute), NewTrustSet(priv.Public().(ed25519.PublicKey))); err != nil {
		t.Fatalf("Verify after round trip: %v", err)
	}
	if got.String() == "" || !strings.Contains(got.String(), "signed by SHA256:") {
		t.Fatalf("String: %q", got.String())
	}
	// Replacing leaves no temporary files behind.
	if _, err := Save(planPath, mustApprove(t, nil)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("dir has %d entries, want plan + sidecar", len(entries))
	}
	// A corrupt sidecar is a malformed refusal naming the file.
	if err := os.WriteFile(path, []byte(`{"version":1,`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(planPath); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt sidecar: %v", err)
	}
}

func TestParseStrict(t *testing.T) {
	good, err := mustApprove(t, nil).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(good); err != nil {
		t.Fatalf("Parse(Marshal()): %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(good, &m); err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(map[string]any)) []byte {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		f(c)
		b, _ := json.Marshal(c)
		return b
	}
	bad := map[string][]byte{
		"unknown field":      mutate(func(c map[string]any) { c["approved"] = true }),
		"version 2":          mutate(func(c map[string]any) { c["version"] = 2 }),
		"no by":              mutate(func(c map[string]any) { delete(c, "by") }),
		"bad digest":         mutate(func(c map[string]any) { c["plan_digest"] = "md5:abc" }),
		"expires before at":  mutate(func(c map[string]any) { c["expires"] = "2025-06-07T19:00:00Z" }),
		"validity too long":  mutate(func(c map[string]any) { c["expires"] = "2026-06-07T19:00:00Z" }),
		"no at":              mutate(func(c map[string]any) { delete(c, "at") }),
		"key id unsigned":    mutate(func(c map[string]any) { c["key_id"] = "SHA256:x" }),
		"trailing data":      append(bytes.Clone(good), []byte(`{}`)...),
		"not json":           []byte("approved: yes"),
		"control char in by": mutate(func(c map[string]any) { c["by"] = "a\u0007" }),
		"huge":               bytes.Repeat([]byte(" "), maxFileSize+1),
	}
	for name, data := range bad {
		a, err := Parse(data)
		if err == nil {
			// Some are only caught by Verify (key_id without signature).
			err = Verify(plan, "fp-1", a, t0, nil)
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v; want malformed", name, err)
		}
	}
}

func TestGenerateAndLoadKeys(t *testing.T) {
	dir := t.TempDir()
	priv := filepath.Join(dir, "approver")
	line, err := GenerateKey(priv, "alice@example")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "ssh-ed25519 AAAA") || !strings.HasSuffix(line, " alice@example") {
		t.Fatalf("public line %q", line)
	}
	for _, p := range []string{priv, priv + ".pub"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode %v", p, fi.Mode().Perm())
		}
	}
	if _, err := GenerateKey(priv, ""); err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Fatalf("second GenerateKey: %v", err)
	}
	k, err := LoadPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := LoadTrust(priv + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	a, err := ApproveAt(t0, plan, "fp-1", "alice", time.Hour, "", k)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(plan, "fp-1", a, t0, trust); err != nil {
		t.Fatalf("Verify with generated key: %v", err)
	}
	if tk, ok := trust.Lookup(a.KeyID); !ok || tk.Comment != "alice@example" || tk.Line != 1 {
		t.Fatalf("trusted key %+v", tk)
	}

	if runtime.GOOS != "windows" {
		if err := os.Chmod(priv, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadPrivateKey(priv); err == nil || !strings.Contains(err.Error(), "too open") {
			t.Fatalf("world-readable key: %v", err)
		}
	}
}

func TestParsePrivateKeyFormats(t *testing.T) {
	pub, priv := newKey(t)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	k, err := ParsePrivateKey(pkcs8)
	if err != nil || !bytes.Equal(k.Public().(ed25519.PublicKey), pub) {
		t.Fatalf("PKCS#8: %v", err)
	}
	enc, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("s3cret-pass"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePrivateKey(pem.EncodeToMemory(enc)); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("encrypted key: %v", err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rder, _ := x509.MarshalPKCS8PrivateKey(rk)
	if _, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rder})); err == nil || !strings.Contains(err.Error(), "ed25519") {
		t.Fatalf("RSA key: %v", err)
	}
	garbage := []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LW1hdGVyaWFs\n-----END OPENSSH PRIVATE KEY-----\n")
	if _, err := ParsePrivateKey(garbage); err == nil || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Fatalf("garbage key: %v", err)
	}
}

// TestSSHKeygenInterop: keys made by ssh-keygen, the tool admins know, load and verify.
func TestSSHKeygenInterop(t *testing.T) {
	bin, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not installed")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command(bin, "-q", "-t", "ed25519", "-N", "", "-C", "bob@host", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	k, err := LoadPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := LoadTrust(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ApproveAt(t0, plan, "fp-1", "bob", time.Hour, "", k)
	if err := Verify(plan, "fp-1", a, t0, trust); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-l", "-f", key+".pub").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), a.KeyID) {
		t.Fatalf("ssh-keygen -l says %q; KeyID %s", out, a.KeyID)
	}
}

func TestParseTrust(t *testing.T) {
	pub1, _ := newKey(t)
	pub2, _ := newKey(t)
	file := "# approvers\n\n" + MarshalPublicKey(pub1, "alice@laptop") + "\n  " + MarshalPublicKey(pub2, "") + "  \n" + MarshalPublicKey(pub1, "dup") + "\n"
	ts, err := ParseTrust(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if ts.Len() != 2 {
		t.Fatalf("Len = %d", ts.Len())
	}
	if k, ok := ts.Lookup(KeyID(pub2)); !ok || k.Line != 4 {
		t.Fatalf("pub2: %+v %v", k, ok)
	}
	rsaLine := "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 bob"
	bad := map[string]string{
		"rsa key":       rsaLine,
		"options":       `from="10.0.0.1" ` + MarshalPublicKey(pub1, ""),
		"garbage":       "ssh-ed25519 not-base64!!",
		"truncated":     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI",
		"private key":   "-----BEGIN OPENSSH PRIVATE KEY-----",
		"two keys":      MarshalPublicKey(pub1, "") + "\n" + "ssh-ed25519",
		"overlong":      "ssh-ed25519 " + strings.Repeat("A", maxTrustLine+10),
		"type mislabel": "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7",
	}
	for name, content := range bad {
		if _, err := ParseTrust(strings.NewReader(content)); err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("%s: %v; want a line-numbered error", name, err)
		}
	}
	var nilSet *TrustSet
	if _, ok := nilSet.Lookup("x"); ok || nilSet.Len() != 0 {
		t.Fatal("nil trust set")
	}
}

func FuzzParse(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	for _, signer := range []ed25519.PrivateKey{nil, priv} {
		a, _ := ApproveAt(t0, plan, "fp-1", "alice", time.Hour, "why", signer)
		b, _ := a.Marshal()
		f.Add(b)
	}
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"by":"x","at":"2025-01-01T00:00:00Z","expires":"2025-01-01T00:00:01Z","plan_fingerprint":"f","plan_digest":"sha256:` + strings.Repeat("0", 64) + `","signature":"AAAA"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Parse(data)
		if err != nil {
			if _, ok := ReasonOf(err); !ok {
				t.Fatalf("Parse error is not a refusal: %v", err)
			}
			return
		}
		_ = Verify(plan, a.PlanFingerprint, a, a.At, nil)
		_ = Verify(plan, a.PlanFingerprint, a, a.At, NewTrustSet())
		b, err := a.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		a2, err := Parse(b)
		if err != nil {
			t.Fatalf("re-parse of marshalled approval: %v", err)
		}
		if !bytes.Equal(a.SigningPayload(), a2.SigningPayload()) {
			t.Fatalf("signing payload changed across a round trip")
		}
	})
}

func FuzzParseTrust(f *testing.F) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	f.Add("# c\n" + MarshalPublicKey(pub, "alice") + "\n")
	f.Add("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI x")
	f.Add(`command="x" ssh-ed25519 AAAA`)
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTrust(strings.NewReader(s))
		if err != nil {
			return
		}
		for id, k := range ts.keys {
			if KeyID(k.Key) != id || len(k.Key) != ed25519.PublicKeySize {
				t.Fatalf("inconsistent trust entry %s", id)
			}
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(priv, "c")
	f.Add(pem.EncodeToMemory(block))
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePrivateKey(data)
		if err != nil {
			return
		}
		if len(k) != ed25519.PrivateKeySize {
			t.Fatalf("key of %d bytes", len(k))
		}
		_ = ed25519.Sign(k, []byte("x"))
	})
}

// Two values that differ are never shown as the same text, however long their common prefix.
func TestShortenShowsTheDifference(t *testing.T) {
	a := "sha256:" + strings.Repeat("ab", 30) + "0000"
	b := "sha256:" + strings.Repeat("ab", 30) + "0001"
	x, y := Shorten(a, b)
	if x == y {
		t.Fatalf("Shorten(%q, %q) = %q, %q: the same text", a, b, x, y)
	}
	if x, _ := Shorten("sha256:0123456789abcdef0123456789", "sha256:f"); x != "sha256:0123456789abcdef0…" {
		t.Fatalf("short form %q", x)
	}
	plan := []byte("{}")
	ap, err := ApproveAt(time.Now(), plan, a, "alice", time.Hour, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = Verify(plan, b, ap, time.Now(), nil)
	if !errors.Is(err, ErrFingerprintMismatch) || !strings.Contains(err.Error(), b[:len(b)-2]) {
		t.Fatalf("mismatch message %v does not tell the fingerprints apart", err)
	}
}

// TestApprovalsAreDistinct: two approvals of the same plan by the same person in the same second
// are two approvals (approvals are single-use: the second must not be spent by the first's use).
// An approval made before the nonce was added (none in the file) keeps its payload and its
// signature; a malformed nonce is refused; a nonce edited after signing breaks the signature.
func TestApprovalsAreDistinct(t *testing.T) {
	_, priv := newKey(t)
	a, b := mustApprove(t, priv), mustApprove(t, priv)
	if a.ID() == b.ID() || a.Nonce == b.Nonce || !isNonce(a.Nonce) {
		t.Fatalf("two approvals in the same second share an ID or nonce: %s %s (%q %q)", a.ID(), b.ID(), a.Nonce, b.Nonce)
	}
	if err := Verify(plan, "fp-1", a, t0.Add(time.Minute), nil); err != nil {
		t.Fatalf("a fresh approval does not verify: %v", err)
	}

	// An earlier approval: no nonce, signed over the payload without it.
	old := *a
	old.Nonce, old.Signature = "", ""
	old.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, old.SigningPayload()))
	if bytes.Contains(old.SigningPayload(), []byte("nonce")) {
		t.Fatalf("the payload of an approval without a nonce names one: %s", old.SigningPayload())
	}
	if err := Verify(plan, "fp-1", &old, t0.Add(time.Minute), nil); err != nil {
		t.Fatalf("an approval without a nonce is refused: %v", err)
	}

	edited := *a
	edited.Nonce = strings.Repeat("0", 32)
	if err := Verify(plan, "fp-1", &edited, t0.Add(time.Minute), nil); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("an edited nonce: %v, want a bad signature", err)
	}
	for _, n := range []string{"xyz", strings.Repeat("A", 32), strings.Repeat("0", 31)} {
		bad := *a
		bad.Nonce = n
		if err := Verify(plan, "fp-1", &bad, t0.Add(time.Minute), nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("nonce %q: %v, want malformed", n, err)
		}
	}
}
