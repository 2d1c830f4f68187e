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
	ps    *pathSearch
	s     *status
	conds bool // a return may give a condition on s; else only constants
	seen  map[predicateState]bool
	todo  []predicateState
	ret   map[string]valueConstraint // by value returned (see valueKey): what s holds where it is
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
	pw.ret = make(map[string]valueConstraint)
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
		return pw.add(ret.Results[0], c)
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

// add adds to pw.ret what returning e, where the path says c of s, says
// s holds with each value returned.
func (pw *predicateWalk) add(e ast.Expr, c valueConstraint) bool {
	if key, ok := valueKey(pw.ps.info, e); ok {
		pw.ret[key] = combine(pw.returned(key), c, false)
		return true
	}
	if !pw.conds {
		return false
	}
	for _, truth := range []bool{true, false} {
		e, ok := pw.ps.constraint(pw.s, e, truth, 0)
		if !ok {
			return false
		}
		key := constant.MakeBool(truth).ExactString()
		pw.ret[key] = combine(pw.returned(key), combine(c, e, true), false)
	}
	return true
}

// returned returns what s holds where the value of key is returned: none
// of its values if it never is.
func (pw *predicateWalk) returned(key string) valueConstraint {
	if c, ok := pw.ret[key]; ok {
		return c
	}
	return valueConstraint{in: true, set: map[string]bool{}}
}

// saysSomething reports whether some value returned comes with less than
// every value of s.
func (pw *predicateWalk) saysSomething() bool {
	for _, c := range pw.ret {
		if c.in || len(c.set) > 0 {
			return true
		}
	}
	return false
}

func boolKey(b bool) string {
	if b {
		return "+"
	}
	return "-"
}
