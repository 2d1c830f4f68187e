// Package main checks that returning from main.main, which ends the
// process, is not a leak, while a discarded guard still is.
package main

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
)

func free() {}

func step() error { return errors.New("failed") }

func main() {
	rel := release.WrapOnDone(context.Background(), free)
	if step() != nil {
		return
	}
	release.WrapOnDone(context.Background(), free) // want `returned by WrapOnDone is discarded`
	go func() {
		rel := release.WrapOnDone(context.Background(), free) // want `not used on all paths`
		if step() == nil {
			rel()
		}
	}() // want `without using the release function rel`
	rel()
}

func notMain() {
	rel := release.WrapOnDone(context.Background(), free) // want `not used on all paths`
	if step() == nil {
		rel()
	}
} // want `without using the release function rel`
