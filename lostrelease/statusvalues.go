package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/cfg"
)

// allowed returns the values of s that cond being truth leaves it, as a
// set of bits: every value when cond says nothing of s.
func (ps *pathSearch) allowed(s *status, cond ast.Expr, truth bool) uint64 {
	c, ok := ps.constraint(s, cond, truth, 0)
	if !ok {
		c, ok = ps.equalReading(s, cond, truth)
	}
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

// full returns the set of all the values of s, under which its guard may
// be non-nil: bit i stands for s.values[i]. Only the first 64 have bits.
func (s *status) full() uint64 {
	if len(s.values) >= 64 {
		return ^uint64(0)
	}
	return 1<<len(s.values) - 1
}

// none reports whether m leaves s none of its values.
func (s *status) none(m uint64) bool { return m == 0 && len(s.values) <= 64 }

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
