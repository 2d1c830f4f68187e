package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
)

// holdsEachKey reports whether d, a defer of h's guard, is in a loop that
// holds a slot of each element it ranges over until the function returns:
// a range over a slice, array, map or string, in no other loop of a
// function with no goto, where the guard's call is a statement of the
// loop's own body (not of a nested loop) and takes an argument that names
// the element (see [namesElement]). Each iteration then asks for the slot
// its own element names, and no iteration retries another's. The body must assign only
// variables it declares (not the key nor the value, nor anything that
// outlives the iteration), and the statements after d must not read what
// the iteration set but the slot's ctx (see
// [pathSearch.readsIterationAfter]): a failover that works with the
// element while holding its slot, and goes round when that failed, is
// still a retry.
func (ps *pathSearch) holdsEachKey(h *heldGuard, d *ast.DeferStmt) bool {
	loop, ok := ps.innermostLoop(d).(*ast.RangeStmt)
	if !ok || loop.Tok != token.DEFINE || !rangesOverElements(ps.info, loop.X) ||
		ps.innermostLoop(loop) != nil || hasGoto(ps.body) {
		return false
	}
	call := h.src.call
	if !within(loop.Body, call.Pos()) || ps.innermostLoop(call) != loop {
		return false
	}
	vars := make(map[*types.Var]bool)
	for _, e := range []ast.Expr{loop.Key, loop.Value} {
		if v := loopVar(ps.info, e); v != nil {
			vars[v] = true
		}
	}
	named := false
	for _, arg := range call.Args {
		named = named || namesElement(ps.info, arg, vars)
	}
	return named && assignsOnlyItsOwn(ps.info, loop.Body) &&
		!ps.readsIterationAfter(loop, d, vars, ps.slotContexts(loop, call))
}

// namesElement reports whether arg, an argument of the guard's call, reads
// the range's key or value (see [readsElement]) and is of a string type or
// a struct type: a key, or a key with its limit, copied into the call. Not
// a pointer, an interface, a func or a chan, through which the call may
// change the element or share it with another iteration.
func namesElement(info *types.Info, arg ast.Expr, vars map[*types.Var]bool) bool {
	t := info.TypeOf(arg)
	if t == nil {
		return false
	}
	_, isStruct := t.Underlying().(*types.Struct)
	return (isString(t) || isStruct) && readsElement(info, arg, vars)
}

// rangesOverElements reports whether x, a range statement's operand, is a
// slice, an array or a pointer to one, a map or a string: not an integer,
// a channel, a function or a type parameter.
func rangesOverElements(info *types.Info, x ast.Expr) bool {
	t := info.TypeOf(x)
	if t == nil {
		return false
	}
	if p, ok := t.Underlying().(*types.Pointer); ok {
		_, ok := p.Elem().Underlying().(*types.Array)
		return ok
	}
	switch t.Underlying().(type) {
	case *types.Slice, *types.Array, *types.Map:
		return true
	}
	return isString(t)
}

// readsElement reports whether e is one of vars, or a field, an index, a
// dereference or an operand of a binary expression that is, or an index
// expression indexed by one.
func readsElement(info *types.Info, e ast.Expr, vars map[*types.Var]bool) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		v, _ := info.Uses[e].(*types.Var)
		return v != nil && vars[v]
	case *ast.SelectorExpr:
		return readsElement(info, e.X, vars)
	case *ast.StarExpr:
		return readsElement(info, e.X, vars)
	case *ast.IndexExpr:
		return readsElement(info, e.X, vars) || readsElement(info, e.Index, vars)
	case *ast.BinaryExpr:
		return readsElement(info, e.X, vars) || readsElement(info, e.Y, vars)
	}
	return false
}

// readsIterationAfter reports whether a statement of loop's body after d
// reads what the iteration set: one of vars, or a variable declared in the
// body before d's end but the slot's ctx (one of slot, see
// [slotContexts]). A variable declared outside the loop holds nothing of
// the iteration, since the body assigns only its own (see
// [assignsOnlyItsOwn]) and the range declares its key and value: nor
// does a function literal declared there read any.
func (ps *pathSearch) readsIterationAfter(loop *ast.RangeStmt, d *ast.DeferStmt, vars, slot map[*types.Var]bool) bool {
	found := false
	ast.Inspect(loop.Body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Pos() >= d.End() {
			v, _ := ps.info.Uses[id].(*types.Var)
			found = found || v != nil && !slot[v] &&
				(vars[v] || within(loop.Body, v.Pos()) && v.Pos() < d.End())
		}
		return !found
	})
	return found
}

// assignsOnlyItsOwn reports whether every assignment, increment and
// address taken in body, function literals included, is of a variable
// declared in body (or, for an address, of a composite literal): the body stores nothing in a variable of the function,
// a field, an element or through a pointer.
func assignsOnlyItsOwn(info *types.Info, body *ast.BlockStmt) bool {
	own := func(e ast.Expr) bool {
		id, ok := ast.Unparen(e).(*ast.Ident)
		if !ok {
			return false
		}
		v, _ := info.ObjectOf(id).(*types.Var)
		return id.Name == "_" || v != nil && within(body, v.Pos())
	}
	ok := true
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, lhs := range n.Lhs {
				ok = ok && own(lhs)
			}
		case *ast.IncDecStmt:
			ok = ok && own(n.X)
		case *ast.UnaryExpr:
			_, lit := ast.Unparen(n.X).(*ast.CompositeLit)
			ok = ok && (n.Op != token.AND || lit || own(n.X))
		case *ast.RangeStmt:
			ok = ok && (n.Tok != token.ASSIGN || (n.Key == nil || own(n.Key)) && (n.Value == nil || own(n.Value)))
		}
		return ok
	})
	return ok
}

// isString reports whether t is of a string type.
func isString(t types.Type) bool {
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsString != 0
}
