// Package loops uses guards inside loops that run a constant number of
// times, at least once.
package loops

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
)

func free() {}

func step() error { return errors.New("failed") }

func use(func(), int) {}

const workers = 2

// Not reported: the body runs, and uses the guard before any break,
// continue or return.

func goInRange(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free)
	for range 4 {
		go rel()
	}
}

func threeClause(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free)
	for i := 0; i < 3; i++ {
		use(rel, i)
	}
}

func countDown(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free)
	for i := 3; i > 0; i -= 1 {
		use(rel, i)
	}
}

func namedConstant(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free)
	for i := range workers {
		go use(rel, i)
	}
}

func nested(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free)
	for range 2 {
		for j := 0; j <= 1; j++ {
			go use(rel, j)
		}
	}
}

func inClosure(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free)
	for range 4 {
		go func() { rel() }()
	}
}

// Reported: the loop may not run, or may leave before the use.

func runsZeroTimes(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	for range 0 {
		go rel()
	}
} // want `this return statement may be reached without using the release function rel`

func falseAtStart(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	for i := 3; i < 3; i++ {
		go rel()
	}
} // want `without using the release function rel`

func notConstant(ctx context.Context, n int) {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	for range n {
		go rel()
	}
} // want `without using the release function rel`

func loopVarAssigned(ctx context.Context) { // not constant, but i is 0 at the first test (see loopVarUnknown)
	rel := release.WrapOnDone(ctx, free)
	for i := 0; i < 3; i++ {
		i = 3
		go rel()
	}
}

func continueFirst(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	for i := range 3 {
		if i == 0 {
			continue // want `this continue statement may lead to the end of the function on line 106 without using the release function rel defined on line 99`
		}
		go rel()
	}
}

func breakFirst(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	for range 3 {
		if step() != nil {
			break // want `this break statement may lead to the end of the function on line 116 without using the release function rel defined on line 109`
		}
		go rel()
	}
}

func returnFirst(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	for range 3 {
		if step() != nil {
			return // want `this return statement may be reached without using the release function rel defined on line 119`
		}
		go rel()
	}
}

func breakThenReturn(ctx context.Context) error {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	for range 3 {
		if step() != nil {
			break // want `this break statement may lead to the return on line 136 without using the release function rel defined on line 129`
		}
		go rel()
	}
	return nil
}

// loopVarAssigned's loop is not constant (its variable is assigned in its
// body), but i, followed by value, is 0 at the first test: the body runs.
// Here the first test depends on n: the body may not run.
func loopVarUnknown(ctx context.Context, n int) {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	for i := n; i < 3; i++ {
		i = 3
		go rel()
	}
} // want `without using the release function rel`
