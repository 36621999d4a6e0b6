package demo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fix8524/fix8524/remote"
)

// A DC the demo's World says is gone does not answer WS-Management either, although the demo
// runs a server per Windows DC: actions see what the gatherer's probes saw.
func TestRunnerHonoursTheWorldsReachability(t *testing.T) {
	d := start(t, "stale-metadata")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := d.Runner(ctx, remote.DC{Name: "DC2", Transport: "winrm"})
	var te *remote.TransportError
	if !errors.As(err, &te) || te.Kind != remote.KindTimeout {
		t.Fatalf("runner for the gone DC2: %v, want a timeout transport error", err)
	}
	r, err := d.Runner(ctx, remote.DC{Name: "DC1", Transport: "winrm"})
	if err != nil || r == nil {
		t.Fatalf("runner for DC1: %v", err)
	}
}
