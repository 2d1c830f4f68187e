package lostrelease_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctxguard/release/lostrelease"
	"golang.org/x/tools/go/analysis/analysistest"
)

// TestStatusRandomPaths checks the status rule against every path of
// random functions: each takes a guard with codes 200 and 203 and nests
// ifs, else-ifs, switches with and without a tag (some with fallthrough),
// returns, releases and bool copies of conditions on the code, with
// conditions that also read values the analyzer cannot know. Running
// each function on every code and every choice of those values gives
// the returns that leak, and the analyzer must report exactly those. In a
// second package the functions also assign the code: a status assigned
// again is not followed, so reports there may be more, never fewer. The
// packages are written to a temporary directory and checked in a run of
// their own.
func TestStatusRandomPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stub, err := os.ReadFile(filepath.Join(analysistest.TestData(), "src", releasePkgDir, "release.go"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "src", releasePkgDir, "release.go"), stub)
	for i, name := range []string{"exact", "assigned"} {
		src, leaking, safe := randomPackage(name, uint64(i+1), 150, name == "assigned")
		if leaking < 50 || safe < 50 {
			t.Fatalf("package %s has %d returns that leak and %d that do not; want 50 of each", name, leaking, safe)
		}
		write(t, filepath.Join(dir, "src", name, name+".go"), src)
	}
	var r recorder
	analysistest.Run(&r, dir, lostrelease.Analyzer, "exact", "assigned")
	for _, msg := range r.msgs {
		if strings.Contains(msg, "assigned.go") && strings.Contains(msg, "unexpected diagnostic") {
			continue // a report where a status assigned again is not followed
		}
		t.Error(msg)
	}
}

const releasePkgDir = "github.com/ctxguard/release"

func write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// randomPackage returns the source of a package of n random functions
// made from seed, each with // want comments where a path leaks, and how
// many returns, the ends of functions included, leak and do not. With
// assign, the functions also assign the code.
func randomPackage(name string, seed uint64, n int, assign bool) (src []byte, leaking, safe int) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "package %s\n\nimport (\n\t\"context\"\n\n\t\"github.com/ctxguard/release\"\n)\n\n", name)
	b.WriteString("func logCode(int) {}\n\n")
	b.WriteString("func acquire(ctx context.Context, n int) (int, func()) { " +
		"// want acquire:`returnsGuard\\[1\\] 1:\\{0=200\\|203\\}`\n\tswitch n {\n" +
		"\tcase 0:\n\t\treturn 200, release.WrapOnDone(ctx, func() {})\n" +
		"\tcase 1:\n\t\treturn 203, release.WrapOnDone(ctx, func() {})\n" +
		"\tcase 2:\n\t\treturn 429, nil\n\t}\n\treturn 500, nil\n}\n")
	g := &rgen{r: rand.New(rand.NewPCG(seed, 0)), assign: assign}
	for i := range n {
		f := g.function()
		leaks := f.leaks()
		(&remit{b: &b, leaks: leaks}).function(i, f)
		leaking += len(leaks)
		safe += g.returns + 1 - len(leaks)
	}
	return b.Bytes(), leaking, safe
}

// An rcond is a condition: code == k ('='), code != k ('!'), a value the
// analyzer cannot know x[n] ('x'), a bool copy okN ('v'), !x ('n'),
// x && y ('&') or x || y ('|').
type rcond struct {
	op   byte
	k, n int
	x, y *rcond
}

// An rstmt is a statement: if ('i'), switch without a tag ('s') or on the
// code ('t'), rel() ('r'), return ('R', id), code = k ('c') or
// logCode(code) ('l').
type rstmt struct {
	op      byte
	cond    *rcond
	then    []rstmt
	els     []rstmt // nil: no else
	cases   []rcase
	dflt    []rstmt
	hasDflt bool
	k, id   int
}

// An rcase is a case of a switch: a condition, or values of the code.
type rcase struct {
	cond *rcond
	vals []int
	body []rstmt
	fall bool
}

