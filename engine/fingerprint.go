package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
)

// fingerprint digests exactly the facts and observations this finding's decisions (and the
// actions and manual steps of the winning one) read: sorted "key\x00value" lines.
func (fe *findingEval) fingerprint() string {
	keys := make([]string, 0, len(fe.deps))
	for k := range fe.deps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	h.Write([]byte("fix8524 finding v1\n"))
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(fe.deps[k]))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// planFingerprint digests the findings' ids and fingerprints (findings are sorted by id). A
// plan with no finding still has a fingerprint: that of "nothing matched".
func planFingerprint(p *Plan) string {
	h := sha256.New()
	h.Write([]byte("fix8524 plan v1\n"))
	for _, f := range p.Findings {
		h.Write([]byte(f.ID))
		h.Write([]byte{0})
		h.Write([]byte(f.Fingerprint))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
