package lostrelease

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"maps"
	"slices"
	"strings"

	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"
)

// A condScope is what is known where a block's condition is evaluated on
// a path that holds h's guard: which statuses are live, still holding the
// call's values, and which of those values each may hold, as
// [status.full] does.
type condScope struct {
	h      *heldGuard
	live   uint64
	values []uint64 // by status index; 0 for a status not live
}

// nothingHeldOnEdge reports whether the edge from b to its j-th successor
// is taken only when h's guard is nil, or when a live status says the call
// returned no guard: once the edge's condition is met, a live status can
// hold none of the values under which the guard may be non-nil.
func (ps *pathSearch) nothingHeldOnEdge(cs *condScope, b *cfg.Block, j int) bool {
	cond, truth, ok := ps.edgeCond(b, j)
	if !ok {
		return cs.excluded(func(*status) uint64 { return ^uint64(0) })
	}
	return ps.nothingHeld(cs, cond, truth)
}

// edgeCond returns the condition that holds, as truth says, on the edge
// from b to its j-th successor, if there is one: a branch of an if or for
// condition or of a switch case.
func (ps *pathSearch) edgeCond(b *cfg.Block, j int) (cond ast.Expr, truth, ok bool) {
	succs := b.Succs
	if len(succs) == 2 && succs[0].Kind == cfg.KindSwitchCaseBody {
		if cc, _ := succs[0].Stmt.(*ast.CaseClause); ps.typeSw[cc] != nil {
			return ps.typeCaseCond(ps.typeSw[cc], cc, j)
		}
	}
	if len(succs) != 2 || len(b.Nodes) == 0 {
		return nil, false, false
	}
	cond, ok = b.Nodes[len(b.Nodes)-1].(ast.Expr)
	if !ok {
		return nil, false, false
	}
	switch succs[0].Kind {
	case cfg.KindIfThen, cfg.KindForBody:
		return cond, j == 0, true
	case cfg.KindSwitchCaseBody:
		cc, _ := succs[0].Stmt.(*ast.CaseClause)
		if sw := ps.switches[cc]; sw != nil && slices.Contains(cc.List, cond) {
			return caseCond(sw, cond), j == 0, true
		}
	}
	return nil, false, false
}

// narrow returns what the live statuses of cs may hold once the condition
// on the edge from b to its j-th successor, if any, is met.
func (ps *pathSearch) narrow(cs *condScope, b *cfg.Block, j int) []uint64 {
	cond, truth, ok := ps.edgeCond(b, j)
	if !ok || cs.live == 0 {
		return cs.values
	}
	values := make([]uint64, len(cs.values))
	for i := range cs.h.statuses {
		if cs.live&(1<<i) != 0 {
			values[i] = cs.values[i] & ps.allowed(&cs.h.statuses[i], cond, truth)
		}
	}
	return values
}

// typeCaseCond returns the condition that holds on the j-th edge out of
// the test of cc, a clause of the type switch ts on a variable's type
// (`switch err.(type)`), as x == nil and its truth: false into a clause of
// types only, true into `case nil`, false past a clause that lists nil;
// else nothing is known. It needs a nil of the function to compare with.
func (ps *pathSearch) typeCaseCond(ts *ast.TypeSwitchStmt, cc *ast.CaseClause, j int) (ast.Expr, bool, bool) {
	var x ast.Expr
	switch a := ts.Assign.(type) {
	case *ast.ExprStmt:
		x = a.X
	case *ast.AssignStmt:
		x = a.Rhs[0]
	}
	ta, _ := ast.Unparen(x).(*ast.TypeAssertExpr)
	nilExpr := ps.nilExpr(ts)
	if ta == nil || nilExpr == nil {
		return nil, false, false
	}
	hasNil := slices.ContainsFunc(cc.List, func(e ast.Expr) bool { return ps.info.Types[e].IsNil() })
	var truth bool
	switch {
	case j == 0 && !hasNil:
		truth = false
	case j == 0 && len(cc.List) == 1:
		truth = true
	case j == 1 && hasNil:
		truth = false
	default:
		return nil, false, false
	}
	return &ast.BinaryExpr{X: ta.X, OpPos: cc.Pos(), Op: token.EQL, Y: nilExpr}, truth, true
}

