package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/cfg"
)

// A heldGuard is a guard assigned to a local variable of the function
// being checked.
type heldGuard struct {
	v      *types.Var
	assign ast.Node // the *ast.AssignStmt or *ast.ValueSpec that assigns it
	src    *source
	// reportAt is what the report on the variable points at: the call, or
	// the variable a copy was made from.
	reportAt ast.Expr
	// statuses are the other results of the same call held in local
	// variables, whose values tell whether the guard may be non-nil.
	statuses []status
	// discarded is true for a guard dropped where it is made: a bare call
	// (assign is its statement) or an assignment to _. v is then nil, and
	// any path from assign to a return leaks it.
	discarded bool
}

// A status is a result of a guard's call whose values are known on the
// returns where the guard may be non-nil.
type status struct {
	v       *types.Var
	values  []string // what v holds whenever the guard may be non-nil, as in [valueSet]
	isError bool     // v is an error: one equal to a variable is taken as not nil
	// tracked: v is no result of the call but a variable the paths follow
	// by value (see [checker.trackedStatuses]); an assignment sets it.
	tracked bool
	// cond, if set, is a condition that holds the same wherever it is
	// tested (see [checker.fixedConds]), followed as a bool; v is then a
	// variable of its own, never assigned.
	cond string
	// start, if not 0, is what the status may hold at the guard's call (as
	// [status.full] gives values); else it may hold any.
	start uint64
}

// guardCollector finds the guards one function holds.
type guardCollector struct {
	c    *checker
	body *ast.BlockStmt
	// results, if set, are the function's named results, taken as its
	// own variables: a helper's fact follows them to its bare returns, and
	// the guards they hold are checked in the function.
	results map[*types.Var]bool
	holds   []*heldGuard
	changes map[*types.Var][]ast.Node // see assignmentsIn; made when first needed
}

// own reports whether v is a variable of the function: declared in its
// body, or one of results.
func (gc *guardCollector) own(v *types.Var) bool {
	return within(gc.body, v.Pos()) || gc.results[v]
}

// checkFunc checks the body of one function of type ft, leaving function
// literals within it to their own call. Guards held in its named results
// are checked too (see [checker.checkedResults]). In main.main only
// discarded guards are reported.
func (c *checker) checkFunc(ft *ast.FuncType, body *ast.BlockStmt, isMain bool, graph func() *cfg.CFG) {
	gc := &guardCollector{c: c, body: body, results: c.checkedResults(ft, body)}
	ast.PreorderStack(body, nil, gc.visit)
	c.paths, c.holds = nil, nil
	if len(gc.holds) == 0 {
		return
	}
	var paths *pathSearch
	defer func() { c.paths, c.holds = paths, gc.holds }()
	var tracked []status
	deferReported := make(map[*ast.DeferStmt]bool)
	for _, h := range gc.holds {
		if c.ignored(h.src.call) {
			continue
		}
		c.checkNilDefer(body, h)
		if isMain && !h.discarded {
			continue
		}
		if paths == nil {
			paths = newPathSearch(c.pass.TypesInfo, body, graph())
			paths.predicateOf = c.predicateOf
			paths.failure = c.failure
			paths.results = gc.results
			paths.file = c.fileOf(body)
		}
		if h.discarded {
			if len(paths.leaks(h)) > 0 {
				c.pass.ReportRangef(h.src.call, msgDiscarded, h.src.name)
			}
			continue
		}
		if tracked == nil {
			tracked = c.trackedStatuses(body)
		}
		c.track(body, h, tracked)
		declares := c.declares(h)
		c.reportLeaks(h, paths.leaks(h), func(l leak) bool { return declares || paths.declaredInLoop(h, l) })
		for _, d := range paths.defersInLoops(h) {
			if !deferReported[d] {
				deferReported[d] = true
				c.pass.Reportf(d.Pos(), msgDeferInLoop, h.v.Name())
			}
		}
	}
}

// visit is the [ast.PreorderStack] visitor that collects guards.
func (gc *guardCollector) visit(n ast.Node, stack []ast.Node) bool {
	switch n := n.(type) {
	case *ast.FuncLit:
		return false
	case *ast.CallExpr:
		gc.discarded(n, stack[len(stack)-1])
	case *ast.AssignStmt:
		if n.Tok == token.ASSIGN || n.Tok == token.DEFINE {
			gc.c.eachGuard(n.Lhs, n.Rhs, gc.assigned(n, n.Lhs))
			gc.copied(n, n.Lhs, n.Rhs)
		}
	case *ast.ValueSpec:
		lhs := identExprs(n.Names)
		gc.c.eachGuard(lhs, n.Values, gc.assigned(n, lhs))
		gc.copied(n, lhs, n.Values)
	}
	return true
}

