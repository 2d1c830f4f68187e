package lostrelease

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"
)

const (
	msgDiscarded    = "the release function returned by %s is discarded (the guarded resource leaks until ctx is done)"
	msgNotUsed      = "the release function returned by %s is not used on all paths (the guarded resource leaks until ctx is done)"
	msgReturn       = "this return statement may be reached without using the release function %s defined on line %d"
	msgViaReturn    = "this %s statement may lead to %s without using the release function %s defined on line %d"
	msgOverwrite    = "this statement overwrites the release function %s defined on line %d before it is used"
	msgViaOverwrite = "this %s statement may lead to line %d, which overwrites the release function %s defined on line %d before it is used"
)

// A held guard is a guard assigned to a local variable of the function
// being checked.
type held struct {
	v        *types.Var
	stmt     ast.Node // the *ast.AssignStmt or *ast.ValueSpec that assigns it
	src      *source
	at       ast.Expr   // what a report on the variable points at: the call, or the copied variable
	fail     *types.Var // the last result, an error or a bool, if held
	failBool bool       // fail is a bool: false says the call failed
}

// checkFunc checks the body of one function, leaving function literals
// within it to their own call. In main.main only discarded guards are
// reported.
func (c *checker) checkFunc(body *ast.BlockStmt, isMain bool, graph func() *cfg.CFG) {
	pass := c.pass
	info := pass.TypesInfo
	var holds []*held
	discard := func(src *source) {
		if !c.ignored(src.call) {
			pass.ReportRangef(src.call, msgDiscarded, src.name)
		}
	}
	// assigned handles lhs = rhs, where rhs is a guard source.
	assigned := func(stmt ast.Node, lhs []ast.Expr) func(ast.Expr, *source) {
		return func(e ast.Expr, src *source) {
			id, ok := ast.Unparen(e).(*ast.Ident)
			if !ok {
				return // a field, an element: not tracked
			}
			if id.Name == "_" {
				discard(src)
				return
			}
			v, ok := info.ObjectOf(id).(*types.Var)
			if !ok || !within(body, v.Pos()) {
				return // declared outside this function: the result escapes
			}
			h := &held{v: v, stmt: stmt, src: src, at: src.call}
			if last := len(lhs) - 1; src.n > 1 && last == src.n-1 && e != lhs[last] {
				if id, ok := ast.Unparen(lhs[last]).(*ast.Ident); ok && id.Name != "_" {
					if fv, ok := info.ObjectOf(id).(*types.Var); ok {
						switch t := src.sig.Results().At(last).Type(); {
						case types.Identical(t, errorType):
							h.fail = fv
						case isBool(t):
							h.fail, h.failBool = fv, true
						}
					}
				}
			}
			holds = append(holds, h)
		}
	}
	// copied handles lhs = rhs, where rhs may be a variable holding a guard:
	// lhs holds the same guard, which must be used in turn.
	copied := func(stmt ast.Node, lhs, rhs []ast.Expr) {
		if len(lhs) != len(rhs) {
			return
		}
		for i, e := range rhs {
			id, ok := ast.Unparen(e).(*ast.Ident)
			if !ok {
				continue
			}
			for _, h := range holds {
				if info.Uses[id] != h.v {
					continue
				}
				to, ok := ast.Unparen(lhs[i]).(*ast.Ident)
				if !ok || to.Name == "_" {
					break
				}
				if v, ok := info.ObjectOf(to).(*types.Var); ok && v != h.v && within(body, v.Pos()) {
					holds = append(holds, &held{v: v, stmt: stmt, src: h.src, at: id})
				}
				break
			}
		}
	}
	ast.PreorderStack(body, nil, func(n ast.Node, stack []ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			src := c.sourceOf(n)
			if src == nil {
				break
			}
			switch parent := stack[len(stack)-1].(type) {
			case *ast.ExprStmt:
				discard(src)
			case *ast.GoStmt:
				if parent.Call == n {
					discard(src)
				}
			case *ast.DeferStmt:
				if parent.Call == n {
					discard(src)
				}
			}
		case *ast.AssignStmt:
			if n.Tok == token.ASSIGN || n.Tok == token.DEFINE {
				c.eachGuard(n.Lhs, n.Rhs, assigned(n, n.Lhs))
				copied(n, n.Lhs, n.Rhs)
			}
		case *ast.ValueSpec:
			lhs := identExprs(n.Names)
			c.eachGuard(lhs, n.Values, assigned(n, lhs))
			copied(n, lhs, n.Values)
		}
		return true
	})
	if len(holds) == 0 || isMain {
		return
	}
	var f *funcInfo
	for _, h := range holds {
		if c.ignored(h.src.call) {
			continue
		}
		if f == nil {
			f = newFuncInfo(c, body, graph())
		}
		l := f.search(h)
		if l == nil {
			continue
		}
		line := pass.Fset.Position(h.stmt.Pos()).Line
		endLine := pass.Fset.Position(l.end.Pos()).Line
		pass.ReportRangef(h.at, msgNotUsed, h.src.name)
		switch {
		case l.via != nil && l.over:
			pass.Reportf(l.via.Pos(), msgViaOverwrite, l.via.Tok, endLine, h.v.Name(), line)
		case l.via != nil:
			to := fmt.Sprintf("the return on line %d", endLine)
			if l.end.Pos() == body.Rbrace {
				to = fmt.Sprintf("the end of the function on line %d", endLine)
			}
			pass.Reportf(l.via.Pos(), msgViaReturn, l.via.Tok, to, h.v.Name(), line)
		case l.over:
			pass.Reportf(l.end.Pos(), msgOverwrite, h.v.Name(), line)
		default:
			pass.Reportf(l.end.Pos(), msgReturn, h.v.Name(), line)
		}
	}
}

