package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
)

// effect is what a CFG node does to a held guard.
type effect int

const (
	noEffect    effect = iota
	used               // the node uses the guard
	overwritten        // the node assigns the guard's variable without using it
)

// effect reports whether n uses h's guard, overwrites it, or neither. A
// comparison with nil is not a use, nor is an assignment to the variable;
// any other reference is, closures included, and so is a call of a local
// closure in calls, and a bare return of a named result in ps.results.
func (ps *pathSearch) effect(h *heldGuard, calls map[*types.Var]bool, n ast.Node) effect {
	if n == h.assign {
		return overwritten // the assignment again, in a loop
	}
	if h.discarded {
		return noEffect
	}
	if ret, ok := n.(*ast.ReturnStmt); ok && len(ret.Results) == 0 && ps.results[h.v] {
		return used // a bare return returns the named result
	}
	skip := make(map[*ast.Ident]bool)
	assigned := false
	if as, ok := n.(*ast.AssignStmt); ok && (as.Tok == token.ASSIGN || as.Tok == token.DEFINE) {
		for _, lhs := range as.Lhs {
			if id, ok := ast.Unparen(lhs).(*ast.Ident); ok && ps.info.ObjectOf(id) == h.v {
				skip[id] = true
				assigned = true
			}
		}
	}
	switch {
	case usesVar(ps.info, n, h.v, calls, skip):
		return used
	case assigned:
		return overwritten
	}
	return noEffect
}

// usesVar reports whether n refers to v, or to a closure in calls, other
// than by comparing it with nil, assigning it or through an identifier in
// skip.
func usesVar(info *types.Info, n ast.Node, v *types.Var, calls map[*types.Var]bool, skip map[*ast.Ident]bool) bool {
	use := false
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, lhs := range n.Lhs {
				if id, ok := ast.Unparen(lhs).(*ast.Ident); ok {
					if obj, _ := info.ObjectOf(id).(*types.Var); obj == v || calls[obj] {
						skip[id] = true
					}
				}
			}
		case *ast.BinaryExpr:
			if id := nilCompared(info, n); id != nil {
				skip[id] = true
			}
		case *ast.Ident:
			// The guard, or a releasing closure, read as a value: passed on,
			// stored or returned, it is released where it goes.
			if fv, ok := info.Uses[n].(*types.Var); ok && !skip[n] && (fv == v || calls[fv]) {
				use = true
			}
		}
		return !use
	})
	return use
}

// nilCompared returns the identifier that e compares with nil, if e is
// x == nil, x != nil, nil == x or nil != x with x an identifier.
func nilCompared(info *types.Info, e *ast.BinaryExpr) *ast.Ident {
	if e.Op != token.EQL && e.Op != token.NEQ {
		return nil
	}
	x, y := ast.Unparen(e.X), ast.Unparen(e.Y)
	if info.Types[x].IsNil() {
		x, y = y, x
	}
	id, ok := x.(*ast.Ident)
	if !ok || !info.Types[y].IsNil() {
		return nil
	}
	return id
}
