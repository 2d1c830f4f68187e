package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// statusVars finds the statuses of the calls on a short ctx: the variables
// (or fields) their statements assign besides the guards and ctxs
// (statuses, errors), each with those statements;
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
				if v := assignedVar(info, e); v != nil && i != guard && !isContext(v.Type()) {
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
				if v := assignedVar(info, e); v != nil && sg.statuses[v] == nil && !sg.derived[v] {
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

// assignedVar returns the variable e is, or the field e selects.
func assignedVar(info *types.Info, e ast.Expr) *types.Var {
	var id *ast.Ident
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		id = x
	case *ast.SelectorExpr:
		id = x.Sel
	default:
		return nil
	}
	v, _ := info.ObjectOf(id).(*types.Var)
	return v
}

// isContext reports whether t is context.Context.
func isContext(t types.Type) bool {
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context"
}

// underStatus reports whether r is in a branch of an if or a switch whose
// condition, tag or cases read a status of a call on a short ctx, or in a
// clause other than `case nil` of a type switch on one: the guard may be
// nil there, and the analyzer does not tell.
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
			found = within(n.Body, r.Pos()) && sg.switchOnStatus(n)
		case *ast.TypeSwitchStmt:
			found = sg.readsStatus(n.Assign) && slices.ContainsFunc(n.Body.List, func(s ast.Stmt) bool {
				return within(s, r.Pos()) && !sg.nilCase(s.(*ast.CaseClause))
			})
		}
	})
	return found
}

// switchOnStatus reports whether the tag or a case of sw reads a status of
// a call on a short ctx.
func (sg *shortGuards) switchOnStatus(sw *ast.SwitchStmt) bool {
	reads := sw.Tag != nil && sg.readsStatus(sw.Tag)
	for _, s := range sw.Body.List {
		reads = reads || slices.ContainsFunc(s.(*ast.CaseClause).List, func(e ast.Expr) bool { return sg.readsStatus(e) })
	}
	return reads
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
func (sg *shortGuards) readsStatus(n ast.Node) bool { return sg.readsStatusOf(n, nil) }

// readsStatusOf is readsStatus for the status of the call that the
// statement from assigns, or, if nil, of any.
func (sg *shortGuards) readsStatusOf(n ast.Node, from ast.Node) bool {
	reads := false
	ast.Inspect(n, func(m ast.Node) bool {
		if id, ok := m.(*ast.Ident); ok {
			if v, ok := sg.c.pass.TypesInfo.Uses[id].(*types.Var); ok {
				reads = reads || sg.derived[v] || sg.statuses[v] != nil && !sg.killed(v, id, from)
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
// then on every path: an assignment of v that reads no status, after from
// (or, if nil, every statement of a call on a short ctx that assigns v)
// and before id, is a statement of a list that holds id too (`relU, st :=
// acquire(ctx, ...)`).
func (sg *shortGuards) killed(v *types.Var, id *ast.Ident, from ast.Node) bool {
	last, mine := token.NoPos, sg.statuses[v]
	if from != nil {
		mine = []ast.Node{from}
	}
	for _, n := range mine {
		last = max(last, n.End())
	}
	for _, a := range sg.assigned[v] {
		as, ok := a.(*ast.AssignStmt)
		if !ok || slices.Contains(mine, a) || as.Pos() < last || as.End() > id.Pos() ||
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
// function, or the init of an if or a switch, that holds n too.
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
		case *ast.IfStmt:
			list = []ast.Stmt{m.Init}
		case *ast.SwitchStmt:
			list = []ast.Stmt{m.Init}
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
