package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
)

// stableExpr reports whether e reads only constants and local variables
// that hold one value all along (see [pathSearch.stableVar]), directly or
// through fields of a struct value, with operators: it has the same value
// wherever it is read in the variables' scope.
func (ps *pathSearch) stableExpr(e ast.Expr) bool {
	ok := true
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			switch obj := ps.info.Uses[n].(type) {
			case *types.Const, *types.Nil:
			case *types.Var:
				ok = ok && ps.stableVar(obj)
			default:
				ok = false
			}
		case *ast.SelectorExpr:
			ok = ok && ps.stableSelector(n)
			return false
		case *ast.UnaryExpr:
			ok = ok && n.Op != token.AND && n.Op != token.ARROW
		case nil, *ast.ParenExpr, *ast.BinaryExpr, *ast.BasicLit:
		default:
			ok = false
		}
		return ok
	})
	return ok
}

// stableSelector is stableExpr for a selector: a constant of another
// package, or a field of a struct value that is stable.
func (ps *pathSearch) stableSelector(sel *ast.SelectorExpr) bool {
	s := ps.info.Selections[sel]
	if s == nil {
		_, isConst := ps.info.Uses[sel.Sel].(*types.Const)
		return isConst
	}
	_, ptr := ps.info.TypeOf(sel.X).Underlying().(*types.Pointer)
	switch ast.Unparen(sel.X).(type) {
	case *ast.Ident, *ast.SelectorExpr:
		return s.Kind() == types.FieldVal && !ptr && ps.stableExpr(sel.X)
	}
	return false
}

// stableVar reports whether v, a local variable, is assigned nowhere but
// where it is declared, function literals included, and its address, or
// that of a field of it, is never taken. Where ps.file is not known, only
// a variable declared in the function's body is.
func (ps *pathSearch) stableVar(v *types.Var) bool {
	if v.Parent() == nil || v.Pkg() == nil || v.Parent() == v.Pkg().Scope() {
		return false
	}
	scope := ast.Node(ps.file)
	if ps.file == nil {
		if !within(ps.body, v.Pos()) {
			return false
		}
		scope = ps.body
	}
	if ps.rootAssigned == nil {
		ps.rootAssigned = make(map[ast.Node]map[*types.Var][]ast.Node)
	}
	if ps.rootAssigned[scope] == nil {
		ps.rootAssigned[scope] = rootAssignments(ps.info, scope)
	}
	as := ps.rootAssigned[scope][v]
	return len(as) == 0 || len(as) == 1 && declares(ps.info, as[0], v)
}

// rootAssignments returns, for each variable, the nodes of n that assign
// it, a field of it or an element of it if it is an array, or take the
// address of one (see [assignedExprs] and [addressedBy]).
func rootAssignments(info *types.Info, n ast.Node) map[*types.Var][]ast.Node {
	m := make(map[*types.Var][]ast.Node)
	ast.Inspect(n, func(node ast.Node) bool {
		exprs := assignedExprs(node)
		if sel, ok := node.(*ast.SelectorExpr); ok && addressedBy(info, sel) {
			exprs = []ast.Expr{sel.X}
		}
		for _, e := range exprs {
			if v := rootVar(info, e); v != nil {
				m[v] = append(m[v], node)
			}
		}
		return true
	})
	return m
}

// rootVar returns the variable whose value e is part of: e itself, a
// field of a struct value, an element of an array; nil for anything read
// through a pointer, a slice or a map.
func rootVar(info *types.Info, e ast.Expr) *types.Var {
	for e != nil {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			v, _ := info.ObjectOf(x).(*types.Var)
			return v
		case *ast.SelectorExpr:
			if s := info.Selections[x]; s == nil || s.Kind() != types.FieldVal || s.Indirect() {
				return nil
			}
			e = x.X
		case *ast.IndexExpr:
			if _, ok := info.TypeOf(x.X).Underlying().(*types.Array); !ok {
				return nil
			}
			e = x.X
		default:
			return nil
		}
	}
	return nil
}

// declares reports whether n, an assignment, a var spec or a range
// statement, declares v.
func declares(info *types.Info, n ast.Node, v *types.Var) bool {
	var names []ast.Expr
	switch d := n.(type) {
	case *ast.AssignStmt:
		names = d.Lhs
	case *ast.ValueSpec:
		names = identExprs(d.Names)
	case *ast.RangeStmt:
		names = []ast.Expr{d.Key, d.Value}
	}
	for _, e := range names {
		if id, ok := e.(*ast.Ident); ok && info.Defs[id] == v {
			return true
		}
	}
	return false
}

// assignsAny reports whether n assigns a variable or takes an address,
// function literals included.
func assignsAny(info *types.Info, n ast.Node) bool {
	found := false
	ast.Inspect(n, func(node ast.Node) bool {
		sel, isSel := node.(*ast.SelectorExpr)
		found = found || len(assignedExprs(node)) > 0 || isSel && addressedBy(info, sel)
		return !found
	})
	return found
}
