package lostrelease_test

import (
	"errors"
	"slices"
)

// leaks returns the returns of f (by id, 0 for the end of the function)
// that some run reaches without rel() while the guard is not nil: with
// code 200 or 203, and any choice of the values x[n].
func (f *rfunc) leaks() map[int]bool {
	leaks := make(map[int]bool)
	for _, code := range []int{200, 203} {
		todo := [][]bool{nil} // choices of x[n] to run with, in the order read
		for len(todo) > 0 {
			choices := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			id, used, more := f.run(code, choices)
			if more {
				todo = append(todo, append(slices.Clone(choices), false), append(slices.Clone(choices), true))
				continue
			}
			if !used {
				leaks[id] = true
			}
		}
	}
	return leaks
}

// errMoreChoices is panicked when a run reads more x[n] than it was given.
var errMoreChoices = errors.New("more choices")

// run runs f with the call returning code, reading choices as the x[n],
// and returns the return it ends at and whether it called rel, or more
// if it needs more choices.
func (f *rfunc) run(code int, choices []bool) (id int, used, more bool) {
	r := &rrun{code: code, choices: choices}
	defer func() {
		if v := recover(); v != nil {
			if v != errMoreChoices {
				panic(v)
			}
			more = true
		}
	}()
	for _, c := range f.copies {
		r.copies = append(r.copies, r.eval(c))
	}
	_, id = r.block(f.body)
	return id, r.used, false
}

// rrun is one run of a random function.
type rrun struct {
	code    int
	choices []bool
	read    int // choices read
	copies  []bool
	used    bool
}

func (r *rrun) eval(c *rcond) bool {
	switch c.op {
	case '=':
		return r.code == c.k
	case '!':
		return r.code != c.k
	case 'x':
		if r.read == len(r.choices) {
			panic(errMoreChoices)
		}
		r.read++
		return r.choices[r.read-1]
	case 'v':
		return r.copies[c.n]
	case 'n':
		return !r.eval(c.x)
	case '&':
		return r.eval(c.x) && r.eval(c.y)
	}
	return r.eval(c.x) || r.eval(c.y)
}

// block runs ss and reports whether it returned, and where.
func (r *rrun) block(ss []rstmt) (returned bool, id int) {
	for i := range ss {
		if returned, id := r.stmt(&ss[i]); returned {
			return true, id
		}
	}
	return false, 0
}

func (r *rrun) stmt(s *rstmt) (returned bool, id int) {
	switch s.op {
	case 'i':
		if r.eval(s.cond) {
			return r.block(s.then)
		}
		return r.block(s.els)
	case 's', 't':
		return r.switchStmt(s)
	case 'r':
		r.used = true
	case 'c':
		r.code = s.k
	case 'R':
		return true, s.id
	}
	return false, 0
}

func (r *rrun) switchStmt(s *rstmt) (returned bool, id int) {
	start := len(s.cases) // the default
	for i, c := range s.cases {
		if s.op == 's' && r.eval(c.cond) || s.op == 't' && slices.Contains(c.vals, r.code) {
			start = i
			break
		}
	}
	if start == len(s.cases) && !s.hasDflt {
		return false, 0
	}
	for i := start; ; i++ {
		body, fall := s.dflt, false
		if i < len(s.cases) {
			body, fall = s.cases[i].body, s.cases[i].fall
		}
		if returned, id := r.block(body); returned || !fall {
			return returned, id
		}
	}
}
