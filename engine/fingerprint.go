package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"

	"github.com/fix8524/fix8524/plan"
)

// fingerprint digests exactly the facts and observations this finding's decisions (and the
// actions and manual steps of the winning one) read: sorted "key\x00value" lines.
func (fe *findingEval) fingerprint() string {
	fb := fpBufs.Get().(*fpBuf)
	keys := fb.keys[:0]
	for k := range fe.deps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// One buffer hashed at once: the same digest as writing each piece.
	b := append(fb.b[:0], findingHeader...)
	for _, k := range keys {
		b = append(b, k...)
		b = append(b, 0)
		b = append(b, fe.deps[k]...)
		b = append(b, '\n')
	}
	sum := sha256.Sum256(b)
	clear(keys)
	fb.keys, fb.b = keys[:0], b[:0]
	fpBufs.Put(fb)
	return digestString(sum)
}

// fpBuf is fingerprint's scratch space, reused between findings.
type fpBuf struct {
	keys []string
	b    []byte
}

var fpBufs = sync.Pool{New: func() any { return new(fpBuf) }}

// digestString renders "sha256:<hex>" in one allocation.
func digestString(sum [sha256.Size]byte) string {
	const prefix = "sha256:"
	var out [len(prefix) + 2*sha256.Size]byte
	copy(out[:], prefix)
	hex.Encode(out[len(prefix):], sum[:])
	return string(out[:])
}

const findingHeader = "fix8524 finding v1\n"

// planFingerprint digests the findings' ids and fingerprints (findings are sorted by id). A
// plan with no finding still has a fingerprint: that of "nothing matched".
func planFingerprint(p *plan.Plan) string {
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
