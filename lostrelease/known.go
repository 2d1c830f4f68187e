package lostrelease

import (
	"go/ast"
	"go/types"
)

// slotsPkg is the import path of the package that defines the
// [github.com/ctxguard/release/slots.Limiter] interface.
const slotsPkg = releasePkg + "/slots"

// A knownMethod is an interface method known to return a guard. A modular
// analyzer cannot see every implementation of an interface, so only the
// methods listed in knownMethods are sources; every other interface method
// has no fact.
type knownMethod struct {
	pkg, iface, name string
}

// knownMethods holds the fact of each known interface method: the guard
// at result 1, nil whenever the error at result 2 is not nil.
var knownMethods = map[knownMethod]*returnsGuard{
	{slotsPkg, "Limiter", "TryAcquire"}: limiterFact(),
	{slotsPkg, "Limiter", "Acquire"}:    limiterFact(),
}

// limiterFact returns the fact of a method shaped as
// slots.Limiter.Acquire: (context.Context, func(), error), the guard
// non-nil only with a nil error, made on its ctx (the slot ends when ctx is
// done), and a panic on a nil ctx, which the contract tests of package
// slotstest require of every Limiter.
func limiterFact() *returnsGuard {
	return &returnsGuard{
		Results:     []int{1},
		While:       [][]valueSet{{{}, {}, {Known: true, Values: []string{"nil"}}}},
		CtxOf:       []int{0},
		PanicsIfNil: []int{0},
	}
}

// interfaceMethod returns the interface method that call calls through a
// selector (x.M(...), with x of an interface type or of a type parameter
// constrained by one), and its fact if it is a known method, or nil. A
// method value or method expression is not followed.
func (c *checker) interfaceMethod(call *ast.CallExpr) (*types.Func, *returnsGuard) {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return nil, nil
	}
	s := c.pass.TypesInfo.Selections[sel]
	if s == nil || s.Kind() != types.MethodVal {
		return nil, nil
	}
	fn, ok := s.Obj().(*types.Func)
	if !ok || fn.Pkg() == nil {
		return nil, nil
	}
	recv := fn.Signature().Recv()
	if recv == nil || !types.IsInterface(recv.Type()) {
		return nil, nil // a concrete method: StaticCallee finds it
	}
	named, ok := types.Unalias(recv.Type()).(*types.Named)
	if !ok {
		return nil, nil
	}
	fact := knownMethods[knownMethod{fn.Pkg().Path(), named.Obj().Name(), fn.Name()}]
	if fact == nil {
		return nil, nil
	}
	return fn, fact
}
