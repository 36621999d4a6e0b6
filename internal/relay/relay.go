// Package relay carries a panic from worker goroutines to the goroutine that waits for them.
//
// The Go runtime ends the whole process with exit status 2 when a goroutine panics and nothing
// recovers it, and 2 is what fix8524 exits with when a plan proposes actions: a crash must
// never look like that. fix8524's main recovers panics on its own goroutine (exit 1); the
// worker pools that read untrusted input (the gatherer, the DNS and TCP probers, the planner,
// apply's parallel pulls) defer Relay.Catch in every worker and call Relay.Raise after they
// waited, so a panic in a worker reaches main too.
//
// A Go "fatal error" (a stack overflow, running out of memory) cannot be recovered at all:
// bounded input (internal/inputfile, internal/hclscan, facts.Decode) is what keeps fix8524
// away from those.
package relay

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Relay holds the first panic of a group of workers. The zero value is ready to use.
type Relay struct {
	mu  sync.Mutex
	err *Panic
}

// Panic is a panic relayed from a worker goroutine, with that goroutine's stack.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("panic in a worker goroutine: %v", p.Value) }

// Catch recovers a panic of the worker goroutine it is deferred in and keeps the first one.
// Defer it directly: defer r.Catch().
func (r *Relay) Catch() {
	if v := recover(); v != nil {
		r.mu.Lock()
		if r.err == nil {
			r.err = &Panic{Value: v, Stack: debug.Stack()}
		}
		r.mu.Unlock()
	}
}

// Raise panics with the first relayed panic (a *Panic), if any, on the calling goroutine. Call
// it after every worker is done.
func (r *Relay) Raise() {
	r.mu.Lock()
	p := r.err
	r.mu.Unlock()
	if p != nil {
		panic(p)
	}
}