// An rfunc is a random function: its copies (okN := cond), then its body.
type rfunc struct {
	copies []*rcond
	body   []rstmt
}

var rcodes = []int{200, 203, 429, 500}

// rgen makes random functions.
type rgen struct {
	r                *rand.Rand
	assign           bool // make code = k statements too
	opaque, returns  int
	copies           int
	inCopy, released bool
}

func (g *rgen) function() *rfunc {
	for {
		g.opaque, g.returns, g.copies, g.released = 0, 0, 0, false
		f := &rfunc{}
		for range g.r.IntN(3) {
			g.inCopy = true
			f.copies = append(f.copies, g.cond(0))
			g.inCopy = false
			g.copies++
		}
		f.body = g.stmts(0)
		if g.released { // rel must be used somewhere to compile
			return f
		}
	}
}

func (g *rgen) cond(depth int) *rcond {
	p := g.r.Float64()
	switch {
	case depth < 2 && p < 0.25:
		return &rcond{op: "&|"[g.r.IntN(2)], x: g.cond(depth + 1), y: g.cond(depth + 1)}
	case depth < 2 && p < 0.32:
		return &rcond{op: 'n', x: g.cond(depth + 1)}
	case p < 0.45 && !g.inCopy:
		g.opaque++
		return &rcond{op: 'x', n: g.opaque}
	case p < 0.6 && g.copies > 0:
		return &rcond{op: 'v', n: g.r.IntN(g.copies)}
	}
	return &rcond{op: "=!"[g.r.IntN(2)], k: rcodes[g.r.IntN(len(rcodes))]}
}

func (g *rgen) stmts(depth int) []rstmt {
	ss := make([]rstmt, 1+g.r.IntN(3))
	for i := range ss {
		ss[i] = g.stmt(depth)
	}
	return ss
}

func (g *rgen) stmt(depth int) rstmt {
	p := g.r.Float64()
	switch {
	case depth < 3 && p < 0.35:
		s := rstmt{op: 'i', cond: g.cond(0), then: g.stmts(depth + 1)}
		switch q := g.r.Float64(); {
		case q < 0.3:
			s.els = g.stmts(depth + 1)
		case q < 0.5: // else if
			s.els = []rstmt{{op: 'i', cond: g.cond(0), then: g.stmts(depth + 1)}}
			if g.r.IntN(2) == 0 {
				s.els[0].els = g.stmts(depth + 1)
			}
		}
		return s
	case depth < 3 && p < 0.45:
		return g.switchStmt(depth)
	case p < 0.52 && g.assign:
		return rstmt{op: 'c', k: rcodes[g.r.IntN(len(rcodes))]}
	case p < 0.6:
		g.released = true
		return rstmt{op: 'r'}
	case p < 0.8:
		g.returns++
		return rstmt{op: 'R', id: g.returns}
	}
	return rstmt{op: 'l'}
}

func (g *rgen) switchStmt(depth int) rstmt {
	s := rstmt{op: "st"[g.r.IntN(2)]}
	perm := g.r.Perm(len(rcodes))
	for range 1 + g.r.IntN(3) {
		c := rcase{fall: g.r.Float64() < 0.15}
		if s.op == 's' {
			c.cond = g.cond(0)
		} else {
			k := 1 + g.r.IntN(2)
			if len(perm) < k {
				break
			}
			for _, i := range perm[:k] {
				c.vals = append(c.vals, rcodes[i])
			}
			perm = perm[k:]
		}
		c.body = g.stmts(depth + 1)
		s.cases = append(s.cases, c)
	}
	if g.r.Float64() < 0.6 {
		s.hasDflt, s.dflt = true, g.stmts(depth+1)
	}
	for i := range s.cases {
		c := &s.cases[i]
		last := i == len(s.cases)-1 && !s.hasDflt
		c.fall = c.fall && !last && c.body[len(c.body)-1].op != 'R'
	}
	return s
}
