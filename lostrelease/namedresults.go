package lostrelease

import (
	"go/ast"
	"go/types"
)

// checkedResults returns the named results of a function of type ft with
// body, which hold guards to be checked there like its local variables: a
// bare return returns them, so it uses each; a return with results sets
// them, so it uses only those it names.
//
// It returns nil, and no guard in a named result is checked, when the
// function may return its named results with values its paths do not
// show: when a function literal in body assigns one of them (a deferred
// call does so after the return statement), when the address of one is
// taken (a pointer method called on it included), or when a function
// literal calls recover (a recovered panic returns them as they are).
func (c *checker) checkedResults(ft *ast.FuncType, body *ast.BlockStmt) map[*types.Var]bool {
	if ft.Results == nil {
		return nil
	}
	info := c.pass.TypesInfo
	results := make(map[*types.Var]bool)
	for _, f := range ft.Results.List {
		for _, name := range f.Names {
			if v, ok := info.Defs[name].(*types.Var); ok && name.Name != "_" {
				results[v] = true
			}
		}
	}
	if len(results) == 0 {
		return nil
	}
	assigned := assignmentsIn(info, body)
	for v := range results {
		if changedAside(body, assigned, v) {
			return nil
		}
	}
	if recoversInLiteral(info, body) {
		return nil
	}
	return results
}

// recoversInLiteral reports whether a function literal in body calls
// recover.
func recoversInLiteral(info *types.Info, body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		lit, ok := n.(*ast.FuncLit)
		if !ok {
			return !found
		}
		ast.Inspect(lit.Body, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
					if b, ok := info.Uses[id].(*types.Builtin); ok && b.Name() == "recover" {
						found = true
					}
				}
			}
			return !found
		})
		return false
	})
	return found
}