var errorType = types.Universe.Lookup("error").Type()

func isBool(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsBoolean != 0
}

func within(n ast.Node, pos token.Pos) bool { return n.Pos() <= pos && pos < n.End() }

// funcInfo holds what the path search needs to know about one function.
type funcInfo struct {
	info     *types.Info
	body     *ast.BlockStmt
	g        *cfg.CFG
	loops    map[ast.Stmt]uint // constant loops, each with its bit in state.entered
	branches map[*cfg.Block]*ast.BranchStmt
}

func newFuncInfo(c *checker, body *ast.BlockStmt, g *cfg.CFG) *funcInfo {
	f := &funcInfo{info: c.pass.TypesInfo, body: body, g: g, loops: make(map[ast.Stmt]uint)}
	inspectFunc(body, func(n ast.Node) {
		if s, ok := n.(ast.Stmt); ok && len(f.loops) < 64 && constantLoop(f.info, s) {
			f.loops[s] = uint(len(f.loops))
		}
	})
	f.branches = branchEnds(g, body)
	return f
}

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

// A state is a block on a path, with what the path has established.
type state struct {
	b       *cfg.Block
	failOK  bool   // the failure result still holds the call's value
	entered uint64 // constant loops whose body the path has run
}

// A leak is where a path from a held guard's assignment loses it.
type leak struct {
	end  ast.Node        // the return statement, or the statement that overwrites the guard
	over bool            // end overwrites the guard
	via  *ast.BranchStmt // the last break, continue or goto on the path, if any
}

// effect is what a CFG node does to a held guard.
type effect int

const (
	none effect = iota
	used
	overwritten
)

