package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"sort"

	"golang.org/x/tools/go/cfg"
)

// pathSearch holds what the path search needs to know about one function.
type pathSearch struct {
	info     *types.Info
	body     *ast.BlockStmt
	g        *cfg.CFG
	loops    map[ast.Stmt]uint // constant loops, each with its bit in pathState.entered
	branches map[*cfg.Block]*ast.BranchStmt
	switches map[*ast.CaseClause]*ast.SwitchStmt
	typeSw   map[*ast.CaseClause]*ast.TypeSwitchStmt
	assigned map[*types.Var][]ast.Node // see assignmentsIn; made when first needed
	// predicateOf returns the fact of a status predicate, or nil; if nil,
	// no call is read as a predicate.
	predicateOf func(*types.Func) *isPredicate
	// failure reports whether a node ends a path: the test is marked
	// failed or ended, or the goroutine or the program ends (see
	// [checker.failure]); if nil, no node does.
	failure func(ast.Node) bool
	// results are the function's named results that hold guards checked
	// in it: a bare return uses each.
	results map[*types.Var]bool
	// file is the file of the function, if known: where its variables'
	// assignments are looked for (see [pathSearch.stableVar]).
	file         *ast.File
	rootAssigned map[ast.Node]map[*types.Var][]ast.Node // see rootAssignments; made when first needed
	equalities   []equality                             // see findEqualities; made when first needed
}

func newPathSearch(info *types.Info, body *ast.BlockStmt, g *cfg.CFG) *pathSearch {
	ps := &pathSearch{info: info, body: body, g: g, loops: make(map[ast.Stmt]uint),
		switches: make(map[*ast.CaseClause]*ast.SwitchStmt), typeSw: make(map[*ast.CaseClause]*ast.TypeSwitchStmt)}
	inspectFunc(body, func(n ast.Node) {
		if s, ok := n.(ast.Stmt); ok && len(ps.loops) < 64 && constantLoop(info, s) {
			ps.loops[s] = uint(len(ps.loops))
		}
		switch s := n.(type) {
		case *ast.SwitchStmt:
			for _, cc := range s.Body.List {
				ps.switches[cc.(*ast.CaseClause)] = s
			}
		case *ast.TypeSwitchStmt:
			for _, cc := range s.Body.List {
				ps.typeSw[cc.(*ast.CaseClause)] = s
			}
		}
	})
	ps.branches = branchEnds(g, body)
	return ps
}

// A pathState is a block on a path, with what the path has established.
type pathState struct {
	b       *cfg.Block
	live    uint64          // statuses, by index, that still hold the call's values
	entered uint64          // constant loops whose body the path has run
	via     *ast.BranchStmt // the last break, continue or goto on the path
}

// A leak is where a path from a held guard's assignment loses it.
type leak struct {
	end       ast.Node        // the return statement, or the statement that overwrites the guard
	overwrite bool            // end overwrites the guard
	atEnd     bool            // end is the closing brace of the function
	via       *ast.BranchStmt // the last break, continue or goto on the path, if any
}

// where returns the position a report of l points at.
func (l leak) where() token.Pos {
	if l.via != nil {
		return l.via.Pos()
	}
	return l.end.Pos()
}

// leaks returns, in source order, one leak for each statement from which
// control can reach a return or an overwrite of h's guard without using
// it, starting from h's assignment.
func (ps *pathSearch) leaks(h *heldGuard) []leak {
	w := ps.walk(h, nil).run()
	var ls []leak
	for _, l := range w.found {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].where() < ls[j].where() })
	return ls
}

// usesReached returns the nodes where a path from h's assignment that may
// hold its guard uses it, the paths going on through each use to the
// guard's overwrite or the function's end, and no further than a branch
// on a condition that stop reports, where neither branch is known to hold
// nothing.
func (ps *pathSearch) usesReached(h *heldGuard, stop func(cond ast.Expr) bool) map[ast.Node]bool {
	w := ps.walk(h, make(map[ast.Node]bool))
	w.stop = stop
	return w.run().reached
}

