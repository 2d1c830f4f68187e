//go:build race

package release_test

// raceEnabled reports whether the race detector is on; it makes each
// wrap-and-release cycle many times slower.
const raceEnabled = true
