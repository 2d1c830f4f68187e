package lostrelease

import (
	"go/ast"
	"go/types"
)

// nilIfNil returns the index of the parameter of a helper, of signature
// sig, whose literal nil makes its guard result i nil, or -1: on every
// return, result i is nil or a call that returns a guard that is nil when
// its argument is (WrapOnDone's fn, or another such helper's), given that
// parameter, never assigned in the helper.
func (c *checker) nilIfNil(hb *helperBody, sig *types.Signature, i int) int {
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
		p := c.nilParamOf(hb, sig, e)
		if p < 0 || param >= 0 && p != param {
			return -1
		}
		param = p
	}
	return param
}

// nilParamOf returns the index of the parameter of sig that e, a call with
// one result, a guard, passes where a nil argument makes that guard nil,
// or -1.
func (c *checker) nilParamOf(hb *helperBody, sig *types.Signature, e ast.Expr) int {
	src := c.sourceOf(e)
	if src == nil || src.n != 1 || len(src.nilIfNil) != 1 || src.nilIfNil[0] < 0 ||
		src.nilIfNil[0] >= len(src.call.Args) || !c.argsAreParams(src.call) {
		return -1
	}
	id, ok := ast.Unparen(src.call.Args[src.nilIfNil[0]]).(*ast.Ident)
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
