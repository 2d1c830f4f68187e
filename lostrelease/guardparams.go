package lostrelease

import (
	"go/ast"
	"go/types"
)

// nilIfNilOf and ctxOfOf give, per guard result of a source, the index of
// the argument whose literal nil makes that guard nil, and of the argument
// it is made on as its ctx: see [returnsGuard].
func nilIfNilOf(s *source) []int { return s.nilIfNil }
func ctxOfOf(s *source) []int    { return s.ctxOf }

// paramFor returns the index of the parameter of a helper, of signature
// sig, that its guard result i follows, or -1: on every return, result i
// is nil, or a call of a source with one result, a guard, or a variable
// assigned nothing but the one guard result of a source (`_, rel, err :=
// l.TryAcquire(ctx, ...)`), whose call passes the parameter, never
// assigned in the helper, as the argument argOf names (WrapOnDone's fn for
// nilIfNilOf, its ctx for ctxOfOf, or the argument another such helper or
// a Limiter names). A bare return returns the named result as such a
// variable.
func (c *checker) paramFor(hb *helperBody, sig *types.Signature, i int, argOf func(*source) []int) int {
	param := -1
	n := sig.Results().Len()
	for _, ret := range hb.returns {
		var p int
		switch {
		case len(ret.Results) == 0 && n > 0 && sig.Results().At(i).Name() != "":
			p = c.paramOfSource(hb, sig, c.sourceOfVarObj(hb, sig.Results().At(i)), argOf)
		case len(ret.Results) != n:
			return -1 // the results of a call as they are
		case c.nilGuard(ret.Results[i]):
			continue
		default:
			p = c.paramOf(hb, sig, ret.Results[i], argOf)
		}
		if p < 0 || param >= 0 && p != param {
			return -1
		}
		param = p
	}
	return param
}

// paramOf returns the index of the parameter of sig that e passes as the
// argument argOf names, or -1: e is a call with one result, a guard, or a
// variable that holds the one guard result of a call (see sourceOfVar).
func (c *checker) paramOf(hb *helperBody, sig *types.Signature, e ast.Expr, argOf func(*source) []int) int {
	src := c.sourceOf(e)
	if src != nil && src.n != 1 {
		return -1
	}
	if src == nil {
		src = c.sourceOfVar(hb, e)
	}
	return c.paramOfSource(hb, sig, src, argOf)
}

// paramOfSource returns the index of the parameter of sig that src's call
// passes as the argument argOf names, or -1.
func (c *checker) paramOfSource(hb *helperBody, sig *types.Signature, src *source, argOf func(*source) []int) int {
	if src == nil {
		return -1
	}
	args := argOf(src)
	if len(args) != 1 || args[0] < 0 || args[0] >= len(src.call.Args) || !c.argsAreParams(src.call) {
		return -1
	}
	id, ok := ast.Unparen(src.call.Args[args[0]]).(*ast.Ident)
	if !ok {
		return -1
	}
	v, ok := c.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok || len(reaching(hb.body, hb.assigned[v], id)) != 0 { // assigned before the call reads it
		return -1
	}
	for p := range sig.Params().Len() {
		if sig.Params().At(p) == v && !(sig.Variadic() && p == sig.Params().Len()-1) {
			return p
		}
	}
	return -1
}

// sourceOfVar returns the source whose one guard result e, a variable of
// the helper, holds, if that is the variable's only assignment but for a
// declaration without a value (`var rel func()`): a call of several
// results, the guard among them, assigned to as many variables, or a call
// of one, a guard (`rel := release.WrapOnDone(ctx, fn)`).
func (c *checker) sourceOfVar(hb *helperBody, e ast.Expr) *source {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	g, ok := c.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok {
		return nil
	}
	return c.sourceOfVarObj(hb, g)
}

// sourceOfVarObj is sourceOfVar for the variable g.
func (c *checker) sourceOfVarObj(hb *helperBody, g *types.Var) *source {
	info := c.pass.TypesInfo
	var lhs, rhs []ast.Expr
	switch d := onlyValueAssignment(hb.assigned[g]).(type) {
	case *ast.AssignStmt:
		lhs, rhs = d.Lhs, d.Rhs
	case *ast.ValueSpec:
		lhs, rhs = identExprs(d.Names), d.Values
	}
	if len(rhs) != 1 || len(lhs) == 0 {
		return nil
	}
	src := c.sourceOf(rhs[0])
	if src == nil || len(src.results) != 1 || src.results[0] >= len(lhs) || !isVar(info, lhs[src.results[0]], g) ||
		len(lhs) == 1 && src.n != 1 {
		return nil
	}
	return src
}

// onlyValueAssignment returns the one node of as, the assignments of a
// variable, that is not a declaration without a value, or nil if there is
// not exactly one.
func onlyValueAssignment(as []ast.Node) ast.Node {
	var only ast.Node
	for _, n := range as {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Values) == 0 {
			continue
		}
		if only != nil {
			return nil
		}
		only = n
	}
	return only
}
