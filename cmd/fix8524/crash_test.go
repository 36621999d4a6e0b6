package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/internal/relay"
)

// A panic in a command, or relayed from one of its worker goroutines, exits 1, never 2
// ("actions proposed").
func TestPanicExitsOne(t *testing.T) {
	for name, f := range map[string]func(){
		"main goroutine": func() { var s []int; _ = s[len(os.Args)+1] }, // an index out of range
		"worker": func() {
			var r relay.Relay
			done := make(chan struct{})
			go func() { defer close(done); defer r.Catch(); panic("hostile value") }()
			<-done
			r.Raise()
		},
	} {
		commands["panic-test"] = &command{name: "panic-test", run: func(context.Context, *env, []string) int { f(); return exitProposed }}
		var out, errb bytes.Buffer
		code := run(context.Background(), &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}, []string{"panic-test"})
		delete(commands, "panic-test")
		if code != exitError || !strings.Contains(errb.String(), "internal error") {
			t.Errorf("%s: exit %d, stderr %q", name, code, errb.String())
		}
	}
}
