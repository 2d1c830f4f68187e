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

// TestAnalyzer checks every reported case and every non-case in
// testdata/src/a against its // want comments.
func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), lostrelease.Analyzer, "a")
}
