package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
	"maps"
	"slices"

	"golang.org/x/tools/go/types/typeutil"
)

const msgShortCtx = "the guard's ctx is cancelled by the deferred cancel when %s returns: it fires then"

// cancelFuncs are the functions of the context package whose first result
// is done when their second, a cancel function, is called.
var cancelFuncs = map[string]bool{
	"WithCancel": true, "WithCancelCause": true,
	"WithTimeout": true, "WithTimeoutCause": true,
	"WithDeadline": true, "WithDeadlineCause": true,
}

// checkShortCtx reports each call in body, the body of the function called
// name, of a source of one guard made on one of its arguments as its ctx
// (see [checker.ctxArg]: WrapOnDone, a Limiter's Acquire, or a helper of
// theirs), whose guard the function returns while a cancel it defers ends
// the guard's ctx: the guard fires as soon as the function returns. It
// reports only when that is certain: ctx is a local variable declared
// once, or a parameter assigned once before the call by a statement of
// body itself (see [checker.paramReassigned]), by the call of a
// cancelFuncs function whose cancel, declared only there, is deferred by
// a statement of body itself; and a return statement after that defer
// returns the guard, the call itself or a local variable assigned only
// the call's guard. A body with a goto, which may jump over the defer, is
// not checked.
func (c *checker) checkShortCtx(ft *ast.FuncType, body *ast.BlockStmt, name string) {
	var calls []*ast.CallExpr
	var ctxs []ast.Expr // the ctx argument of each call
	var guards []int    // the index of each call's guard result
	var returns []*ast.ReturnStmt
	hasGoto := false
	inspectFunc(body, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.CallExpr:
			if ctx, g := c.ctxArg(n); ctx != nil {
				calls, ctxs, guards = append(calls, n), append(ctxs, ctx), append(guards, g)
			}
		case *ast.ReturnStmt:
			returns = append(returns, n)
		case *ast.BranchStmt:
			hasGoto = hasGoto || n.Tok == token.GOTO
		}
	})
	if len(calls) == 0 || hasGoto {
		return
	}
	assigned := assignmentsIn(c.pass.TypesInfo, body)
	short := make(map[*ast.CallExpr]int) // the calls on a short ctx: their guard's index
	defers := make([]*ast.DeferStmt, len(calls))
	for k, call := range calls {
		if d := c.deferredCancel(body, assigned, ctxs[k]); d != nil && !c.ignored(call) {
			short[call], defers[k] = guards[k], d
		}
	}
	held := &shortGuards{c: c, body: body, named: c.namedResults(ft), assigned: assigned, short: short, returns: returns}
	held.statusVars()
	for k, call := range calls {
		if defers[k] != nil && held.returnedAfter(call, defers[k], returns) {
			c.pass.ReportRangef(call, msgShortCtx, name)
		}
	}
}

// ctxArg returns the argument that the guard call returns is made on as
// its ctx, and the index of that guard among call's results, or nil: call
// is a source of one guard that may be non-nil, whose fact names that
// argument (WrapOnDone's ctx, a Limiter's, or a helper's parameter passed
// on as one of those).
func (c *checker) ctxArg(call *ast.CallExpr) (ast.Expr, int) {
	src := c.sourceOf(call)
	if src == nil || len(src.results) != 1 || len(src.ctxOf) != 1 || !c.argsAreParams(call) {
		return nil, 0
	}
	if i := src.ctxOf[0]; i >= 0 && i < len(call.Args) {
		return call.Args[i], src.results[0]
	}
	return nil, 0
}

