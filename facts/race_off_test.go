//go:build !race

package facts_test

const raceEnabled = false
