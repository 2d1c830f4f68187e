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
func (ps *pathSearch) nothingHeldOnEdge(h *heldGuard, b *cfg.Block, j int, live uint64) bool {
	succs := b.Succs
	if len(succs) == 2 && len(b.Nodes) > 0 {
		cond, ok := b.Nodes[len(b.Nodes)-1].(ast.Expr)
		if !ok {
			return false
		}
		switch succs[0].Kind {
		case cfg.KindIfThen, cfg.KindForBody:
			return ps.nothingHeld(h, cond, j == 0, live)
		case cfg.KindSwitchCaseBody:
			cc, _ := succs[0].Stmt.(*ast.CaseClause)
			if sw := ps.switches[cc]; sw != nil && slices.Contains(cc.List, cond) {
				return ps.nothingHeld(h, caseCond(sw, cond), j == 0, live)
			}
		}
		return false
	}
	if len(succs) == 1 && b.Kind == cfg.KindSwitchNextCase && succs[0].Kind == cfg.KindSwitchCaseBody {
		if cc, ok := succs[0].Stmt.(*ast.CaseClause); ok && cc.List == nil && ps.switches[cc] != nil {
			return ps.defaultHoldsNothing(h, ps.switches[cc], live)
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
func (ps *pathSearch) defaultHoldsNothing(h *heldGuard, sw *ast.SwitchStmt, live uint64) bool {
	s := ps.statusOf(h, sw.Tag, live)
	if s == nil {
		return false
	}
	named := make(map[string]bool)
	for _, cc := range sw.Body.List {
		for _, e := range cc.(*ast.CaseClause).List {
			key, ok := valueKey(ps.info, e)
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
func (ps *pathSearch) nothingHeld(h *heldGuard, cond ast.Expr, truth bool, live uint64) bool {
	if c, ok := ps.constraint(h, cond, truth, live); ok && c.excludesGuard() {
		return true
	}
	switch e := ast.Unparen(cond).(type) {
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			return ps.nothingHeld(h, e.X, !truth, live)
		}
	case *ast.CallExpr:
		return truth && ps.errorsIs(h, e, live)
	case *ast.BinaryExpr:
		return ps.nothingHeldBinary(h, e, truth, live)
	}
	return false
}

// nothingHeldBinary is nothingHeld for a binary expression: a combination
// of conditions, a comparison of the guard with nil, or of a status error
// with a variable.
func (ps *pathSearch) nothingHeldBinary(h *heldGuard, e *ast.BinaryExpr, truth bool, live uint64) bool {
	x := func(t bool) bool { return ps.nothingHeld(h, e.X, t, live) }
	y := func(t bool) bool { return ps.nothingHeld(h, e.Y, t, live) }
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
		if id := nilCompared(ps.info, e); id != nil && ps.info.Uses[id] == h.v {
			return eq // the guard is nil
		}
		// A status error equal to a variable is taken as not nil: a sentinel.
		s := ps.statusOf(h, e.X, live)
		if s == nil {
			s = ps.statusOf(h, e.Y, live)
		}
		return eq && s != nil && s.isError && onlyNil(s.values) &&
			!ps.info.Types[e.X].IsNil() && !ps.info.Types[e.Y].IsNil()
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
func (ps *pathSearch) constraint(h *heldGuard, cond ast.Expr, truth bool, live uint64) (valueConstraint, bool) {
	switch e := ast.Unparen(cond).(type) {
	case *ast.Ident:
		if s := ps.statusOf(h, e, live); s != nil {
			return valueConstraint{s, true, map[string]bool{constant.MakeBool(truth).ExactString(): true}}, true
		}
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			return ps.constraint(h, e.X, !truth, live)
		}
	case *ast.BinaryExpr:
		switch e.Op {
		case token.LAND, token.LOR:
			cx, okx := ps.constraint(h, e.X, truth, live)
			cy, oky := ps.constraint(h, e.Y, truth, live)
			if !okx || !oky || cx.s != cy.s {
				return valueConstraint{}, false
			}
			return combine(cx, cy, (e.Op == token.LAND) == truth), true
		case token.EQL, token.NEQ:
			return ps.comparison(h, e, truth, live)
		}
	}
	return valueConstraint{}, false
}

// comparison is constraint for x == y or x != y.
func (ps *pathSearch) comparison(h *heldGuard, e *ast.BinaryExpr, truth bool, live uint64) (valueConstraint, bool) {
	s, other := ps.statusOf(h, e.X, live), e.Y
	if s == nil {
		s, other = ps.statusOf(h, e.Y, live), e.X
	}
	key, ok := valueKey(ps.info, other)
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
func (ps *pathSearch) errorsIs(h *heldGuard, call *ast.CallExpr, live uint64) bool {
	fn := typeutil.StaticCallee(ps.info, call)
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "errors" || fn.Name() != "Is" || len(call.Args) != 2 {
		return false
	}
	s := ps.statusOf(h, call.Args[0], live)
	return s != nil && s.isError && onlyNil(s.values) && !ps.info.Types[call.Args[1]].IsNil()
}

// statusOf returns the live status of h that e names, or nil.
func (ps *pathSearch) statusOf(h *heldGuard, e ast.Expr, live uint64) *status {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	for i := range h.statuses {
		if s := &h.statuses[i]; live&(1<<i) != 0 && ps.info.Uses[id] == s.v {
			return s
		}
	}
	return nil
}

func onlyNil(values []string) bool { return len(values) == 1 && values[0] == "nil" }
