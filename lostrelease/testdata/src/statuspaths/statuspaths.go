// Package statuspaths checks that what the conditions on a path say of a
// status adds up: gateway.AcquireCode returns a guard with codes 200 and
// 203 only, gateway.AcquireAccountSlot with OpenAISlotAcquireOK only.
package statuspaths

import (
	"context"

	"gateway"
)

func logCode(int) {}

func retryCode() int { return 0 }

// Not reported: on each return without a use, the conditions met on the
// way leave the code none of 200 and 203.

func nested(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	if code != 200 {
		if code != 203 {
			return
		}
	}
	rel()
}

func earlyReturnFirst(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	if code == 203 {
		rel()
		return
	}
	if code == 500 {
		return
	}
	if code != 200 {
		return
	}
	rel()
}

func elseIfChain(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	if code == 200 {
		defer rel()
	} else if code == 203 {
		rel()
		return
	} else {
		return
	}
	logCode(code)
}

func andWithAnotherCondition(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	if code == 429 || code == 503 {
		return
	}
	if code != 200 && ctx.Err() == nil {
		if code != 203 {
			return
		}
	}
	rel()
}

func loopCondition(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	for code != 200 {
		if code != 203 {
			return
		}
		break
	}
	rel()
}

func switchThenIf(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	switch code {
	case 200:
		rel()
		return
	case 429:
		logCode(code)
	}
	if code != 203 {
		return
	}
	rel()
}

func acquiredInLoop(ctx context.Context) {
	for range 3 {
		code, rel := gateway.AcquireCode(ctx, false)
		if code != 200 {
			if code != 203 {
				continue
			}
		}
		rel()
	}
}

// Reported: a path leaks with a code the conditions leave possible.

func nestedMissesOne(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	if code != 200 {
		if code != 500 {
			return // want `this return statement may be reached without using the release function rel`
		}
	}
	rel()
}

func joinOfNarrowedPaths(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	if code == 200 {
		logCode(code)
	} else if code != 203 {
		logCode(code)
	}
	if code != 200 {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func joinWithAFailurePath(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	failed := false
	if code != 200 && code != 203 {
		failed = true
	}
	if failed || ctx.Err() != nil {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func reassignedOnThePath(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	if code != 200 {
		code = retryCode()
		if code != 203 {
			return // want `this return statement may be reached without using the release function rel`
		}
	}
	rel()
}

func reassignedInLoop(ctx context.Context, n int) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	for i := 0; i < n; i++ {
		if code != 200 {
			if code != 203 {
				return // want `this return statement may be reached without using the release function rel`
			}
		}
		code = retryCode()
	}
	rel()
}

func reassignedByRange(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	for code = range 3 {
		if code != 200 {
			if code != 203 {
				return // want `this return statement may be reached without using the release function rel`
			}
		}
	}
	rel()
}

func narrowedBeforeTheCall(ctx context.Context, code int) {
	var rel func()
	if code == 200 || code == 203 {
		return
	}
	code, rel = gateway.AcquireCode(ctx, false) // want `not used on all paths`
	if ctx.Err() != nil {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

// A switch without a tag whose cases compare the code.

func taglessDefault(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	switch {
	case code == 200:
		rel()
	case code == 203:
		defer rel()
	default:
		return
	}
}

func taglessOr(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	switch {
	case code == 200 || code == 203:
		rel()
	case code == 429:
		return
	default:
		logCode(code)
	}
}

// Reported.

func taglessDefaultMissesOne(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	switch {
	case code == 200:
		rel()
	case ctx.Err() != nil:
		return // want `this return statement may be reached without using the release function rel`
	default:
		return // want `this return statement may be reached without using the release function rel`
	}
}

func taglessFallthrough(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	switch {
	case code == 203:
		logCode(code)
		fallthrough
	case code == 429:
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}
