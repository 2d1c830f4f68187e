package lostrelease

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"maps"
	"reflect"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"
)

// returnsGuard is the fact the analyzer exports for a function or method
// that returns a release guard. Its callers are checked as callers of
// WrapOnDone are.
type returnsGuard struct {
	// Results holds the indexes, ascending, of the results that are guards.
	Results []int
	// While holds, for each guard result in the order of Results, what
	// each of the function's results holds on the return statements where
	// that guard may be non-nil.
	While [][]valueSet
	// NilIfNil holds, for each guard result in the order of Results, the
	// index of the parameter whose literal nil makes that guard nil (the
	// helper passes it on as WrapOnDone's fn), or -1. It is nil when no
	// guard has one.
	NilIfNil []int
	// CtxOf holds, for each guard result in the order of Results, the
	// index of the parameter that guard is made on as its ctx (the helper
	// passes it on as WrapOnDone's ctx), or -1. It is nil when no guard has
	// one.
	CtxOf []int
	// PanicsIfNil holds the indexes, ascending, of the parameters on whose
	// nil the function panics before it returns, or nil: a call with a nil
	// there returns no guard (see [checker.panicsByArgs]).
	PanicsIfNil []int
}

// A valueSet is what one result holds on the return statements where a
// guard may be non-nil.
type valueSet struct {
	// Known is false when a return gives the result something other than
	// a constant or nil, or when the result is the guard itself.
	Known bool
	// Values lists the values, sorted: a constant in its exact form
	// (constant.Value.ExactString), or "nil".
	Values []string
}

// AFact marks returnsGuard as an [analysis.Fact].
func (*returnsGuard) AFact() {}

// String returns "returnsGuard", the guard results' indexes, and the
// values of other results under which each guard may be non-nil.
func (f *returnsGuard) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "returnsGuard%v", f.Results)
	for k, r := range f.Results {
		for j, vs := range f.While[k] {
			if vs.Known {
				fmt.Fprintf(&b, " %d:{%d=%s}", r, j, strings.Join(vs.Values, "|"))
			}
		}
	}
	if f.NilIfNil != nil {
		fmt.Fprintf(&b, " nilIfNil%v", f.NilIfNil)
	}
	if f.CtxOf != nil {
		fmt.Fprintf(&b, " ctxOf%v", f.CtxOf)
	}
	if f.PanicsIfNil != nil {
		fmt.Fprintf(&b, " panicsIfNil%v", f.PanicsIfNil)
	}
	return b.String()
}

// fits reports whether f describes a function with n results.
func (f *returnsGuard) fits(n int) bool {
	if len(f.Results) == 0 || f.Results[len(f.Results)-1] >= n || len(f.While) != len(f.Results) ||
		f.NilIfNil != nil && len(f.NilIfNil) != len(f.Results) ||
		f.CtxOf != nil && len(f.CtxOf) != len(f.Results) {
		return false
	}
	for _, w := range f.While {
		if len(w) != n {
			return false
		}
	}
	return true
}