// search returns a leak that control can reach from h.stmt without using
// h.v, or nil if every path uses it.
func (f *funcInfo) search(h *held) *leak {
	start, at := find(f.g, h.stmt)
	if start == nil {
		return nil // unreachable code
	}
	covered := f.deferredFirst(h)
	var entered uint64
	for s, bit := range f.loops {
		if within(loopBody(s), h.stmt.Pos()) {
			entered |= 1 << bit
		}
	}
	seen := make(map[state]bool)
	var path []*cfg.Block
	var visit func(b *cfg.Block, from int, st state) *leak
	visit = func(b *cfg.Block, from int, st state) *leak {
		path = append(path, b)
		defer func() { path = path[:len(path)-1] }()
		for _, n := range b.Nodes[from:] {
			switch f.effect(h, n) {
			case used:
				return nil
			case overwritten:
				return &leak{end: n, over: true, via: f.lastBranch(path[:len(path)-1])}
			}
			if st.failOK && assigns(f.info, h.fail, n) {
				st.failOK = false
			}
		}
		if ret := b.Return(); ret != nil {
			if covered {
				return nil
			}
			return &leak{end: ret, via: f.lastBranch(path[:len(path)-1])}
		}
		succs := b.Succs
		if len(succs) == 2 && len(b.Nodes) > 0 && (succs[0].Kind == cfg.KindIfThen || succs[0].Kind == cfg.KindForBody) {
			if cond, ok := b.Nodes[len(b.Nodes)-1].(ast.Expr); ok {
				var keep []*cfg.Block
				for j, s := range succs {
					if !f.nothingToLeak(h, cond, j == 0, st.failOK) {
						keep = append(keep, s)
					}
				}
				succs = keep
			}
		}
		if bit, ok := f.loops[b.Stmt]; ok && len(succs) == 2 &&
			(b.Kind == cfg.KindForLoop || b.Kind == cfg.KindRangeLoop) && st.entered&(1<<bit) == 0 {
			// First arrival at a constant loop: its body runs.
			succs = succs[:1]
			st.entered |= 1 << bit
		}
		for _, s := range succs {
			next := state{s, st.failOK, st.entered}
			if seen[next] {
				continue
			}
			seen[next] = true
			if l := visit(s, 0, next); l != nil {
				return l
			}
		}
		return nil
	}
	return visit(start, at+1, state{failOK: h.fail != nil, entered: entered})
}

// lastBranch returns the break, continue or goto that ends the last block
// of path that ends in one.
func (f *funcInfo) lastBranch(path []*cfg.Block) *ast.BranchStmt {
	for i := len(path) - 1; i >= 0; i-- {
		if s := f.branches[path[i]]; s != nil {
			return s
		}
	}
	return nil
}

// find returns the live block of g that holds stmt, and stmt's index in it.
func find(g *cfg.CFG, stmt ast.Node) (*cfg.Block, int) {
	for _, b := range g.Blocks {
		if !b.Live {
			continue
		}
		for i, n := range b.Nodes {
			if n == stmt {
				return b, i
			}
		}
	}
	return nil, 0
}

// effect reports whether n uses h's guard, overwrites it, or neither. A
// comparison with nil is not a use, nor is an assignment to the variable;
// any other reference is, closures included.
func (f *funcInfo) effect(h *held, n ast.Node) effect {
	if n == h.stmt {
		return overwritten // the assignment again, in a loop
	}
	skip := make(map[*ast.Ident]bool)
	assigned := false
	if as, ok := n.(*ast.AssignStmt); ok && (as.Tok == token.ASSIGN || as.Tok == token.DEFINE) {
		for _, lhs := range as.Lhs {
			if id, ok := ast.Unparen(lhs).(*ast.Ident); ok && f.info.ObjectOf(id) == h.v {
				skip[id] = true
				assigned = true
			}
		}
	}
	use := false
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if id := nilCompared(f.info, n); id != nil {
				skip[id] = true
			}
		case *ast.Ident:
			if !skip[n] && f.info.Uses[n] == h.v {
				use = true
			}
		}
		return !use
	})
	switch {
	case use:
		return used
	case assigned:
		return overwritten
	}
	return none
}

// assigns reports whether n, a CFG node, assigns v.
func assigns(info *types.Info, v *types.Var, n ast.Node) bool {
	as, ok := n.(*ast.AssignStmt)
	if !ok {
		return false
	}
	for _, lhs := range as.Lhs {
		if id, ok := ast.Unparen(lhs).(*ast.Ident); ok && info.ObjectOf(id) == v {
			return true
		}
	}
	return false
}

// nilCompared returns the identifier that e compares with nil, if e is
// x == nil, x != nil, nil == x or nil != x with x an identifier.
func nilCompared(info *types.Info, e *ast.BinaryExpr) *ast.Ident {
	if e.Op != token.EQL && e.Op != token.NEQ {
		return nil
	}
	x, y := ast.Unparen(e.X), ast.Unparen(e.Y)
	if info.Types[x].IsNil() {
		x, y = y, x
	}
	id, ok := x.(*ast.Ident)
	if !ok || !info.Types[y].IsNil() {
		return nil
	}
	return id
}

