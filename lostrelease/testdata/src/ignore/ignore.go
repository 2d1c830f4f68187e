// Package ignore marks deliberate leaks with //lostrelease:ignore.
package ignore

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
)

func free() {}

func step() error { return errors.New("failed") }

// Not reported: the comment, with a reason, is on the call's line or the
// line above.

func lineAbove() {
	//lostrelease:ignore checks that a nil Context panics; the guard is never made
	release.WrapOnDone(nil, free)
}

func sameLine(ctx context.Context) {
	_ = release.WrapOnDone(ctx, free) //lostrelease:ignore freed when ctx is done, which the caller does
}

func everyReport(ctx context.Context) {
	//lostrelease:ignore the guard is released by ctx on the error path
	rel := release.WrapOnDone(ctx, free)
	if step() != nil {
		return
	}
	rel()
}

// Reported.

func noReason(ctx context.Context) {
	/* want `//lostrelease:ignore needs a reason: say why the leak is deliberate` */ //lostrelease:ignore
	release.WrapOnDone(ctx, free)                                                    // want `is discarded`
}

func twoLinesAbove(ctx context.Context) {
	//lostrelease:ignore too far from the call

	release.WrapOnDone(ctx, free) // want `is discarded`
}

func otherComment(ctx context.Context) {
	//lostrelease:ignored is not the directive
	release.WrapOnDone(ctx, free) // want `is discarded`
}
