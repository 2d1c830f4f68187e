package lostrelease

import (
	"go/ast"
	"go/constant"
	"go/token"
	"maps"
	"slices"

	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"
)

// nothingHeldOnEdge reports whether the edge from b to its j-th successor
// is taken only when h's guard is nil, or when a live status says the call
// returned no guard: a branch of an if or for condition or of a switch
// case, or the edge to a switch's default.
func (f *pathSearch) nothingHeldOnEdge(h *heldGuard, b *cfg.Block, j int, live uint64) bool {
	succs := b.Succs
	if len(succs) == 2 && len(b.Nodes) > 0 {
		cond, ok := b.Nodes[len(b.Nodes)-1].(ast.Expr)
		if !ok {
			return false
		}
		switch succs[0].Kind {
		case cfg.KindIfThen, cfg.KindForBody:
			return f.nothingHeld(h, cond, j == 0, live)
		case cfg.KindSwitchCaseBody:
			cc, _ := succs[0].Stmt.(*ast.CaseClause)
			if sw := f.switches[cc]; sw != nil && slices.Contains(cc.List, cond) {
				return f.nothingHeld(h, caseCond(sw, cond), j == 0, live)
			}
		}
		return false
	}
	if len(succs) == 1 && b.Kind == cfg.KindSwitchNextCase && succs[0].Kind == cfg.KindSwitchCaseBody {
		if cc, ok := succs[0].Stmt.(*ast.CaseClause); ok && cc.List == nil && f.switches[cc] != nil {
			return f.defaultHoldsNothing(h, f.switches[cc], live)
		}
	}
	return false
}

// caseCond returns the condition under which the case value e of sw
// matches: e itself in a switch without a tag, else tag == e.
func caseCond(sw *ast.SwitchStmt, e ast.Expr) ast.Expr {
	if sw.Tag == nil {
		return e
	}
	return &ast.BinaryExpr{X: sw.Tag, OpPos: e.Pos(), Op: token.EQL, Y: e}
}

// defaultHoldsNothing reports whether sw's tag is a live status of h and
// its cases name every value under which h's guard may be non-nil, so that
// its default runs only when there is no guard.
func (f *pathSearch) defaultHoldsNothing(h *heldGuard, sw *ast.SwitchStmt, live uint64) bool {
	s := f.statusOf(h, sw.Tag, live)
	if s == nil {
		return false
	}
	named := make(map[string]bool)
	for _, cc := range sw.Body.List {
		for _, e := range cc.(*ast.CaseClause).List {
			key, ok := valueKey(f.info, e)
			if !ok {
				return false
			}
			named[key] = true
		}
	}
	for _, v := range s.values {
		if !named[v] {
			return false
		}
	}
	return true
}

// nothingHeld reports whether, on the branch where cond is truth, h's
// guard is nil or a live status holds a value under which the guard's call
// returns none. Conditions are read through !, && and ||.
func (f *pathSearch) nothingHeld(h *heldGuard, cond ast.Expr, truth bool, live uint64) bool {
	if c, ok := f.constraint(h, cond, truth, live); ok && c.excludesGuard() {
		return true
	}
	switch e := ast.Unparen(cond).(type) {
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			return f.nothingHeld(h, e.X, !truth, live)
		}
	case *ast.CallExpr:
		return truth && f.errorsIs(h, e, live)
	case *ast.BinaryExpr:
		return f.nothingHeldBinary(h, e, truth, live)
	}
	return false
}

// nothingHeldBinary is nothingHeld for a binary expression: a combination
// of conditions, a comparison of the guard with nil, or of a status error
// with a variable.
func (f *pathSearch) nothingHeldBinary(h *heldGuard, e *ast.BinaryExpr, truth bool, live uint64) bool {
	x := func(t bool) bool { return f.nothingHeld(h, e.X, t, live) }
	y := func(t bool) bool { return f.nothingHeld(h, e.Y, t, live) }
	switch e.Op {
	case token.LAND:
		if truth {
			return x(true) || y(true)
		}
		return x(false) && y(false)
	case token.LOR:
		if truth {
			return x(true) && y(true)
		}
		return x(false) || y(false)
	case token.EQL, token.NEQ:
		eq := truth == (e.Op == token.EQL) // whether the operands are equal on this branch
		if id := nilCompared(f.info, e); id != nil && f.info.Uses[id] == h.v {
			return eq // the guard is nil
		}
		// A status error equal to a variable is taken as not nil: a sentinel.
		s := f.statusOf(h, e.X, live)
		if s == nil {
			s = f.statusOf(h, e.Y, live)
		}
		return eq && s != nil && s.isError && onlyNil(s.values) &&
			!f.info.Types[e.X].IsNil() && !f.info.Types[e.Y].IsNil()
	}
	return false
}