// deferredCancel returns the defer statement of body that cancels ctx, if
// ctx is a local variable declared, and assigned, only as the first result
// of a cancelFuncs call, or a parameter assigned only so, by a statement
// of body itself before ctx is read (`ctx, cancel :=
// context.WithTimeout(ctx, d)`), whose second result is a variable
// declared and assigned only there and deferred by a statement of body
// itself (`defer cancel()`, `defer cancel(err)`). It returns nil
// otherwise.
func (c *checker) deferredCancel(body *ast.BlockStmt, assigned map[*types.Var][]ast.Node, ctx ast.Expr) *ast.DeferStmt {
	info := c.pass.TypesInfo
	id, ok := ast.Unparen(ctx).(*ast.Ident)
	if !ok {
		return nil
	}
	v, ok := info.Uses[id].(*types.Var)
	if !ok {
		return nil
	}
	seen := map[*types.Var][]ast.Node{v: reaching(body, assigned[v], id)}
	decl := onlyDeclaration(info, seen, v)
	if decl == nil {
		decl = c.paramReassigned(body, seen, v, id)
	}
	var lhs, rhs []ast.Expr
	switch d := decl.(type) {
	case *ast.AssignStmt:
		lhs, rhs = d.Lhs, d.Rhs
	case *ast.ValueSpec:
		lhs, rhs = identExprs(d.Names), d.Values
	}
	if len(lhs) != 2 || len(rhs) != 1 || !isVar(info, lhs[0], v) || !c.isCancelFunc(rhs[0]) {
		return nil
	}
	cancelID, ok := lhs[1].(*ast.Ident)
	cancel, _ := info.ObjectOf(cancelID).(*types.Var)
	if !ok || cancel == nil || !within(body, cancel.Pos()) || onlyValueAssignment(assigned[cancel]) != decl {
		return nil
	}
	for _, s := range body.List {
		if d, ok := s.(*ast.DeferStmt); ok && isVar(info, d.Call.Fun, cancel) {
			return d
		}
	}
	return nil
}

// reaching returns the nodes of as, the assignments of a variable in body,
// whose value read may see: not the statement read is part of, which
// assigns after reading (`ctx, rel, err := l.Acquire(ctx, ...)`), nor one
// after read that no loop of body brings back before it.
func reaching(body *ast.BlockStmt, as []ast.Node, read *ast.Ident) []ast.Node {
	var seen []ast.Node
	for _, n := range as {
		if within(n, read.Pos()) || n.Pos() > read.Pos() && !inLoopWith(body, n, read) {
			continue
		}
		seen = append(seen, n)
	}
	return seen
}

// inLoopWith reports whether a for or range statement of body holds both
// a and b in its body (function literals included).
func inLoopWith(body *ast.BlockStmt, a, b ast.Node) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if s, ok := n.(ast.Stmt); ok {
			if l := loopBody(s); l != nil && within(l, a.Pos()) && within(l, b.Pos()) {
				found = true
			}
		}
		return !found
	})
	return found
}

// paramReassigned returns the one assignment of v in body, if v is a
// parameter of the function whose body is body and that assignment is a
// statement of body itself that ends before read: every path to read
// passes it, and nothing assigns v after it.
func (c *checker) paramReassigned(body *ast.BlockStmt, assigned map[*types.Var][]ast.Node, v *types.Var, read *ast.Ident) ast.Node {
	as := assigned[v]
	if len(as) != 1 || v.Pos() >= body.Pos() || v.Parent() == nil || v.Parent() != c.pass.Pkg.Scope().Innermost(body.Pos()) {
		return nil
	}
	s, ok := as[0].(*ast.AssignStmt)
	if !ok || s.End() > read.Pos() || !slices.Contains(body.List, ast.Stmt(s)) {
		return nil
	}
	return s
}

// isCancelFunc reports whether e is a call of one of cancelFuncs.
func (c *checker) isCancelFunc(e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	fn := typeutil.StaticCallee(c.pass.TypesInfo, call)
	return fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == "context" && cancelFuncs[fn.Name()]
}

// shortGuards are the guards of a function's calls on a short ctx (see
// checkShortCtx), and what tells where the function returns them.
type shortGuards struct {
	c        *checker
	body     *ast.BlockStmt
	named    []*types.Var // the function's named results
	assigned map[*types.Var][]ast.Node
	short    map[*ast.CallExpr]int // each call on a short ctx, and its guard's index
	returns  []*ast.ReturnStmt
	statuses map[*types.Var][]ast.Node           // the other results of those calls, with the statements that assign them
	derived  map[*types.Var]bool                 // variables assigned values that read those (see statusVars)
	uses     map[*ast.CallExpr]map[ast.Node]bool // by call, see reached; made when first needed
}

