package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
)

// cleanedUp reports whether result i of a helper, of n results (named
// the variable result when it has a name), is on every return nil or a
// variable that the helper has registered before
// that return with the Cleanup method of a testing type, by a statement of
// its body itself (`t.Cleanup(rel)` or `t.Cleanup(func() { rel() })`, not
// in an if or a loop; a body with a goto is not read), and not assigned
// after: the test frees it when it ends, so a caller may drop what the
// helper returns. A bare return returns result.
func (c *checker) cleanedUp(hb *helperBody, i, n int, result *types.Var) bool {
	info := c.pass.TypesInfo
	body := hb.returned.body
	registered := make(map[*types.Var]token.Pos) // where each is registered first
	for _, st := range body.List {
		es, ok := st.(*ast.ExprStmt)
		if !ok {
			continue
		}
		call, ok := es.X.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 || !isTestingCleanup(info, call) {
			continue
		}
		if v := cleanupTarget(info, call.Args[0]); v != nil && registered[v] == token.NoPos {
			registered[v] = call.Pos()
		}
	}
	if len(registered) == 0 || hasGoto(body) {
		return false
	}
	for v, at := range registered {
		if assignedAfter(info, body, v, at) {
			delete(registered, v) // the test frees what it holds then, not the first guard
		}
	}
	some := false
	for _, ret := range hb.returns {
		v := result
		if len(ret.Results) == 0 && result.Name() == "" || len(ret.Results) != n && len(ret.Results) != 0 {
			return false
		}
		if len(ret.Results) == n {
			e := ret.Results[i]
			if c.nilGuard(e) {
				continue
			}
			id, ok := ast.Unparen(e).(*ast.Ident)
			if !ok {
				return false
			}
			v, _ = info.Uses[id].(*types.Var)
		}
		if at := registered[v]; v == nil || at == token.NoPos || at > ret.Pos() {
			return false
		}
		some = true
	}
	return some
}

// cleanupTarget returns the variable whose func a Cleanup argument calls:
// the variable itself, or a literal whose body is just its call.
func cleanupTarget(info *types.Info, arg ast.Expr) *types.Var {
	e := ast.Unparen(arg)
	if lit, ok := e.(*ast.FuncLit); ok {
		e = nil
		if len(lit.Body.List) == 1 {
			if es, ok := lit.Body.List[0].(*ast.ExprStmt); ok {
				if call, ok := ast.Unparen(es.X).(*ast.CallExpr); ok && len(call.Args) == 0 {
					e = ast.Unparen(call.Fun)
				}
			}
		}
	}
	id, ok := e.(*ast.Ident)
	if !ok {
		return nil
	}
	v, _ := info.Uses[id].(*types.Var)
	return v
}

// assignedAfter reports whether body assigns v anywhere after pos. A store
// through v's address is not seen: a helper given it (`check(t, &rel)`)
// more likely reads it.
func assignedAfter(info *types.Info, body *ast.BlockStmt, v *types.Var, pos token.Pos) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil || n.Pos() < pos && !within(n, pos) {
			return !found
		}
		var targets []ast.Expr
		switch n := n.(type) {
		case *ast.AssignStmt:
			targets = n.Lhs
		}
		for _, e := range targets {
			if id, ok := ast.Unparen(e).(*ast.Ident); ok && info.ObjectOf(id) == v && n.Pos() >= pos {
				found = true
			}
		}
		return !found
	})
	return found
}

// hasGoto reports whether body, function literals left out, has a goto.
func hasGoto(body *ast.BlockStmt) bool {
	found := false
	inspectFunc(body, func(n ast.Node) {
		if b, ok := n.(*ast.BranchStmt); ok && b.Tok == token.GOTO {
			found = true
		}
	})
	return found
}

// isTestingCleanup reports whether call calls the Cleanup method of a
// type of package testing (T, B, F, or the TB interface).
func isTestingCleanup(info *types.Info, call *ast.CallExpr) bool {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Cleanup" {
		return false
	}
	s := info.Selections[sel]
	if s == nil || s.Kind() != types.MethodVal {
		return false
	}
	fn, ok := s.Obj().(*types.Func)
	return ok && fn.Pkg() != nil && fn.Pkg().Path() == "testing"
}
