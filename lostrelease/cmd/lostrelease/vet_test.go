package main

import (
	"slices"
	"testing"
)

// TestVetArgs checks which command lines run through go vet.
func TestVetArgs(t *testing.T) {
	cases := []struct {
		args     []string
		asJSON   bool
		patterns []string
		ok       bool
	}{
		{[]string{"./..."}, false, []string{"./..."}, true},
		{[]string{"-json", "./a", "./b"}, true, []string{"./a", "./b"}, true},
		{[]string{"-test", "--", "./..."}, false, []string{"./..."}, true},
		{[]string{"-test=false", "./..."}, false, nil, false},
		{[]string{"-c=2", "./..."}, false, nil, false},
		{[]string{"-V=full"}, false, nil, false},
		{[]string{"-flags"}, false, nil, false},
		{[]string{"/tmp/x/vet.cfg"}, false, nil, false},
		{[]string{"./...", "-json"}, false, nil, false},
		{nil, false, nil, false},
	}
	for _, c := range cases {
		asJSON, patterns, ok := vetArgs(c.args)
		if asJSON != c.asJSON || !slices.Equal(patterns, c.patterns) || ok != c.ok {
			t.Errorf("vetArgs(%q) = %v, %q, %v; want %v, %q, %v", c.args, asJSON, patterns, ok, c.asJSON, c.patterns, c.ok)
		}
	}
}
