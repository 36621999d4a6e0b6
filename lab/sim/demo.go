package sim

import (
	"context"
	"fmt"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/lab/scenario"
)

// A scenario's World keeps the scenario's clock: gathers from it are stamped with it.
var (
	_ World = (*scenario.World)(nil)
	_ Clock = (*scenario.World)(nil)
)

// GatherWorld serves w, gathers from it and shuts it down. (The demo commands gather from a
// scenario through lab/demo, which serves the same forest plus its WS-Management servers.)
func GatherWorld(ctx context.Context, w World, source string, needs gather.Needs) (*facts.Snapshot, error) {
	f, err := Start(ctx, w, Options{})
	if err != nil {
		return nil, fmt.Errorf("starting the simulated forest: %w", err)
	}
	defer f.Close()
	return f.Gather(ctx, source, needs)
}
