package lostrelease

import (
	"go/ast"
	"go/types"
	"slices"
)

const msgNilDefer = "%s is nil when %s fails: deferred before the call's result is checked, it panics then"

// checkNilDefer reports `defer rel()` of h's guard when it follows h's
// assignment in the same statement list with no statement between that
// reads the guard or one of its statuses: when the call fails the guard
// is nil, and a deferred call of a nil func panics as the function
// returns. It reports only where the call's fact says which values of a
// status go with a guard (a Limiter's error, or a helper's status whose
// returns say so), not where they are only assumed.
func (c *checker) checkNilDefer(body *ast.BlockStmt, h *heldGuard) {
	if h.discarded || h.v == nil {
		return
	}
	watched := c.knownStatuses(h)
	if len(watched) == 0 {
		return
	}
	watched[h.v] = true
	list, at := statementList(body, h.assign)
	for _, s := range list[at+1:] {
		if d, ok := s.(*ast.DeferStmt); ok && len(d.Call.Args) == 0 && isVar(c.pass.TypesInfo, d.Call.Fun, h.v) {
			c.pass.Reportf(d.Pos(), msgNilDefer, h.v.Name(), h.src.name)
			return
		}
		if _, ok := s.(*ast.LabeledStmt); ok || c.reads(s, watched) {
			return
		}
	}
}

// knownStatuses returns the variables of h's statuses whose values the
// fact of h's call gives (not assumed: see [guardCollector.statuses]).
func (c *checker) knownStatuses(h *heldGuard) map[*types.Var]bool {
	info := c.pass.TypesInfo
	as, ok := h.assign.(*ast.AssignStmt)
	if !ok || len(as.Lhs) != h.src.n || len(as.Rhs) != 1 {
		return nil
	}
	k := slices.IndexFunc(h.src.results, func(r int) bool { return r < len(as.Lhs) && isVar(info, as.Lhs[r], h.v) })
	if k < 0 || k >= len(h.src.while) {
		return nil
	}
	known := make(map[*types.Var]bool)
	for _, st := range h.statuses {
		j := slices.IndexFunc(as.Lhs, func(e ast.Expr) bool { return isVar(info, e, st.v) })
		if j >= 0 && j < len(h.src.while[k]) && h.src.while[k][j].Known {
			known[st.v] = true
		}
	}
	return known
}

// reads reports whether n mentions one of vars.
func (c *checker) reads(n ast.Node, vars map[*types.Var]bool) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if id, ok := m.(*ast.Ident); ok {
			if v, ok := c.pass.TypesInfo.ObjectOf(id).(*types.Var); ok && vars[v] {
				found = true
			}
		}
		return !found
	})
	return found
}

// statementList returns the statement list of body that holds stmt (or
// the declaration holding it, for a *ast.ValueSpec), and its index there;
// nil if none does.
func statementList(body *ast.BlockStmt, stmt ast.Node) ([]ast.Stmt, int) {
	var list []ast.Stmt
	at := -1
	ast.Inspect(body, func(n ast.Node) bool {
		var l []ast.Stmt
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.BlockStmt:
			l = n.List
		case *ast.CaseClause:
			l = n.Body
		case *ast.CommClause:
			l = n.Body
		}
		for i, s := range l {
			if s == stmt {
				list, at = l, i
			}
		}
		return at < 0
	})
	return list, at
}