// nilExpr returns a nil of ts's cases, or else of the function, or nil.
func (ps *pathSearch) nilExpr(ts *ast.TypeSwitchStmt) ast.Expr {
	var found ast.Expr
	isNil := func(n ast.Node) {
		if e, ok := n.(ast.Expr); ok && found == nil && ps.info.Types[e].IsNil() {
			found = e
		}
	}
	inspectFunc(ts.Body, isNil)
	inspectFunc(ps.body, isNil)
	return found
}

// caseCond returns the condition under which the case value e of sw
// matches: e itself in a switch without a tag, else tag == e.
func caseCond(sw *ast.SwitchStmt, e ast.Expr) ast.Expr {
	if sw.Tag == nil {
		return e
	}
	return &ast.BinaryExpr{X: sw.Tag, OpPos: e.Pos(), Op: token.EQL, Y: e}
}

// excluded reports whether a live status of cs can hold none of the
// values under which the guard may be non-nil, once narrowed to those
// that allowed returns for it.
func (cs *condScope) excluded(allowed func(*status) uint64) bool {
	for i := range cs.h.statuses {
		s := &cs.h.statuses[i]
		if cs.live&(1<<i) != 0 && s.none(cs.values[i]&allowed(s)) {
			return true
		}
	}
	return false
}

// nothingHeld reports whether, on the branch where cond is truth, h's
// guard is nil or a live status holds a value under which the guard's call
// returns none. Conditions are read through !, && and ||.
func (ps *pathSearch) nothingHeld(cs *condScope, cond ast.Expr, truth bool) bool {
	if cs.excluded(func(s *status) uint64 { return ps.allowed(s, cond, truth) }) {
		return true
	}
	switch e := ast.Unparen(cond).(type) {
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			return ps.nothingHeld(cs, e.X, !truth)
		}
	case *ast.BinaryExpr:
		return ps.nothingHeldBinary(cs, e, truth)
	case *ast.CallExpr:
		// Where the test has failed, a path ends as one through t.Error does.
		return truth && ps.failure != nil && testFailed(ps.info, e)
	}
	return false
}

// nothingHeldBinary is nothingHeld for a binary expression: a combination
// of conditions, a comparison of the guard with nil, or of a status error
// with a variable.
func (ps *pathSearch) nothingHeldBinary(cs *condScope, e *ast.BinaryExpr, truth bool) bool {
	h, live := cs.h, cs.live
	x := func(t bool) bool { return ps.nothingHeld(cs, e.X, t) }
	y := func(t bool) bool { return ps.nothingHeld(cs, e.Y, t) }
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

// A valueConstraint says that a variable holds one of a set of values,
// or none of them.
type valueConstraint struct {
	in  bool // the variable holds one of set; if false, none of set
	set map[string]bool
}

// maxCopyDepth bounds how many bool copies deep a condition is read.
const maxCopyDepth = 8

// constraint returns what cond being truth says of s's variable v, if it
// says something: a comparison of v with a constant or nil, an ordered
// comparison of v with an integer constant when s's values are integers
// (see [pathSearch.ordered]), v itself if it is a bool, a status predicate
// called on v (see [isPredicate]), a comparison of a status map's result
// with a constant (see [pathSearch.mappedComparison]), a bool copy of such
// a condition (see [pathSearch.statusCopy]), and those combined with !, &&
// and ||. depth counts the copies followed.
func (ps *pathSearch) constraint(s *status, cond ast.Expr, truth bool, depth int) (valueConstraint, bool) {
	v := s.v
	if s.cond != "" {
		if key, negated := condKey(ps.info, cond); key == s.cond {
			return valueConstraint{true, map[string]bool{constant.MakeBool(truth != negated).ExactString(): true}}, true
		}
	}
	switch e := ast.Unparen(cond).(type) {
	case *ast.Ident:
		if ps.info.Uses[e] == v {
			return valueConstraint{true, map[string]bool{constant.MakeBool(truth).ExactString(): true}}, true
		}
		if c := ps.statusCopy(e, v); c != nil && depth < maxCopyDepth {
			return ps.constraint(s, c, truth, depth+1)
		}
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			return ps.constraint(s, e.X, !truth, depth)
		}
	case *ast.BinaryExpr:
		switch e.Op {
		case token.LAND, token.LOR:
			cx, okx := ps.constraint(s, e.X, truth, depth)
			cy, oky := ps.constraint(s, e.Y, truth, depth)
			both := (e.Op == token.LAND) == truth // both operands are truth; else either is
			switch {
			case okx && oky:
				return combine(cx, cy, both), true
			case both && okx:
				return cx, true
			case both && oky:
				return cy, true
			}
		case token.EQL, token.NEQ:
			if c, ok := ps.comparison(v, e, truth); ok {
				return c, true
			}
			return ps.mappedComparison(s, e, truth, depth)
		case token.LSS, token.LEQ, token.GTR, token.GEQ:
			if c, ok := ps.ordered(s, e, truth); ok {
				return c, true
			}
			return ps.mappedComparison(s, e, truth, depth)
		}
	case *ast.CallExpr:
		if c, ok := ps.errorsCall(v, e, truth); ok {
			return c, true
		}
		return ps.predicateCall(v, e, truth)
	}
	return valueConstraint{}, false
}

