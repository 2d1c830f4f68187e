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
// is nil or a call of a source with one result, a guard, that passes the
// parameter, never assigned in the helper, as the argument argOf names
// (WrapOnDone's fn for nilIfNilOf, its ctx for ctxOfOf, or the argument
// another such helper names).
func (c *checker) paramFor(hb *helperBody, sig *types.Signature, i int, argOf func(*source) []int) int {
	param := -1
	n := sig.Results().Len()
	for _, ret := range hb.returns {
		if len(ret.Results) != n {
			return -1 // a bare return, or the results of a call as they are
		}
		e := ret.Results[i]
		if c.nilGuard(e) {
			continue
		}
		p := c.paramOf(hb, sig, e, argOf)
		if p < 0 || param >= 0 && p != param {
			return -1
		}
		param = p
	}
	return param
}

// paramOf returns the index of the parameter of sig that e, a call with
// one result, a guard, passes as the argument argOf names, or -1.
func (c *checker) paramOf(hb *helperBody, sig *types.Signature, e ast.Expr, argOf func(*source) []int) int {
	src := c.sourceOf(e)
	if src == nil || src.n != 1 {
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
	if !ok || len(hb.assigned[v]) != 0 {
		return -1
	}
	for p := range sig.Params().Len() {
		if sig.Params().At(p) == v && !(sig.Variadic() && p == sig.Params().Len()-1) {
			return p
		}
	}
	return -1
}
