// Package statuspaths checks that what the conditions on a path say of a
// status adds up: gateway.AcquireCode returns a guard with codes 200 and
// 203 only, gateway.AcquireAccountSlot with OpenAISlotAcquireOK only.
package statuspaths

import (
	"context"

	"gateway"

	"github.com/ctxguard/release/redisslot"
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

// The path that used the guard brings 203 to the join; the one that did
// not brings 200 and the codes without a guard.
func usedOnOneBranch(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	if code == 203 {
		defer rel()
		logCode(code)
	}
	if code != 200 {
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

// 203 passes both conditions.
func nestedMissesOne(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	if code != 200 {
		if code != 500 {
			return // want `this return statement may be reached without using the release function rel`
		}
	}
	rel()
}

// Each branch narrows the code, but the join after them keeps 200 and
// 203.
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

// The return is reached both where the code holds no guard and, with
// any code, where ctx is done.
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

// After code = retryCode(), code no longer says what the call returned.
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

// On the second round, code is retryCode()'s.
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

// The range loop assigns code before its body runs.
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

// What was known of code before the call is gone after it.
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

// Copies of a status: a bool assigned once, where it is declared, from a
// comparison of a status assigned only by the guard's call.

func copyNot(ctx context.Context, lim *redisslot.Limiter) {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
	ok := st == gateway.OpenAISlotAcquireOK
	if !ok {
		return
	}
	defer rel()
}

func copyOfOr(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	granted := code == 200 || code == 203
	if !granted {
		return
	}
	rel()
}

func copiesCombined(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	var isOK = code == 200
	partial, late := code == 203, ctx.Err() != nil
	if late && !isOK && !partial {
		return
	}
	if granted := isOK || partial; !granted {
		return
	}
	rel()
}

// Reported.

func copyMissesOne(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	ok := code == 200
	if !ok {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

// ok is assigned twice: it no longer says what code holds.
func copyAssignedAgain(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	ok := code == 200 || code == 203
	if ctx.Err() != nil {
		ok = false
	}
	if !ok {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

// ok is assigned in a closure too.
func copyAssignedInClosure(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	ok := code == 200 || code == 203
	expire := func() { ok = false }
	if ctx.Err() != nil {
		expire()
	}
	if !ok {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

// ok says what retryCode() returned, not the call.
func copyAfterReassign(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	code = retryCode()
	ok := code == 200 || code == 203
	if !ok {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

// ok says what the first call returned, not the second.
func copyOfReassignedStatus(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	ok := code == 200 || code == 203
	if rel != nil {
		rel()
	}
	code, again := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	if !ok {
		return // want `this return statement may be reached without using the release function again`
	}
	again()
}

// ok is taken before the call assigns code, declared outside the
// closure.
func copyInClosureOfCapturedStatus(ctx context.Context) {
	var code int
	func() {
		ok := code == 200 || code == 203
		var rel func()
		code, rel = gateway.AcquireCode(ctx, false) // want `not used on all paths`
		if !ok {
			return // want `this return statement may be reached without using the release function rel`
		}
		rel()
	}()
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

// The fallthrough brings 203 into the case of 429.
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
