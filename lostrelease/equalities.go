package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/types/typeutil"
)

// An equality says that x == y where a condition is read in from..to:
// a check `if x != y { ... }` whose body ends the path (see [endsPath])
// comes before it in the same statement list.
type equality struct {
	x, y     ast.Expr
	from, to token.Pos
}

// equalReading returns what cond being truth says of s read through an
// equality that holds at cond: cond with one operand of the equality
// replaced by the other (`tc.want != statusOK` read as `st != statusOK`
// past `if st != tc.want { t.Fatalf(...) }`).
func (ps *pathSearch) equalReading(s *status, cond ast.Expr, truth bool) (valueConstraint, bool) {
	if ps.equalities == nil {
		ps.equalities = ps.findEqualities()
	}
	for _, eq := range ps.equalities {
		if cond.Pos() < eq.from || cond.Pos() >= eq.to {
			continue
		}
		for _, d := range [][2]ast.Expr{{eq.x, eq.y}, {eq.y, eq.x}} {
			if e, ok := replaceRef(ps.info, cond, d[0], d[1]); ok {
				if c, ok := ps.constraint(s, e, truth, 0); ok {
					return c, true
				}
			}
		}
	}
	return valueConstraint{}, false
}

// findEqualities returns the equalities of the function's checks: a
// statement `if x != y { ... }` with no else, whose body ends the path,
// where x and y are values of a boolean, integer or string type that
// [pathSearch.stableExpr] accepts, gives x == y to the conditions of the
// statements after it in its list, up to the first one that assigns a
// variable (its own condition included, not its body): no path comes
// there but past the check, and every variable holds there what it held
// at the check. A function with a goto has none.
func (ps *pathSearch) findEqualities() []equality {
	eqs := []equality{}
	if hasGoto(ps.body) {
		return eqs
	}
	inspectFunc(ps.body, func(n ast.Node) {
		var list []ast.Stmt
		switch n := n.(type) {
		case *ast.BlockStmt:
			list = n.List
		case *ast.CaseClause:
			list = n.Body
		case *ast.CommClause:
			list = n.Body
		}
		for i, s := range list {
			if x, y, ok := ps.check(s); ok {
				for _, r := range conditionsAfter(ps.info, list[i+1:]) {
					eqs = append(eqs, equality{x, y, r.Pos(), r.End()})
				}
			}
		}
	})
	return eqs
}

// check returns the operands of s, if s is a check that gives them equal
// to the statements after it (see [pathSearch.findEqualities]).
func (ps *pathSearch) check(s ast.Stmt) (x, y ast.Expr, ok bool) {
	is, _ := s.(*ast.IfStmt)
	if is == nil || is.Else != nil || len(is.Body.List) == 0 || !endsPath(ps.info, is.Body.List[len(is.Body.List)-1]) {
		return nil, nil, false
	}
	b, _ := ast.Unparen(is.Cond).(*ast.BinaryExpr)
	if b == nil || b.Op != token.NEQ || !basicValue(ps.info, b.X) || !ps.stableExpr(b.X) || !ps.stableExpr(b.Y) {
		return nil, nil, false
	}
	return b.X, b.Y, true
}

// conditionsAfter returns the conditions of the statements of list, an if's
// or a switch's tag and case values, up to the first statement that
// assigns a variable, whose conditions come before it does.
func conditionsAfter(info *types.Info, list []ast.Stmt) []ast.Expr {
	var conds []ast.Expr
	for _, s := range list {
		switch s := s.(type) { // an init statement runs before the condition
		case *ast.IfStmt:
			if s.Init == nil {
				conds = append(conds, s.Cond)
			}
		case *ast.SwitchStmt:
			if s.Init == nil {
				conds = append(conds, switchConds(s)...)
			}
		}
		if assignsAny(info, s) {
			return conds
		}
	}
	return conds
}

// switchConds returns sw's tag, if any, and its case values: all are
// evaluated before any case body runs.
func switchConds(sw *ast.SwitchStmt) []ast.Expr {
	var conds []ast.Expr
	if sw.Tag != nil {
		conds = append(conds, sw.Tag)
	}
	for _, cc := range sw.Body.List {
		conds = append(conds, cc.(*ast.CaseClause).List...)
	}
	return conds
}

// endsPath reports whether s, the last statement of an if's body, keeps
// the path from going on past the if: a return, a break or continue, a
// panic, or a testing method that ends the test (t.Fatal, t.FailNow,
// t.Skip and the rest; not t.Error, after which the test goes on).
func endsPath(info *types.Info, s ast.Stmt) bool {
	switch s := s.(type) {
	case *ast.ReturnStmt:
		return true
	case *ast.BranchStmt:
		return s.Tok == token.BREAK || s.Tok == token.CONTINUE
	case *ast.ExprStmt:
		call, ok := ast.Unparen(s.X).(*ast.CallExpr)
		if !ok {
			return false
		}
		switch fn := typeutil.Callee(info, call).(type) {
		case *types.Builtin:
			return fn.Name() == "panic"
		case *types.Func:
			return fn.Pkg() != nil && fn.Pkg().Path() == "testing" && fn.Signature().Recv() != nil && testEnds[fn.Name()]
		}
	}
	return false
}

// testEnds are the methods of package testing that end the test.
var testEnds = map[string]bool{"Fatal": true, "Fatalf": true, "FailNow": true, "Skip": true, "Skipf": true, "SkipNow": true}

// basicValue reports whether e is of a boolean, integer or string type.
func basicValue(info *types.Info, e ast.Expr) bool {
	t, ok := info.TypeOf(e).Underlying().(*types.Basic)
	return ok && t.Info()&(types.IsBoolean|types.IsInteger|types.IsString) != 0
}

// replaceRef returns e with each operand that names the same variable or
// field as from (see [sameRef]) replaced by to, reading through parens,
// unary and binary operators, and whether it replaced one.
func replaceRef(info *types.Info, e, from, to ast.Expr) (ast.Expr, bool) {
	if sameRef(info, e, from) {
		return to, true
	}
	switch x := e.(type) {
	case *ast.ParenExpr:
		if in, ok := replaceRef(info, x.X, from, to); ok {
			return &ast.ParenExpr{Lparen: x.Lparen, X: in, Rparen: x.Rparen}, true
		}
	case *ast.UnaryExpr:
		if in, ok := replaceRef(info, x.X, from, to); ok {
			return &ast.UnaryExpr{OpPos: x.OpPos, Op: x.Op, X: in}, true
		}
	case *ast.BinaryExpr:
		l, okl := replaceRef(info, x.X, from, to)
		r, okr := replaceRef(info, x.Y, from, to)
		if okl || okr {
			return &ast.BinaryExpr{X: l, OpPos: x.OpPos, Op: x.Op, Y: r}, true
		}
	}
	return e, false
}

// sameRef reports whether e and ref name the same local variable, or the
// same field of it (`tc.want`).
func sameRef(info *types.Info, e, ref ast.Expr) bool {
	switch r := ast.Unparen(ref).(type) {
	case *ast.Ident:
		id, ok := ast.Unparen(e).(*ast.Ident)
		v, isVar := info.Uses[r].(*types.Var)
		return ok && isVar && info.Uses[id] == v
	case *ast.SelectorExpr:
		sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
		rs := info.Selections[r]
		return ok && rs != nil && rs.Kind() == types.FieldVal && info.Selections[sel] != nil &&
			info.Selections[sel].Obj() == rs.Obj() && sameRef(info, sel.X, r.X)
	}
	return false
}
