package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// vetArgs reports whether the command line args can run under go vet, and
// if so whether it asks for JSON and which patterns it names. It can when
// it names at least one package pattern and its only flags are -json and
// -test (true, go vet's way: test files are always checked). Any other
// flag (-c, -fix, -diff, -test=false, -debug, the profile flags, -V,
// -flags), a go vet configuration file, or LOSTRELEASE_INPROCESS=1 in the
// environment leaves the command to the in-process checker.
func vetArgs(args []string) (asJSON bool, patterns []string, ok bool) {
	if os.Getenv("LOSTRELEASE_INPROCESS") == "1" {
		return false, nil, false
	}
	i := 0
	for ; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		switch strings.TrimPrefix(args[i], "-") {
		case "json", "-json", "json=true", "-json=true":
			asJSON = true
		case "json=false", "-json=false":
			asJSON = false
		case "test", "-test", "test=true", "-test=true":
		case "-":
			i++
			return asJSON, args[i:], i < len(args)
		default:
			return false, nil, false
		}
	}
	patterns = args[i:]
	if len(patterns) == 0 || len(patterns) == 1 && strings.HasSuffix(patterns[0], ".cfg") {
		return false, nil, false
	}
	for _, p := range patterns {
		if strings.HasPrefix(p, "-") {
			return false, nil, false // a flag after a pattern: the flag package would take it as one
		}
	}
	return asJSON, patterns, true
}

// A diagnostic is one report as go vet -json gives it.
type diagnostic struct {
	Posn    string `json:"posn"`
	End     string `json:"end,omitempty"`
	Message string `json:"message"`
}

// runVet runs `go vet -json -vettool=<this executable>` on patterns, which
// checks one package at a time from export data and the facts of its
// imports, and caches each result, and prints its reports as the
// in-process checker would: `file:line:col: message` on stderr, or with
// asJSON one JSON object on stdout, by package and analyzer. It returns the
// exit code: 1 if go vet failed (its errors are copied to stderr), else 3
// if there are reports and not asJSON, else 0.
func runVet(asJSON bool, patterns []string) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lostrelease: %v\n", err)
		return 1
	}
	cmd := exec.Command("go", append([]string{"vet", "-json", "-vettool=" + self}, patterns...)...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	runErr := cmd.Run()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		fmt.Fprintf(os.Stderr, "lostrelease: go vet: %v\n", runErr)
		return 1
	}
	tree, err := decodeVetJSON(&stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lostrelease: reading go vet's output: %v\n", err)
		return 1
	}
	n := 0
	if asJSON {
		out, _ := json.MarshalIndent(tree, "", "\t")
		fmt.Printf("%s\n", out)
	} else {
		n = printDiagnostics(tree)
	}
	switch {
	case runErr != nil:
		return 1
	case n > 0:
		return 3
	}
	return 0
}

// decodeVetJSON reads the JSON objects go vet -json prints, one per
// package (package, then analyzer, then its diagnostics), into one.
func decodeVetJSON(r io.Reader) (map[string]map[string][]diagnostic, error) {
	tree := make(map[string]map[string][]diagnostic)
	dec := json.NewDecoder(r)
	for {
		var obj map[string]map[string]json.RawMessage
		if err := dec.Decode(&obj); err == io.EOF {
			return tree, nil
		} else if err != nil {
			return nil, err
		}
		for pkg, units := range obj {
			for analyzer, msg := range units {
				var diags []diagnostic
				if err := json.Unmarshal(msg, &diags); err != nil {
					continue // an error, which go vet has also printed on stderr
				}
				if tree[pkg] == nil {
					tree[pkg] = make(map[string][]diagnostic)
				}
				tree[pkg][analyzer] = append(tree[pkg][analyzer], diags...)
			}
		}
	}
}

// printDiagnostics prints the diagnostics of tree on stderr, in the order
// of their positions, and returns how many it printed.
func printDiagnostics(tree map[string]map[string][]diagnostic) int {
	var all []diagnostic
	for _, units := range tree {
		for _, diags := range units {
			all = append(all, diags...)
		}
	}
	sort.Slice(all, func(i, j int) bool { return posnLess(all[i].Posn, all[j].Posn) })
	for _, d := range all {
		fmt.Fprintf(os.Stderr, "%s: %s\n", d.Posn, d.Message)
	}
	return len(all)
}

// posnLess orders positions file:line:col by file, then line, then column.
func posnLess(a, b string) bool {
	fa, la, ca := splitPosn(a)
	fb, lb, cb := splitPosn(b)
	switch {
	case fa != fb:
		return fa < fb
	case la != lb:
		return la < lb
	}
	return ca < cb
}

func splitPosn(p string) (file string, line, col int) {
	file, c, _ := cutLast(p, ":")
	file, l, _ := cutLast(file, ":")
	line, _ = strconv.Atoi(l)
	col, _ = strconv.Atoi(c)
	return file, line, col
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
