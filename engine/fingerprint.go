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
	// One buffer hashed at once: the same digest as writing each piece.
	n := len(findingHeader)
	for k, v := range fe.deps {
		n += len(k) + len(v) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, findingHeader...)
	for _, k := range keys {
		b = append(b, k...)
		b = append(b, 0)
		b = append(b, fe.deps[k]...)
		b = append(b, '\n')
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

const findingHeader = "fix8524 finding v1\n"

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
