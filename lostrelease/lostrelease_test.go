package lostrelease_test

import (
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
func run(t *testing.T, patterns ...string) {
	t.Helper()
	analysistest.Run(t, analysistest.TestData(), lostrelease.Analyzer, patterns...)
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
