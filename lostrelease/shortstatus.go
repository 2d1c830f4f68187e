package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// statusVars finds the statuses of the calls on a short ctx: the variables
// their statements assign besides the guards (statuses, errors and ctxs;
// for a field, the variable it belongs to), each with those statements;
// then, in up to three rounds, the variables derived from them: assigned
// a value that reads one (a mapped status, a bool set from a comparison, a
// closure that reads one).
func (sg *shortGuards) statusVars() {
	info := sg.c.pass.TypesInfo
	sg.statuses, sg.derived = make(map[*types.Var][]ast.Node), make(map[*types.Var]bool)
	inspectFunc(sg.body, func(n ast.Node) {
		lhs, rhs := assignParts(n)
		if len(rhs) != 1 || len(lhs) < 2 {
			return
		}
		call, _ := ast.Unparen(rhs[0]).(*ast.CallExpr)
		if guard, short := sg.short[call]; short {
			for i, e := range lhs {
				if v := baseVar(info, e); v != nil && i != guard {
					sg.statuses[v] = append(sg.statuses[v], n)
				}
			}
		}
	})
	for grown, round := true, 0; grown && round < 3; round++ {
		grown = false
		inspectFunc(sg.body, func(n ast.Node) {
			lhs, rhs := assignParts(n)
			if !slices.ContainsFunc(rhs, sg.readsAny) {
				return
			}
			for _, e := range lhs {
				if v := baseVar(info, e); v != nil && sg.statuses[v] == nil && !sg.derived[v] {
					sg.derived[v], grown = true, true
				}
			}
		})
	}
}

// assignParts returns the left and right sides of n, an assignment or a
// declaration with values, or nothing.
func assignParts(n ast.Node) (lhs, rhs []ast.Expr) {
	switch n := n.(type) {
	case *ast.AssignStmt:
		return n.Lhs, n.Rhs
	case *ast.ValueSpec:
		return identExprs(n.Names), n.Values
	}
	return nil, nil
}

// baseVar returns the variable e is, or whose field (at any depth) e is.
func baseVar(info *types.Info, e ast.Expr) *types.Var {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			v, _ := info.ObjectOf(x).(*types.Var)
			return v
		case *ast.SelectorExpr:
			e = x.X
		default:
			return nil
		}
	}
}

// underStatus reports whether r is in a branch of an if or a switch whose
// condition, tag or cases read a status of a call on a short ctx, and that
// read does not (the paths searched read it, and tell whether the guard
// may be held there); or in a clause other than `case nil` of a type
// switch on one: the guard may be nil there, and the analyzer does not
// tell.
func (sg *shortGuards) underStatus(r *ast.ReturnStmt, read func(ast.Expr) bool) bool {
	found := false
	inspectFunc(sg.body, func(n ast.Node) {
		if found || !within(n, r.Pos()) {
			return
		}
		switch n := n.(type) {
		case *ast.IfStmt:
			found = (within(n.Body, r.Pos()) || n.Else != nil && within(n.Else, r.Pos())) && sg.readsStatus(n.Cond) && !read(n.Cond)
		case *ast.SwitchStmt:
			found = within(n.Body, r.Pos()) && sg.switchOnStatus(n, read)
		case *ast.TypeSwitchStmt:
			found = sg.readsStatus(n.Assign) && slices.ContainsFunc(n.Body.List, func(s ast.Stmt) bool {
				return within(s, r.Pos()) && !sg.nilCase(s.(*ast.CaseClause))
			})
		}
	})
	return found
}

// switchOnStatus reports whether the tag or a case of sw reads a status of
// a call on a short ctx, and some case's condition is not read.
func (sg *shortGuards) switchOnStatus(sw *ast.SwitchStmt, read func(ast.Expr) bool) bool {
	reads, allRead := sw.Tag != nil && sg.readsStatus(sw.Tag), true
	for _, s := range sw.Body.List {
		for _, e := range s.(*ast.CaseClause).List {
			reads = reads || sg.readsStatus(e)
			allRead = allRead && read(caseCond(sw, e))
		}
	}
	return reads && !allRead
}

// nilCase reports whether cc is `case nil:`.
func (sg *shortGuards) nilCase(cc *ast.CaseClause) bool {
	if len(cc.List) != 1 {
		return false
	}
	id, ok := ast.Unparen(cc.List[0]).(*ast.Ident)
	return ok && sg.c.pass.TypesInfo.ObjectOf(id) == types.Universe.Lookup("nil")
}

// readsStatus reports whether n reads a status derived from a call on a
// short ctx, or a status of one that no later assignment has replaced by
// then (see killed).
func (sg *shortGuards) readsStatus(n ast.Node) bool {
	reads := false
	ast.Inspect(n, func(m ast.Node) bool {
		if id, ok := m.(*ast.Ident); ok {
			if v, ok := sg.c.pass.TypesInfo.Uses[id].(*types.Var); ok {
				reads = reads || sg.derived[v] || sg.statuses[v] != nil && !sg.killed(v, id)
			}
		}
		return !reads
	})
	return reads
}

// readsAny reports whether e reads a status or a variable derived from one.
func (sg *shortGuards) readsAny(e ast.Expr) bool {
	reads := false
	ast.Inspect(e, func(m ast.Node) bool {
		if id, ok := m.(*ast.Ident); ok {
			v, _ := sg.c.pass.TypesInfo.Uses[id].(*types.Var)
			reads = reads || v != nil && (sg.derived[v] || sg.statuses[v] != nil)
		}
		return !reads
	})
	return reads
}

// killed reports whether the status v, read at id, holds another value by
// then on every path: an assignment of v that reads no status, after every
// statement of a call on a short ctx that assigns v and before id, is a
// statement of a list that holds id too (`relU, st := acquire(ctx, ...)`).
func (sg *shortGuards) killed(v *types.Var, id *ast.Ident) bool {
	last := token.NoPos
	for _, n := range sg.statuses[v] {
		last = max(last, n.End())
	}
	for _, a := range sg.assigned[v] {
		as, ok := a.(*ast.AssignStmt)
		if !ok || slices.Contains(sg.statuses[v], a) || as.Pos() < last || as.End() > id.Pos() ||
			slices.ContainsFunc(as.Rhs, sg.readsAny) {
			continue
		}
		if sg.inListWith(as, id) {
			return true
		}
	}
	return false
}

// inListWith reports whether s is a statement of a block or clause of the
// function that holds n too.
func (sg *shortGuards) inListWith(s ast.Stmt, n ast.Node) bool {
	found := false
	inspectFunc(sg.body, func(m ast.Node) {
		var list []ast.Stmt
		switch m := m.(type) {
		case *ast.BlockStmt:
			list = m.List
		case *ast.CaseClause:
			list = m.Body
		case *ast.CommClause:
			list = m.Body
		}
		found = found || slices.Contains(list, s) && within(m, n.Pos())
	})
	return found
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
