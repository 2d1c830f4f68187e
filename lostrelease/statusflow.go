package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/cfg"
)

// A statusFlow says, for one status, which of the values under which its
// guard may be non-nil (bit i for values[i]) the status may hold at the
// end of each block of the function: what the conditions met on the way
// leave, on any path from the function's entry. It is a forward dataflow
// over the CFG: a block starts with the union of what the edges into it
// carry; an edge carries what its block ends with, narrowed by the
// condition that holds on it; a block that assigns the status ends with
// every value, as does the entry.
//
// Where a path holds the guard and the status has not been assigned since
// the guard's call, the status holds the call's value, which is one of
// the block's values if the guard is not nil: so a block whose set is
// empty is reached without a guard on such a path.
type statusFlow struct {
	out []uint64 // by block index
}

// flow returns the statusFlow of s, computed once per function.
func (ps *pathSearch) flow(s *status) *statusFlow {
	f := ps.flows[s]
	if f == nil {
		f = ps.computeFlow(s)
		ps.flows[s] = f
	}
	return f
}

// computeFlow runs the dataflow of s to its fixed point. Sets only grow,
// so it ends.
func (ps *pathSearch) computeFlow(s *status) *statusFlow {
	blocks := ps.g.Blocks
	in := make([]uint64, len(blocks))
	out := make([]uint64, len(blocks))
	assigned := make([]bool, len(blocks))
	edges := make([][2]uint64, len(blocks)) // what each of a block's two edges allows
	var todo []*cfg.Block
	queued := make([]bool, len(blocks))
	for i := len(blocks) - 1; i >= 0; i-- { // every block once, the entry first
		b := blocks[i]
		assigned[i] = blockAssigns(ps.info, s.v, b)
		edges[i] = [2]uint64{s.full(), s.full()}
		for j := range b.Succs {
			if cond, truth, ok := ps.edgeCond(b, j); ok {
				edges[i][j] = ps.allowed(s, cond, truth)
			}
		}
		todo, queued[i] = append(todo, b), true
	}
	in[0] = s.full()
	for len(todo) > 0 {
		b := todo[len(todo)-1]
		todo, queued[b.Index] = todo[:len(todo)-1], false
		o := in[b.Index]
		if assigned[b.Index] {
			o = s.full()
		}
		out[b.Index] = o
		for j, succ := range b.Succs {
			m := o
			if j < 2 {
				m &= edges[b.Index][j]
			}
			if m&^in[succ.Index] != 0 {
				in[succ.Index] |= m
				if !queued[succ.Index] {
					todo, queued[succ.Index] = append(todo, succ), true
				}
			}
		}
	}
	return &statusFlow{out: out}
}

// allowed returns the values of s that cond being truth leaves it, as a
// set of bits: every value when cond says nothing of s.
func (ps *pathSearch) allowed(s *status, cond ast.Expr, truth bool) uint64 {
	c, ok := ps.constraint(s.v, cond, truth, 0)
	if !ok {
		return s.full()
	}
	var m uint64
	for i, v := range s.values[:min(len(s.values), 64)] {
		if v == otherValue || c.set[v] == c.in {
			m |= 1 << i
		}
	}
	return m
}

// full returns the set of all values of s. Only the first 64 have bits.
func (s *status) full() uint64 {
	if len(s.values) >= 64 {
		return ^uint64(0)
	}
	return 1<<len(s.values) - 1
}

// none reports whether m leaves s none of its values.
func (s *status) none(m uint64) bool { return m == 0 && len(s.values) <= 64 }

// blockAssigns reports whether b assigns v: one of its nodes does, or it
// is the head of a range loop whose key or value is v.
func blockAssigns(info *types.Info, v *types.Var, b *cfg.Block) bool {
	for _, n := range b.Nodes {
		if assigns(info, v, n) {
			return true
		}
	}
	return rangeAssigns(info, v, b)
}

// rangeAssigns reports whether b is the head of a range loop whose key or
// value is v, assigned there on each round (go/cfg gives it no node).
func rangeAssigns(info *types.Info, v *types.Var, b *cfg.Block) bool {
	rs, ok := b.Stmt.(*ast.RangeStmt)
	return ok && b.Kind == cfg.KindRangeLoop && rs.Tok != token.ILLEGAL &&
		(isVar(info, rs.Key, v) || isVar(info, rs.Value, v))
}

// assigns reports whether n, a CFG node, assigns v: an assignment, a
// declaration or an increment.
func assigns(info *types.Info, v *types.Var, n ast.Node) bool {
	for _, e := range assignedExprs(n) {
		if isVar(info, e, v) {
			return true
		}
	}
	return false
}

// isVar reports whether e, which may be nil, is an identifier of v.
func isVar(info *types.Info, e ast.Expr, v *types.Var) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && info.ObjectOf(id) == v
}
