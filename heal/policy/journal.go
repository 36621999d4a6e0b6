package policy

import (
	"time"

	"github.com/fix8524/fix8524/internal/journal"
)

// JournalHistory is the History of one forest, read from the journal (internal/journal).
type JournalHistory struct {
	Store  *journal.Store
	Forest string
}

var _ History = JournalHistory{}

// LastApplied is journal.Store.LastAction: the last begun attempt of action on dc.
func (h JournalHistory) LastApplied(dc, action string) (time.Time, bool, error) {
	return h.Store.LastAction(h.Forest, dc, action)
}

// DCsTouchedSince is journal.Store.TargetsTouchedSince.
func (h JournalHistory) DCsTouchedSince(since time.Time) ([]string, error) {
	return h.Store.TargetsTouchedSince(h.Forest, since)
}

// FailedVerificationsSince is journal.Store.FailedVerificationsSince.
func (h JournalHistory) FailedVerificationsSince(since time.Time) (int, error) {
	return h.Store.FailedVerificationsSince(h.Forest, since)
}

// BreakerState reads journal.Store.Breaker: open, and when it last changed state.
func (h JournalHistory) BreakerState() (bool, time.Time, error) {
	b, err := h.Store.Breaker(h.Forest)
	if err != nil {
		return false, time.Time{}, err
	}
	return b.Open, b.Since, nil
}
