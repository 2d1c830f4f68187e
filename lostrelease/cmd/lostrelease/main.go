// Command lostrelease reports release functions, returned by
// github.com/ctxguard/release.WrapOnDone, WrapOnDoneCause or a helper that
// returns theirs, that are discarded, not used on every path to a return
// statement, or overwritten before they are used. It exits with status 3
// when it reports anything.
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
package main

import (
	"github.com/ctxguard/release/lostrelease"
	"golang.org/x/tools/go/analysis/singlechecker"
)

func main() { singlechecker.Main(lostrelease.Analyzer) }
