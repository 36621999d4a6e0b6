package heal_test

import (
	"context"
	"testing"
	"time"

	"github.com/fix8524/fix8524/heal"
)

// TestLoop: runs follow one another with the interval plus jitter; a failing run does not end
// the loop, the next one comes after a backoff that doubles up to the interval; cancelling the
// context (SIGTERM) ends the loop.
func TestLoop(t *testing.T) {
	codes := []int{0, 1, 1, 1, 1, 1, 3, 2, 0}
	var waits []time.Duration
	runs := 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := heal.Loop{
		Every:  15 * time.Minute,
		Jitter: 0.1,
		Run: func(ctx context.Context) int {
			c := codes[runs]
			runs++
			if runs == len(codes) {
				cancel()
			}
			return c
		},
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
		Rand:  func() float64 { return 0.5 },
		Logf:  t.Logf,
	}
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if runs != len(codes) {
		t.Fatalf("%d runs, want %d", runs, len(codes))
	}
	j := func(d time.Duration) time.Duration { return d + d/20 } // jitter 0.1 × rand 0.5
	want := []time.Duration{j(15 * time.Minute), j(time.Minute), j(2 * time.Minute), j(4 * time.Minute), j(8 * time.Minute),
		j(15 * time.Minute), j(15 * time.Minute), j(15 * time.Minute)}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("wait %d: %s, want %s", i, waits[i], want[i])
		}
	}
}

func TestLoopStopsWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	l := heal.Loop{Every: time.Hour, Jitter: -1,
		Run: func(context.Context) int { runs++; return 0 },
		Sleep: func(ctx context.Context, d time.Duration) error {
			if d != time.Hour {
				t.Errorf("wait %s without jitter", d)
			}
			cancel()
			return ctx.Err()
		}}
	if err := l.Start(ctx); err != nil || runs != 1 {
		t.Fatalf("err %v runs %d", err, runs)
	}
	if err := (heal.Loop{Every: time.Second, Run: l.Run}).Start(context.Background()); err != heal.ErrBadInterval {
		t.Errorf("1s interval: %v", err)
	}
	if err := (heal.Loop{Every: time.Hour}).Start(context.Background()); err == nil {
		t.Error("no run function accepted")
	}
}
