package heal

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/fix8524/fix8524/apply"
)

// Loop defaults.
const (
	DefaultJitter     = 0.1
	DefaultMinBackoff = time.Minute
	MinEvery          = time.Minute
)

// Loop repeats heal runs (loop mode, `heal --every`).
type Loop struct {
	// Every is the interval between runs (at least MinEvery).
	Every time.Duration
	// Jitter adds a random delay of up to Jitter×wait to every wait (0: DefaultJitter; a
	// negative value: none), so that many heal instances do not run in step.
	Jitter float64
	// MinBackoff is the first wait after a failed run (exit code 1); it doubles with each
	// consecutive failure, up to Every (0: DefaultMinBackoff, at most Every).
	MinBackoff time.Duration
	// Run runs heal once and returns its exit code. Runs never overlap.
	Run func(ctx context.Context) int
	// Logf receives one line per wait (nil: silent).
	Logf func(format string, args ...any)
	// Sleep and Rand replace the timer and the random source (tests).
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64
}

// ErrBadInterval is returned for an Every below MinEvery.
var ErrBadInterval = errors.New("heal loop: the interval must be at least 1m")

// Start runs the loop until ctx ends; the first run starts at once. It returns nil when ctx
// ends (the run in progress sees the cancellation and stops at its next safe point).
func (l Loop) Start(ctx context.Context) error {
	if l.Every < MinEvery {
		return ErrBadInterval
	}
	if l.Run == nil {
		return errors.New("heal loop: nothing to run")
	}
	sleep := l.Sleep
	if sleep == nil {
		sleep = apply.Sleep
	}
	failures := 0
	for ctx.Err() == nil {
		code := l.Run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if code == 1 {
			failures++
		} else {
			failures = 0
		}
		wait := l.wait(failures)
		if l.Logf != nil {
			if failures > 0 {
				l.Logf("heal: run failed (exit 1, %d in a row): next run in %s", failures, wait.Round(time.Second))
			} else {
				l.Logf("heal: exit %d; next run in %s", code, wait.Round(time.Second))
			}
		}
		if err := sleep(ctx, wait); err != nil {
			return nil
		}
	}
	return nil
}

// wait returns the wait after a run: Every, or after `failures` consecutive failures the
// bounded backoff; plus jitter.
func (l Loop) wait(failures int) time.Duration {
	d := l.Every
	if failures > 0 {
		b := l.MinBackoff
		if b <= 0 {
			b = DefaultMinBackoff
		}
		for i := 1; i < failures && b < l.Every; i++ {
			b *= 2
		}
		d = min(b, l.Every)
	}
	j := l.Jitter
	if j == 0 {
		j = DefaultJitter
	}
	if j > 0 {
		rnd := l.Rand
		if rnd == nil {
			rnd = rand.Float64
		}
		d += time.Duration(float64(d) * min(j, 1) * rnd())
	}
	return d
}
