package approval

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/fix8524/fix8524/internal/jsonerr"
)

// Version is the approval format version written by this package.
const Version = 1

// ClockSkewTolerance is how far in the future an approval's time may lie before it is refused
// as not yet valid.
const ClockSkewTolerance = 5 * time.Minute

// MaxTTL is the longest validity an approval may be given.
const MaxTTL = 30 * 24 * time.Hour

// maxFileSize bounds what Parse reads: an approval is a few hundred bytes.
const maxFileSize = 64 << 10

// Approval is one human approval of one exact plan. See the package documentation for the
// JSON shape.
type Approval struct {
	Version         int       `json:"version"`
	By              string    `json:"by"`
	At              time.Time `json:"at"`
	Expires         time.Time `json:"expires"`
	Reason          string    `json:"reason,omitempty"`
	PlanFingerprint string    `json:"plan_fingerprint"`
	PlanDigest      string    `json:"plan_digest"`
	// Nonce is random (128 bits, hex): two approvals of the same plan by the same person in the
	// same second are still two approvals, each usable once. Absent in approvals made before it
	// was added.
	Nonce     string `json:"nonce,omitempty"`
	KeyID     string `json:"key_id,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// Reason names why an approval was refused.
type Reason string

// Refusal reasons, as stable strings for the journal and JSON output.
const (
	ReasonNone                Reason = "no-approval"
	ReasonMalformed           Reason = "malformed"
	ReasonFingerprintMismatch Reason = "fingerprint-mismatch"
	ReasonPlanTampered        Reason = "plan-tampered"
	ReasonUnsigned            Reason = "unsigned"
	ReasonUnknownKey          Reason = "unknown-key"
	ReasonBadSignature        Reason = "bad-signature"
	ReasonNotYetValid         Reason = "not-yet-valid"
	ReasonExpired             Reason = "expired"
	ReasonUsed                Reason = "used"
)

var reasonText = map[Reason]string{
	ReasonNone:                "no approval",
	ReasonMalformed:           "malformed approval",
	ReasonFingerprintMismatch: "approval is for another plan",
	ReasonPlanTampered:        "plan changed after approval",
	ReasonUnsigned:            "approval is not signed and keys are required",
	ReasonUnknownKey:          "approval is signed by an untrusted key",
	ReasonBadSignature:        "approval signature does not verify",
	ReasonNotYetValid:         "approval time is in the future (clock skew?)",
	ReasonExpired:             "approval expired",
	ReasonUsed:                "approval already used (an approval admits one apply; a resume of its interrupted run excepted)",
}

// RefusalError is the error Verify and Load return when an approval does not admit the plan.
type RefusalError struct {
	Reason Reason
	Detail string
}

func (e *RefusalError) Error() string {
	msg := "approval refused: " + reasonText[e.Reason]
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Is makes errors.Is(err, ErrExpired) and the like match on the reason.
func (e *RefusalError) Is(target error) bool {
	t, ok := target.(*RefusalError)
	return ok && t.Reason == e.Reason
}

// Sentinels for errors.Is; each matches any *RefusalError with the same Reason.
var (
	ErrNoApproval          = &RefusalError{Reason: ReasonNone}
	ErrMalformed           = &RefusalError{Reason: ReasonMalformed}
	ErrFingerprintMismatch = &RefusalError{Reason: ReasonFingerprintMismatch}
	ErrPlanTampered        = &RefusalError{Reason: ReasonPlanTampered}
	ErrUnsigned            = &RefusalError{Reason: ReasonUnsigned}
	ErrUnknownKey          = &RefusalError{Reason: ReasonUnknownKey}
	ErrBadSignature        = &RefusalError{Reason: ReasonBadSignature}
	ErrNotYetValid         = &RefusalError{Reason: ReasonNotYetValid}
	ErrExpired             = &RefusalError{Reason: ReasonExpired}
	ErrUsed                = &RefusalError{Reason: ReasonUsed}
)

// ReasonOf returns the refusal reason carried by err, if any.
func ReasonOf(err error) (Reason, bool) {
	var r *RefusalError
	if errors.As(err, &r) {
		return r.Reason, true
	}
	return "", false
}

func refuse(r Reason, format string, args ...any) error {
	return &RefusalError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Digest returns the plan digest recorded in approvals: "sha256:" and the hex SHA-256 of the
// plan bytes.
func Digest(planBytes []byte) string {
	sum := sha256.Sum256(planBytes)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Approve creates an approval of planBytes (the exact plan file bytes) whose fingerprint is
// fingerprint, by the named person, valid for ttl from now, signed if signer is not nil.
func Approve(planBytes []byte, fingerprint, by string, ttl time.Duration, reason string, signer ed25519.PrivateKey) (*Approval, error) {
	return ApproveAt(time.Now(), planBytes, fingerprint, by, ttl, reason, signer)
}

// ApproveAt is Approve with an explicit approval time.
func ApproveAt(now time.Time, planBytes []byte, fingerprint, by string, ttl time.Duration, reason string, signer ed25519.PrivateKey) (*Approval, error) {
	if len(planBytes) == 0 {
		return nil, errors.New("approve: the plan is empty")
	}
	if err := checkText("plan fingerprint", fingerprint, 512, true); err != nil {
		return nil, fmt.Errorf("approve: %w", err)
	}
	if err := checkText("approver (--by)", by, 256, true); err != nil {
		return nil, fmt.Errorf("approve: %w", err)
	}
	if err := checkText("reason", reason, 2048, false); err != nil {
		return nil, fmt.Errorf("approve: %w", err)
	}
	if ttl <= 0 || ttl > MaxTTL {
		return nil, fmt.Errorf("approve: expiry must be between 1s and %s, got %s", MaxTTL, ttl)
	}
	at := now.UTC().Truncate(time.Second)
	a := &Approval{
		Version:         Version,
		By:              by,
		At:              at,
		Expires:         at.Add(ttl).Truncate(time.Second),
		Reason:          reason,
		PlanFingerprint: fingerprint,
		PlanDigest:      Digest(planBytes),
		Nonce:           newNonce(),
	}
	if !a.Expires.After(a.At) {
		a.Expires = a.At.Add(time.Second)
	}
	if signer != nil {
		if len(signer) != ed25519.PrivateKeySize {
			return nil, errors.New("approve: the signing key is not an ed25519 private key")
		}
		pub := signer.Public().(ed25519.PublicKey)
		a.PublicKey = MarshalPublicKey(pub, "")
		a.KeyID = KeyID(pub)
		a.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(signer, a.SigningPayload()))
	}
	return a, nil
}

// newNonce returns 128 random bits in hex.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+: it crashes the program instead)
	return hex.EncodeToString(b[:])
}

func isNonce(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// checkText refuses empty required values, overlong values and control characters (which
// would let a value forge lines in a terminal or the journal).
func checkText(what, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return fmt.Errorf("%s is required", what)
	}
	if len(s) > max {
		return fmt.Errorf("%s is longer than %d bytes", what, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("%s contains a control or invalid character", what)
		}
	}
	return nil
}

// SigningPayload returns the bytes the signature covers (see the package documentation).
func (a *Approval) SigningPayload() []byte {
	p := struct {
		Version         int    `json:"version"`
		By              string `json:"by"`
		At              string `json:"at"`
		Expires         string `json:"expires"`
		Reason          string `json:"reason"`
		PlanFingerprint string `json:"plan_fingerprint"`
		PlanDigest      string `json:"plan_digest"`
		Nonce           string `json:"nonce,omitempty"` // omitted when absent: earlier approvals keep their payload
		KeyID           string `json:"key_id"`
	}{a.Version, a.By, a.At.UTC().Format(time.RFC3339Nano), a.Expires.UTC().Format(time.RFC3339Nano),
		a.Reason, a.PlanFingerprint, a.PlanDigest, a.Nonce, a.KeyID}
	b, _ := json.Marshal(p) // strings and an int: cannot fail
	return append([]byte("fix8524-approval-v1\n"), b...)
}

// ID is the approval's own digest, "sha256:<hex>" over its signing payload: who, when, until
// when, why, which plan and key. The journal records it when an apply uses the approval
// (approvals are single-use); approving the same plan again makes a new approval with another
// ID.
func (a *Approval) ID() string {
	sum := sha256.Sum256(a.SigningPayload())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Signed reports whether the approval carries a signature.
func (a *Approval) Signed() bool { return a.Signature != "" }

// String describes the approval in one line for people and the journal.
func (a *Approval) String() string {
	s := fmt.Sprintf("approved by %s at %s, expires %s", a.By, a.At.UTC().Format(time.RFC3339), a.Expires.UTC().Format(time.RFC3339))
	if a.Reason != "" {
		s += fmt.Sprintf(", reason %q", a.Reason)
	}
	if a.Signed() {
		s += ", signed by " + a.KeyID
	} else {
		s += ", unsigned"
	}
	return s
}

// Verify checks that a admits the plan planBytes with fingerprint at time now. trust nil
// means signatures are optional (checked if present against the embedded key); a non-nil
// trust set, even an empty one, requires a signature by one of its keys. It returns nil or a
// *RefusalError.
func Verify(planBytes []byte, fingerprint string, a *Approval, now time.Time, trust *TrustSet) error {
	if a == nil {
		return refuse(ReasonNone, "run: fix8524 approve <plan> --by NAME")
	}
	if err := a.validate(); err != nil {
		return err
	}
	if a.PlanFingerprint != fingerprint {
		x, y := Shorten(a.PlanFingerprint, fingerprint)
		return refuse(ReasonFingerprintMismatch, "approval is for plan %s, this plan is %s", x, y)
	}
	if d := Digest(planBytes); d != a.PlanDigest {
		x, y := Shorten(d, a.PlanDigest)
		return refuse(ReasonPlanTampered, "plan digest is %s, approved %s", x, y)
	}
	if err := a.verifySignature(trust); err != nil {
		return err
	}
	if a.At.After(now.Add(ClockSkewTolerance)) {
		return refuse(ReasonNotYetValid, "approved at %s, %s ahead of this host's clock (tolerance %s)",
			a.At.UTC().Format(time.RFC3339), a.At.Sub(now).Round(time.Second), ClockSkewTolerance)
	}
	if !now.Before(a.Expires) {
		return refuse(ReasonExpired, "expired at %s (%s ago); approve again", a.Expires.UTC().Format(time.RFC3339), now.Sub(a.Expires).Round(time.Second))
	}
	return nil
}

func short(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// Shorten cuts two values (digests, fingerprints) for a message that says they differ: each is
// cut after at least 24 characters and after the first character where they differ, so the
// shown forms always differ when the values do.
func Shorten(a, b string) (string, string) {
	n := 24
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i+1 > n {
		n = i + 1
	}
	cut := func(s string) string {
		if len(s) > n {
			return s[:n] + "…"
		}
		return s
	}
	return cut(a), cut(b)
}

func (a *Approval) validate() error {
	if a.Version != Version {
		return refuse(ReasonMalformed, "version %d, want %d", a.Version, Version)
	}
	if err := checkText("by", a.By, 256, true); err != nil {
		return refuse(ReasonMalformed, "%v", err)
	}
	if err := checkText("reason", a.Reason, 2048, false); err != nil {
		return refuse(ReasonMalformed, "%v", err)
	}
	if err := checkText("plan_fingerprint", a.PlanFingerprint, 512, true); err != nil {
		return refuse(ReasonMalformed, "%v", err)
	}
	if !strings.HasPrefix(a.PlanDigest, "sha256:") || len(a.PlanDigest) != len("sha256:")+64 {
		return refuse(ReasonMalformed, "plan_digest must be sha256:<64 hex digits>")
	}
	if a.Nonce != "" && !isNonce(a.Nonce) {
		return refuse(ReasonMalformed, "nonce must be 32 lower-case hex digits")
	}
	if a.At.IsZero() || a.Expires.IsZero() {
		return refuse(ReasonMalformed, "at and expires are required")
	}
	if !a.Expires.After(a.At) {
		return refuse(ReasonMalformed, "expires is not after at")
	}
	if a.Expires.Sub(a.At) > MaxTTL {
		return refuse(ReasonMalformed, "validity %s is longer than the maximum %s", a.Expires.Sub(a.At), MaxTTL)
	}
	return nil
}

func (a *Approval) verifySignature(trust *TrustSet) error {
	if a.Signature == "" {
		if trust != nil {
			return refuse(ReasonUnsigned, "sign it: fix8524 approve <plan> --by NAME --sign-key FILE")
		}
		if a.KeyID != "" || a.PublicKey != "" {
			return refuse(ReasonMalformed, "key_id or public_key without a signature")
		}
		return nil
	}
	sig, err := base64.StdEncoding.DecodeString(a.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return refuse(ReasonBadSignature, "signature is not a base64 ed25519 signature")
	}
	var key ed25519.PublicKey
	if trust != nil {
		tk, ok := trust.Lookup(a.KeyID)
		if !ok {
			return refuse(ReasonUnknownKey, "key %s is not in the trust file", short(a.KeyID))
		}
		key = tk.Key
	} else {
		if a.PublicKey == "" {
			return refuse(ReasonMalformed, "signed approval without public_key")
		}
		pub, _, err := ParsePublicKey(a.PublicKey)
		if err != nil {
			return refuse(ReasonMalformed, "public_key: %v", err)
		}
		if KeyID(pub) != a.KeyID {
			return refuse(ReasonBadSignature, "key_id does not match public_key")
		}
		key = pub
	}
	if !ed25519.Verify(key, a.SigningPayload(), sig) {
		return refuse(ReasonBadSignature, "signed by %s", short(a.KeyID))
	}
	return nil
}

// Marshal renders the approval as the indented JSON stored in the sidecar file.
func (a *Approval) Marshal() ([]byte, error) {
	c := *a
	c.At, c.Expires = c.At.UTC(), c.Expires.UTC()
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode approval: %w", err)
	}
	return append(b, '\n'), nil
}

// Parse decodes an approval file strictly: one JSON object, known fields only. Errors are
// *RefusalError with ReasonMalformed.
func Parse(data []byte) (*Approval, error) {
	if len(data) > maxFileSize {
		return nil, refuse(ReasonMalformed, "file is larger than %d bytes", maxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var a Approval
	if err := dec.Decode(&a); err != nil {
		return nil, refuse(ReasonMalformed, "%v", jsonerr.Describe(data, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, refuse(ReasonMalformed, "trailing data after the JSON object")
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	return &a, nil
}
