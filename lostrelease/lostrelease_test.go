package lostrelease_test

import (
	"testing"

	"github.com/ctxguard/release/lostrelease"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), lostrelease.Analyzer, "a")
}
