package lostrelease

import (
	"go/ast"
	"go/types"
	"slices"

	"golang.org/x/tools/go/cfg"
)

// A returnWalk follows the paths from one held guard's assignment on which
// the guard may be non-nil, as a [walk] does, to find what the variable s
// holds wherever they reach the return statement ret.
type returnWalk struct {
	ps   *pathSearch
	h    *heldGuard
	ret  *ast.ReturnStmt
	s    *types.Var
	seen map[returnState][]uint64 // states queued, with their statuses' values, as in [walk]
	todo []returnState
	keys map[string]bool // what s holds at ret
}

// A returnState is a path's state, with what s holds on the path: a key
// as [valueKey] gives it, or "" if that is not known.
type returnState struct {
	pathState
	key string
}

// run walks from h's assignment, where s holds start, and adds to keys
// what s holds at ret. It returns false if s may hold a value not known
// there.
func (rw *returnWalk) run(start string) bool {
	b, at := rw.ps.find(rw.h.assign)
	if b == nil {
		return true // unreachable code
	}
	first := returnState{pathState{b: b, live: 1<<len(rw.h.statuses) - 1}, start}
	for s, bit := range rw.ps.loops {
		if within(loopBody(s), rw.h.assign.Pos()) {
			first.entered |= 1 << bit
		}
	}
	all := make([]uint64, len(rw.h.statuses))
	for i := range rw.h.statuses {
		all[i] = rw.h.statuses[i].full()
	}
	if !rw.block(first, at+1, all) {
		return false
	}
	for len(rw.todo) > 0 {
		st := rw.todo[len(rw.todo)-1]
		rw.todo = rw.todo[:len(rw.todo)-1]
		if !rw.block(st, 0, rw.seen[st]) {
			return false
		}
	}
	return true
}

// block follows the path of st through its block from node index from,
// then queues the successors it may take. It returns false if the path
// reaches ret where s holds a value not known.
func (rw *returnWalk) block(st returnState, from int, values []uint64) bool {
	info := rw.ps.info
	values = slices.Clone(values)
	w := &walk{ps: rw.ps, h: rw.h}
	if from == 0 {
		w.assignStatuses(&st.pathState, values, nil)
		if rangeAssigns(info, rw.s, st.b) {
			st.key = ""
		}
	}
	for _, n := range st.b.Nodes[from:] {
		switch {
		case n == rw.ret:
			return rw.record(st, values)
		case assigns(info, rw.h.v, n):
			return true // the guard is overwritten: by nil, or by a guard followed on its own
		case rw.ps.failure != nil && rw.ps.failure(n):
			return true
		}
		w.assignStatuses(&st.pathState, values, n)
		if assigns(info, rw.s, n) {
			st.key, _ = assignedKey(info, rw.s, n)
		}
	}
	states, narrowed := rw.ps.next(rw.h, st.pathState, values)
	for i := len(states) - 1; i >= 0; i-- {
		if key, ok := rw.ps.keyOnEdge(rw.s, st.b, states[i].b, st.key); ok {
			queueState(rw.seen, &rw.todo, returnState{states[i], key}, narrowed[i])
		}
	}
	return true
}

// keyOnEdge returns what s holds on the edge from b to succ, where it held
// key, as the edge's condition narrows it: the one value the condition
// leaves it, if key was not known. It reports false if the condition
// excludes key: no path that holds it takes the edge.
func (ps *pathSearch) keyOnEdge(s *types.Var, b, succ *cfg.Block, key string) (string, bool) {
	if len(b.Succs) != 2 || b.Succs[0] == b.Succs[1] {
		return key, true
	}
	j := slices.Index(b.Succs, succ)
	cond, truth, ok := ps.edgeCond(b, j)
	if !ok {
		return key, true
	}
	c, ok := ps.constraint(&status{v: s}, cond, truth, 0)
	switch {
	case !ok:
		return key, true
	case key != "":
		return key, c.set[key] == c.in
	case c.in && len(c.set) == 1:
		for v := range c.set {
			return v, true
		}
	}
	return key, true
}

// record adds to keys what s holds at ret on the path of st: the values
// left to it if it is a live status of the guard, else st's key. It
// returns false if that is not known.
func (rw *returnWalk) record(st returnState, values []uint64) bool {
	for i := range rw.h.statuses {
		s := &rw.h.statuses[i]
		if s.v != rw.s || st.live&(1<<i) == 0 {
			continue
		}
		if len(s.values) > 64 {
			return false
		}
		for k, v := range s.values {
			if values[i]&(1<<k) != 0 {
				rw.keys[v] = true
			}
		}
		return true
	}
	if st.key == "" {
		return false
	}
	rw.keys[st.key] = true
	return true
}