// comparison is constraint for x == y or x != y.
func (ps *pathSearch) comparison(v *types.Var, e *ast.BinaryExpr, truth bool) (valueConstraint, bool) {
	other := e.Y
	if !ps.holdsStatus(v, e.X) {
		other = e.X
		if !ps.holdsStatus(v, e.Y) {
			return valueConstraint{}, false
		}
	}
	key, ok := valueKey(ps.info, other)
	if !ok {
		return valueConstraint{}, false
	}
	eq := truth == (e.Op == token.EQL)
	return valueConstraint{eq, map[string]bool{key: true}}, true
}

// combine returns the constraint that both a and b hold, if both, or
// that one of them does.
func combine(a, b valueConstraint, both bool) valueConstraint {
	if a.in != b.in {
		if a.in == both { // both: in a, not in b; either: not in b, or in a
			a, b = b, a
		}
		// Now, for both, a is "not in" and b is "in"; for either, the reverse.
		r := valueConstraint{in: b.in, set: make(map[string]bool)}
		for v := range b.set {
			if !a.set[v] {
				r.set[v] = true
			}
		}
		return r
	}
	r := valueConstraint{in: a.in, set: make(map[string]bool)}
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

// errorsCall is constraint for a call of errors.Is or errors.As on v:
// errors.Is(v, target), with target not the literal nil, and
// errors.As(v, &x) are true only when v is not nil. Where they are false,
// v may hold anything: the constraint is then that v holds none of no
// values, which lets a predicate that returns such a call be read.
func (ps *pathSearch) errorsCall(v *types.Var, call *ast.CallExpr, truth bool) (valueConstraint, bool) {
	fn := typeutil.StaticCallee(ps.info, call)
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "errors" || len(call.Args) != 2 ||
		!ps.holdsStatus(v, call.Args[0]) {
		return valueConstraint{}, false
	}
	switch {
	case fn.Name() == "Is" && !ps.info.Types[call.Args[1]].IsNil(), fn.Name() == "As":
		if !truth {
			return valueConstraint{false, map[string]bool{}}, true
		}
		return valueConstraint{false, map[string]bool{"nil": true}}, true
	}
	return valueConstraint{}, false
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

// condKey returns a key of cond that two conditions testing the same thing
// share, and whether cond says the opposite of it: parens and !s peeled,
// !=, <= and >= read as the negation of ==, > and <, the operands of &&
// and || in either order, and each variable named with where it is
// declared (a shadowing variable is another).
func condKey(info *types.Info, cond ast.Expr) (key string, negated bool) {
	e := ast.Unparen(cond)
	for u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.NOT; u, ok = e.(*ast.UnaryExpr) {
		e, negated = ast.Unparen(u.X), !negated
	}
	if b, ok := e.(*ast.BinaryExpr); ok {
		flip := map[token.Token]token.Token{token.NEQ: token.EQL, token.LEQ: token.GTR, token.GEQ: token.LSS}
		if op, ok := flip[b.Op]; ok {
			e, negated = &ast.BinaryExpr{X: b.X, Op: op, Y: b.Y}, !negated
		}
		if b.Op == token.LAND || b.Op == token.LOR {
			ops := []string{operandKey(info, b.X), operandKey(info, b.Y)}
			slices.Sort(ops)
			return ops[0] + " " + b.Op.String() + " " + ops[1], negated
		}
	}
	var vars []string
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if v, ok := info.Uses[id].(*types.Var); ok {
				vars = append(vars, fmt.Sprint(v.Pos()))
			}
		}
		return true
	})
	return types.ExprString(e) + " " + strings.Join(vars, ","), negated
}

// operandKey is the key of an operand of && or ||, its negation marked.
func operandKey(info *types.Info, e ast.Expr) string {
	key, negated := condKey(info, e)
	if negated {
		return "!(" + key + ")"
	}
	return "(" + key + ")"
}
