//go:build race

package facts_test

// raceEnabled: the race detector multiplies memory; the memory bounds are not checked then.
const raceEnabled = true
