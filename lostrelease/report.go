package lostrelease

import (
	"fmt"
	"go/ast"
	"go/token"
	"slices"
)

const (
	msgDiscarded    = "the release function returned by %s is discarded (the guarded resource leaks until ctx is done)"
	msgNotUsed      = "the release function returned by %s is not used on all paths (the guarded resource leaks until ctx is done)"
	msgReturn       = "this return statement may be reached without using the release function %s defined on line %d"
	msgViaReturn    = "this %s statement may lead to %s without using the release function %s defined on line %d"
	msgOverwrite    = "this statement overwrites the release function %s defined on line %d before it is used"
	msgViaOverwrite = "this %s statement may lead to line %d, which overwrites the release function %s defined on line %d before it is used"
	msgAgain        = "the loop comes back to this statement, which declares a new release function %s before the one it declared is used"
	msgViaAgain     = "this %s statement may lead back to line %d, which declares a new release function %s before the one it declared is used"
	msgDeferInLoop  = "the release function %s is deferred in a loop: held until the function returns"
)

// reportLeaks reports h's guard once, then each statement that leaks it;
// anew says whether a leak that comes back to h.assign round a loop
// declares a new variable on its way.
func (c *checker) reportLeaks(h *heldGuard, leaks []leak, anew func(leak) bool) {
	if len(leaks) == 0 {
		return
	}
	pass := c.pass
	line := pass.Fset.Position(h.assign.Pos()).Line
	pass.ReportRangef(h.reportAt, msgNotUsed, h.src.name)
	for _, l := range leaks {
		endLine := pass.Fset.Position(l.end.Pos()).Line
		again := l.end == h.assign && anew(l)
		switch {
		case l.via != nil && again:
			pass.Reportf(l.via.Pos(), msgViaAgain, l.via.Tok, endLine, h.v.Name())
		case again:
			pass.Reportf(l.end.Pos(), msgAgain, h.v.Name())
		case l.via != nil && l.overwrite:
			pass.Reportf(l.via.Pos(), msgViaOverwrite, l.via.Tok, endLine, h.v.Name(), line)
		case l.via != nil:
			to := fmt.Sprintf("the return on line %d", endLine)
			if l.atEnd {
				to = fmt.Sprintf("the end of the function on line %d", endLine)
			}
			pass.Reportf(l.via.Pos(), msgViaReturn, l.via.Tok, to, h.v.Name(), line)
		case l.overwrite:
			pass.Reportf(l.end.Pos(), msgOverwrite, h.v.Name(), line)
		default:
			pass.Reportf(l.end.Pos(), msgReturn, h.v.Name(), line)
		}
	}
}

// declares reports whether h.assign declares h's variable (with := or
// var) rather than assigning one declared before it: reached again in a
// loop, it makes a new variable, and "overwrites" would mislead.
func (c *checker) declares(h *heldGuard) bool {
	var names []*ast.Ident
	switch a := h.assign.(type) {
	case *ast.AssignStmt:
		for _, lhs := range a.Lhs {
			if id, ok := ast.Unparen(lhs).(*ast.Ident); ok {
				names = append(names, id)
			}
		}
	case *ast.ValueSpec:
		names = a.Names
	}
	for _, id := range names {
		if c.pass.TypesInfo.Defs[id] == h.v {
			return true
		}
	}
	return false
}

// declaredInLoop reports whether h's variable is declared in the body of
// the loop that l goes round back to h.assign: the innermost loop around
// h.assign that is or holds the loop a continue goes round, or that holds
// the loop a break leaves; else the innermost around h.assign. Every way
// round it passes the declaration, which makes a new variable (a goto in
// its body may come back without: it is not read).
func (ps *pathSearch) declaredInLoop(h *heldGuard, l leak) bool {
	loop := ps.innermostLoop(h.assign)
	if target, brk := ps.branchLoop(l.via); target != nil {
		loop = ps.loopRound(h.assign, target, brk)
	}
	return loop != nil && within(loopBody(loop), h.v.Pos()) && !hasGoto(loopBody(loop))
}

// branchLoop returns the loop that b, a break or a continue, leaves or goes
// round, and whether it leaves it: for a break of a switch or a select, the
// loop around it, which the path goes on round; nil for any other b.
func (ps *pathSearch) branchLoop(b *ast.BranchStmt) (ast.Stmt, bool) {
	if b == nil || b.Tok != token.BREAK && b.Tok != token.CONTINUE {
		return nil, false
	}
	if b.Label != nil {
		return ps.labeledLoop(b.Label.Name), b.Tok == token.BREAK
	}
	var target ast.Stmt
	inspectFunc(ps.body, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
			if within(n, b.Pos()) && (loopBody(n.(ast.Stmt)) != nil || b.Tok == token.BREAK) {
				target = n.(ast.Stmt) // one found later is nested in the one before
			}
		}
	})
	if target != nil && loopBody(target) == nil { // out of a switch or select: on round its loop
		return ps.innermostLoop(b), false
	}
	return target, b.Tok == token.BREAK
}

// loopRound returns the innermost loop around n that holds target, or is
// it unless brk (a break leaves target); else the innermost loop around n.
func (ps *pathSearch) loopRound(n ast.Node, target ast.Stmt, brk bool) ast.Stmt {
	var around []ast.Stmt // outermost first
	inspectFunc(ps.body, func(m ast.Node) {
		if s, ok := m.(ast.Stmt); ok && loopBody(s) != nil && within(loopBody(s), n.Pos()) {
			around = append(around, s)
		}
	})
	for _, l := range slices.Backward(around) {
		if l == target && !brk || l != target && within(loopBody(l), target.Pos()) {
			return l
		}
	}
	return ps.innermostLoop(n)
}

// labeledLoop returns the for or range statement of the function labeled
// name, or nil.
func (ps *pathSearch) labeledLoop(name string) ast.Stmt {
	var loop ast.Stmt
	inspectFunc(ps.body, func(n ast.Node) {
		if ls, ok := n.(*ast.LabeledStmt); ok && ls.Label.Name == name && loopBody(ls.Stmt) != nil {
			loop = ls.Stmt
		}
	})
	return loop
}