// walk returns a search of the paths from h's assignment that may hold its
// guard; with reached, through its uses too, collecting them there.
func (ps *pathSearch) walk(h *heldGuard, reached map[ast.Node]bool) *walk {
	return &walk{ps: ps, h: h, values: make(map[pathState][]uint64), found: make(map[token.Pos]leak), reached: reached}
}

// run walks the paths of w, and returns w.
func (w *walk) run() *walk {
	ps, h := w.ps, w.h
	start, at := ps.find(h.assign)
	if start == nil {
		return w // unreachable code
	}
	if !h.discarded {
		w.covered, w.calls = ps.deferredFirst(h), ps.releasingClosures(h)
	}
	first := pathState{b: start, live: 1<<len(h.statuses) - 1}
	for s, bit := range ps.loops {
		if within(loopBody(s), h.assign.Pos()) {
			first.entered |= 1 << bit
		}
	}
	all := make([]uint64, len(h.statuses))
	for i := range h.statuses {
		all[i] = h.statuses[i].full()
		if s := h.statuses[i].start; s != 0 {
			all[i] = s
		}
	}
	w.block(first, at+1, all)
	for len(w.todo) > 0 {
		st := w.todo[len(w.todo)-1]
		w.todo = w.todo[:len(w.todo)-1]
		w.block(st, 0, w.values[st])
	}
	return w
}

// A walk is one search for the leaks of one guard.
type walk struct {
	ps      *pathSearch
	h       *heldGuard
	covered bool                // a defer registered first uses the guard on every return
	calls   map[*types.Var]bool // local closures whose call uses the guard
	todo    []pathState         // states to visit
	// values holds the states queued, each with what its live statuses
	// may hold, as [status.full] does: the union over the paths that
	// reach it. A state is walked again when that grows.
	values map[pathState][]uint64
	found  map[token.Pos]leak // leaks by where they are reported
	// reached, if not nil, collects the nodes where a path uses the guard,
	// and the paths go on through them (see [pathSearch.usesReached]); not
	// past a branch on a condition that stop, if set, reports.
	reached map[ast.Node]bool
	stop    func(cond ast.Expr) bool
}

// block follows the path of st through its block from node index from,
// where its live statuses may hold values, then queues the successors the
// path may take.
func (w *walk) block(st pathState, from int, values []uint64) {
	b := st.b
	values = slices.Clone(values)
	if from == 0 {
		w.assignStatuses(&st, values, nil)
	}
	for _, n := range b.Nodes[from:] {
		switch w.ps.effect(w.h, w.calls, n) {
		case used:
			if w.reached != nil {
				w.reached[n] = true
				break // the path goes on through the use
			}
			return
		case overwritten:
			w.leak(leak{end: n, overwrite: true, via: st.via})
			return
		}
		if w.ps.failure != nil && w.ps.failure(n) {
			return // the test has failed, or the goroutine or program ends
		}
		w.assignStatuses(&st, values, n)
	}
	if ret := b.Return(); ret != nil {
		if !w.covered {
			w.leak(leak{end: ret, via: st.via, atEnd: ret.Pos() == w.ps.body.Rbrace})
		}
		return
	}
	states, narrowed := w.ps.next(w.h, st, values)
	if cond, _, ok := w.ps.edgeCond(b, 0); ok && w.stop != nil && len(states) == 2 && w.stop(cond) {
		return // neither branch is known to hold nothing
	}
	for i := len(states) - 1; i >= 0; i-- { // the first successor is searched first
		w.queue(states[i], narrowed[i])
	}
}

