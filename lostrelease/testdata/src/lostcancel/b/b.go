// Package main restates the lostcancel analyzer's test package b: main.main
// may return without using a guard, since the process ends.
package main

import (
	"context"

	"github.com/ctxguard/release"
)

var maybe bool

// L21: main.main.
func main() {
	rel := release.WrapOnDone(context.Background(), func() {})
	if maybe {
		rel()
	}
}

// L22: any other function.
func notMain() {
	rel := release.WrapOnDone(context.Background(), func() {}) // want "returned by WrapOnDone is not used"

	if maybe {
		rel()
	}
} // want "return statement.*reached without using the release function rel"
