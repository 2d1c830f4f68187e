package lostrelease_test

import (
	"bytes"
	"fmt"
	"strings"
)

// remit writes a random function as Go, with // want comments on the
// call and on each return in leaks.
type remit struct {
	b     *bytes.Buffer
	leaks map[int]bool
}

const (
	wantCall   = " // want `not used on all paths`"
	wantReturn = " // want `this return statement may be reached without using the release function rel`"
)

func (e *remit) function(i int, f *rfunc) {
	fmt.Fprintf(e.b, "\nfunc f%d(ctx context.Context, n int, x []bool) {\n\tcode, rel := acquire(ctx, n)", i)
	if len(e.leaks) > 0 {
		e.b.WriteString(wantCall)
	}
	e.b.WriteString("\n\t_ = code\n")
	for j, c := range f.copies {
		fmt.Fprintf(e.b, "\tok%d := %s\n\t_ = ok%d\n", j, e.cond(c), j)
	}
	e.block(f.body, 1)
	e.b.WriteString("}")
	if e.leaks[0] {
		e.b.WriteString(wantReturn)
	}
	e.b.WriteString("\n")
}

func (e *remit) cond(c *rcond) string {
	switch c.op {
	case '=':
		return fmt.Sprintf("code == %d", c.k)
	case '!':
		return fmt.Sprintf("code != %d", c.k)
	case 'x':
		return fmt.Sprintf("x[%d]", c.n)
	case 'v':
		return fmt.Sprintf("ok%d", c.n)
	case 'n':
		return "!(" + e.cond(c.x) + ")"
	case '&':
		return "(" + e.cond(c.x) + " && " + e.cond(c.y) + ")"
	}
	return "(" + e.cond(c.x) + " || " + e.cond(c.y) + ")"
}

func (e *remit) block(ss []rstmt, depth int) {
	for i := range ss {
		e.stmt(&ss[i], depth)
	}
}

func (e *remit) line(depth int, s string) {
	e.b.WriteString(strings.Repeat("\t", depth) + s + "\n")
}

func (e *remit) stmt(s *rstmt, depth int) {
	switch s.op {
	case 'i':
		e.ifStmt(s, depth, "if ")
		e.line(depth, "}")
	case 's', 't':
		e.switchStmt(s, depth)
	case 'r':
		e.line(depth, "rel()")
	case 'c':
		e.line(depth, fmt.Sprintf("code = %d", s.k))
	case 'l':
		e.line(depth, "logCode(code)")
	case 'R':
		w := ""
		if e.leaks[s.id] {
			w = wantReturn
		}
		e.line(depth, "return"+w)
	}
}

// ifStmt writes s up to its closing brace, an else that is a lone if as
// else if.
func (e *remit) ifStmt(s *rstmt, depth int, prefix string) {
	e.line(depth, prefix+e.cond(s.cond)+" {")
	e.block(s.then, depth+1)
	switch {
	case len(s.els) == 1 && s.els[0].op == 'i':
		e.ifStmt(&s.els[0], depth, "} else if ")
	case s.els != nil:
		e.line(depth, "} else {")
		e.block(s.els, depth+1)
	}
}

func (e *remit) switchStmt(s *rstmt, depth int) {
	if s.op == 's' {
		e.line(depth, "switch {")
	} else {
		e.line(depth, "switch code {")
	}
	for _, c := range s.cases {
		if s.op == 's' {
			e.line(depth, "case "+e.cond(c.cond)+":")
		} else {
			e.line(depth, "case "+strings.Trim(strings.Join(strings.Fields(fmt.Sprint(c.vals)), ", "), "[]")+":")
		}
		e.block(c.body, depth+1)
		if c.fall {
			e.line(depth+1, "fallthrough")
		}
	}
	if s.hasDflt {
		e.line(depth, "default:")
		e.block(s.dflt, depth+1)
	}
	e.line(depth, "}")
}