// nothingToLeak reports whether, on the branch where cond is truth, h's
// guard is nil or the call that assigned it failed: a comparison of the
// guard with nil; a failure result, if failOK, tested as err != nil,
// err == ErrX, errors.Is(err, ErrX) or !ok; and those combined with !, &&
// and ||.
func (f *funcInfo) nothingToLeak(h *held, cond ast.Expr, truth, failOK bool) bool {
	info := f.info
	isFail := func(e ast.Expr) bool {
		id, ok := ast.Unparen(e).(*ast.Ident)
		return ok && failOK && h.fail != nil && info.Uses[id] == h.fail
	}
	switch e := ast.Unparen(cond).(type) {
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			return f.nothingToLeak(h, e.X, !truth, failOK)
		}
	case *ast.Ident:
		return h.failBool && isFail(e) && !truth // ok is false
	case *ast.CallExpr:
		// errors.Is(err, target) with target not nil: err is not nil.
		fn := typeutil.StaticCallee(info, e)
		return truth && !h.failBool && fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == "errors" &&
			fn.Name() == "Is" && len(e.Args) == 2 && isFail(e.Args[0]) && !info.Types[e.Args[1]].IsNil()
	case *ast.BinaryExpr:
		x, y := func(t bool) bool { return f.nothingToLeak(h, e.X, t, failOK) },
			func(t bool) bool { return f.nothingToLeak(h, e.Y, t, failOK) }
		switch e.Op {
		case token.LAND:
			if truth {
				return x(true) || y(true)
			}
			return x(false) && y(false)
		case token.LOR:
			if truth {
				return x(true) && y(true)
			}
			return x(false) || y(false)
		case token.EQL, token.NEQ:
			eq := truth == (e.Op == token.EQL) // whether the operands are equal on this branch
			if id := nilCompared(info, e); id != nil {
				switch {
				case info.Uses[id] == h.v:
					return eq // the guard is nil
				case !h.failBool && isFail(id):
					return !eq // err is not nil
				}
				return false
			}
			if !h.failBool && (isFail(e.X) || isFail(e.Y)) {
				return eq // err equals a sentinel error, which is not nil
			}
		}
	}
	return false
}

// deferredFirst reports whether a defer statement that refers to h.v,
// directly or through a local func variable whose function literal does,
// is registered before h.stmt on every path to it.
func (f *funcInfo) deferredFirst(h *held) bool {
	refs := map[*types.Var]bool{h.v: true}
	for changed := true; changed; {
		changed = false
		add := func(lhs, rhs []ast.Expr) {
			if len(lhs) != len(rhs) {
				return
			}
			for i, e := range rhs {
				lit, ok := ast.Unparen(e).(*ast.FuncLit)
				if !ok || !refersTo(f.info, lit, refs) {
					continue
				}
				if id, ok := ast.Unparen(lhs[i]).(*ast.Ident); ok {
					if v, ok := f.info.ObjectOf(id).(*types.Var); ok && within(f.body, v.Pos()) && !refs[v] {
						refs[v] = true
						changed = true
					}
				}
			}
		}
		ast.Inspect(f.body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				add(n.Lhs, n.Rhs)
			case *ast.ValueSpec:
				add(identExprs(n.Names), n.Values)
			}
			return true
		})
	}
	found := false
	inspectFunc(f.body, func(n ast.Node) {
		if d, ok := n.(*ast.DeferStmt); ok && !found && refersTo(f.info, d.Call, refs) && f.dominates(d, h.stmt) {
			found = true
		}
	})
	return found
}

// refersTo reports whether n refers to any variable in vars.
func refersTo(info *types.Info, n ast.Node, vars map[*types.Var]bool) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if v, ok := info.Uses[id].(*types.Var); ok && vars[v] {
				found = true
			}
		}
		return !found
	})
	return found
}

// dominates reports whether every path from the function's entry to target
// passes through d.
func (f *funcInfo) dominates(d, target ast.Node) bool {
	seen := make(map[*cfg.Block]bool)
	var reach func(*cfg.Block) bool
	reach = func(b *cfg.Block) bool {
		if seen[b] {
			return false
		}
		seen[b] = true
		for _, n := range b.Nodes {
			switch n {
			case target:
				return true
			case d:
				return false
			}
		}
		for _, s := range b.Succs {
			if reach(s) {
				return true
			}
		}
		return false
	}
	return !reach(f.g.Blocks[0])
}
