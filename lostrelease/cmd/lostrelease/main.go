// Command lostrelease reports release functions, returned by
// github.com/ctxguard/release.WrapOnDone, WrapOnDoneCause or a helper that
// returns theirs, that are discarded, not used on every path to a return
// statement, overwritten before they are used, or deferred in a loop that
// retries. It exits with status 3 when it reports anything.
//
// The rules, exemptions and limits are those of the analyzer, documented in
// package github.com/ctxguard/release/lostrelease.
//
// Run it on its own:
//
//	lostrelease ./...
//
// or through go vet:
//
//	go vet -vettool=$(which lostrelease) ./...
//
// Run on its own with package patterns, and no flag but -json or -test,
// the command runs the second form itself, with the same patterns: go vet
// checks one package at a time, from the compiled export data of its
// imports and their facts, and caches each result, so the command takes
// no more memory than go vet (see the README's Memory section). It then
// prints go vet's reports as `file:line:col: message` lines on stderr, or
// with -json as one JSON object on stdout, and exits with status 3 if it
// printed a report, 1 if go vet failed. Any other flag (-c, -fix, -diff,
// -test=false, -debug, the profile flags), or LOSTRELEASE_INPROCESS=1 in
// the environment, runs the analysis in this process instead, loading
// every package from source at once.
package main

import (
	"os"

	"github.com/ctxguard/release/lostrelease"
	"golang.org/x/tools/go/analysis/singlechecker"
)

func main() {
	if asJSON, patterns, ok := vetArgs(os.Args[1:]); ok {
		os.Exit(runVet(asJSON, patterns))
	}
	singlechecker.Main(lostrelease.Analyzer)
}