// deriveFacts finds this package's helpers, following helpers that call one
// another until nothing changes, and exports a fact for each.
func (c *checker) deriveFacts(decls []*ast.FuncDecl, cfgs *ctrlflow.CFGs) {
	// Each round can only learn of more helpers or of the values of more
	// results; the bound guards against a cycle that never settles.
	for round := 0; round <= len(decls)+1; round++ {
		changed := false
		for _, fd := range decls {
			fn, ok := c.pass.TypesInfo.Defs[fd.Name].(*types.Func)
			if !ok {
				continue
			}
			graph := func() *cfg.CFG { return cfgs.FuncDecl(fd) }
			if f := c.helperFact(fd, fn.Signature(), graph); !reflect.DeepEqual(f, c.local[fn]) {
				c.local[fn] = f
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	for _, fd := range decls {
		fn, _ := c.pass.TypesInfo.Defs[fd.Name].(*types.Func)
		if f := c.local[fn]; fn != nil && f != nil {
			c.pass.ExportObjectFact(fn, f)
		}
	}
}

// helperFact returns the fact for fd, of signature sig and CFG graph, or
// nil if it returns no guard.
func (c *checker) helperFact(fd *ast.FuncDecl, sig *types.Signature, graph func() *cfg.CFG) *returnsGuard {
	n := sig.Results().Len()
	if n == 0 {
		return nil
	}
	hb := c.readHelperBody(fd.Body)
	hb.returned = &returnedValues{c: c, body: fd.Body, sig: sig, graph: graph, assigned: hb.assigned}
	is := make([]bool, n)
	asIs := slices.ContainsFunc(hb.returns, func(r *ast.ReturnStmt) bool { return len(r.Results) == 0 }) ||
		recoversInLiteral(c.pass.TypesInfo, fd.Body) // a recovered panic returns the named results as they are
	for i := range n {
		// A named result that holds a guard is returned as it is by a bare
		// return or a recovered panic, or changed by a literal aside.
		v := sig.Results().At(i)
		is[i] = hb.guards[v] && (asIs || changedAside(fd.Body, hb.assigned, v))
	}
	for _, ret := range hb.returns {
		c.markGuardResults(ret, n, hb.guards, is)
	}
	f := &returnsGuard{}
	nilIf, ctxOf := false, false
	for i, ok := range is {
		if ok && c.cleanedUp(hb, i, n, sig.Results().At(i)) {
			continue // the test frees it when it ends: the caller may drop it
		}
		if _, isFunc := sig.Results().At(i).Type().Underlying().(*types.Signature); ok && isFunc {
			f.Results = append(f.Results, i)
			f.While = append(f.While, c.whileNonNil(hb, i, n))
			p := c.paramFor(hb, sig, i, nilIfNilOf)
			f.NilIfNil = append(f.NilIfNil, p)
			nilIf = nilIf || p >= 0
			p = c.paramFor(hb, sig, i, ctxOfOf)
			f.CtxOf = append(f.CtxOf, p)
			ctxOf = ctxOf || p >= 0
		}
	}
	if len(f.Results) == 0 {
		return nil
	}
	if !nilIf {
		f.NilIfNil = nil
	}
	if !ctxOf {
		f.CtxOf = nil
	}
	f.PanicsIfNil = c.panicsIfNil(fd, sig, hb)
	return f
}

// helperBody is what the fact of one function is derived from.
type helperBody struct {
	body    *ast.BlockStmt
	guards  map[*types.Var]bool // variables assigned a guard
	returns []*ast.ReturnStmt
	// assigned holds, for each variable, the statements that assign it,
	// function literals included; an address taken counts as one more.
	assigned map[*types.Var][]ast.Node
	returned *returnedValues // what returns hold, followed along paths
}

// readHelperBody reads body, leaving function literals out but for the
// count of assignments.
func (c *checker) readHelperBody(body *ast.BlockStmt) *helperBody {
	info := c.pass.TypesInfo
	hb := &helperBody{body: body, guards: make(map[*types.Var]bool)}
	mark := func(lhs ast.Expr, _ *source, _ int) {
		if id, ok := ast.Unparen(lhs).(*ast.Ident); ok {
			if v, ok := info.ObjectOf(id).(*types.Var); ok {
				hb.guards[v] = true
			}
		}
	}
	var copies [][2]*types.Var // to, from: a variable assigned another
	inspectFunc(body, func(node ast.Node) {
		switch node := node.(type) {
		case *ast.ReturnStmt:
			hb.returns = append(hb.returns, node)
		case *ast.AssignStmt:
			c.eachGuard(node.Lhs, node.Rhs, mark)
			copies = append(copies, varCopies(info, node.Lhs, node.Rhs)...)
		case *ast.ValueSpec:
			c.eachGuard(identExprs(node.Names), node.Values, mark)
			copies = append(copies, varCopies(info, identExprs(node.Names), node.Values)...)
		}
	})
	for grown := true; grown; { // a copy of a guard holds one too (`rel = r`)
		grown = false
		for _, cp := range copies {
			if hb.guards[cp[1]] && !hb.guards[cp[0]] {
				hb.guards[cp[0]], grown = true, true
			}
		}
	}
	hb.assigned = assignmentsIn(info, body)
	return hb
}

// varCopies returns the pairs of variables (to, from) that lhs = rhs
// assigns one from another.
func varCopies(info *types.Info, lhs, rhs []ast.Expr) [][2]*types.Var {
	if len(lhs) != len(rhs) {
		return nil
	}
	var cps [][2]*types.Var
	for i := range lhs {
		to, _ := identVar(info, lhs[i])
		from, _ := identVar(info, rhs[i])
		if to != nil && from != nil {
			cps = append(cps, [2]*types.Var{to, from})
		}
	}
	return cps
}

// identVar returns the variable e names, if e is an identifier of one.
func identVar(info *types.Info, e ast.Expr) (*types.Var, bool) {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil, false
	}
	v, ok := info.ObjectOf(id).(*types.Var)
	return v, ok
}

// assignedExprs returns the expressions that node assigns or takes the
// address of.
func assignedExprs(node ast.Node) []ast.Expr {
	switch node := node.(type) {
	case *ast.AssignStmt:
		return node.Lhs
	case *ast.ValueSpec:
		return identExprs(node.Names)
	case *ast.IncDecStmt:
		return []ast.Expr{node.X}
	case *ast.RangeStmt:
		return []ast.Expr{node.Key, node.Value}
	case *ast.UnaryExpr:
		if node.Op == token.AND {
			return []ast.Expr{node.X}
		}
	}
	return nil
}

// fromOneCall returns what status holds while guard may be non-nil, when
// both are local variables assigned once, by the same call of a source of
// which guard is a guard result.
func (hb *helperBody) fromOneCall(c *checker, guard, status ast.Expr) (valueSet, bool) {
	info := c.pass.TypesInfo
	gid, ok1 := ast.Unparen(guard).(*ast.Ident)
	sid, ok2 := ast.Unparen(status).(*ast.Ident)
	if !ok1 || !ok2 {
		return valueSet{}, false
	}
	g, _ := info.Uses[gid].(*types.Var)
	s, _ := info.Uses[sid].(*types.Var)
	if g == nil || s == nil {
		return valueSet{}, false
	}
	if len(hb.assigned[g]) != 1 || len(hb.assigned[s]) != 1 || hb.assigned[g][0] != hb.assigned[s][0] {
		return valueSet{}, false
	}
	var lhs, rhs []ast.Expr
	switch a := hb.assigned[g][0].(type) {
	case *ast.AssignStmt:
		lhs, rhs = a.Lhs, a.Rhs
	case *ast.ValueSpec:
		lhs, rhs = identExprs(a.Names), a.Values
	}
	if len(rhs) != 1 {
		return valueSet{}, false
	}
	src := c.sourceOf(rhs[0])
	gi, si := indexOfVar(info, lhs, g), indexOfVar(info, lhs, s)
	if src == nil || src.n != len(lhs) || gi < 0 || si < 0 {
		return valueSet{}, false
	}
	k := slices.Index(src.results, gi)
	if k < 0 || !src.while[k][si].Known {
		return valueSet{}, false
	}
	return src.while[k][si], true
}

// indexOfVar returns the index of the identifier of v in lhs, or -1.
func indexOfVar(info *types.Info, lhs []ast.Expr, v *types.Var) int {
	for i, e := range lhs {
		if id, ok := ast.Unparen(e).(*ast.Ident); ok && info.ObjectOf(id) == v {
			return i
		}
	}
	return -1
}

// markGuardResults sets is[i] for each result i that ret returns a guard
// in: a source, or a variable in guards.
func (c *checker) markGuardResults(ret *ast.ReturnStmt, n int, guards map[*types.Var]bool, is []bool) {
	switch {
	case len(ret.Results) == n:
		for i, e := range ret.Results {
			if src := c.sourceOf(e); src != nil && src.n == 1 {
				is[i] = true
			} else if id, ok := ast.Unparen(e).(*ast.Ident); ok {
				if v, ok := c.pass.TypesInfo.Uses[id].(*types.Var); ok && guards[v] {
					is[i] = true
				}
			}
		}
	case len(ret.Results) == 1 && n > 1:
		if src := c.sourceOf(ret.Results[0]); src != nil && src.n == n {
			for _, i := range src.results {
				is[i] = true
			}
		}
	}
}

// whileNonNil returns, for each of the n results, what it holds on the
// returns where result i, a guard, may be non-nil. A named result that a
// function literal assigns, or whose address is taken, holds what a
// deferred call leaves in it: nothing is known of it, nor of any result
// if it is the guard, but what a deferred closure that clears the guard
// says (see [checker.addCleared]).
func (c *checker) whileNonNil(hb *helperBody, i, n int) []valueSet {
	results := hb.returned.sig.Results()
	aside := func(j int) bool { return changedAside(hb.returned.body, hb.assigned, results.At(j)) }
	sets := make([]map[string]bool, n)
	for j := range sets {
		if j != i && !aside(j) && !aside(i) {
			sets[j] = make(map[string]bool)
		}
	}
	for _, ret := range hb.returns {
		if hb.returned.nilAt(ret, i) {
			continue // no path that holds a guard reaches ret
		}
		switch {
		case len(ret.Results) == n:
			if c.nilGuard(ret.Results[i]) {
				continue // the guard is nil here
			}
			for j := range n {
				if sets[j] == nil {
					continue
				}
				// Along paths first: a status's values narrowed on the way.
				if set := hb.returned.add(ret, i, j, sets[j]); set != nil {
					sets[j] = set
				} else {
					sets[j] = c.addReturned(hb, ret.Results, i, j, sets[j])
				}
			}
		case len(ret.Results) == 1 && n > 1:
			c.whileFromSource(ret.Results[0], i, n, sets)
		default: // a bare return of named results
			for j := range n {
				if sets[j] != nil {
					sets[j] = hb.returned.add(ret, i, j, sets[j])
				}
			}
		}
	}
	if aside(i) {
		c.addCleared(hb, i, sets)
	}
	vs := make([]valueSet, n)
	for j, set := range sets {
		if set != nil {
			vs[j] = valueSet{Known: true, Values: slices.Sorted(maps.Keys(set))}
		}
	}
	return vs
}

// addCleared sets what each result holds while result i, a guard that
// a deferred closure clears, may be non-nil, where that closure says (see
// [checker.clearedWhile]).
func (c *checker) addCleared(hb *helperBody, i int, sets []map[string]bool) {
	results := hb.returned.sig.Results()
	for j := range sets {
		if j == i {
			continue
		}
		if set, ok := c.clearedWhile(hb, results.At(i), results.At(j)); ok {
			sets[j] = set
		}
	}
}

// otherValue is the value a valueSet holds for a package variable, such
// as an error value, returned beside a guard that cannot be nil. It may
// equal any value.
const otherValue = "?"

// addReturned adds to set what results[j] holds while results[i], a guard,
// may be non-nil, and returns set, or nil if that is not known.
func (c *checker) addReturned(hb *helperBody, results []ast.Expr, i, j int, set map[string]bool) map[string]bool {
	info := c.pass.TypesInfo
	e := results[j]
	if key, ok := valueKey(info, e); ok {
		set[key] = true
		return set
	}
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil // a call, say, that wraps an error: not known
	}
	v, ok := info.Uses[id].(*types.Var)
	if ok && v.Pkg() != nil && v.Parent() == v.Pkg().Scope() {
		if !c.neverNil(hb, results[i]) {
			return nil // the guard may be nil here, as the convention has it
		}
		set[otherValue] = true // a package variable beside a live guard: an error value, say
		return set
	}
	vs, ok := hb.fromOneCall(c, results[i], e)
	if !ok {
		return nil
	}
	for _, key := range vs.Values {
		set[key] = true
	}
	return set
}

// nilGuard reports whether e, a returned guard, holds nothing: nil itself,
// a call whose guards are all nil by their arguments, such as WrapOnDone
// with a literal nil fn, or a function that does nothing (see noOp), which
// a helper may return on a refusal so that its callers can always call it.
func (c *checker) nilGuard(e ast.Expr) bool {
	if c.pass.TypesInfo.Types[e].IsNil() || c.noOp(e) {
		return true
	}
	call, _, fact := c.guardCall(e)
	return fact != nil && c.nilByArgs(call, fact)
}

// noOp reports whether e is a function that does nothing: a function
// literal with an empty body, or a function of this package, named
// directly, whose body is empty (`func noop() {}`).
func (c *checker) noOp(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.FuncLit:
		return len(e.Body.List) == 0
	case *ast.Ident:
		fn, ok := c.pass.TypesInfo.Uses[e].(*types.Func)
		if !ok || fn.Pkg() != c.pass.Pkg || fn.Signature().Recv() != nil {
			return false
		}
		for _, f := range c.pass.Files {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && c.pass.TypesInfo.Defs[fd.Name] == fn {
					return fd.Body != nil && len(fd.Body.List) == 0
				}
			}
		}
	}
	return false
}

