// Package approval binds a human approval to one exact plan, and checks it before apply.
//
// An Approval records who approved, when, until when, why, the plan's fingerprint (computed
// by the plan engine over the plan's content) and the plan's digest (SHA-256 of the exact plan
// file bytes), optionally signed with an ed25519 key. Verify refuses with a typed reason
// (*RefusalError; errors.Is against the Err* values, or ReasonOf) when:
//
//	no-approval           there is none (no sidecar file)
//	malformed             the approval file does not parse or lacks required fields
//	fingerprint-mismatch  it approves another plan (another fingerprint)
//	plan-tampered         the plan bytes changed after approval (digest mismatch)
//	unsigned              keys are required (a trust set was given) and it is not signed
//	unknown-key           it is signed by a key that is not in the trust set
//	bad-signature         the signature does not verify
//	not-yet-valid         its time is in the future by more than ClockSkewTolerance (clock skew)
//	expired               now is at or after its expiry
//
//	used                  an apply already used it (the journal's record, checked by apply:
//	                      see apply; Verify does not read the journal)
//
// Checks run in that order, so a tampered plan is reported as tampered even if the approval
// has also expired. Any byte change to the plan file counts as tampering, including
// reformatting: approve the file exactly as apply will read it.
//
// # Sidecar file
//
// An approval is stored next to the plan as "<plan>.approval.json" (SidecarPath), written
// atomically (temporary file, fsync, rename), mode 0644 (it holds no secret). Approving again
// replaces it. Its JSON shape, version 1:
//
//	{
//	  "version": 1,
//	  "by": "alice",                                   // who approved (required)
//	  "at": "2025-06-07T20:00:00Z",                     // when, UTC, whole seconds
//	  "expires": "2025-06-08T00:00:00Z",                // at + TTL
//	  "reason": "CHG-1234",                             // optional
//	  "plan_fingerprint": "…",                          // the plan engine's fingerprint
//	  "plan_digest": "sha256:<64 hex>",                 // SHA-256 of the plan file bytes
//	  "nonce": "<32 hex>",                              // 128 random bits (absent in older approvals)
//	  "key_id": "SHA256:<base64>",                      // signed only: as ssh-keygen -l shows
//	  "public_key": "ssh-ed25519 AAAA…",                // signed only: the signer's key
//	  "signature": "<base64 ed25519 signature>"         // signed only
//	}
//
// Unknown fields are refused (malformed), so a hand-edited field cannot silently be ignored. The
// nonce, when present, must be 32 lower-case hex digits (malformed otherwise); approvals written
// before it existed have none and stay valid.
//
// # Single use
//
// Approval.ID is the approval's own digest (over its signing payload). An approval admits one
// apply: the journal records the ID when an apply first acts under it and when that apply ends
// (internal/journal: UseApproval, FinishApprovalUse), and apply refuses an ID whose recorded use
// ended, unless that use was interrupted (killed, Ctrl-C, verification pending): a later apply
// of the same plan resumes it. Approving the plan again makes a new approval with a new ID: its
// nonce is fresh, so even two approvals of one plan by one person within the same second (the
// resolution of "at") are two approvals, each admitting one apply.
//
// # Signatures
//
// The signature covers SigningPayload: the line "fix8524-approval-v1" followed by a JSON object
// of version, by, at, expires (RFC 3339, UTC), reason, plan_fingerprint, plan_digest, nonce
// (left out when the approval has none, so that older approvals keep their payload) and
// key_id, in that order. Without a trust set a signature is still checked against the embedded
// public key (it proves integrity, not identity). With a trust set, the key named by key_id
// must be in the set, the signature is checked with the trusted key, and unsigned approvals
// are refused.
//
// # Key files
//
// Private keys are ed25519 in the OpenSSH format ("-----BEGIN OPENSSH PRIVATE KEY-----", what
// `ssh-keygen -t ed25519` writes); PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----", what
// `openssl genpkey -algorithm ed25519` writes) is also read. Passphrase-protected keys are not
// supported. GenerateKey writes a new unencrypted OpenSSH private key (mode 0600, never
// overwriting) and "<file>.pub" with the public key in authorized_keys format. On Unix,
// LoadPrivateKey refuses a key file readable by group or others, as ssh does.
//
// A trust file lists trusted public keys, one per line, in authorized_keys format without
// options — "ssh-ed25519 AAAAC3Nza… alice@laptop" — the content of a .pub file. Blank lines
// and lines starting with # are ignored; any other key type, options or garbage is an error
// naming the line.
package approval
