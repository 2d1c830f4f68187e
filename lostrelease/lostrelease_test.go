package lostrelease_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ctxguard/release/lostrelease"
	"go.uber.org/goleak"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// run checks the packages of testdata/src named by patterns against their
// // want comments: each report, and each fact, must be wanted, and each
// want must be met.
//
// Loading the packages and their dependencies from source is most of the
// cost of a check, so every package of every test is checked in one
// analysistest run, once, and each test then fails with the complaints
// about its own packages (and with any complaint about none of them).
func run(t *testing.T, patterns ...string) {
	t.Helper()
	t.Parallel()
	for _, p := range patterns {
		if !slices.Contains(allPatterns, p) {
			t.Fatalf("package %q is not in allPatterns: nothing checks it", p)
		}
	}
	all.once.Do(checkAll)
	for _, c := range all.complaints {
		if c.pkg == "" || slices.Contains(patterns, c.pkg) {
			t.Error(c.msg)
		}
	}
}

// allPatterns are the packages every test of this file checks.
var allPatterns = []string{
	"a", "helpers", "callers", "github.com/ctxguard/release/redisslot",
	"nilcheck", "failure", "deferfirst", "loops", "mainpkg", "ignore",
	"cause", "lostcancel/a", "lostcancel/b", "copies", "gateway",
	"gatewaycallers", "failover", "limiter", "limitergateway",
	"limitercallers", "statuspaths", "predicates", "predicatecallers",
	"predicatetypes", "shortctx", "failhelpers", "testfailures", "panics",
	"falsereports", "helperstatus", "falsereports2", "missedleaks", "knownlimits",
	"falsereports3", "missedleaks2", "falsereports4", "missedleaks3", "knownlimits2",
	"missedleaks4", "falsereports5", "nildefer", "falsereports6", "missedleaks5",
	"falsereports7", "falsereports8", "missedleaks6", "nilresults", "missedleaks7", "falsereports9",
	"knownlimits3", "falsereports10", "missedleaks8", "falsereports11", "missedleaks9",
	"falsereports12", "missedleaks10", "falsereports13", "missedleaks11",
	"falsereports14", "missedleaks12", "knownlimits4", "falsereports15", "missedleaks13",
	"falsereports16", "missedleaks14", "falsereports17", "missedleaks15",
	"falsereports18", "missedleaks16",
}

var all struct {
	once       sync.Once
	complaints []complaint
}

// A complaint is one error of the shared analysistest run, with the
// pattern of the package it is about ("" if none).
type complaint struct{ pkg, msg string }

