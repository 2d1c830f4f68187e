// Package lostrelease defines an Analyzer that reports release functions,
// returned by [github.com/ctxguard/release.WrapOnDone],
// [github.com/ctxguard/release.WrapOnDoneCause], the TryAcquire and Acquire
// methods of [github.com/ctxguard/release/slots.Limiter], or a helper that
// returns theirs, that are never used.
//
// # Analyzer lostrelease
//
// lostrelease: check that the release function returned by WrapOnDone is used
//
// A release guard frees its resource when its release function is called or
// when its context is done. A release that is never called holds the
// resource until the context is done: on a context that is never done,
// forever, and on a long-lived one, each forgotten guard stays registered
// until it ends.
//
// # Sources of guards
//
// A guard comes from a call of WrapOnDone or WrapOnDoneCause, whatever name
// the release package is imported under, from a call of a known interface
// method (see Known interface methods), or from a call of a helper: a
// function or method, in any package, that returns such a guard directly,
// through a local variable, or from another helper. The analyzer records
// each helper as a fact: which of its results are guards, and, for each
// guard, the values its other results hold on the return statements where
// that guard may be non-nil (see Status results). So
// `_, err := acquire(ctx)` is checked like a discarded WrapOnDone, through
// any number of helpers and whatever the guard's position in the results.
// Reports on a helper's result name the helper.
//
// A nil fn gives a nil guard: `release.WrapOnDone(ctx, nil)` and
// WrapOnDoneCause with a literal nil fn are not sources. Nor is a call
// with a literal nil of a helper whose fact says that argument is its
// guard's fn: on every return the guard is nil, or WrapOnDone's (or such
// a helper's) with that parameter, never assigned, as fn
// (`func wrap(ctx context.Context, fn func()) func() { return release.WrapOnDone(ctx, fn) }`).
//
// A nil ctx gives a panic, and no guard: a call whose argument is nil where
// its callee panics on a nil is not a source. WrapOnDone and
// WrapOnDoneCause panic on a nil ctx, as their doc says; so do
// slots.Limiter's TryAcquire and Acquire, as the contract tests of package
// slotstest require of every Limiter; and so does a helper whose body
// opens with ifs, without an init or an else, each of whose bodies is a
// single call of panic, one of them on `p == nil` (alone, or in an || of
// conditions) for a parameter p the helper never assigns
// (`if ctx == nil { panic("...") }`): its fact names p. The nil is the
// literal nil, or a local variable declared without a value and never
// assigned nor addressed anywhere in the package
// (`var nilCtx context.Context`). So a function literal that a test runs
// to see the call panic, `func() { l.TryAcquire(nilCtx, key, 1) }`, can
// only end in a panic and needs no comment, wherever it is passed or
// stored. The same call with a ctx that may not be nil, or a helper that
// panics on anything else (an empty key), is checked as ever: mark a
// literal that is expected to panic for another reason
// //lostrelease:ignore.
//
// # Known interface methods
//
// A call through an interface has no callee to derive a fact from, and a
// vet analyzer, which sees one package at a time, cannot know every type
// that implements the interface. So the analyzer knows a short list of
// interface methods as sources, by the package, interface and method name:
//
//   - TryAcquire and Acquire of [github.com/ctxguard/release/slots.Limiter]:
//     `(context.Context, func(), error)`, the guard at result 1, nil
//     whenever the error at result 2 is not nil.
//
// These two are the whole list. They are sources when called on a value
// of slots.Limiter, of an interface that embeds it, or of a type parameter
// so constrained:
//
//	var l slots.Limiter
//	ctx, rel, err := l.TryAcquire(ctx, key, 4)
//	if err != nil {
//		return err // not reported: rel is nil
//	}
//
// A helper built on them gets a fact as any helper does, so
// `func acquireUserSlot(ctx context.Context, l slots.Limiter, user string)
// (context.Context, func(), status)` that returns the guard with statusOK
// has its callers checked, status included, across packages. A method value
// (`acquire := l.TryAcquire`), a method expression
// (`slots.Limiter.TryAcquire(l, ...)`) and any other interface, even one
// with the same method names and signatures, are not sources. A concrete
// type's methods, such as those of [github.com/ctxguard/release/slots.Local]
// or of redisslot's Limiter, get their facts from their bodies.
//
// # What is reported
//
//   - A guard that is discarded: a go or defer of the call; or a bare call,
//     or an assignment to _, from which a path can go on normally (see
//     Paths that do not go on) to a return statement, or back to the call,
//     while the guard may be non-nil. The call is reported once.
//   - A guard held in a local variable that, on some path from the call,
//     reaches a return statement without being used, or is overwritten
//     before it is used. The guard's call is reported once, then each
//     statement that leaks it: every return, and every overwrite, reached
//     without a use, or the last break, continue or goto on the way to one.
//     A leak on one path never hides a leak on another.
//   - A defer that uses a guard inside a loop that, after the defer, can
//     both start its next iteration and leave (by a return or a break):
//     "deferred in a loop: held until the function returns". Each
//     iteration's guard stays held until then, as in a retry loop. Not a
//     loop that holds a slot of each element it ranges over: a range, with
//     :=, over a slice, an array (or a pointer to one), a map or a string,
//     not inside another loop, in a function without goto, where the
//     guard's call is a statement of the loop's own body (not of a nested
//     loop) and takes an argument of a string type or a struct type (not a
//     pointer, an interface, a func or a chan) that reads the range's key
//     or value, directly or through a field or an index
//     (`l.TryAcquire(ctx, k.key, k.limit)`, `acquireAccountSlot(ctx,
//     "acct:"+keys[i].account)`, `acquireRoute(ctx, l, k)` with k a
//     struct of a key and its limit); where the body assigns only
//     variables it declares (not the key nor the value, nor a variable of
//     the function, a field, an element or anything through a pointer);
//     and where no statement after the defer reads the key, the value or a
//     variable the body declared before the defer, but for a
//     context.Context that the guard's own call declares and nothing else
//     assigns (`sctx, rel, err := l.TryAcquire(...)`, or a helper's call):
//     the slot's ctx. So a request that holds a slot of each of its
//     route's keys, with `if ctx.Err() != nil { return ctx.Err() }` or
//     `if err := check(sctx); err != nil { return err }` after the defer,
//     is not reported; a retry over `range 3`, a channel or a three-clause
//     for, a call that reads the element only for its limit or takes a
//     pointer to it, and a failover that forwards to the element after the
//     defer, or reads the error or a connection the guard's call returned,
//     and goes round when that failed, are. A helper that hides the
//     element in the ctx it returns is not seen. The defer is still a use:
//     a continue or return after it is not a leak.
//   - A release deferred before its call's result is checked:
//     `_, rel, err := l.TryAcquire(...); defer rel(); if err != nil {`,
//     "rel is nil when Limiter.TryAcquire fails: deferred before the
//     call's result is checked, it panics then". It is reported when the
//     defer follows the call's own statement in the same statement list
//     and no statement between reads a variable the call assigns or calls a
//     func variable (a closure that may check the error), for the calls
//     documented to return a nil release on failure: a Limiter's
//     TryAcquire and Acquire, and slots.AcquireWithin. A helper may return
//     a no-op release instead, so its releases are not checked so.
//   - A guard that fires as its function returns: a call of WrapOnDone or
//     WrapOnDoneCause, of a Limiter's TryAcquire or Acquire, or of
//     slots.AcquireWithin, on a ctx that the function ends itself, "the
//     guard's ctx is cancelled by the deferred cancel when f returns: it fires
//     then" (a Limiter frees the slot when its ctx is done). It is reported
//     when the value of ctx the call reads is set only by `ctx, cancel :=
//     context.WithTimeout(...)` (or WithCancel, WithDeadline or their Cause
//     forms) in a statement of the function's own body before the call (`ctx,
//     cancel := context.WithTimeout(ctx, 2*time.Second)`), ctx being a local
//     variable declared there or a parameter; ctx may be assigned again by the
//     call's own statement or after it, outside a loop around it (`ctx, rel,
//     err := l.Acquire(ctx, ...)`); cancel is assigned a value only there and
//     deferred by a statement of the function's own body (`defer cancel()`,
//     not in an if, a loop or a closure; and the body has no goto); and a
//     return statement after that defer hands the guard on: the call itself, a
//     local variable or named result assigned only guards of such calls (a
//     primary account, then a fallback), a function literal that calls one
//     (`func() { relA(); relU() }`) or a composite literal, or its address,
//     that holds one. Only a return that a path holding the guard reaches
//     counts, the paths going on through the guard's uses (a deferred
//     release on failure, a local closure that calls it): not one after a
//     condition that says it is nil, as read for the other reports (`if st
//     != statusOK { return rel, st }`); and the paths stop at a branch on
//     the call's status, or on a variable derived from it (a struct status's
//     field or method, a mapped status, a closure or a bool that reads it,
//     the status's error), of which they know neither side to hold nothing:
//     the guard may be nil there, and the analyzer does not tell. A status
//     is the call's own until another statement assigns it (`relU, st :=
//     acquire(ctx, ...)`, an if's init); a field is a status, its struct is
//     not, nor is the slot's ctx. A named result is taken to hold such
//     guards only if no return gives it anything else (`return
//     acquire(parent)`). The caller then holds a release whose resource is
//     already freed. A guard used in the function (`defer rel()`), made on a
//     parameter or on the parent of the cancelled ctx, or a cancel called only
//     on some paths is not reported; nor, as a known limit, one handed on in a
//     slice built by append, through a copy, wrapped again
//     (`release.WrapOnDone(ctx, rel)`), or with the timed ctx made by a
//     helper of one's own. A helper whose one guard is made on its ctx
//     parameter (on every return, nil, or the guard of a call of one of the
//     above, or of such a helper, with that parameter as ctx, not assigned
//     before the call reads it: `ctx, rel, err := l.Acquire(ctx, ...)`;
//     a bare return returns the named result) is checked as they are.
//
// A guard copied to another local variable (`held := rel`) is used by the
// copy, which is then checked in turn.
//
// A named result is a local variable of its function, and the guard it
// holds is checked there: a bare return returns it, so uses the guard; a
// return with results sets it first, so uses only a guard it names
// (`return nil, err` drops the guard in rel, `return rel, nil` hands it
// to the caller). Named results are not checked in a function where a
// function literal assigns one or calls recover, or where one's address
// is taken (a pointer method called on it included): a deferred call may
// then return other values than the function's paths show.
//
// # Paths that do not go on
//
// A guard, discarded or held, is reported only on a path that can go on
// normally with the guard non-nil. A path ends, and leaks nothing after,
// at a statement that calls:
//
//   - a method Error, Errorf, Fail, FailNow, Fatal, Fatalf, Skip, Skipf or
//     SkipNow of package testing, on a *testing.T, *testing.B, *testing.F
//     or testing.TB: the test has been marked failed, or has ended, and
//     does not need its slot back. Whatever function the call is in counts
//     as test code: one that takes a *testing.T, wherever its file is, or
//     one that reaches a testing.TB through a field;
//   - a function that never returns: panic, os.Exit, log.Fatal and its
//     kin, runtime.Goexit, and any function, in any package, whose every
//     path ends in one (the ctrlflow analyzer's facts);
//   - a function or method whose every path does one of those, found from
//     its body and exported as a fact, so that a helper in one package
//     (`func fatalf(t testing.TB, ...) { t.Helper(); t.Fatalf(...) }`)
//     ends the paths of its callers in another.
//
// A branch taken where the Failed method of one of those types returns true
// (`if t.Failed() { return }`) ends a path the same way; its other branch
// does not.
//
// A status that says the guard is nil ends a path too (see Status
// results). So, in a test,
//
//	if _, _, err := l.TryAcquire(ctx, key, 1); !errors.Is(err, slots.ErrFull) {
//		t.Errorf("TryAcquire = %v; want ErrFull", err)
//	}
//
// is not reported, nor is the same with `err == nil` and t.Fatal; but a
// call whose error is never checked (`_, _, err := l.TryAcquire(...);
// return err`), or the same if with log.Printf for t.Errorf, is.
//
// Only a call as a statement of the function itself counts: not one in a
// function literal (`func() { t.Fatal() }()`), a defer or a go statement,
// and not one before the guard's call. A helper with a defer statement
// gets no fact, since a deferred recover could let it return. A
// testify-style helper counts only when its own code shows it: require.Fail
// calls FailNow on an interface of testify's own, which is not known to
// fail anything, and require.NoError fails only on some paths.
//
// # What counts as a use
//
// Any reference to the variable other than a comparison with nil or an
// assignment to it: calling it, deferring it, passing it on, returning it,
// storing it, assigning it to _ or capturing it in a closure. Handing the
// guard to a function counts as a use: the analyzer does not check what the
// callee does with it.
//
// A call of a local func variable counts as a use when every value the
// function assigns that variable is a function literal whose body uses the
// guard or calls another such variable, and its address is never taken:
//
//	releaseSlot := func() {
//		if rel != nil {
//			rel()
//			rel = nil
//		}
//	}
//	...
//	releaseSlot() // uses rel
//	continue
//
// # Status results
//
// A helper's fact records, for each guard it returns and each of its other
// results, the values that result holds on the helper's return statements
// where the guard is not the literal nil: constants (named or not), nil,
// true or false. A result returned from a variable of the helper (a local
// or a named result, returned bare or not) is followed along the paths on
// which the guard may be non-nil, when the guard's variable is assigned
// only guards and nil and the result's only in the helper's own
// statements, its address never taken (nor by a method with a pointer
// receiver): from each assignment of a guard (after which the conditions
// on the way narrow, as at a caller, below), to the return, the result
// holds the constant it was last assigned, or what the guard's call gave
// it, or what it held where that call was reached, followed the same way
// from the helper's entry, where a named result holds its zero value.
// So `switch { case err == nil: st = OK; case errors.Is(err, ErrFull): st =
// Full }; return rel, st` returns the guard with OK only. A return of
// such a guard variable that none of those paths reaches returns it nil,
// and adds nothing, whatever it returns beside it: `if err != nil { return
// rel, statusFull }` right after TryAcquire. Else a result is
// followed to the helper call that assigned it, when both the guard and
// the result are assigned only there. A package variable (an error value,
// say) returned beside a guard that cannot be nil, a call of WrapOnDone or
// a variable assigned only from one, may hold any value. Anything else (a
// call that wraps an error, a variable assigned a call's result on the
// way, a named result that a function literal assigns, as a deferred call
// may after the return) leaves the result's values unknown. But for a
// closure that frees a named guard and sets it to nil where a named
// status says so: the guard is then non-nil only where the closure's
// condition is false, when the closure is the helper's one defer, a
// statement of its body before every return (in a body with no goto),
// `defer func() { if st != OK && rel != nil { rel(); rel = nil } }()`:
// one if, without an else or a return, whose condition reads only the two
// results, and no function literal assigns either but that closure rel's
// nil. Its callers' `if st != OK { return }` is then a failure branch.
//
// At the caller, a branch is a failure branch, and not a leak, where a
// status variable (another result of the guard's call, not assigned again
// since, nor ever assigned in a function literal or through its address)
// cannot hold any of those values, given the conditions met on the way
// (on the variable, or on a copy of it, `result := st`; see below):
// `st != OK` when the guard is only returned with OK; `st == Vetoed`
// when it never is with Vetoed; with a guard returned for codes 200 and
// 203, `code != 200 && code != 203`, and as well
// `if code != 200 { if code != 203 { ... } }`, the last else of an
// else-if chain that has tested both, or `if code != 200 { ... }` after
// `if code == 203 { ...; return }`; the cases of a switch, with or without
// a tag, and its default; a type switch on an error (`switch
// err.(type)`): `case nil`, a clause of types only (err is not nil there),
// and the clauses past one that lists nil, when the function has a nil to
// compare with; an ordered comparison with an integer constant,
// when the values are integers (`st > OK`, `code >= 400`). Conditions of
// if, for and switch statements are
// read through !, && and ||, and through a variable that holds such a
// condition, a copy of the status, or a predicate's or a status map's
// result (`ok := st == OK; if !ok { ... }`), when it is assigned only
// where it is declared and the status is assigned nowhere between that
// declaration and the read, nor after the read in a loop that begins
// after the declaration, in a function without goto: so a handler that
// reuses st for its next slot (`relA, st := ...`) after `ok := st == OK`
// is read right. A named result whose guards are checked (see What is
// reported) and that is assigned once, one value by a statement on every
// path to the read (`st = classify(err)`), counts as declared there.
// What the paths that reach a block without using the guard allow is
// joined there, so a block
// that one such path reaches while the status may hold one of the values
// is not a failure branch; a status assigned again, in a loop say, may
// hold any value from there on. An error status that may only be nil is
// not nil where it is compared equal to a variable (`err == ErrX`, a
// sentinel). errors.Is(err, target), with a target that is not the
// literal nil (a variable is taken to hold an error), and errors.As(err,
// &v) are true only where err is not nil, read as the conditions above
// are: through !, && and ||, bool copies, and the paths that follow.
// Past a check that ends the path where the status differs from a value
// (`if st != tc.want { t.Fatalf(...) }`, its body ending in t.Fatal,
// t.FailNow, t.Skip and the rest, a panic, a return, a break or a
// continue; not t.Error, after which the test goes on), the conditions of
// the statements after it in its list, up to one that assigns a variable,
// read that value as the status: `if tc.want != OK { continue }` as `if st
// != OK`, and after `if (st == OK) != tc.wantOK`, `if !tc.wantOK` as `if
// st != OK`. Both sides are of a boolean, integer or string type and read
// only constants and locals, or fields of a local struct value, assigned
// nowhere but where they are declared (function literals included), their
// address never taken, in a function without goto.
//
// A local variable, parameter or named result of a boolean, integer or
// string type that a condition reads is followed by value along the paths
// from the guard's call: an assignment of a constant sets it, any other
// assignment makes it unknown. So a status set in a switch on the error
// (`case err == nil: st = OK`) or a flag set where the status is checked
// (`if err == nil { granted = true }`) narrows the paths that read it as
// the status itself does, directly or through a bool copy. Such a
// variable set by the statement just before the call, in the same list,
// or by the call's own statement (`rel, st = r, OK`), holds that value at
// the call (in a body with no goto); and the condition that the call is
// under (an if's, or a switch's `tag == case`) holds there too, and
// wherever it is tested again, when it reads only constants, parameters
// never assigned and locals assigned only where a statement of the body
// itself declares them (`limited := cfg.limit > 0; if limited { take };
// ...; if limited { release }`). It is the same test written with ! or
// the opposite comparison (`if limit > 0` ... `if limit <= 0 { return
// }`), or with the operands of && or || swapped.
//
// A call of a status predicate on the status itself stands for what the
// predicate returns: `st.granted()`, `isOK(st)`, `admit(w, st)`, negated,
// combined with && and ||, or through a bool copy (`ok := st.granted()`).
// A status predicate is a function or method that returns bool and reads
// one status: its value receiver, or else its one parameter, of a type
// whose underlying type is basic, or of type error, that it never assigns,
// nor its result if named, and that has no defer (a deferred call could
// change its result, or recover a panic and return the zero value). A
// method expression (`status.ok(st)`) calls it as a method value does.
// Every path from its entry, with what the conditions on the way say of
// the status, read as above, must end in a return of a constant bool or
// of a condition on the status alone (comparisons with constants or nil,
// errors.Is, errors.As, !, &&, ||); what else it does (writing an HTTP
// error, say) does not matter:
//
//	func admit(w http.ResponseWriter, st status) bool {
//		switch st {
//		case statusOK:
//			return true
//		case statusFull:
//			http.Error(w, "busy", http.StatusTooManyRequests)
//		default:
//			http.Error(w, "backend", http.StatusBadGateway)
//		}
//		return false
//	}
//
// A status map is read the same way: a function of one status, as above,
// that returns another basic type and gives a constant on every path. A
// comparison of what it returns with a constant, directly or through a
// variable that holds it, stands for the statuses it returns a value that
// meets it for: with `func (s status) httpCode() int` that returns 200
// for statusOK only, `if st.httpCode() != http.StatusOK { return }` and
// `if code := st.httpCode(); code >= 400 { ... }` leave st no other value.
//
// The analyzer exports a fact for each predicate and map, in every
// package, with the values for which it returns each of its results, so
// one defined in one package narrows a status in another. A call of anything else (one that
// returns a condition on other state, that reads two values of basic
// types, that has a pointer receiver, or an argument that is not the
// status variable itself) narrows nothing.
//
// Where a result's values are unknown, by the convention that a helper
// returns a nil guard when it fails, a last result that is an error is
// taken to be nil, and one that is a bool true, whenever the guard may be
// non-nil; a result of any other type gives no failure branch.
//
// # What else is exempt
//
//   - Nil branches. On the branch of `rel == nil` or `rel != nil` where the
//     guard is nil there is nothing to leak, so `if rel != nil { defer rel() }`
//     is enough.
//
//   - Deferred closures registered first. A defer, or a test's Cleanup
//     call (t.Cleanup, b.Cleanup, f.Cleanup), that refers to the variable,
//     directly or through a local func variable whose function literal
//     does, and that is registered before the assignment on every path to
//     it, uses the guard on every return. Overwriting the guard before it
//     is used is still reported.
//
//   - Constant loops. A loop that runs a constant number of times, at least
//     once (`for range 4`, `for i := 0; i < 3; i++` with i not assigned in
//     the body), runs its body: a use in the body counts unless a break,
//     continue or return comes before it.
//
//   - main.main, whose return ends the process. Discarded guards are still
//     reported there.
//
//   - A deliberate leak, marked with a comment on the call's line or the line
//     above:
//
//     //lostrelease:ignore <reason>
//
//     It silences every report for that guard. A comment without a reason is
//     itself reported.
//
// # Known limits
//
// What is not followed, with one example each (the README has the same
// list):
//
//   - A guard stored outside the function's locals is taken as used:
//     after `s.rel = rel`, s.rel is never checked. So is one assigned in a
//     function literal: a helper that takes its slot in a retry closure
//     (`try := func() bool { _, rel, err = l.TryAcquire(...); ... }`) has
//     no fact, and its callers are not checked.
//   - A helper that returns a closure around a guard has no fact:
//     `func wrapped() func() { rel := acquire(); return func() { rel() } }`.
//   - Calls through a method value, a method expression, a func variable or
//     an interface have no fact, but for the known interface methods (only
//     slots.Limiter's TryAcquire and Acquire): `get := p.Get; get(ctx)`,
//     `acquire := l.TryAcquire; acquire(ctx, key, 4)`, and
//     `var a Acquirer; a.Acquire(ctx)` for an interface Acquirer of one's
//     own, even where every type that implements it returns a guard.
//   - What a callee does with a guard passed to it: `keep(rel)` is a use.
//   - A status returned through a call, or through a variable assigned a
//     call's result between the guard and the return, has no known values:
//     `return rel, wrap(err)`. A last
//     result that is an error or a bool then falls back to the convention;
//     a status of another type gives no failure branch.
//   - A predicate that returns a call of another predicate, or a
//     condition that orders values (`s >= 200 && s < 300`), narrows
//     nothing, nor does a status map that returns anything but constants,
//     a generic predicate (`func granted[S ~int](s S) bool`), or a Go map
//     (`if httpCodes[st] != http.StatusOK { return }` is reported).
//   - A status a function literal assigns is not followed, even one that
//     a recovering defer sets beside a nil guard: the helper's status has
//     no known values. Within the function itself, a call it defers does
//     not count, as it runs once the function has returned: a function
//     literal deferred directly (`defer func() { if err != nil { err =
//     wrap(err) } }()`), an argument `&err` of a deferred call (`defer
//     wrapErr(&err, "op")`), a deferred method of the status, a function
//     literal deferred through a local variable assigned only it and used
//     only in defers (`wrap := func() {...}; defer wrap()`). Called
//     elsewhere too, such a literal does count.
//   - A helper that returns, on a refusal, a release that does nothing is
//     taken to hold nothing there only if that release is an empty
//     function literal or an empty function of its own package named
//     directly (`func noop() {}`); one from another package, or in a
//     variable, counts as a guard, and a caller that drops it on the
//     refusal branch (`if st != OK { return nil, st }`) is reported.
//   - A test helper's guard that it registers with t.Cleanup is one its
//     callers may drop only if the helper registers it by a statement of
//     its own body (not in an if or a loop) before each return of it, as
//     `t.Cleanup(rel)` or `t.Cleanup(func() { rel() })`, and never assigns
//     the variable after (a store through its address, by a helper given
//     `&rel`, is not seen).
//   - A status read through an interface method (`if !o.OK()`), a struct
//     field (`a.st != OK`), or a copy taken before the status variable was
//     reused for the next slot narrows nothing; nor does a bool copy of a
//     nil check (`have := rel != nil`).
//   - A helper's status is followed as one value at a time: a case list
//     (`case statusFull, statusBackend:`) or an ordered comparison that
//     leaves it several values leaves it unknown, so a two-slot helper
//     that gives the first slot back on such a test has no values for it.
//   - A switch case that a fallthrough enters is taken to hold under its
//     own value only: a slot taken there and freed under that value alone
//     (`if mode == "limited" { rel() }`) leaks unreported when the case
//     before falls through.
//   - A loop body with a goto is not read for the words of a report: a
//     guard declared in it is said to be overwritten, not declared anew.
//   - A guard held in a named result is not checked in a function where
//     a function literal assigns a named result or calls recover, or where
//     a named result's address is taken: with a deferred
//     `if r := recover(); r != nil { log.Print(r) }`, `return nil, err`
//     after the acquire drops rel unreported. Its callers are checked as
//     usual. A deferred closure that releases a named result counts as a
//     use on every path after it, even where a return sets the result to
//     nil before the closure runs: with `defer func() { if err != nil {
//     rel() } }()`, `return nil, err` calls a nil func.
//   - A helper called with a literal nil fn is still taken to return a
//     guard unless it passes that parameter straight on as fn: `if rel !=
//     nil { t.Fatal() }` after `rel := wrapDefault(ctx, nil)`, in a test,
//     is reported; mark it //lostrelease:ignore.
//   - A variable set in a branch (`granted = true` where the status is
//     OK, `case err == nil: st = OK`) is followed by the constants it is
//     assigned only if it is of a boolean, integer or string type, read in
//     an if, for or switch condition, and not assigned in a function
//     literal (but for one deferred directly) or through its address; and
//     only the first 16 such variables of a function are.
//   - A local func variable assigned anything but function literals, or
//     whose address is taken, is not a release: after
//     `release := releaseSlot`, `release()` is not a use.
//   - Only a defer in a loop that can both go round and leave the loop after
//     it is reported: `for range n { rel := acquire(); defer rel() }` holds
//     n guards on purpose; and not one in a loop that holds a slot of each
//     element it ranges over, as What is reported says. A loop that holds
//     each element's slot otherwise is reported: its call takes the
//     element of a struct type (`acquire(ctx, k)`), a ctx the call returns
//     is read after the defer (`ctx, rel, err := l.TryAcquire(ctx, ...)`),
//     or it runs inside another loop. A failover that keeps its element
//     out of the variables and stores seen, behind a call (`p.setCurrent(b)`
//     before the acquire, `p.forward(ctx)` after the defer), is not.
//   - A failure ends a path only as a statement of the function itself:
//     after `if err == nil { func() { t.Fatal() }() }` the guard is
//     reported, and so is a discarded guard whose error is checked
//     elsewhere, sent on a channel (`errc <- err`) or returned from a
//     function literal.
//   - A helper that fails a test on some paths only (as require.NoError
//     does), or only through an interface of its own (as require.Fail
//     does, through testify's TestingT), or that has a defer, has no
//     fact: a call of it does not end a path.
//   - A nil ctx is a literal nil or a local variable never assigned; a
//     helper panics on it only when its body opens with the nil check: a
//     check after another statement, or in a function it calls, is not
//     followed, nor is a panic on another bad argument (an empty key).
//
// # Example
//
//	func handle(ctx context.Context, slots chan struct{}) error {
//		slots <- struct{}{}
//		free := release.WrapOnDone(ctx, func() { <-slots }) // reported
//		if err := step(); err != nil {
//			return err // reported: free is not used on this path
//		}
//		free()
//		return nil
//	}
package lostrelease
