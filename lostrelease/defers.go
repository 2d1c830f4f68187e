package lostrelease

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/cfg"
)

// deferredFirst reports whether a defer statement, or a test's Cleanup
// call, that refers to h.v, directly or through a local func variable
// whose function literal does, is registered before h.assign on every
// path to it.
func (ps *pathSearch) deferredFirst(h *heldGuard) bool {
	refs := ps.referringFuncVars(h.v)
	found := false
	inspectFunc(ps.body, func(n ast.Node) {
		var call *ast.CallExpr
		switch n := n.(type) {
		case *ast.DeferStmt:
			call = n.Call
		case *ast.ExprStmt:
			if c, ok := ast.Unparen(n.X).(*ast.CallExpr); ok && isTestCleanup(ps.info, c) {
				call = c
			}
		}
		if call != nil && !found && refersTo(ps.info, call, refs) && ps.dominates(n, h.assign) {
			found = true
		}
	})
	return found
}

// isTestCleanup reports whether c calls the Cleanup method of package
// testing's T, B, F or TB, which runs its function when the test ends.
func isTestCleanup(info *types.Info, c *ast.CallExpr) bool {
	sel, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Cleanup" {
		return false
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	return ok && fn.Pkg() != nil && fn.Pkg().Path() == "testing"
}

// referringFuncVars returns v and the local variables assigned a function
// literal that refers to v or to another such variable.
func (ps *pathSearch) referringFuncVars(v *types.Var) map[*types.Var]bool {
	refs := map[*types.Var]bool{v: true}
	for changed := true; changed; {
		changed = false
		add := func(lhs, rhs []ast.Expr) {
			if len(lhs) != len(rhs) {
				return
			}
			for i, e := range rhs {
				lit, ok := ast.Unparen(e).(*ast.FuncLit)
				if !ok || !refersTo(ps.info, lit, refs) {
					continue
				}
				if id, ok := ast.Unparen(lhs[i]).(*ast.Ident); ok {
					if v, ok := ps.info.ObjectOf(id).(*types.Var); ok && within(ps.body, v.Pos()) && !refs[v] {
						refs[v] = true
						changed = true
					}
				}
			}
		}
		ast.Inspect(ps.body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				add(n.Lhs, n.Rhs)
			case *ast.ValueSpec:
				add(identExprs(n.Names), n.Values)
			}
			return true
		})
	}
	return refs
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
func (ps *pathSearch) dominates(d, target ast.Node) bool {
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
	return !reach(ps.g.Blocks[0])
}

// defersInLoops returns the defer statements that use h's guard inside a
// loop that retries: after the defer, one path starts the loop's next
// iteration and another leaves the loop. Each iteration's guard is then
// held until the function returns. A loop that only ever goes round after
// the defer (`for range n { rel := acquire(); defer rel() }`) holds n
// guards on purpose and is not reported, nor is a loop that holds a slot
// of each element it ranges over (see [pathSearch.holdsEachKey]).
func (ps *pathSearch) defersInLoops(h *heldGuard) []*ast.DeferStmt {
	calls := ps.releasingClosures(h)
	var ds []*ast.DeferStmt
	for _, b := range ps.g.Blocks {
		for _, n := range b.Nodes {
			if d, ok := n.(*ast.DeferStmt); ok && b.Live && ps.effect(h, calls, d) == used && ps.retries(b, d) &&
				!ps.holdsEachKey(h, d) {
				ds = append(ds, d)
			}
		}
	}
	return ds
}

// retries reports whether, from block b, which holds d, control can both
// start the next iteration of the innermost loop around d and leave that
// loop, by a return or a break, without starting it.
func (ps *pathSearch) retries(b *cfg.Block, d *ast.DeferStmt) bool {
	head, done := ps.loopEnds(ps.innermostLoop(d))
	if head == nil {
		return false
	}
	again, leaves := false, b.Return() != nil
	seen := make(map[*cfg.Block]bool)
	todo := append([]*cfg.Block(nil), b.Succs...)
	for len(todo) > 0 {
		s := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		switch {
		case seen[s]:
			continue
		case s == head:
			again = true
			continue
		case s == done || s.Return() != nil:
			leaves = true
		}
		seen[s] = true
		todo = append(todo, s.Succs...)
	}
	return again && leaves
}

// loopEnds returns the block that starts each iteration of loop, and the
// block that follows the loop.
func (ps *pathSearch) loopEnds(loop ast.Stmt) (head, done *cfg.Block) {
	if loop == nil {
		return nil, nil
	}
	for _, blk := range ps.g.Blocks {
		switch {
		case blk.Stmt != loop:
		case blk.Kind == cfg.KindForLoop, blk.Kind == cfg.KindRangeLoop,
			blk.Kind == cfg.KindForBody && loop.(*ast.ForStmt).Cond == nil:
			head = blk
		case blk.Kind == cfg.KindForDone, blk.Kind == cfg.KindRangeDone:
			done = blk
		}
	}
	return head, done
}

// innermostLoop returns the innermost for or range statement of the
// function around n, or nil.
func (ps *pathSearch) innermostLoop(n ast.Node) ast.Stmt {
	var loop ast.Stmt
	inspectFunc(ps.body, func(m ast.Node) {
		switch m.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			if within(loopBody(m.(ast.Stmt)), n.Pos()) {
				loop = m.(ast.Stmt) // a loop found later is nested in the one before
			}
		}
	})
	return loop
}
