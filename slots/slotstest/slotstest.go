// Package slotstest is the contract of [slots.Limiter], written once as a
// test suite that every backend runs: [RunWithOptions] (or [Run], for a
// backend without a per-key cap on waiters) checks, one subtest per
// promise, what the Limiter documentation promises, against any
// implementation, in process or over a network. It also pins what makes
// the backends alike to the letter: the text of their errors after the
// package name, the order of their checks, how their errors wrap the
// sentinels, when they call MaxWaitersFor, and what
// [slots.AcquireWithin] does with them.
//
// The suite waits for what a backend does asynchronously (a waiter
// joining the line, a slot freed when its context ends) by polling, never
// by sleeping a fixed time. Every wait for what a working backend does at
// once fails its subtest after 10 s, a bound that only a broken or hung
// backend reaches, even with real network latency on a loaded machine;
// the suite's cleanups are bounded the same way. It uses only the standard
// library and package slots, and checks no goroutine leak itself: the
// caller's test binary should (with go.uber.org/goleak).
package slotstest

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/slots"
)

// Open returns n Limiters, n >= 1, that share their slots: a slot taken
// through one counts against the limit on all, and the waiters of a key on
// all of them stand in one line. For an in-process backend it may return
// the same Limiter n times; for a networked one, n Limiters with clients
// of their own on one server.
//
// Each key's line must be capped at maxWaiters waiters (0: no cap), as
// slots.LocalOptions.MaxWaiters does. The suite only fills the line through
// one Limiter, so a backend that counts the cap per instance passes too.
//
// Open must register, with t.Cleanup, whatever closes the Limiters and
// frees their resources. The suite may itself call Close on them (Close
// must be safe to call more than once), and it does not use them once its
// subtest is over. Every key the suite uses starts with "slotstest:", and
// every subtest leaves its keys free and unwaited.
type Open func(t *testing.T, n int, maxWaiters int) []slots.Limiter

// Options are the caps on a key's line of waiters that a subtest asks of
// the Limiters it opens, as slots.LocalOptions has them.
type Options struct {
	// MaxWaiters caps the waiters of every key (0: no cap).
	MaxWaiters int

	// MaxWaitersFor, when not nil, gives the cap of one key, replacing
	// MaxWaiters for it when its result is positive, as
	// slots.LocalOptions.MaxWaitersFor does. The suite checks when the
	// backend calls it.
	MaxWaitersFor func(key string, limit int) int
}

// OpenWithOptions is Open for a backend that takes both caps: it returns
// n Limiters as Open does, with the caps of opts.
type OpenWithOptions func(t *testing.T, n int, opts Options) []slots.Limiter

// queueCap is the cap on waiters the suite asks for in its queue test.
const queueCap = 3

// patience bounds every wait of the suite for what, with a working
// backend, happens at once (a waiter served, a slot freed, a call that
// returns): long enough that only a broken or hung backend reaches it, even
// on a loaded machine, and short enough that such a backend fails the
// subtest in seconds instead of holding the run.
const patience = 10 * time.Second

// pollEvery is how long the suite sleeps between two looks at a condition
// it polls.
const pollEvery = time.Millisecond

// runID sets the keys of this process apart from those of another run on
// the same server.
var runID = strconv.FormatInt(time.Now().UnixNano(), 36)

var keySeq atomic.Int64

// newKey returns a key that no other subtest of this run uses.
func newKey(name string) string {
	return "slotstest:" + runID + ":" + strconv.FormatInt(keySeq.Add(1), 36) + ":" + name
}

// Run runs the contract suite against the Limiters that open makes. Each
// subtest calls open itself and is named for the promise it checks. The
// subtests that need a MaxWaitersFor are skipped: a backend that has one
// runs the whole suite with [RunWithOptions].
func Run(t *testing.T, open Open) {
	t.Helper()
	RunWithOptions(t, func(t *testing.T, n int, opts Options) []slots.Limiter {
		if opts.MaxWaitersFor != nil {
			t.Skip("slotstest.Run cannot set MaxWaitersFor; run the suite with RunWithOptions")
		}
		return open(t, n, opts.MaxWaiters)
	})
}

// RunWithOptions runs the contract suite against the Limiters that open
// makes, every subtest included. Each subtest calls open itself and is
// named for the promise it checks.
func RunWithOptions(t *testing.T, open OpenWithOptions) {
	t.Helper()
	for _, tt := range subtests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open) })
	}
}

// subtests are the promises the suite checks, one subtest each.
var subtests = []struct {
	name string
	run  func(*testing.T, OpenWithOptions)
}{
	{"LimitNeverExceededUnderContention", testLimitNeverExceeded},
	{"EachCallerAdmittedAgainstItsOwnLimit", testLimitIsPerCaller},
	{"ReleaseFreesExactlyOnce", testReleaseExactlyOnce},
	{"SlotContextCarriesValues", testSlotContextValues},
	{"SlotContextEndsOnRelease", testSlotContextEndsOnRelease},
	{"SlotContextEndsWithCtxCause", testSlotContextEndsWithCtxCause},
	{"HangUpFreesSlot", testHangUpFreesSlot},
	{"HangUpHandsSlotToWaiter", testHangUpHandsSlotToWaiter},
	{"WaitersServedInArrivalOrderAcrossLimiters", testFIFO},
	{"AcquireJoinsAtTheBack", testAcquireJoinsAtTheBack},
	{"TryAcquireDoesNotJumpTheQueue", testTryAcquireDoesNotJumpTheQueue},
	{"QueueCapRefusesAtOnce", testQueueCap},
	{"MaxWaitersForCalledOnlyByAnAcquireThatJoins", testMaxWaitersForOnlyToJoin},
	{"MaxWaitersForSetsTheCapOfItsKey", testMaxWaitersForSetsTheCap},
	{"CancelledWaiterLeavesTheLine", testCancelledWaiterLeaves},
	{"CancelRacingHandOffLosesNoSlot", testCancelRacingHandOff},
	{"CancelledHeadWaiterLetsThoseBehindIn", testCancelledHeadWaiterLetsOthersIn},
	{"AcquireWithinGivesUpAfterItsWait", testAcquireWithinTimesOut},
	{"AcquireWithinSlotOutlivesTheWait", testAcquireWithinSlotOutlivesWait},
	{"AcquireWithinReturnsAcquireErrors", testAcquireWithinErrorsAsAcquire},
	{"AcquireWithinRacingAReleaseLosesNoSlot", testAcquireWithinRacingARelease},
	{"LoadCountsKeysInOrder", testLoad},
	{"ErrorsNameTheKey", testErrorsNameTheKey},
	{"BadArguments", testBadArguments},
	{"BadKeysAndLimitsAreErrorsNeverPanics", testBadLimitsNeverPanic},
	{"ErrorTextsAreTheSameForEveryBackend", testErrorTexts},
	{"ArgumentsCheckedKeyThenLimitThenClosedThenCtx", testCheckOrder},
	{"DoneCtxIsRefusedWithCtxErr", testDoneCtxRefused},
	{"CloseEndsSlotsAndWaits", testCloseEndsSlotsAndWaits},
	{"CloseThenCallsReturnErrClosed", testCallsAfterClose},
	{"CloseIsSafeTwiceAndConcurrently", testCloseTwiceConcurrently},
}