// returnedAfter reports whether a return statement of returns after d
// hands call's guard on: as the call itself, or in a variable of the
// function (a local, or a named result, returned bare too) that holds
// only the guards of calls on a short ctx, call's among them; or in a
// function literal that calls such a variable, or a composite literal
// (or its address) that holds one. A return under a condition on those
// calls' other results (`if st != statusOK { return rel, st }`), where the
// guard may be nil, does not count.
func (sg *shortGuards) returnedAfter(call *ast.CallExpr, d *ast.DeferStmt, returns []*ast.ReturnStmt) bool {
	for _, r := range returns {
		if r.Pos() < d.End() || !sg.reached(call, r) {
			continue
		}
		if len(r.Results) == 0 && slices.ContainsFunc(sg.named, func(g *types.Var) bool { return sg.holds(g, call) }) {
			return true
		}
		if slices.ContainsFunc(r.Results, func(e ast.Expr) bool { return sg.carries(e, call) }) {
			return true
		}
	}
	return false
}

// reached reports whether a path may reach r holding call's guard: if a
// variable of the function holds the guard, a path that may hold it in
// that variable uses it at r (see [pathSearch.usesReached]), past no branch
// on a condition on the call's status of which the paths know neither
// branch to hold nothing, where the guard may be nil and the analyzer does
// not tell; else, r is under no such condition (see underStatus).
func (sg *shortGuards) reached(call *ast.CallExpr, r *ast.ReturnStmt) bool {
	if sg.uses == nil {
		sg.uses = make(map[*ast.CallExpr]map[ast.Node]bool)
	}
	uses, ok := sg.uses[call]
	if !ok {
		stop := func(h *heldGuard, cond ast.Expr) bool { return sg.readsStatusOf(cond, h.assign) }
		uses = sg.c.usesReached(call, stop)
		sg.uses[call] = uses
	}
	if uses != nil {
		return uses[r]
	}
	return !sg.underStatus(r)
}

// usesReached returns the nodes where the paths followed from the guards of
// call held by variables of the function checkFunc checked last use them,
// not past a branch on a condition stop reports, or nil if no variable
// holds one or it followed none.
func (c *checker) usesReached(call *ast.CallExpr, stop func(*heldGuard, ast.Expr) bool) map[ast.Node]bool {
	var uses map[ast.Node]bool
	for _, h := range c.holds {
		if h.src.call != call || h.discarded || c.paths == nil {
			continue
		}
		if uses == nil {
			uses = make(map[ast.Node]bool)
		}
		maps.Copy(uses, c.paths.usesReached(h, func(cond ast.Expr) bool { return stop(h, cond) }))
	}
	return uses
}

// carries reports whether e, a returned value, hands call's guard on.
func (sg *shortGuards) carries(e ast.Expr, call *ast.CallExpr) bool { return sg.carriesIn(e, call, 0) }

// carriesIn is carries, depth closures deep (at most 3).
func (sg *shortGuards) carriesIn(e ast.Expr, call *ast.CallExpr, depth int) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.CallExpr:
		return e == call
	case *ast.Ident:
		g, ok := sg.c.pass.TypesInfo.Uses[e].(*types.Var)
		return ok && (sg.holds(g, call) || sg.closureCarries(g, call, depth))
	case *ast.FuncLit: // a combined release: func() { relA(); relU() }
		return depth < 3 && sg.callsCarrying(e, call, depth+1)
	case *ast.UnaryExpr:
		return e.Op == token.AND && sg.carriesIn(e.X, call, depth)
	case *ast.CompositeLit:
		return slices.ContainsFunc(e.Elts, func(el ast.Expr) bool {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				el = kv.Value
			}
			return sg.carriesIn(el, call, depth)
		})
	}
	return false
}

