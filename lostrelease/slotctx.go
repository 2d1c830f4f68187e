package lostrelease

import (
	"go/ast"
	"go/types"
)

// slotContexts returns the variables of type context.Context that the
// statement of call, the guard's call in loop's body, declares (`ctx, rel,
// err := l.TryAcquire(...)`, `var sctx, rel, err = acquire(...)`), and
// that the function assigns nowhere else and takes no address of (see
// [pathSearch.onlyDeclaration]): the ctx that ends when the slot is lost,
// which tells nothing of the element the slot was asked for. The call's
// other results (its error, a connection) and a ctx declared by another
// call are not among them.
func (ps *pathSearch) slotContexts(loop *ast.RangeStmt, call *ast.CallExpr) map[*types.Var]bool {
	var decl ast.Node
	var names []ast.Expr
	ast.Inspect(loop.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Rhs) == 1 && ast.Unparen(n.Rhs[0]) == call {
				decl, names = n, n.Lhs
			}
		case *ast.ValueSpec:
			if len(n.Values) == 1 && ast.Unparen(n.Values[0]) == call {
				decl, names = n, identExprs(n.Names)
			}
		}
		return decl == nil
	})
	slot := make(map[*types.Var]bool)
	for _, e := range names {
		id, _ := e.(*ast.Ident)
		if id == nil {
			continue
		}
		if v, _ := ps.info.Defs[id].(*types.Var); v != nil && isContext(v.Type()) && ps.onlyDeclaration(v) == decl {
			slot[v] = true
		}
	}
	return slot
}
