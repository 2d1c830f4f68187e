package lostrelease

import (
	"go/ast"
	"go/types"
)

// statusCopy returns the expression that the variable named by id was
// assigned, if id may stand for it in a condition on v
// (`ok := st == OK; if !ok { ... }`): both id's variable and v are
// declared in the function and assigned only where they are declared,
// assignments in closures and taking the address included. Then v holds
// the same value wherever id is read as where id was assigned: Go's
// scopes put each read of id after the latest run of id's declaration,
// and that after the latest run of v's.
func (ps *pathSearch) statusCopy(id *ast.Ident, v *types.Var) ast.Expr {
	c, ok := ps.info.Uses[id].(*types.Var)
	if !ok || c == v || ps.onlyDeclaration(v) == nil {
		return nil
	}
	var lhs, rhs []ast.Expr
	switch d := ps.onlyDeclaration(c).(type) {
	case *ast.AssignStmt:
		lhs, rhs = d.Lhs, d.Rhs
	case *ast.ValueSpec:
		lhs, rhs = identExprs(d.Names), d.Values
	default:
		return nil
	}
	if len(lhs) != len(rhs) {
		return nil
	}
	return rhs[indexOfVar(ps.info, lhs, c)]
}

// onlyDeclaration returns the statement of the function that declares v,
// an assignment or a var spec, if v is assigned nowhere else: declared
// there, v cannot be assigned outside the function.
func (ps *pathSearch) onlyDeclaration(v *types.Var) ast.Node {
	if ps.assigned == nil {
		ps.assigned = assignmentsIn(ps.info, ps.body)
	}
	return onlyDeclaration(ps.info, ps.assigned, v)
}

// onlyDeclaration returns the node that declares v, an assignment or a var
// spec, if assigned (see [assignmentsIn]) holds it as v's only assignment.
func onlyDeclaration(info *types.Info, assigned map[*types.Var][]ast.Node, v *types.Var) ast.Node {
	as := assigned[v]
	if len(as) != 1 {
		return nil
	}
	var names []ast.Expr
	switch d := as[0].(type) {
	case *ast.AssignStmt:
		names = d.Lhs
	case *ast.ValueSpec:
		names = identExprs(d.Names)
	}
	for _, e := range names {
		if id, ok := e.(*ast.Ident); ok && info.Defs[id] == v {
			return as[0]
		}
	}
	return nil
}

// assignmentsIn returns, for each variable, the nodes of body that assign
// it or take its address, function literals included.
func assignmentsIn(info *types.Info, body *ast.BlockStmt) map[*types.Var][]ast.Node {
	assigned := make(map[*types.Var][]ast.Node)
	ast.Inspect(body, func(node ast.Node) bool {
		for _, e := range assignedExprs(node) {
			if id, ok := ast.Unparen(e).(*ast.Ident); ok {
				if v, ok := info.ObjectOf(id).(*types.Var); ok {
					assigned[v] = append(assigned[v], node)
				}
			}
		}
		return true
	})
	return assigned
}