// A valueConstraint says that a status holds one of a set of values, or
// none of them.
type valueConstraint struct {
	s   *status
	in  bool // s holds one of set; if false, none of set
	set map[string]bool
}

// constraint returns what cond being truth says of one live status of h,
// if it says something of exactly one: a comparison of the status with a
// constant or nil, a bool status itself, and those combined with !, &&
// and ||.
func (f *pathSearch) constraint(h *heldGuard, cond ast.Expr, truth bool, live uint64) (valueConstraint, bool) {
	switch e := ast.Unparen(cond).(type) {
	case *ast.Ident:
		if s := f.statusOf(h, e, live); s != nil {
			return valueConstraint{s, true, map[string]bool{constant.MakeBool(truth).ExactString(): true}}, true
		}
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			return f.constraint(h, e.X, !truth, live)
		}
	case *ast.BinaryExpr:
		switch e.Op {
		case token.LAND, token.LOR:
			cx, okx := f.constraint(h, e.X, truth, live)
			cy, oky := f.constraint(h, e.Y, truth, live)
			if !okx || !oky || cx.s != cy.s {
				return valueConstraint{}, false
			}
			return combine(cx, cy, (e.Op == token.LAND) == truth), true
		case token.EQL, token.NEQ:
			return f.comparison(h, e, truth, live)
		}
	}
	return valueConstraint{}, false
}

// comparison is constraint for x == y or x != y.
func (f *pathSearch) comparison(h *heldGuard, e *ast.BinaryExpr, truth bool, live uint64) (valueConstraint, bool) {
	s, other := f.statusOf(h, e.X, live), e.Y
	if s == nil {
		s, other = f.statusOf(h, e.Y, live), e.X
	}
	key, ok := valueKey(f.info, other)
	if s == nil || !ok {
		return valueConstraint{}, false
	}
	eq := truth == (e.Op == token.EQL)
	return valueConstraint{s, eq, map[string]bool{key: true}}, true
}

// combine returns the constraint that both a and b hold, if both, or
// that one of them does.
func combine(a, b valueConstraint, both bool) valueConstraint {
	if a.in != b.in {
		if a.in == both { // both: in a, not in b; either: not in b, or in a
			a, b = b, a
		}
		// Now, for both, a is "not in" and b is "in"; for either, the reverse.
		r := valueConstraint{s: b.s, in: b.in, set: make(map[string]bool)}
		for v := range b.set {
			if !a.set[v] {
				r.set[v] = true
			}
		}
		return r
	}
	r := valueConstraint{s: a.s, in: a.in, set: make(map[string]bool)}
	union := both != a.in // in and in, both: intersection; not in and not in, both: union
	for v := range a.set {
		if union || b.set[v] {
			r.set[v] = true
		}
	}
	if union {
		maps.Copy(r.set, b.set)
	}
	return r
}

// excludesGuard reports whether c leaves the status none of the values
// under which the guard may be non-nil.
func (c valueConstraint) excludesGuard() bool {
	for _, v := range c.s.values {
		if v == otherValue || c.set[v] == c.in {
			return false
		}
	}
	return true
}

// errorsIs reports whether call is errors.Is(err, target), with err a
// status error that is nil whenever the guard may be non-nil and target
// not nil: then err is not nil.
func (f *pathSearch) errorsIs(h *heldGuard, call *ast.CallExpr, live uint64) bool {
	fn := typeutil.StaticCallee(f.info, call)
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "errors" || fn.Name() != "Is" || len(call.Args) != 2 {
		return false
	}
	s := f.statusOf(h, call.Args[0], live)
	return s != nil && s.isError && onlyNil(s.values) && !f.info.Types[call.Args[1]].IsNil()
}

// statusOf returns the live status of h that e names, or nil.
func (f *pathSearch) statusOf(h *heldGuard, e ast.Expr, live uint64) *status {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	for i := range h.statuses {
		if s := &h.statuses[i]; live&(1<<i) != 0 && f.info.Uses[id] == s.v {
			return s
		}
	}
	return nil
}

func onlyNil(values []string) bool { return len(values) == 1 && values[0] == "nil" }
