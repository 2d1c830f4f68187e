// Command lostrelease reports release functions, returned by
// github.com/ctxguard/release.WrapOnDone, that are discarded or not used on
// every path to a return statement.
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
