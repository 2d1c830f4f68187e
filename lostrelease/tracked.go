package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// maxTracked bounds the variables of one function tracked beside a guard's
// statuses.
const maxTracked = 16

// trackedStatuses returns the variables of the function whose body is body
// that the paths holding a guard follow by value, beside the guard's own
// statuses: locals, parameters and named results of a boolean, integer or
// string type, read in an if, for or switch condition, assigned a constant
// somewhere and changed by nothing the paths do not see (see
// [changedOnPaths]). A status set in a switch on the call's error, or a
// flag set where the status is checked (`granted = true`), then tells the
// paths where the guard is held from those where it is not. Each holds, as
// values, the constants it is assigned, and otherValue for anything else.
func (c *checker) trackedStatuses(body *ast.BlockStmt) []status {
	info := c.pass.TypesInfo
	assigned := assignmentsIn(info, body)
	fnScope := c.pass.Pkg.Scope().Innermost(body.Pos())
	var sts []status
	for _, v := range conditionVars(info, body) {
		own := within(body, v.Pos()) || v.Parent() == fnScope && v.Pos() < body.Pos()
		if !own || !trackable(v.Type()) || len(assigned[v]) == 0 || changedOnPaths(info, body, assigned, v) {
			continue
		}
		var values []string
		for _, n := range assigned[v] {
			if k, _ := assignedKey(info, v, n); k != "" && !slices.Contains(values, k) && len(values) < 62 {
				values = append(values, k)
			}
		}
		if len(values) > 0 && len(sts) < maxTracked {
			sts = append(sts, status{v: v, values: append(values, otherValue), tracked: true})
		}
	}
	return sts
}

// conditionVars returns the variables read in the conditions of body's if,
// for and switch statements and their cases, function literals left out,
// each once, in the order first read.
func conditionVars(info *types.Info, body *ast.BlockStmt) []*types.Var {
	var vars []*types.Var
	add := func(e ast.Node) {
		if e == nil {
			return
		}
		ast.Inspect(e, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				if v, ok := info.Uses[id].(*types.Var); ok && !slices.Contains(vars, v) {
					vars = append(vars, v)
				}
			}
			_, lit := n.(*ast.FuncLit)
			return !lit
		})
	}
	inspectFunc(body, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.AssignStmt: // a bool copy read in a condition (`skip := !held`)
			if t := info.TypeOf(n.Lhs[0]); len(n.Lhs) == 1 && len(n.Rhs) == 1 && t != nil && isBool(t) {
				add(n.Rhs[0])
			}
		case *ast.IfStmt:
			add(n.Cond)
		case *ast.ForStmt:
			add(n.Cond)
		case *ast.SwitchStmt:
			add(n.Tag)
		case *ast.CaseClause:
			for _, e := range n.List {
				add(e)
			}
		}
	})
	return vars
}

// trackable reports whether t is a boolean, integer or string type.
func trackable(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&(types.IsBoolean|types.IsInteger|types.IsString) != 0
}

// valueAssigned returns what s, a tracked status, may hold after n, a node
// that assigns it: the bit of the constant n assigns, or every value.
func (s *status) valueAssigned(info *types.Info, n ast.Node) uint64 {
	if n != nil {
		if k, _ := assignedKey(info, s.v, n); k != "" {
			if i := slices.Index(s.values, k); i >= 0 && i < 64 {
				return 1 << i
			}
		}
	}
	return s.full()
}

// track adds to h's statuses those of tracked that are not already, each
// with what it holds at h's call if the statements before it in its list
// say (see [checker.valueBefore]), and the conditions that h's call is
// under (see [checker.fixedConds]); up to 64 in all.
func (c *checker) track(body *ast.BlockStmt, h *heldGuard, tracked []status) {
	for _, t := range append(tracked, c.fixedConds(body, h.assign)...) {
		if len(h.statuses) >= 64 || t.v == h.v || slices.ContainsFunc(h.statuses, func(s status) bool { return s.v == t.v }) {
			continue
		}
		if t.cond == "" {
			t.start = c.valueBefore(body, &t, h.assign)
		}
		h.statuses = append(h.statuses, t)
	}
}

// valueBefore returns what s, a tracked status, holds at stmt, if the
// statements before stmt in its statement list say it: the last of them
// that mentions s's variable assigns it a constant. Else it returns 0.
func (c *checker) valueBefore(body *ast.BlockStmt, s *status, stmt ast.Node) uint64 {
	info := c.pass.TypesInfo
	list, at := statementList(body, stmt)
	for k := at - 1; k >= 0; k-- {
		if !c.reads(list[k], map[*types.Var]bool{s.v: true}) {
			continue
		}
		var n ast.Node = list[k]
		if d, ok := n.(*ast.DeclStmt); ok {
			if g, ok := d.Decl.(*ast.GenDecl); ok && len(g.Specs) == 1 {
				n = g.Specs[0]
			}
		}
		if m := s.valueAssigned(info, n); m != s.full() && assigns(info, s.v, n) {
			return m
		}
		return 0
	}
	return 0
}

// fixedConds returns, as bool statuses, the conditions of the if
// statements of body that stmt is in, each true or false there as stmt is
// in its body or its else, when it holds the same wherever it is tested:
// it reads only constants and parameters that body never assigns nor takes
// the address of (`if limited`, `if limit > 0`), through operators. A slot
// taken under `if limited` and released under another `if limited` is
// then not lost on the paths where limited is false.
func (c *checker) fixedConds(body *ast.BlockStmt, stmt ast.Node) []status {
	info := c.pass.TypesInfo
	assigned := assignmentsIn(info, body)
	fnScope := c.pass.Pkg.Scope().Innermost(body.Pos())
	var sts []status
	visit := func(n ast.Node) bool {
		if n == nil || !within(n, stmt.Pos()) {
			return false
		}
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		if is, ok := n.(*ast.IfStmt); ok && is.Init == nil && c.fixed(is.Cond, assigned, fnScope, body) {
			truth := within(is.Body, stmt.Pos())
			if truth || is.Else != nil && within(is.Else, stmt.Pos()) {
				key := types.ExprString(ast.Unparen(is.Cond))
				bit := uint64(1)
				if truth {
					bit = 2
				}
				v := types.NewVar(is.Cond.Pos(), c.pass.Pkg, "", types.Typ[types.Bool])
				sts = append(sts, status{v: v, values: []string{"false", "true"}, tracked: true, cond: key, start: bit})
			}
		}
		return true
	}
	ast.Inspect(body, visit)
	return sts
}

// fixed reports whether e reads only constants and parameters of the
// function (body's) that body never assigns, through operators.
func (c *checker) fixed(e ast.Expr, assigned map[*types.Var][]ast.Node, fnScope *types.Scope, body *ast.BlockStmt) bool {
	info := c.pass.TypesInfo
	ok := true
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			switch o := info.Uses[n].(type) {
			case *types.Const, *types.Nil:
			case *types.Var:
				ok = ok && o.Parent() == fnScope && o.Pos() < body.Pos() && len(assigned[o]) == 0
			default:
				ok = false
			}
		case *ast.UnaryExpr:
			ok = ok && (n.Op == token.NOT || n.Op == token.SUB || n.Op == token.ADD || n.Op == token.XOR)
		case nil, *ast.BinaryExpr, *ast.ParenExpr, *ast.BasicLit:
		default:
			ok = false
		}
		return ok
	})
	return ok
}
