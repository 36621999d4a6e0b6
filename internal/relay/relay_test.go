package relay

import (
	"sync"
	"testing"
)

func TestRaiseOnTheWaitingGoroutine(t *testing.T) {
	var r Relay
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Catch()
			if i == 2 {
				var s []int
				_ = s[i] // an index out of range: a runtime panic
			}
		}()
	}
	wg.Wait()
	defer func() {
		p, ok := recover().(*Panic)
		if !ok || p.Value == nil || len(p.Stack) == 0 {
			t.Fatalf("recovered %v", p)
		}
	}()
	r.Raise()
	t.Fatal("Raise did not panic")
}

func TestNothingToRaise(t *testing.T) {
	var r Relay
	r.Raise()
}
