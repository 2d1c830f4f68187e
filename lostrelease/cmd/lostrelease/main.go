// Command lostrelease reports release functions, returned by
// github.com/ctxguard/release.WrapOnDone, WrapOnDoneCause or a helper that
// returns theirs, that are discarded, not used on every path to a return
// statement, overwritten before they are used, or deferred in a loop that
// retries. It exits with status 3 when it reports anything.
//
// On a large tree prefer the go vet form below: the standalone command
// loads every package from source at once, go vet one package at a time
// with a cache (see the README's Memory section).
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