// neverNil reports whether e, a returned guard, cannot be nil: a call of
// WrapOnDone or WrapOnDoneCause with a fn that is not a literal nil, or a
// local variable assigned only once, from such a call.
func (c *checker) neverNil(hb *helperBody, e ast.Expr) bool {
	if id, ok := ast.Unparen(e).(*ast.Ident); ok {
		v, _ := c.pass.TypesInfo.Uses[id].(*types.Var)
		if v == nil || len(hb.assigned[v]) != 1 {
			return false
		}
		switch a := hb.assigned[v][0].(type) {
		case *ast.AssignStmt:
			if len(a.Lhs) != 1 || len(a.Rhs) != 1 {
				return false
			}
			e = a.Rhs[0]
		case *ast.ValueSpec:
			if len(a.Names) != 1 || len(a.Values) != 1 {
				return false
			}
			e = a.Values[0]
		default:
			return false
		}
	}
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	fn := typeutil.StaticCallee(c.pass.TypesInfo, call)
	return fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == releasePkg &&
		(fn.Name() == "WrapOnDone" || fn.Name() == "WrapOnDoneCause") && !c.nilGuard(call)
}

// whileFromSource adds to sets what a return of the call e, another
// helper's results as they are, gives each result while result i may be
// non-nil.
func (c *checker) whileFromSource(e ast.Expr, i, n int, sets []map[string]bool) {
	src := c.sourceOf(e)
	k := -1
	if src != nil && src.n == n {
		k = slices.Index(src.results, i)
	}
	for j := range n {
		switch {
		case sets[j] == nil:
		case k < 0 || !src.while[k][j].Known:
			sets[j] = nil
		default:
			for _, v := range src.while[k][j].Values {
				sets[j][v] = true
			}
		}
	}
}

// valueKey returns e's value as a valueSet holds it, if e is a constant
// or nil.
func valueKey(info *types.Info, e ast.Expr) (string, bool) {
	tv := info.Types[e]
	switch {
	case tv.Value != nil:
		return tv.Value.ExactString(), true
	case tv.IsNil():
		return "nil", true
	}
	return "", false
}