// discarded handles call if it is a source whose results are dropped by
// its parent: a bare call, whose paths are searched as a held guard's, or
// a go or defer of it, which is reported.
func (gc *guardCollector) discarded(call *ast.CallExpr, parent ast.Node) {
	src := gc.c.sourceOf(call)
	if src == nil {
		return
	}
	switch parent := parent.(type) {
	case *ast.ExprStmt:
		gc.holds = append(gc.holds, &heldGuard{assign: parent, src: src, reportAt: call, discarded: true})
	case *ast.GoStmt:
		if parent.Call == call {
			gc.discard(src)
		}
	case *ast.DeferStmt:
		if parent.Call == call {
			gc.discard(src)
		}
	}
}

func (gc *guardCollector) discard(src *source) {
	if !gc.c.ignored(src.call) {
		gc.c.pass.ReportRangef(src.call, msgDiscarded, src.name)
	}
}

// assigned returns the handler of one guard result of lhs = rhs, where rhs
// is a guard source.
func (gc *guardCollector) assigned(stmt ast.Node, lhs []ast.Expr) func(ast.Expr, *source, int) {
	return func(e ast.Expr, src *source, result int) {
		id, ok := ast.Unparen(e).(*ast.Ident)
		if !ok {
			return // a field, an element: not tracked
		}
		h := &heldGuard{assign: stmt, src: src, reportAt: src.call, discarded: id.Name == "_"}
		if !h.discarded {
			v, ok := gc.c.pass.TypesInfo.ObjectOf(id).(*types.Var)
			if !ok || !gc.own(v) {
				return // declared outside this function: the result escapes
			}
			h.v = v
		}
		if len(lhs) == src.n && src.n > 1 {
			h.statuses = gc.statuses(src, result, lhs)
		}
		gc.holds = append(gc.holds, h)
	}
}

// statuses returns the statuses of guard result i of src, assigned to lhs.
// When a helper's returns do not say what its last result holds, an error
// is taken to be nil and a bool true whenever the guard is not nil. A
// variable that a function literal assigns, or whose address is taken, is
// no status: the paths of the function do not see it change; but for a
// function literal the function defers directly (see changedOnPaths).
func (gc *guardCollector) statuses(src *source, i int, lhs []ast.Expr) []status {
	info := gc.c.pass.TypesInfo
	k := 0
	for k < len(src.results) && src.results[k] != i {
		k++
	}
	var sts []status
	for j, e := range lhs {
		id, ok := ast.Unparen(e).(*ast.Ident)
		if j == i || !ok || id.Name == "_" || len(sts) == 64 {
			continue
		}
		v, ok := info.ObjectOf(id).(*types.Var)
		if !ok {
			continue
		}
		if gc.changes == nil {
			gc.changes = assignmentsIn(info, gc.body)
		}
		if changedOnPaths(info, gc.body, gc.changes, v) {
			continue
		}
		t := src.sig.Results().At(j).Type()
		vs := src.while[k][j]
		isErr := types.Identical(t, errorType)
		switch {
		case vs.Known:
		case j == src.n-1 && isErr:
			vs = valueSet{Known: true, Values: []string{"nil"}}
		case j == src.n-1 && isBool(t):
			vs = valueSet{Known: true, Values: []string{"true"}}
		default:
			continue
		}
		sts = append(sts, status{v: v, values: vs.Values, isError: isErr})
	}
	return sts
}

// copied handles lhs = rhs, where rhs may be a variable holding a guard:
// lhs holds the same guard, which must be used in turn.
func (gc *guardCollector) copied(stmt ast.Node, lhs, rhs []ast.Expr) {
	if len(lhs) != len(rhs) {
		return
	}
	info := gc.c.pass.TypesInfo
	for i, e := range rhs {
		id, ok := ast.Unparen(e).(*ast.Ident)
		if !ok {
			continue
		}
		for _, h := range gc.holds {
			if info.Uses[id] != h.v {
				continue
			}
			to, ok := ast.Unparen(lhs[i]).(*ast.Ident)
			if !ok || to.Name == "_" {
				break
			}
			if v, ok := info.ObjectOf(to).(*types.Var); ok && v != h.v && gc.own(v) {
				gc.holds = append(gc.holds, &heldGuard{v: v, assign: stmt, src: h.src, reportAt: id})
			}
			break
		}
	}
}

var errorType = types.Universe.Lookup("error").Type()

func isBool(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsBoolean != 0
}

func within(n ast.Node, pos token.Pos) bool { return n.Pos() <= pos && pos < n.End() }

// inspectFunc calls visit for each node of body, not entering function
// literals.
func inspectFunc(body ast.Node, visit func(ast.Node)) {
	ast.Inspect(body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		if n != nil {
			visit(n)
		}
		return true
	})
}

// fileOf returns the file of the package that holds n, or nil.
func (c *checker) fileOf(n ast.Node) *ast.File {
	for _, f := range c.pass.Files {
		if within(f, n.Pos()) {
			return f
		}
	}
	return nil
}