// next returns the states that follow st out of its block on the paths
// that may hold h's guard, where st's live statuses may hold values, each
// with what they may hold on its edge (see [pathSearch.successors]).
func (ps *pathSearch) next(h *heldGuard, st pathState, values []uint64) ([]pathState, [][]uint64) {
	b := st.b
	next := st
	if br := ps.branches[b]; br != nil && (next.via == nil || next.via.Tok != token.CONTINUE) {
		next.via = br // a continue leads back on its own: the branches after it do not
	}
	succs, narrowed := ps.successors(h, st, values)
	states := make([]pathState, len(succs))
	for i, s := range succs {
		next.b = s
		if bit, ok := ps.loops[b.Stmt]; ok && s == b.Succs[0] && len(b.Succs) == 2 &&
			(b.Kind == cfg.KindForLoop || b.Kind == cfg.KindRangeLoop) {
			next.entered = st.entered | 1<<bit
		} else {
			next.entered = st.entered
		}
		states[i] = next
	}
	return states, narrowed
}

// queue queues st, where the live statuses may hold values, unless it was
// queued before with all of them.
func (w *walk) queue(st pathState, values []uint64) { queueState(w.values, &w.todo, st, values) }

// queueState adds st to todo, where the live statuses may hold values,
// unless seen holds it with all of them; seen then holds the union.
func queueState[S comparable](seen map[S][]uint64, todo *[]S, st S, values []uint64) {
	old, ok := seen[st]
	if !ok {
		seen[st] = values
		*todo = append(*todo, st)
		return
	}
	var grown []uint64
	for i, m := range values {
		if m&^old[i] != 0 {
			if grown == nil {
				grown = slices.Clone(old)
			}
			grown[i] |= m
		}
	}
	if grown != nil {
		seen[st] = grown
		*todo = append(*todo, st)
	}
}

// assignStatuses clears in st, and in values, the statuses that the node n
// assigns, or, with n nil, that st's block assigns as the head of a range
// loop: they no longer hold the call's values.
func (w *walk) assignStatuses(st *pathState, values []uint64, n ast.Node) {
	for i, s := range w.h.statuses {
		if st.live&(1<<i) == 0 {
			continue
		}
		if n != nil && assigns(w.ps.info, s.v, n) || n == nil && rangeAssigns(w.ps.info, s.v, st.b) {
			if s.tracked {
				values[i] = s.valueAssigned(w.ps.info, n)
				continue
			}
			st.live &^= 1 << i
			values[i] = 0
		}
	}
}

// leak records l, keeping the first leak found at each position.
func (w *walk) leak(l leak) {
	if _, ok := w.found[l.where()]; !ok {
		w.found[l.where()] = l
	}
}

// successors returns the successors of st's block that a path holding h's
// guard may take, where its live statuses may hold values, each with what
// they may hold once the condition on the way is met: not a branch where
// the guard is nil or a status holds none of the values under which there
// is one, nor the exit of a constant loop not yet entered.
func (ps *pathSearch) successors(h *heldGuard, st pathState, values []uint64) ([]*cfg.Block, [][]uint64) {
	b := st.b
	var keep []*cfg.Block
	var narrowed [][]uint64
	cs := &condScope{h: h, live: st.live, values: values}
	for j, s := range b.Succs {
		if !ps.nothingHeldOnEdge(cs, b, j) {
			keep = append(keep, s)
			narrowed = append(narrowed, ps.narrow(cs, b, j))
		}
	}
	if bit, ok := ps.loops[b.Stmt]; ok && len(keep) == 2 && keep[0] == b.Succs[0] &&
		(b.Kind == cfg.KindForLoop || b.Kind == cfg.KindRangeLoop) && st.entered&(1<<bit) == 0 {
		keep = keep[:1] // first arrival at a constant loop: its body runs
	}
	return keep, narrowed
}

// find returns the live block of g that holds stmt, and stmt's index in it.
func (ps *pathSearch) find(stmt ast.Node) (*cfg.Block, int) {
	for _, b := range ps.g.Blocks {
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
