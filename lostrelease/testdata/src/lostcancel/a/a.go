// Package a restates, with release guards in place of cancel functions,
// each case of the lostcancel analyzer's test package a
// (golang.org/x/tools/go/analysis/passes/lostcancel/testdata/src/a), in the
// same order. Each case is numbered L1, L2, ...; lostrelease must agree
// with lostcancel on each. The cases marked "differs" are not
// lostcancel's: they show where the two analyzers deliberately disagree.
package a

import (
	"context"
	"log"
	"os"
	"testing"

	"github.com/ctxguard/release"
)

var bg = context.Background()

func free() {}

var cond bool
var n int

// L1: var, used only on a branch that is not taken.
func _() {
	var rel = release.WrapOnDone(bg, free) // want `the release function returned by WrapOnDone is not used on all paths`
	if false {
		_ = rel
	}
} // want "this return statement may be reached without using the release function rel defined on line 27"

// L2: :=, likewise.
func _() {
	rel2 := release.WrapOnDoneCause(bg, func(error) {}) // want "returned by WrapOnDoneCause is not used on all paths"
	if false {
		_ = rel2
	}
} // want "without using the release function rel2 defined on line 35"

// L3: =, likewise.
func _() {
	var rel3 func()
	rel3 = release.WrapOnDone(bg, free) // want "not used on all paths"
	if false {
		_ = rel3
	}
} // want "without using the release function rel3 defined on line 44"

// L4, L5, L6: discarded, by each constructor.
func _() {
	_ = release.WrapOnDone(bg, free)                    // want "returned by WrapOnDone is discarded"
	_ = release.WrapOnDoneCause(bg, func(error) {})     // want "returned by WrapOnDoneCause is discarded"
	var _ = release.WrapOnDone(bg, func() { print(1) }) // want "returned by WrapOnDone is discarded"
}

// L7: deferred.
func _() {
	rel := release.WrapOnDone(bg, free)
	defer rel()
}

// L8: used on one branch only.
func _() {
	rel := release.WrapOnDone(bg, free) // want "not used on all paths"
	if cond {
		rel()
	}
	return // want "this return statement may be reached without using the release function rel"
}

// L9: the other branch never ends.
func _() {
	rel := release.WrapOnDone(bg, free)
	if cond {
		rel()
	} else {
		for {
			print(0)
		}
	}
}

// L10: the other branch runs a loop and falls off the end.
func _() {
	rel := release.WrapOnDone(bg, free) // want "not used on all paths"
	if cond {
		rel()
	} else {
		for i := 0; i < 10; i++ {
			print(0)
		}
	}
} // want "may be reached without using the release function rel"

// L11: every case uses it, or does not return.
func _() {
	rel := release.WrapOnDone(bg, free)
	switch n {
	case 0:
		new(testing.T).FailNow()
	case 1:
		log.Fatal()
	case 2:
		rel()
	case 3:
		print("falls through")
		fallthrough
	default:
		os.Exit(1)
	}
}

// L12: one case returns without it.
func _() {
	rel := release.WrapOnDone(bg, free) // want "not used on all paths"
	switch n {
	case 0:
		new(testing.T).FailNow()
	case 1:
		log.Fatal()
	case 2:
		rel()
	case 3:
		print("returns")
	default:
		os.Exit(1)
	}
} // want "may be reached without using the release function rel"

// L13: one select case returns without it.
func _(ch chan int) {
	rel := release.WrapOnDone(bg, free) // want "not used on all paths"
	select {
	case <-ch:
		new(testing.T).FailNow()
	case ch <- 2:
		print("returns")
	case ch <- 1:
		rel()
	default:
		os.Exit(1)
	}
} // want "may be reached without using the release function rel"

// L14: a blocking select whose one case panics: nothing after it runs.
func _(ch chan int) {
	rel := release.WrapOnDone(bg, free)
	select {
	case <-ch:
		panic(0)
	}
	if false {
		_ = rel
	}
}

// L15: in a function literal.
func _() {
	go func() {
		rel := release.WrapOnDone(bg, free) // want "not used on all paths"
		if false {
			_ = rel
		}
		print(0)
	}() // want "may be reached without using the release function rel"
}

// L16: calling a func field is not a guard.
func _() {
	var x struct{ f func() }
	x.f()
}

// L17: named results, returned by a naked return.
func _() (ctx context.Context, rel func()) {
	ctx, rel = bg, release.WrapOnDone(bg, free)
	return
}

// L18: the same in a function literal.
var _ = func() (ctx context.Context, rel func()) {
	ctx, rel = bg, release.WrapOnDone(bg, free)
	return
}

// L19: assigned in a closure to a variable of the enclosing function.
func _() {
	var rel func()
	func() {
		rel = release.WrapOnDone(bg, free)
	}()
	rel()
}

var global func()

// L20: a package-level variable: its uses are elsewhere.
func _() {
	global = release.WrapOnDone(bg, free)
}

// Differs: lostcancel counts any reference as a use, so it would not
// report this. lostrelease does not count a comparison with nil.
func _() {
	rel := release.WrapOnDone(bg, free) // want "not used on all paths"
	if rel == nil {
		return
	}
	print(0)
} // want "may be reached without using the release function rel"
