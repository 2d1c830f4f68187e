package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
)

// releasingClosures returns the local func variables whose call uses h's
// guard: every value the function assigns them is a function literal
// whose body uses the guard or calls another such variable, and their
// address is never taken. A call of one counts as a use of the guard.
func (ps *pathSearch) releasingClosures(h *heldGuard) map[*types.Var]bool {
	lits := ps.funcLitVars()
	calls := make(map[*types.Var]bool)
	for changed := true; changed; {
		changed = false
		for v, ls := range lits {
			if calls[v] {
				continue
			}
			all := true
			for _, lit := range ls {
				if !usesVar(ps.info, lit.Body, h.v, calls, make(map[*ast.Ident]bool)) {
					all = false
					break
				}
			}
			if all {
				calls[v] = true
				changed = true
			}
		}
	}
	return calls
}

// funcLitVars returns the local variables of the function that are only
// ever assigned function literals, and those literals.
func (ps *pathSearch) funcLitVars() map[*types.Var][]*ast.FuncLit {
	lits := make(map[*types.Var][]*ast.FuncLit)
	other := make(map[*types.Var]bool) // assigned something else, or addressed
	local := func(e ast.Expr) *types.Var {
		if id, ok := ast.Unparen(e).(*ast.Ident); ok {
			if v, ok := ps.info.ObjectOf(id).(*types.Var); ok && within(ps.body, v.Pos()) {
				return v
			}
		}
		return nil
	}
	assign := func(lhs, rhs []ast.Expr) {
		for i, e := range lhs {
			v := local(e)
			lit, isLit := (*ast.FuncLit)(nil), false
			if len(lhs) == len(rhs) {
				lit, isLit = ast.Unparen(rhs[i]).(*ast.FuncLit)
			}
			switch {
			case v == nil:
			case isLit:
				lits[v] = append(lits[v], lit)
			default:
				other[v] = true
			}
		}
	}
	ast.Inspect(ps.body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			assign(n.Lhs, n.Rhs)
		case *ast.ValueSpec:
			if len(n.Values) > 0 {
				assign(identExprs(n.Names), n.Values)
			}
		case *ast.UnaryExpr:
			if v := local(n.X); v != nil && n.Op == token.AND {
				other[v] = true
			}
		case *ast.RangeStmt:
			for _, e := range []ast.Expr{n.Key, n.Value} {
				if v := local(e); e != nil && v != nil {
					other[v] = true
				}
			}
		}
		return true
	})
	for v := range other {
		delete(lits, v)
	}
	return lits
}
