package heal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/internal/notify"
)

// Notifier delivers notifications (*notify.Sender implements it).
type Notifier interface {
	SendAll(ctx context.Context, targets []notify.Target, e notify.Event) []notify.Result
}

// DefaultRemindAfter is how long an unchanged escalation stays quiet before it is sent again.
const DefaultRemindAfter = 24 * time.Hour

// sentFile remembers, per forest, the last escalation delivered (its EscalationKey and when),
// in the escalation directory, so that a run every 15 minutes does not page every 15 minutes
// about the same held items (loop mode and one-shot runs alike). The warnings event is
// remembered apart, under "warning:<forest>".
const sentFile = ".notified.json"

type sentRecord struct {
	Key  string    `json:"key"`
	Sent time.Time `json:"sent"`
}

const maxSentFile = 1 << 20

func readSent(dir string) (map[string]sentRecord, error) {
	b, err := inputfile.ReadFile(filepath.Join(dir, sentFile), "escalation record", maxSentFile)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]sentRecord{}, nil
	}
	if errors.Is(err, inputfile.ErrTooLarge) {
		return map[string]sentRecord{}, nil // damaged: start afresh, as below
	}
	if err != nil {
		return nil, err
	}
	m := map[string]sentRecord{}
	if err := json.Unmarshal(b, &m); err != nil {
		// A damaged memory of what was sent must not silence escalations: start afresh.
		return map[string]sentRecord{}, nil
	}
	return m, nil
}

// alreadySent reports whether the same escalation was delivered for forest less than remind ago.
func alreadySent(dir, forest, key string, now time.Time, remind time.Duration) bool {
	m, err := readSent(dir)
	if err != nil {
		return false
	}
	r, ok := m[forest]
	return ok && r.Key == key && now.Sub(r.Sent) < remind && !now.Before(r.Sent)
}

// rememberSent records a delivered escalation.
func rememberSent(dir, forest, key string, now time.Time) error {
	m, err := readSent(dir)
	if err != nil {
		return err
	}
	m[forest] = sentRecord{Key: key, Sent: now.UTC()}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeNew(filepath.Join(dir, sentFile), append(b, '\n')); err != nil {
		return fmt.Errorf("remembering the notification: %w", err)
	}
	return nil
}