// recorder collects analysistest's errors.
type recorder struct{ msgs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func checkAll() {
	var r recorder
	dir := analysistest.TestData()
	analysistest.Run(&r, dir, lostrelease.Analyzer, allPatterns...)
	src := filepath.Join(dir, "src") + string(filepath.Separator)
	for _, msg := range r.msgs {
		// A complaint starts with the file it is about, under src or
		// relative to it: its directory is the package's pattern.
		file, _, _ := strings.Cut(strings.TrimPrefix(msg, src), ":")
		pkg := ""
		if strings.HasSuffix(file, ".go") {
			pkg = filepath.ToSlash(filepath.Dir(file))
		}
		all.complaints = append(all.complaints, complaint{pkg, msg})
	}
}

// TestWrapOnDone checks the calls of WrapOnDone itself: discarded results,
// paths without a use, and the uses that count.
func TestWrapOnDone(t *testing.T) { run(t, "a") }

// TestHelpersAcrossPackages checks that a helper returning a guard exports
// a fact, through any number of helpers and at any position in its
// results, and that its callers in other packages are checked as callers
// of WrapOnDone are, with reports that name the helper.
func TestHelpersAcrossPackages(t *testing.T) {
	run(t, "helpers", "callers", "github.com/ctxguard/release/redisslot")
}

// TestNilComparisons checks that a comparison with nil is not a use, and
// that the branch where the guard is nil is not a leak.
func TestNilComparisons(t *testing.T) { run(t, "nilcheck") }

// TestFailureResults checks that the branch where a helper's last result,
// an error or a bool, says the call failed is not a leak, unless that
// result was assigned again.
func TestFailureResults(t *testing.T) { run(t, "failure") }

// TestDeferredFirst checks that a defer registered before the assignment
// on every path, referring to the guard directly or through func
// variables, uses it on every return but not on an overwrite.
func TestDeferredFirst(t *testing.T) { run(t, "deferfirst") }

// TestConstantLoops checks that a loop that runs a constant number of times,
// at least once, runs its body, and that a report about a loop points at
// the break, continue or return that leaks.
func TestConstantLoops(t *testing.T) { run(t, "loops") }

// TestMainMain checks that main.main may return without a use, and that a
// discarded guard is reported there all the same.
func TestMainMain(t *testing.T) { run(t, "mainpkg") }

// TestIgnoreComment checks that an ignore comment with a reason, on the
// call's line or the line above, silences every report for that guard, and
// that one without a reason is reported.
func TestIgnoreComment(t *testing.T) { run(t, "ignore") }

// TestWrapOnDoneCause checks WrapOnDoneCause as WrapOnDone.
func TestWrapOnDoneCause(t *testing.T) { run(t, "cause") }

// TestLostcancelCases checks lostcancel's own test cases, restated with
// guards: lostrelease must agree with lostcancel on each, but for the
// cases marked as deliberate differences.
func TestLostcancelCases(t *testing.T) { run(t, "lostcancel/a", "lostcancel/b") }

// TestCopies checks that a guard copied to another local variable must be
// used through the copy.
func TestCopies(t *testing.T) { run(t, "copies") }

// TestStatusResults checks that a helper's fact records the values of its
// other results under which its guard may be non-nil, and that a branch
// where a status cannot hold one of them is not a leak: != and == on a
// status type of its own, if/else chains, switches with and without a tag
// or a default, and conditions combined with !, && and ||.
func TestStatusResults(t *testing.T) {
	run(t, "gateway", "gatewaycallers", "github.com/ctxguard/release/redisslot")
}

// TestFailoverShapes checks, across packages, a failover loop that
// releases through local closures before each continue, a closure that
// does not release or is assigned another func, a leak on a later path of
// a guard whose first path is fine (each leaking path reported), and a
// release deferred in a retry loop, reported once at the defer, unlike a
// loop that holds every iteration's guard on purpose.
func TestFailoverShapes(t *testing.T) {
	run(t, "failover", "gateway", "github.com/ctxguard/release/redisslot")
}

// TestLimiterInterface checks that TryAcquire and Acquire called through
// the slots.Limiter interface (or an interface that embeds it, or a type
// parameter constrained by it) are sources with the guard at result 1 and
// a failure branch on the error at result 2, and that a method value, a
// method expression, and other interfaces with the same method names are
// not.
func TestLimiterInterface(t *testing.T) { run(t, "limiter") }

// TestLimiterHelpers checks, across packages, helpers built over the
// slots.Limiter interface in the gateway's shape, returning
// (context.Context, func(), status): each gets a fact with its status, and
// its callers are reported at the return that leaks and not where the
// status says the guard is nil.
func TestLimiterHelpers(t *testing.T) {
	run(t, "limitergateway", "limitercallers")
}

// TestStatusAlongPaths checks that the conditions met on the way to a
// branch add up: nested ifs, else-if chains, early returns, loop
// conditions and the cases of a switch with or without a tag narrow a
// status's values until none is left under which the guard may be
// non-nil; that a join keeps the values of every path into it that still
// holds the guard; that a
// status assigned again, a range loop's key included, is not narrowed;
// and that a bool copy of a status (`ok := st == OK`) narrows it only
// when both are assigned only where they are declared.
func TestStatusAlongPaths(t *testing.T) { run(t, "statuspaths", "gateway") }

// TestStatusPredicates checks, across packages, that a call of a status
// predicate (a function or method whose body is a single return of a
// condition on its status parameter or receiver, defined in a package
// that knows guards or not) on a status narrows it as
// its condition would, negated, combined, in parentheses and through a
// bool copy; that a predicate that misses a value with a guard, has two
// statements, reads other state, takes a second operand or a pointer, or
// is called on a status assigned again, on another status or on a
// conversion, does not; and that WrapOnDone or WrapOnDoneCause with a
// literal nil fn, or a helper, in any package, that passes its parameter
// on as fn, called with a literal nil there, is not a source, unlike a
// helper that may replace the nil or pass another fn.
func TestStatusPredicates(t *testing.T) {
	run(t, "predicates", "predicatecallers", "predicatetypes")
}

// TestFailurePaths checks that a guard, discarded or held, is reported only
// on a path that can go on normally with the guard non-nil: not after a
// call of t.Error, Errorf, Fail, FailNow, Fatal, Fatalf, Skip, Skipf or
// SkipNow on a *testing.T, B, F or testing.TB, after a call that ends the
// goroutine or the program, after a helper in the package or another
// whose every path does one of those, nor where errors.Is or errors.As
// being true says the error is not nil; and that a guard whose error is
// never checked, one on a path that only logs, one failed before the call
// or in a closure, or after a helper that fails only on some paths, has a
// defer, or fails through an interface of its own, is still reported.
func TestFailurePaths(t *testing.T) { run(t, "failhelpers", "testfailures") }

// TestNilContextPanics checks that a call of WrapOnDone, WrapOnDoneCause,
// slots.Limiter's TryAcquire or Acquire, or a helper whose body opens with
// `if ctx == nil { panic(...) }` (alone or in an ||), with a literal nil
// or a local variable declared without a value and never assigned as
// that ctx, returns no guard: it panics; and that the same call with a
// variable assigned or addressed, a nil on another argument, or a helper
// that checks late, returns instead, does more than panic or assigns its
// ctx, is still reported.
func TestNilContextPanics(t *testing.T) { run(t, "panics") }

// TestShortCtx checks that a guard made on a context whose cancel the same
// function defers, and returned by it, is reported at its WrapOnDone or
// WrapOnDoneCause call, directly or through a local variable, in a method
// or a function literal; and that a guard used in the function, one made
// on a parameter or on the parent of the cancelled context, a cancel not
// deferred, deferred in an if, in a closure or before a goto's label, a
// ctx assigned again, a return before the defer, a variable that holds
// another func by the return, and a nil fn are not; nor are a ctx and
// func from a function other than context's, a cancel swapped before its
// defer, a parameter assigned again after the cancelled child, a function
// that defers another call only, a helper called as a method expression,
// its arguments shifted by its receiver, and a guard on the cancelled ctx
// used in the function beside another, on the parent, returned. A helper of one
// result, in the package or another, that makes its guard on its ctx
// parameter counts as WrapOnDone; one that detaches its guard from ctx
// does not.
func TestShortCtx(t *testing.T) { run(t, "shortctx") }

// TestNoFalseReports checks correct code in the gateway's shapes, where
// every guard is released on every path: a helper that sets named results
// and ends in bare returns, or sets its status in a switch; a refusal
// answered by a helper or read from the status's HTTP code; a status
// compared by order; a local release closure handed on as a value; and a
// test's cleanup registered before its slot is taken. Nothing may be
// reported.
func TestNoFalseReports(t *testing.T) { run(t, "falsereports") }

// TestHelperStatusAlongPaths checks that a helper's fact follows a status
// set apart from its return (in a switch, or in named results returned
// bare) along the paths on which the guard may be held, gives the values
// it may hold there, and none where one is not known; and that a
// caller's ordered comparison of a status with a constant narrows it.
func TestHelperStatusAlongPaths(t *testing.T) { run(t, "helperstatus") }

// TestNoFalseReports2 checks more correct code in the gateway's shapes:
// a predicate with a second parameter of a basic type; a helper that sets
// its status to OK before the call; a plain copy of a status. Nothing may
// be reported.
func TestNoFalseReports2(t *testing.T) { run(t, "falsereports2") }

// TestKnownLimits checks that the limits doc.go lists on correct code
// still report as it says: a status that a recovering defer sets, a Go map
// from status to code, a generic predicate, a named status set in a
// switch and read before the return, a flag of a float type, a no-op
// release that logs or is another package's; and that a
// leak it lists, a guard in a named result of a function whose deferred
// closure recovers, is still not reported, nor a slot on a short ctx
// handed on in a slice built by append, a copy, wrapped again, or with the
// timed ctx made by a helper, nor one taken in a switch case a fallthrough
// enters, nor a failover over a range that keeps its element behind a
// call; that a loop holding each key's slot is still reported when its
// call takes the element of a struct type or the slot's ctx is read after
// the defer; and that a guard declared in a loop body with a goto is
// worded as overwritten.
func TestKnownLimits(t *testing.T) {
	run(t, "knownlimits", "knownlimits2", "knownlimits3", "knownlimits4")
}

// TestMissedLeaks checks leaks where a status, a predicate's result or a
// map's result is changed in a closure, a defer, or through its address
// (a pointer method included): each must be reported.
func TestMissedLeaks(t *testing.T) { run(t, "missedleaks") }

// TestNoFalseReports3 checks more correct code in the gateway's shapes: a
// status reused for a second slot and read before that through a copy (a
// bool, a predicate's or a status map's result); a status assigned in a
// loop and read through a copy; a predicate called as a method
// expression, or that reads its receiver through a copy. Nothing may be
// reported; and a two-slot helper with named results returned bare,
// whose second status is narrowed by the test that gives the first slot
// back.
func TestNoFalseReports3(t *testing.T) { run(t, "falsereports3") }

// TestMissedLeaks2 checks leaks that a predicate or a status map with a
// recovering defer, a helper that returns a copy of its guard, and a copy
// of a status read after a loop's new call hide: each must be reported.
func TestMissedLeaks2(t *testing.T) { run(t, "missedleaks2") }

// TestNoFalseReports4 checks more correct code in the gateway's shapes: a
// helper that returns a copy of its guard, two-slot helpers that give the
// first slot back on a case list, an ordered comparison or a status of its
// own, a copy of the first status read after st is reused for the second
// slot, a status read through an interface method or a struct field, and
// a bool copy of rel != nil.
func TestNoFalseReports4(t *testing.T) { run(t, "falsereports4") }

// TestMissedLeaks3 checks a leak the analyzer must report: a failover loop
// whose copy of the status is declared in its init.
func TestMissedLeaks3(t *testing.T) { run(t, "missedleaks3") }

// TestNamedResultLeaks checks that a guard held in a named result, of a
// function or a function literal, is checked in its own function: a return
// with explicit results that does not return it, an overwrite, a continue
// that leads to one, and a return of another call's results are each
// reported; and that a named bool or status set from the error is no copy
// of it where a path skips the setting or the error changes after it;
// and that a guard declared anew in a loop, by := or by var, is reported
// as a new declaration.
func TestNamedResultLeaks(t *testing.T) { run(t, "missedleaks4") }

// TestNamedResultsNoFalseReports checks correct code that keeps its guard
// in a named result: a bare return, a return by name, a guard handed on
// from a helper or copied from a local, a deferred closure that releases
// it, a release before the result is set to nil, a guard set in a loop
// and returned from it or after a break, a named bool or status set once
// from the error and read as its copy, and functions whose named results
// a deferred closure assigns or whose address is taken. Nothing may be
// reported.
func TestNamedResultsNoFalseReports(t *testing.T) { run(t, "falsereports5") }

// TestNilDefer checks that a release deferred before its call's result is
// checked is reported (nil on failure, the deferred call panics), for a
// Limiter's TryAcquire or Acquire, redisslot's and slots.AcquireWithin, in
// a statement list of any kind (a case or a select's), after statements
// that read neither the release nor its status; and that a release
// deferred after the check, checked for nil, in a closure that checks it,
// or after a label that a goto reaches after the check, is not.
func TestNilDefer(t *testing.T) { run(t, "nildefer") }

// TestFalseReports6 checks correct gateway code, none of it reported: a
// release deferred at once after a helper that never returns nil (a no-op
// on refusal, a guard beside an overload error, or one that cannot fail);
// an error wrapped by a call deferred with &err, or by a function literal
// deferred through a variable; a status read by a deferred pointer
// method; a no-op release (an empty function of the package or an empty
// literal) dropped on a refusal, in a named result or a local; and a test
// helper's release, registered with t.Cleanup (twice, or on every path
// that does not return nil), dropped by its caller.
func TestFalseReports6(t *testing.T) { run(t, "falsereports6") }

// TestMissedLeaks5 checks that a guard made on a ctx that a deferred
// cancel ends is reported when returned through a named result (by name
// or by a bare return), or by a helper whose guard variable is declared
// with var before the acquire or assigned WrapOnDone's guard by a
// single-valued :=; and that a release deferred at once after a call
// whose error is discarded is reported (it panics on a refusal); and that
// a test helper's release registered with t.Cleanup only on some paths
// (in an if, after an early return, or past a goto), with the Cleanup of
// a type of its own, or only logged, is still one its callers must not
// drop; that an error wrapper deferred through a variable that is also
// called on the way makes err no status; that a slot taken under a
// condition on an element, which may change, and released under the same
// condition is reported; and that a declaration that mentions a flag only
// in its type says nothing of the flag's value at the call.
func TestMissedLeaks5(t *testing.T) { run(t, "missedleaks5") }

// TestFalseReports7 checks that a flag followed by value is read through
// a bool copy of it, as a switch's tag or in a case; that a string set to
// its one constant where the guard is held is followed; and that a slot
// taken under a condition (on a parameter never assigned, in the if or
// its else, compared with a named constant or not, or a flag set just
// before the call) and released under the same condition is not reported.
func TestFalseReports7(t *testing.T) { run(t, "falsereports7") }

// TestFalseReports8 checks correct gateway code, none of it reported: a
// slot taken under a condition on a parameter never assigned and released
// under the same condition written otherwise (its negation tested the
// other way, its complement, its operands swapped), or on a local assigned
// once, or in a switch case; a flag or status set
// by the statement that copies or makes the guard; a release deferred
// after a closure that panics on the call's error, or a copy of it
// deferred after the check; and a test helper's release registered with
// t.Cleanup through a function literal, dropped by its caller.
func TestFalseReports8(t *testing.T) { run(t, "falsereports8") }

// TestMissedLeaks6 checks that a slot taken on a ctx that a deferred
// cancel ends is reported when taken by a helper that returns its named
// results bare; that a condition read through a variable that shadows the
// parameter the slot was taken under is not taken for that parameter;
// that a flag the statement copying the guard sets, or one set again
// before a goto back to the acquire, is followed with that value; that a
// literal deferred through a variable is not taken to run only as the
// function returns when a function literal defers it too; and
// that a test helper that registers one guard with t.Cleanup and returns
// another in the same variable has callers that must not drop it.
func TestMissedLeaks6(t *testing.T) { run(t, "missedleaks6") }

// TestNilNamedResults checks that a helper whose named release result
// every return sets to nil returns no guard: a caller that drops its
// result is not reported.
func TestNilNamedResults(t *testing.T) { run(t, "nilresults") }

// TestMissedLeaks7 checks that a slot taken on a ctx that a deferred cancel
// ends is reported when the function hands it on after assigning the
// Limiter's ctx back to ctx, in a combined release or a struct, from a
// primary or a fallback account into one variable, or with a cancel
// declared before.
func TestMissedLeaks7(t *testing.T) { run(t, "missedleaks7") }

// TestFalseReports9 checks that a test helper's release registered with
// t.Cleanup and returned by a bare return may be dropped by its callers,
// and the words of the report on a guard declared with var in a loop's
// body and assigned with =: each round declares a new release function,
// so the report should not speak of an overwrite.
func TestFalseReports9(t *testing.T) { run(t, "falsereports9") }

// TestFalseReports10 checks that a slot taken on a ctx that a deferred
// cancel ends, given back in the function, is not reported when the
// variable that held it is returned only where it is nil (a bare return
// of the named result after the call failed or before it ran, a local
// returned with its failed status), and that a slot taken in a switch case
// that a fallthrough enters, and released under the values of the same tag
// that reach that case (a second switch, an if per value), is not
// reported as lost.
func TestFalseReports10(t *testing.T) { run(t, "falsereports10") }

// TestMissedLeaks8 checks the words of the report on a guard whose
// variable a loop declares anew on the way back to its assignment: from
// an outer loop's body to an inner loop's assignment (by a labeled
// continue, or the outer loop's own); that a test helper that registers
// one guard with t.Cleanup and then stores another in its named result
// through the result's address has callers that must not drop it; and
// that a slot taken on a ctx that a deferred cancel ends is reported when
// handed on in a pointer to a composite literal.
func TestMissedLeaks8(t *testing.T) { run(t, "missedleaks8") }

// TestFalseReports11 checks that a slot taken on a ctx that a deferred
// cancel ends, given back in the function, is not reported when the
// variable that held it is returned, alone or in a lease, only where it is
// nil: after the granted path has returned, under a condition that reads
// the status through an if's init statement, a bool copy, a status mapped
// from the error or a type switch, after a retry loop whose granted
// attempt breaks, under a nil check, before the call, or with the call's
// results declared by var; and that a test helper's release registered
// with t.Cleanup may be dropped by its callers when the helper then passes
// the release's address to a function that only reads through it.
func TestFalseReports11(t *testing.T) { run(t, "falsereports11") }

// TestMissedLeaks9 checks the words of the report on a guard whose
// variable the outer loop declares anew on the way back to its
// assignment, when the path leaves an inner loop by a break or goes round
// it by a continue first; and that a slot taken on a ctx that a deferred
// cancel ends is reported when handed on under a condition on the status
// or error of a later call assigned to the same variable.
func TestMissedLeaks9(t *testing.T) { run(t, "missedleaks9") }

// TestFalseReports12 checks that a slot taken on a ctx that a deferred
// cancel ends, given back in the function, is not reported when the
// variable that held it is returned only where it was not granted, and is
// nil: under a condition on a field or a method of a struct status (or a
// pointer to one), on the status mapped by a method or converted to an
// integer, read through a local closure, stored in a struct's field, a
// bool set from comparisons in branches, or the status's own error; and
// that a guard deferred in the nil case of a type switch on its error is
// not reported at the default case's return.
func TestFalseReports12(t *testing.T) { run(t, "falsereports12") }

// TestMissedLeaks10 checks that a slot taken on a ctx that a deferred
// cancel ends is reported when handed on after a use on the way: a
// deferred closure that gives it back on a later failure or a panic, a
// call that counts it; or in the nil case of a type switch on its error.
// It checks the words of a break out of a select or a switch after an
// inner loop, which leads round the outer loop through the declaration of
// the guard's variable, and that a break taken before the next slot,
// after the guard was lost at a continue, is not reported.
func TestMissedLeaks10(t *testing.T) { run(t, "missedleaks10") }

// TestFalseReports13 checks that a slot taken on a ctx that a deferred
// cancel ends, given back in the function where it was granted, is not
// reported when the variable that held it is returned past that branch,
// where it is nil: a branch on a struct status's field or method (in an if
// or a switch without a tag), or on the status's error. It checks that a
// Limiter's slot is not reported at a return in a clause of a type switch
// on its error that names types only, in a switch without a `case nil`,
// one type or several to a clause; nor at a return past a clause that
// lists nil among types.
func TestFalseReports13(t *testing.T) { run(t, "falsereports13") }

// TestMissedLeaks11 checks that a slot taken on a ctx that a deferred
// cancel ends is reported when handed on: from a helper that assigns its
// ctx parameter again by the Limiter's call; under `st == statusOK` after
// a fallback or a second slot on the same ctx assigns st too; in a type
// switch's clause that lists nil among types; in a combined release that
// calls a local closure which calls it; by a bare return after a deferred
// closure that gives it back and clears it on failure; under a check that
// reads the ctx the Limiter's call gives back, or the request or receiver
// whose field the call assigns the status to; or under `err == nil` after
// an if's init statement reuses the Limiter's err for another check.
func TestMissedLeaks11(t *testing.T) { run(t, "missedleaks11") }

// TestFalseReports14 checks that a test's return under t.Failed(), where
// the test has failed, is not reported. Table tests are in falsereports16;
// a missed leak of the same hunt is a known limit (knownlimits4).
func TestFalseReports14(t *testing.T) { run(t, "falsereports14") }

// TestMissedLeaks12 checks that a slot dropped by a return under
// !t.Failed(), where the test has not failed, is reported.
func TestMissedLeaks12(t *testing.T) { run(t, "missedleaks12") }

// TestFalseReports15 checks that a helper's guard variable returned beside
// a refusal status where no path holding a slot reaches the return, as
// after `if err != nil` right after TryAcquire, and a named guard that the
// helper's deferred closure frees and clears unless its status is OK, give
// no report on the callers' refusal branch.
func TestFalseReports15(t *testing.T) { run(t, "falsereports15") }

// TestMissedLeaks13 checks that a helper's guard variable returned beside
// a refusal status where it may still hold a slot (the error came from a
// call after the slot was granted, or a fallback filled it), and a named
// guard that a deferred closure may leave held under a refusal status (it
// clears under another status, in an inner if or after a return, or is
// deferred after a return or only in an if), are reported on the callers'
// refusal branch.
func TestMissedLeaks13(t *testing.T) { run(t, "missedleaks13") }

// TestFalseReports16 checks that a table test's branch on the wanted
// status, past a check that ends the path where the status differs from
// it (`if st != tc.want { t.Fatalf(...) }`), is read as a branch on the
// status: its refusal side holds no slot.
func TestFalseReports16(t *testing.T) { run(t, "falsereports16") }

// TestMissedLeaks14 checks that a branch on the wanted status is still
// reported where the status may differ from it: the wanted value is
// assigned after the check, by the function or a closure, or read through
// a pointer a call may change; the check marks the test failed without
// ending it, ends it only in an inner if, or tests == (going on past it,
// or ending the path where the two are equal); or the branch
// drops the slot on the side where it is held.
func TestMissedLeaks14(t *testing.T) { run(t, "missedleaks14") }

// TestFalseReports17 checks that a release deferred in a range loop over
// a slice, array, map or string, whose call asks for a slot named by the
// iteration's element, is not reported when the loop leaves after the
// defer: a request that holds a slot of each of its route's keys until it
// returns, through a Limiter or a helper, leaving by a return or a break.
func TestFalseReports17(t *testing.T) { run(t, "falsereports17") }

// TestMissedLeaks15 checks that a release deferred in a loop that may ask
// for the same slot again, or work with the element while holding it, is
// still reported: a retry loop over an integer (its counter unread, or
// read through an index that comes round again), a call that reads no
// range variable or reads it only for its limit, a range variable assigned
// in the body, a three-clause loop, a range over a channel, an acquire in
// a nested loop, a failover that reads the element after the defer or
// keeps it in a field or a variable of the function (ranged into, and read
// by a closure), and a key loop that a retry loop or a goto runs again.
func TestMissedLeaks15(t *testing.T) { run(t, "missedleaks15") }

// TestFalseReports18 checks that a release deferred in a range loop whose
// guard's call takes the element itself, of a struct type (a key with its
// limit), is not reported, through a helper or over a map's values; nor
// is one whose loop reads, after the defer, the ctx that the guard's own
// call declared (by := or var), or hands it to a check.
func TestFalseReports18(t *testing.T) { run(t, "falsereports18") }

// TestMissedLeaks16 checks that a release deferred in a range loop over
// structs is still reported where the loop may retry or fail over: the
// element read after the defer (beside the slot's ctx or not), a struct
// from outside the loop, a pointer or interface element passed as it is,
// a result of the guard's call other than its ctx read after the defer (an
// error, a connection), a ctx made by another call (from the slot's ctx
// or not), and the slot's ctx assigned again or through its address
// before the defer.
func TestMissedLeaks16(t *testing.T) { run(t, "missedleaks16") }
