package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// statusCopy returns the expression that the variable named by id was
// assigned, if id may stand for it in a condition on v
// (`ok := st == OK; if !ok { ... }`): id's variable is declared in the
// function and assigned only there, or is a named result that
// [pathSearch.onlyResultAssignment] gives a statement for; v is assigned nowhere from that
// declaration to the read id, nor after id in a loop that holds id but not
// the declaration in its body, and the function has no goto (a status that a
// closure assigns, or whose address is taken, is never followed). Then v holds the same value at id as
// where id's variable was assigned: every path from the latest run of its
// declaration to id stays within its scope, and takes no such assignment.
func (ps *pathSearch) statusCopy(id *ast.Ident, v *types.Var) ast.Expr {
	c, ok := ps.info.Uses[id].(*types.Var)
	if !ok || c == v {
		return nil
	}
	decl := ps.onlyDeclaration(c)
	if decl == nil {
		decl = ps.onlyResultAssignment(c, id)
	}
	var lhs, rhs []ast.Expr
	switch d := decl.(type) {
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
	for _, n := range ps.assigned[v] {
		if n.Pos() < decl.Pos() || n.Pos() >= c.Parent().End() {
			continue // before the copy, or out of its scope
		}
		if n.Pos() < id.Pos() || ps.loopsBack(decl, n, id) {
			return nil // v may change between the copy and id
		}
	}
	return rhs[indexOfVar(ps.info, lhs, c)]
}

// onlyResultAssignment returns the statement that assigns c, a named
// result checked in the function (see [pathSearch.results]), if it is c's
// only assignment, gives it one value (`st = classify(err)`), and runs on
// every path from the function's entry to the read id: c then holds there
// what that statement gave it, as a variable declared by it would.
func (ps *pathSearch) onlyResultAssignment(c *types.Var, id *ast.Ident) ast.Node {
	if !ps.results[c] || ps.onlyDeclaration(c) != nil || len(ps.assigned[c]) != 1 {
		return nil
	}
	a, ok := ps.assigned[c][0].(*ast.AssignStmt)
	if !ok || a.Tok != token.ASSIGN || len(a.Lhs) != len(a.Rhs) {
		return nil
	}
	for _, b := range ps.g.Blocks {
		for _, n := range b.Nodes {
			if b.Live && within(n, id.Pos()) && ps.dominates(a, n) {
				return a
			}
		}
	}
	return nil
}

// loopsBack reports whether a path may go from n back to id without a new
// run of decl: a loop whose body does not hold decl (decl comes before it,
// or is its init) holds both, or the function has a goto.
func (ps *pathSearch) loopsBack(decl, n ast.Node, id *ast.Ident) bool {
	found := false
	ast.Inspect(ps.body, func(m ast.Node) bool {
		var body *ast.BlockStmt
		switch m := m.(type) {
		case *ast.ForStmt:
			body = m.Body
		case *ast.RangeStmt:
			body = m.Body
		case *ast.BranchStmt:
			found = found || m.Tok == token.GOTO
		}
		if body != nil && !within(body, decl.Pos()) && within(m, n.Pos()) && within(m, id.Pos()) {
			found = true // the loop goes round without running decl again
		}
		return !found
	})
	return found
}

// holdsStatus reports whether e is v, or a variable that holds a copy of
// it (`result := st`), through at most maxCopyDepth copies, each found as
// statusCopy finds them.
func (ps *pathSearch) holdsStatus(v *types.Var, e ast.Expr) bool {
	for range maxCopyDepth {
		if isVar(ps.info, e, v) {
			return true
		}
		id, ok := ast.Unparen(e).(*ast.Ident)
		if !ok {
			return false
		}
		if e = ps.statusCopy(id, v); e == nil {
			return false
		}
	}
	return false
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
// it or take its address, function literals included: a call of a method
// with a pointer receiver on the variable itself (`st.degrade()`) takes
// its address, and counts as its selector.
func assignmentsIn(info *types.Info, body *ast.BlockStmt) map[*types.Var][]ast.Node {
	assigned := make(map[*types.Var][]ast.Node)
	ast.Inspect(body, func(node ast.Node) bool {
		exprs := assignedExprs(node)
		if sel, ok := node.(*ast.SelectorExpr); ok && addressedBy(info, sel) {
			exprs = []ast.Expr{sel.X}
		}
		for _, e := range exprs {
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

// addressedBy reports whether sel selects a method with a pointer
// receiver on a value that is not a pointer: the call takes its address.
func addressedBy(info *types.Info, sel *ast.SelectorExpr) bool {
	s := info.Selections[sel]
	if s == nil || s.Kind() != types.MethodVal {
		return false
	}
	recv := s.Obj().(*types.Func).Signature().Recv()
	_, ptrRecv := recv.Type().(*types.Pointer)
	_, ptrX := info.TypeOf(sel.X).Underlying().(*types.Pointer)
	return ptrRecv && !ptrX
}

// changedAside reports whether v is assigned in a function literal of
// body, or has its address taken there or anywhere, as assigned (see
// [assignmentsIn]) holds it: the paths of body do not see it change.
func changedAside(body *ast.BlockStmt, assigned map[*types.Var][]ast.Node, v *types.Var) bool {
	for _, n := range assigned[v] {
		switch n.(type) {
		case *ast.UnaryExpr, *ast.SelectorExpr:
			return true
		}
		if inFuncLit(body, n) {
			return true
		}
	}
	return false
}

// changedOnPaths reports what changedAside does, leaving out what the
// calls that body defers (not in a function literal of body) do with v:
// they run once body has returned, so no path of body sees it. That is a
// function literal deferred directly (`defer func() { if err != nil { err
// = wrap(err) } }()`) or through a local variable assigned only it and
// used only so (`wrap := func() {...}; defer wrap()`), an argument `&v` of
// a deferred call (`defer wrapErr(&err, "op")`), which is evaluated at the
// defer but used only at the call, and a deferred method of v with a
// pointer receiver.
func changedOnPaths(info *types.Info, body *ast.BlockStmt, assigned map[*types.Var][]ast.Node, v *types.Var) bool {
	var deferred []ast.Node
	var viaVar []*types.Var
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.DeferStmt:
			switch fun := ast.Unparen(n.Call.Fun).(type) {
			case *ast.FuncLit, *ast.SelectorExpr:
				deferred = append(deferred, fun)
			case *ast.Ident:
				if w, ok := info.Uses[fun].(*types.Var); ok {
					viaVar = append(viaVar, w)
				}
			}
			for _, a := range n.Call.Args {
				if u, ok := ast.Unparen(a).(*ast.UnaryExpr); ok && u.Op == token.AND {
					if _, ok := ast.Unparen(u.X).(*ast.Ident); ok {
						deferred = append(deferred, u)
					}
				}
			}
		}
		return true
	})
	for _, w := range viaVar {
		if lit := onlyDeferredLit(info, body, assigned, w); lit != nil {
			deferred = append(deferred, lit)
		}
	}
	var rest []ast.Node
	for _, n := range assigned[v] {
		if !slices.ContainsFunc(deferred, func(d ast.Node) bool { return d == n || within(d, n.Pos()) && isFuncLit(d) }) {
			rest = append(rest, n)
		}
	}
	return changedAside(body, map[*types.Var][]ast.Node{v: rest}, v)
}

// onlyDeferredLit returns the function literal that w, a local variable of
// body, holds, if w is assigned only it and read only as the function of
// defer statements; else nil.
func onlyDeferredLit(info *types.Info, body *ast.BlockStmt, assigned map[*types.Var][]ast.Node, w *types.Var) *ast.FuncLit {
	if !within(body, w.Pos()) || len(assigned[w]) != 1 {
		return nil
	}
	var lit *ast.FuncLit
	switch d := assigned[w][0].(type) {
	case *ast.AssignStmt:
		if len(d.Lhs) == 1 && len(d.Rhs) == 1 && isVar(info, d.Lhs[0], w) {
			lit, _ = ast.Unparen(d.Rhs[0]).(*ast.FuncLit)
		}
	case *ast.ValueSpec:
		if len(d.Names) == 1 && len(d.Values) == 1 {
			lit, _ = ast.Unparen(d.Values[0]).(*ast.FuncLit)
		}
	}
	if lit == nil {
		return nil
	}
	deferredUses := make(map[*ast.Ident]bool) // by the function itself: a literal's defer runs as it returns
	inspectFunc(body, func(n ast.Node) {
		if ds, ok := n.(*ast.DeferStmt); ok {
			if id, ok := ast.Unparen(ds.Call.Fun).(*ast.Ident); ok {
				deferredUses[id] = true
			}
		}
	})
	only := true
	ast.Inspect(body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == w && !deferredUses[id] {
			only = false
		}
		return only
	})
	if !only {
		return nil
	}
	return lit
}

// isFuncLit reports whether n is a function literal.
func isFuncLit(n ast.Node) bool {
	_, ok := n.(*ast.FuncLit)
	return ok
}
