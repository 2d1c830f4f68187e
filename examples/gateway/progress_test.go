package main

import (
	"errors"
	"strings"
	"testing"
)

// While Redis is away, Load fails for every key, and the progress line
// must stay one line that names the first failure and how many more.
func TestShortErrorKeepsAJoinedErrorOnOneLine(t *testing.T) {
	joined := errors.Join(errors.New(`load of key "a": timeout`), errors.New(`load of key "b": timeout`), errors.New(`load of key "c": timeout`))
	if got, want := shortError(joined), `load of key "a": timeout, and 2 more keys`; got != want {
		t.Errorf("shortError(3 joined) = %q; want %q", got, want)
	}
	if got := shortError(errors.New("first\nsecond")); strings.Contains(got, "\n") {
		t.Errorf("shortError(two lines) = %q; want one line", got)
	}
	if got, want := shortError(errors.New("closed")), "closed"; got != want {
		t.Errorf("shortError(one) = %q; want %q", got, want)
	}
}
