package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// panicsByArgs reports whether call panics before it returns, by fact: an
// argument that a nil makes the callee panic on (see
// [returnsGuard.PanicsIfNil]) is nil. Such a call returns no guard: a
// function literal `func() { l.TryAcquire(nilCtx, key, 1) }` that a test
// runs to see it panic can only end in a panic.
func (c *checker) panicsByArgs(call *ast.CallExpr, fact *returnsGuard) bool {
	if len(fact.PanicsIfNil) == 0 || !c.argsAreParams(call) {
		return false
	}
	for _, p := range fact.PanicsIfNil {
		if p >= 0 && p < len(call.Args) && c.isNil(call.Args[p]) {
			return true
		}
	}
	return false
}

// isNil reports whether e is nil wherever it is evaluated: the literal
// nil, or a local variable declared without a value (`var nilCtx
// context.Context`) and never assigned, nor its address taken, anywhere in
// the package.
func (c *checker) isNil(e ast.Expr) bool {
	info := c.pass.TypesInfo
	if info.Types[e].IsNil() {
		return true
	}
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return false
	}
	v, ok := info.Uses[id].(*types.Var)
	if !ok {
		return false
	}
	if c.nilVars == nil {
		c.nilVars = nilVars(info, c.pass.Files)
	}
	return c.nilVars[v]
}

// nilVars returns the local variables of files that are declared without
// a value, of a type whose zero value is nil, and never assigned or
// addressed after.
func nilVars(info *types.Info, files []*ast.File) map[*types.Var]bool {
	declared := make(map[*types.Var]bool)
	assigned := make(map[*types.Var]int) // the declaration counts as one
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Values) == 0 {
				for _, id := range vs.Names {
					if v, ok := info.Defs[id].(*types.Var); ok && v.Parent() != nil &&
						v.Parent() != v.Pkg().Scope() && nilable(v.Type()) {
						declared[v] = true
					}
				}
			}
			for _, e := range assignedExprs(n) {
				if id, ok := ast.Unparen(e).(*ast.Ident); ok {
					if v, ok := info.ObjectOf(id).(*types.Var); ok {
						assigned[v]++
					}
				}
			}
			return true
		})
	}
	for v := range declared {
		if assigned[v] != 1 {
			delete(declared, v)
		}
	}
	return declared
}

// nilable reports whether the zero value of t is nil.
func nilable(t types.Type) bool {
	switch t.Underlying().(type) {
	case *types.Interface, *types.Pointer, *types.Signature, *types.Map, *types.Chan, *types.Slice:
		return true
	}
	return false
}

// panicsIfNil returns the indexes of the parameters of fd, of signature
// sig, on whose nil it panics before anything else: the statements that
// open its body are ifs without an init or an else whose body is a call of
// panic, and one of their conditions is `p == nil`, or an || of conditions
// of which one is, with p a parameter never assigned in fd.
func (c *checker) panicsIfNil(fd *ast.FuncDecl, sig *types.Signature, hb *helperBody) []int {
	var ps []int
	for _, s := range fd.Body.List {
		is, ok := s.(*ast.IfStmt)
		if !ok || is.Init != nil || is.Else != nil || !c.onlyPanics(is.Body) {
			break
		}
		for _, v := range c.nilTested(is.Cond) {
			for p := range sig.Params().Len() {
				if sig.Params().At(p) == v && len(hb.assigned[v]) == 0 && !slices.Contains(ps, p) &&
					!(sig.Variadic() && p == sig.Params().Len()-1) {
					ps = append(ps, p)
				}
			}
		}
	}
	slices.Sort(ps)
	return ps
}

// onlyPanics reports whether b is a single statement, a call of panic.
func (c *checker) onlyPanics(b *ast.BlockStmt) bool {
	if len(b.List) != 1 {
		return false
	}
	es, ok := b.List[0].(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := ast.Unparen(es.X).(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	return ok && c.pass.TypesInfo.Uses[id] == types.Universe.Lookup("panic")
}

// nilTested returns the variables that cond compares with nil, where cond
// is true if one of them is nil: `v == nil`, or an || of conditions.
func (c *checker) nilTested(cond ast.Expr) []*types.Var {
	e, ok := ast.Unparen(cond).(*ast.BinaryExpr)
	if !ok {
		return nil
	}
	switch e.Op {
	case token.LOR:
		return append(c.nilTested(e.X), c.nilTested(e.Y)...)
	case token.EQL:
		if id := nilCompared(c.pass.TypesInfo, e); id != nil {
			if v, ok := c.pass.TypesInfo.Uses[id].(*types.Var); ok {
				return []*types.Var{v}
			}
		}
	}
	return nil
}
