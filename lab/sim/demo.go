package sim

import (
	"context"
	"fmt"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/lab/scenario"
)

// GatherDemo serves the named embedded scenario ("" = scenario.Default) as a simulated forest on
// loopback, gathers from it over LDAP, DNS and TCP exactly as from a live forest (asking the
// observations needs lists; nil = gather.StandardNeeds), and shuts it down. The World is
// returned so that a demo can act on it (remediations) and gather again.
func GatherDemo(ctx context.Context, name string, needs gather.Needs) (*facts.Snapshot, *scenario.World, error) {
	if name == "" {
		name = scenario.Default
	}
	sc, err := scenario.Load(name)
	if err != nil {
		return nil, nil, err
	}
	w := sc.NewWorld()
	snap, err := GatherWorld(ctx, w, "sim:"+sc.Name, needs)
	if err != nil {
		return nil, nil, err
	}
	return snap, w, nil
}

// GatherWorld serves w, gathers from it and shuts it down.
func GatherWorld(ctx context.Context, w World, source string, needs gather.Needs) (*facts.Snapshot, error) {
	f, err := Start(ctx, w, Options{})
	if err != nil {
		return nil, fmt.Errorf("starting the simulated forest: %w", err)
	}
	defer f.Close()
	return f.Gather(ctx, source, needs)
}
