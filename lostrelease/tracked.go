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

// declaredOnce reports whether the one assignment of v, in assigns, is
// the statement of body's own list (not in a branch or a loop) that
// declares it, in a body with no goto.
func (c *checker) declaredOnce(body *ast.BlockStmt, v *types.Var, assigns []ast.Node) bool {
	if len(assigns) != 1 || hasGoto(body) {
		return false
	}
	for _, st := range body.List {
		var n ast.Node = st
		if d, ok := st.(*ast.DeclStmt); ok {
			if g, ok := d.Decl.(*ast.GenDecl); ok && len(g.Specs) == 1 {
				n = g.Specs[0]
			}
		}
		if n != assigns[0] {
			continue
		}
		for _, e := range assignedExprs(n) {
			if id, ok := ast.Unparen(e).(*ast.Ident); ok && c.pass.TypesInfo.Defs[id] == v {
				return true
			}
		}
	}
	return false
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
		switch {
		case t.cond != "":
		case assigns(c.pass.TypesInfo, t.v, h.assign): // `rel, st = r, statusOK`
			if m := t.valueAssigned(c.pass.TypesInfo, h.assign); m != t.full() {
				t.start = m
			}
		default:
			t.start = c.valueBefore(body, &t, h.assign)
		}
		h.statuses = append(h.statuses, t)
	}
}

// valueBefore returns what s, a tracked status, holds at stmt, if the
// statements before stmt in its statement list say it: the last of them
// that mentions s's variable assigns it a constant. Else, or in a body
// with a goto (which may come back between them), it returns 0.
func (c *checker) valueBefore(body *ast.BlockStmt, s *status, stmt ast.Node) uint64 {
	info := c.pass.TypesInfo
	if hasGoto(body) {
		return 0
	}
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

// fixedConds returns, as bool statuses, the conditions that stmt is under
// in body, each true or false there, when it holds the same wherever it is
// tested: an if's condition (true in its body, false in its else) or a
// switch's `tag == case` (true in that case's body), reading only
// constants, parameters that body never assigns nor takes the address of,
// and locals assigned only where a statement of body itself declares them
// (`limited := cfg.limit > 0`), through operators. A slot taken under `if
// limited` (or `if limit > 0`) and released under another `if limited` (or
// `if limit <= 0 { return }`: see [condKey]) is then not lost on the paths
// where limited is false.
func (c *checker) fixedConds(body *ast.BlockStmt, stmt ast.Node) []status {
	assigned := assignmentsIn(c.pass.TypesInfo, body)
	fnScope := c.pass.Pkg.Scope().Innermost(body.Pos())
	fixed := func(e ast.Expr) bool { return c.fixed(e, assigned, fnScope, body) }
	var sts []status
	add := func(cond ast.Expr, truth bool) {
		key, negated := condKey(c.pass.TypesInfo, cond)
		bit := uint64(1)
		if truth != negated {
			bit = 2
		}
		v := types.NewVar(cond.Pos(), c.pass.Pkg, "", types.Typ[types.Bool])
		sts = append(sts, status{v: v, values: []string{"false", "true"}, tracked: true, cond: key, start: bit})
	}
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil || !within(n, stmt.Pos()) {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.IfStmt:
			if truth := within(n.Body, stmt.Pos()); n.Init == nil && (truth || n.Else != nil && within(n.Else, stmt.Pos())) && fixed(n.Cond) {
				add(n.Cond, truth)
			}
		case *ast.SwitchStmt:
			if n.Init == nil && n.Tag != nil && fixed(n.Tag) {
				for _, cc := range n.Body.List {
					if cc := cc.(*ast.CaseClause); len(cc.List) == 1 && within(cc, stmt.Pos()) && fixed(cc.List[0]) {
						add(&ast.BinaryExpr{X: n.Tag, OpPos: cc.Pos(), Op: token.EQL, Y: cc.List[0]}, true)
					}
				}
			}
		}
		return true
	})
	return sts
}

// fixed reports whether e reads only constants, parameters of the
// function (body's) that body never assigns, and locals that body assigns
// only where a statement of its own list declares them, through operators.
func (c *checker) fixed(e ast.Expr, assigned map[*types.Var][]ast.Node, fnScope *types.Scope, body *ast.BlockStmt) bool {
	info := c.pass.TypesInfo
	ok := true
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			switch o := info.Uses[n].(type) {
			case *types.Const, *types.Nil:
			case *types.Var:
				param := o.Parent() == fnScope && o.Pos() < body.Pos() && len(assigned[o]) == 0
				ok = ok && (param || c.declaredOnce(body, o, assigned[o]))
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
