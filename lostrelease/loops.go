package lostrelease

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
)

// constantLoop reports whether s is a loop that runs a constant number of
// times, at least once: a range over a positive integer constant, or
// `for i := c0; i op c1; i++` (or i--, i += c, i -= c) whose condition holds
// for c0 and whose body does not assign i.
func constantLoop(info *types.Info, s ast.Stmt) bool {
	switch s := s.(type) {
	case *ast.RangeStmt:
		tv := info.Types[s.X]
		return tv.Value != nil && tv.Value.Kind() == constant.Int && constant.Sign(tv.Value) > 0 &&
			!assignsIn(info, s.Body, loopVar(info, s.Key))
	case *ast.ForStmt:
		init, ok := s.Init.(*ast.AssignStmt)
		if !ok || init.Tok != token.DEFINE || len(init.Lhs) != 1 || len(init.Rhs) != 1 {
			return false
		}
		i := loopVar(info, init.Lhs[0])
		c0 := info.Types[init.Rhs[0]].Value
		cond, ok := ast.Unparen(s.Cond).(*ast.BinaryExpr)
		if i == nil || c0 == nil || !ok {
			return false
		}
		x, ok := ast.Unparen(cond.X).(*ast.Ident)
		c1 := info.Types[cond.Y].Value
		if !ok || info.Uses[x] != i || c1 == nil {
			return false
		}
		switch cond.Op {
		case token.LSS, token.LEQ, token.GTR, token.GEQ, token.NEQ:
		default:
			return false
		}
		if c0.Kind() != constant.Int || c1.Kind() != constant.Int || !constant.Compare(c0, cond.Op, c1) {
			return false
		}
		switch post := s.Post.(type) {
		case *ast.IncDecStmt:
			if id, ok := ast.Unparen(post.X).(*ast.Ident); !ok || info.Uses[id] != i {
				return false
			}
		case *ast.AssignStmt:
			if post.Tok != token.ADD_ASSIGN && post.Tok != token.SUB_ASSIGN || len(post.Lhs) != 1 ||
				info.Types[post.Rhs[0]].Value == nil {
				return false
			}
			if id, ok := ast.Unparen(post.Lhs[0]).(*ast.Ident); !ok || info.Uses[id] != i {
				return false
			}
		default:
			return false
		}
		return !assignsIn(info, s.Body, i)
	}
	return false
}

// loopVar returns the variable e declares or names, or nil.
func loopVar(info *types.Info, e ast.Expr) *types.Var {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	v, _ := info.ObjectOf(id).(*types.Var)
	return v
}

// assignsIn reports whether body assigns v, increments it, or takes its
// address, closures included.
func assignsIn(info *types.Info, body ast.Node, v *types.Var) bool {
	if v == nil {
		return false
	}
	is := func(e ast.Expr) bool {
		id, ok := ast.Unparen(e).(*ast.Ident)
		return ok && info.Uses[id] == v
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, lhs := range n.Lhs {
				found = found || is(lhs)
			}
		case *ast.IncDecStmt:
			found = found || is(n.X)
		case *ast.UnaryExpr:
			found = found || n.Op == token.AND && is(n.X)
		case *ast.RangeStmt:
			found = found || n.Key != nil && is(n.Key) || n.Value != nil && is(n.Value)
		}
		return !found
	})
	return found
}

// loopBody returns the body of a for or range statement.
func loopBody(s ast.Stmt) *ast.BlockStmt {
	switch s := s.(type) {
	case *ast.ForStmt:
		return s.Body
	case *ast.RangeStmt:
		return s.Body
	}
	return nil
}
