package lostrelease

import (
	"go/ast"
	"go/constant"

	"golang.org/x/tools/go/cfg"
)

// maxPredicateStates bounds the states a predicateWalk visits: a function
// with more is not taken for a predicate.
const maxPredicateStates = 256

// A predicateWalk follows every path of a function that may be a status
// predicate, from its entry, with what the conditions met on the way say
// of the status s (see [pathSearch.constraint]; a condition that says
// nothing of it leaves both branches open), to find the values under which
// it returns true and false.
type predicateWalk struct {
	ps   *pathSearch
	s    *status
	seen map[predicateState]bool
	todo []predicateState
	ret  map[bool]valueConstraint // what s holds where true, and false, is returned
}

// A predicateState is a block on a path, with what the path says of s.
type predicateState struct {
	b    *cfg.Block
	rule string // the path's constraint, as its valueRule prints it
}

// run walks every path, and reports whether every return gives a
// constant bool or a condition that says, both where it is true and where
// it is false, what s holds, within maxPredicateStates states.
func (pw *predicateWalk) run() bool {
	pw.seen = make(map[predicateState]bool)
	pw.ret = map[bool]valueConstraint{true: {in: true, set: map[string]bool{}}, false: {in: true, set: map[string]bool{}}}
	constraints := make(map[string]valueConstraint)
	queue := func(b *cfg.Block, c valueConstraint) {
		st := predicateState{b, ruleOf(c).String() + boolKey(c.in)}
		if !pw.seen[st] {
			pw.seen[st] = true
			constraints[st.rule] = c
			pw.todo = append(pw.todo, st)
		}
	}
	queue(pw.ps.g.Blocks[0], valueConstraint{in: false, set: map[string]bool{}}) // s may hold anything
	for len(pw.todo) > 0 {
		if len(pw.seen) > maxPredicateStates {
			return false
		}
		st := pw.todo[len(pw.todo)-1]
		pw.todo = pw.todo[:len(pw.todo)-1]
		if !pw.block(st.b, constraints[st.rule], queue) {
			return false
		}
	}
	return true
}

// block adds what the return ending b gives, where the path says c of s,
// or queues b's successors with what their edges add to c. It returns
// false on a return that cannot be read.
func (pw *predicateWalk) block(b *cfg.Block, c valueConstraint, queue func(*cfg.Block, valueConstraint)) bool {
	if ret := b.Return(); ret != nil {
		if len(ret.Results) != 1 {
			return false
		}
		return pw.returned(ret.Results[0], c)
	}
	for j, succ := range b.Succs {
		next := c
		if cond, truth, ok := pw.ps.edgeCond(b, j); ok {
			if e, ok := pw.ps.constraint(pw.s, cond, truth, 0); ok {
				next = combine(c, e, true)
			}
		}
		if !next.in || len(next.set) > 0 { // else no value of s takes this edge
			queue(succ, next)
		}
	}
	return true
}

// returned adds to pw.ret what returning e, where the path says c of s,
// says s holds when the predicate returns true, and false.
func (pw *predicateWalk) returned(e ast.Expr, c valueConstraint) bool {
	if tv := pw.ps.info.Types[e]; tv.Value != nil && tv.Value.Kind() == constant.Bool {
		r := constant.BoolVal(tv.Value)
		pw.ret[r] = combine(pw.ret[r], c, false)
		return true
	}
	for _, truth := range []bool{true, false} {
		e, ok := pw.ps.constraint(pw.s, e, truth, 0)
		if !ok {
			return false
		}
		pw.ret[truth] = combine(pw.ret[truth], combine(c, e, true), false)
	}
	return true
}

func boolKey(b bool) string {
	if b {
		return "+"
	}
	return "-"
}