// callsCarrying reports whether the body of f calls, with no arguments, a
// function that carries call's guard.
func (sg *shortGuards) callsCarrying(f *ast.FuncLit, call *ast.CallExpr, depth int) bool {
	found := false
	ast.Inspect(f.Body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok && len(c.Args) == 0 {
			found = found || sg.carriesIn(c.Fun, call, depth)
		}
		return !found
	})
	return found
}

// closureCarries reports whether g, a local variable of the function, is
// assigned only function literals, one of which calls call's guard
// (`releaseA := func() { relA() }`).
func (sg *shortGuards) closureCarries(g *types.Var, call *ast.CallExpr, depth int) bool {
	if !within(sg.body, g.Pos()) || depth >= 3 || len(sg.assigned[g]) == 0 {
		return false
	}
	some := false
	for _, n := range sg.assigned[g] {
		lhs, rhs := assignParts(n)
		if len(lhs) != len(rhs) {
			return false
		}
		for i, e := range lhs {
			if !isVar(sg.c.pass.TypesInfo, e, g) {
				continue
			}
			f, ok := ast.Unparen(rhs[i]).(*ast.FuncLit)
			if !ok {
				return false
			}
			some = some || sg.callsCarrying(f, call, depth+1)
		}
	}
	return some
}

// holds reports whether g, a variable of the function, is assigned only
// guards of calls on a short ctx, call's among them (a declaration without
// a value, or nil, assigns nothing).
func (sg *shortGuards) holds(g *types.Var, call *ast.CallExpr) bool {
	if !within(sg.body, g.Pos()) && !slices.Contains(sg.named, g) {
		return false
	}
	some := false
	for _, n := range sg.assigned[g] {
		var lhs, rhs []ast.Expr
		switch d := n.(type) {
		case *ast.AssignStmt:
			lhs, rhs = d.Lhs, d.Rhs
		case *ast.ValueSpec:
			lhs, rhs = identExprs(d.Names), d.Values
		default:
			return false // its address taken
		}
		if len(rhs) == 0 || sg.givesNil(lhs, rhs, g) {
			continue
		}
		from := sg.guardCall(lhs, rhs, g)
		if from == nil {
			return false
		}
		some = some || from == call
	}
	return some && !sg.returnsOther(g)
}

// givesNil reports whether an assignment of lhs to rhs gives g nil.
func (sg *shortGuards) givesNil(lhs, rhs []ast.Expr, g *types.Var) bool {
	if len(lhs) != len(rhs) {
		return false
	}
	for i, e := range lhs {
		if isVar(sg.c.pass.TypesInfo, e, g) {
			return sg.c.pass.TypesInfo.Types[rhs[i]].IsNil()
		}
	}
	return false
}

// guardCall returns the call on a short ctx whose guard an assignment of
// lhs to rhs gives g, or nil if it gives g anything else.
func (sg *shortGuards) guardCall(lhs, rhs []ast.Expr, g *types.Var) *ast.CallExpr {
	info := sg.c.pass.TypesInfo
	if len(rhs) == 1 && len(lhs) > 1 {
		call, _ := ast.Unparen(rhs[0]).(*ast.CallExpr)
		if i, ok := sg.short[call]; ok && i < len(lhs) && isVar(info, lhs[i], g) {
			return call
		}
		return nil
	}
	for i, e := range lhs {
		if i < len(rhs) && isVar(info, e, g) {
			call, _ := ast.Unparen(rhs[i]).(*ast.CallExpr)
			if i, ok := sg.short[call]; ok && i == 0 {
				return call
			}
			return nil
		}
	}
	return nil
}

// namedResults returns the named results of a function of type ft.
func (c *checker) namedResults(ft *ast.FuncType) []*types.Var {
	var vs []*types.Var
	if ft.Results != nil {
		for _, f := range ft.Results.List {
			for _, name := range f.Names {
				if v, ok := c.pass.TypesInfo.Defs[name].(*types.Var); ok {
					vs = append(vs, v)
				}
			}
		}
	}
	return vs
}
