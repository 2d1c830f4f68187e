package lostrelease

import (
	"go/ast"
	"go/types"
	"slices"
)

// statusVars returns the variables that the statements assigning the
// calls on a short ctx assign besides their guards: their statuses, errors
// and ctxs.
func (sg *shortGuards) statusVars() map[*types.Var]bool {
	info := sg.c.pass.TypesInfo
	vars := make(map[*types.Var]bool)
	inspectFunc(sg.body, func(n ast.Node) {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Rhs) != 1 || len(as.Lhs) < 2 {
			return
		}
		call, _ := ast.Unparen(as.Rhs[0]).(*ast.CallExpr)
		guard, short := sg.short[call]
		if !short {
			return
		}
		for i, lhs := range as.Lhs {
			if id, ok := ast.Unparen(lhs).(*ast.Ident); ok && i != guard {
				if v, ok := info.ObjectOf(id).(*types.Var); ok {
					vars[v] = true
				}
			}
		}
	})
	return vars
}

// underStatus reports whether r is in a branch of an if or a switch whose
// condition, tag or cases read a status of a call on a short ctx, or in a
// type switch on one: the guard may be nil there, and the analyzer does
// not tell.
func (sg *shortGuards) underStatus(r *ast.ReturnStmt) bool {
	found := false
	inspectFunc(sg.body, func(n ast.Node) {
		if found || !within(n, r.Pos()) {
			return
		}
		switch n := n.(type) {
		case *ast.IfStmt:
			found = (within(n.Body, r.Pos()) || n.Else != nil && within(n.Else, r.Pos())) && sg.readsStatus(n.Cond)
		case *ast.SwitchStmt:
			found = within(n.Body, r.Pos()) && (n.Tag != nil && sg.readsStatus(n.Tag) ||
				slices.ContainsFunc(n.Body.List, func(s ast.Stmt) bool {
					return slices.ContainsFunc(s.(*ast.CaseClause).List, func(e ast.Expr) bool { return sg.readsStatus(e) })
				}))
		}
	})
	return found || sg.underTypeSwitch(r)
}

// underTypeSwitch reports whether r is in a type switch on a status of a
// call on a short ctx (`switch err.(type)`), which the paths do not read.
func (sg *shortGuards) underTypeSwitch(r *ast.ReturnStmt) bool {
	found := false
	inspectFunc(sg.body, func(n ast.Node) {
		ts, ok := n.(*ast.TypeSwitchStmt)
		found = found || ok && within(ts.Body, r.Pos()) && sg.readsStatus(ts.Assign)
	})
	return found
}

// readsStatus reports whether n reads a variable of sg.statuses.
func (sg *shortGuards) readsStatus(n ast.Node) bool {
	reads := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			v, isVar := sg.c.pass.TypesInfo.Uses[id].(*types.Var)
			reads = reads || isVar && sg.statuses[v]
		}
		return !reads
	})
	return reads
}

// returnsOther reports whether a return statement with results gives g, a
// named result, anything but nil, g itself or the guard of a call on a
// short ctx: `return acquire(parent)` assigns the named results too.
func (sg *shortGuards) returnsOther(g *types.Var) bool {
	at := slices.Index(sg.named, g)
	if at < 0 {
		return false
	}
	info := sg.c.pass.TypesInfo
	for _, r := range sg.returns {
		switch {
		case len(r.Results) == 0:
		case len(r.Results) == len(sg.named):
			e := ast.Unparen(r.Results[at])
			call, _ := e.(*ast.CallExpr)
			if i, short := sg.short[call]; !(sg.c.nilGuard(e) || isVar(info, e, g) || short && i == 0) {
				return true
			}
		default: // one call's results
			call, _ := ast.Unparen(r.Results[0]).(*ast.CallExpr)
			if i, short := sg.short[call]; !short || i != at {
				return true
			}
		}
	}
	return false
}
