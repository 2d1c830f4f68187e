package lostrelease

import (
	"go/ast"
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
		if !own || !trackable(v.Type()) || len(assigned[v]) == 0 || changedOnPaths(body, assigned, v) {
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

// track adds to h's statuses those of tracked that are not already, up to
// 64 in all.
func (h *heldGuard) track(tracked []status) {
	for _, t := range tracked {
		if len(h.statuses) >= 64 || t.v == h.v || slices.ContainsFunc(h.statuses, func(s status) bool { return s.v == t.v }) {
			continue
		}
		h.statuses = append(h.statuses, t)
	}
}
