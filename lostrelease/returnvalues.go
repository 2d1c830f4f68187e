package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
	"maps"

	"golang.org/x/tools/go/cfg"
)

// returnedValues finds what a helper's return statement gives a result
// beside a guard, along the paths on which the guard may be non-nil, when
// the return alone does not say: a status set in several places
// (`switch { case err == nil: st = OK; ... }; return rel, st`), or named
// results returned bare. It is made for one helper's body.
type returnedValues struct {
	c        *checker
	body     *ast.BlockStmt
	sig      *types.Signature
	graph    func() *cfg.CFG
	assigned map[*types.Var][]ast.Node // see [assignmentsIn]

	// Made when first needed:
	ps    *pathSearch
	holds []*heldGuard
}

// add adds to set what result j of ret holds on the paths where result i,
// a guard, may be non-nil, and returns set, or nil, leaving set as it was,
// if that is not known.
// It is known when the guard is a variable of the helper assigned only
// guards held from sources (see [heldGuard]) and nil, and result j a
// variable of the helper assigned constants, or a status of each such
// guard, on every path from the guard's assignment to ret. A path ends
// where the guard is overwritten, a test fails or the goroutine ends.
func (rv *returnedValues) add(ret *ast.ReturnStmt, i, j int, set map[string]bool) map[string]bool {
	g, s := rv.resultVar(ret, i), rv.resultVar(ret, j)
	if g == nil || s == nil || !rv.followable(s) {
		return nil
	}
	holds, ok := rv.guardsOf(g)
	if !ok {
		return nil
	}
	keys := make(map[string]bool)
	for _, h := range holds {
		for start := range rv.startKeys(h, s) {
			rw := &returnWalk{ps: rv.ps, h: h, ret: ret, s: s, seen: make(map[returnState][]uint64), keys: keys}
			if !rw.run(start) {
				return nil
			}
		}
	}
	maps.Copy(set, keys)
	return set
}

// nilAt reports whether ret gives result i, a guard, only nil: it returns
// a variable of the helper (the named result, if bare) assigned only
// guards held from sources and nil, and no path from one of those
// assignments on which the guard may be non-nil reaches ret, as where
// `if err != nil { return rel, statusFull }` follows TryAcquire.
func (rv *returnedValues) nilAt(ret *ast.ReturnStmt, i int) bool {
	if len(ret.Results) != 0 && len(ret.Results) != rv.sig.Results().Len() {
		return false
	}
	g := rv.resultVar(ret, i)
	if g == nil {
		return false
	}
	holds, ok := rv.guardsOf(g)
	if !ok {
		return false
	}
	for _, h := range holds {
		// g as the followed variable: a path that reaches ret records what
		// g holds there, not known, and run reports false.
		rw := &returnWalk{ps: rv.ps, h: h, ret: ret, s: g, seen: make(map[returnState][]uint64), keys: make(map[string]bool)}
		if !rw.run("") || len(rw.keys) > 0 {
			return false
		}
	}
	return true
}

// resultVar returns the variable of the helper that ret returns as result
// i: the named result for a bare return. It is nil for anything else.
func (rv *returnedValues) resultVar(ret *ast.ReturnStmt, i int) *types.Var {
	if len(ret.Results) == 0 {
		v := rv.sig.Results().At(i)
		if v.Name() == "" || v.Name() == "_" {
			return nil
		}
		return v
	}
	id, ok := ast.Unparen(ret.Results[i]).(*ast.Ident)
	if !ok {
		return nil
	}
	v, ok := rv.c.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok || !within(rv.body, v.Pos()) && !rv.isResult(v) {
		return nil
	}
	return v
}

func (rv *returnedValues) isResult(v *types.Var) bool {
	for r := range rv.sig.Results().Variables() {
		if r == v {
			return true
		}
	}
	return false
}

// followable reports whether every assignment of s is a statement of the
// helper's body, not of a function literal in it, and s's address is not
// taken: the paths of the body then see each of them.
func (rv *returnedValues) followable(s *types.Var) bool {
	return !changedAside(rv.body, rv.assigned, s)
}

// guardsOf returns the guards held in g, if g is assigned nothing else
// but nil.
func (rv *returnedValues) guardsOf(g *types.Var) ([]*heldGuard, bool) {
	if rv.ps == nil {
		results := make(map[*types.Var]bool)
		for r := range rv.sig.Results().Variables() {
			results[r] = true
		}
		gc := &guardCollector{c: rv.c, body: rv.body, results: results}
		ast.PreorderStack(rv.body, nil, gc.visit)
		rv.holds = gc.holds
		rv.ps = newPathSearch(rv.c.pass.TypesInfo, rv.body, rv.graph())
		rv.ps.predicateOf, rv.ps.failure = rv.c.predicateOf, rv.c.failure
	}
	var holds []*heldGuard
	held := make(map[ast.Node]bool)
	for _, h := range rv.holds {
		if h.v == g {
			holds = append(holds, h)
			held[h.assign] = true
		}
	}
	for _, n := range rv.assigned[g] {
		if !held[n] {
			if k, ok := assignedKey(rv.c.pass.TypesInfo, g, n); !ok || k != "nil" {
				return nil, false
			}
		}
	}
	return holds, true
}

// startKeys returns what s may hold right after h's assignment, each as
// [assignedKey] gives it, "" where it is not known: what the assignment
// gives it, or else what it holds on the paths from the helper's entry to
// the assignment, narrowed by their conditions (a named result starts as
// its zero value).
func (rv *returnedValues) startKeys(h *heldGuard, s *types.Var) map[string]bool {
	info := rv.c.pass.TypesInfo
	if assigns(info, s, h.assign) {
		k, _ := assignedKey(info, s, h.assign)
		return map[string]bool{k: true}
	}
	type state struct {
		b   *cfg.Block
		key string
	}
	first := state{b: rv.ps.g.Blocks[0]}
	if rv.isResult(s) {
		first.key = zeroKey(s.Type())
	}
	keys := make(map[string]bool)
	seen := make(map[state]bool)
	for todo := []state{first}; len(todo) > 0; {
		st := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[st] {
			continue
		}
		seen[st] = true
		if rangeAssigns(info, s, st.b) {
			st.key = ""
		}
		for _, n := range st.b.Nodes {
			if n == h.assign {
				keys[st.key] = true
			}
			if assigns(info, s, n) {
				st.key, _ = assignedKey(info, s, n)
			}
		}
		for _, succ := range st.b.Succs {
			if key, ok := rv.ps.keyOnEdge(s, st.b, succ, st.key); ok {
				todo = append(todo, state{succ, key})
			}
		}
	}
	return keys
}

// assignedKey returns what n, a node that assigns v, assigns it, if n is
// an assignment of one value to each variable or a declaration: the key
// of a constant or nil (see [valueKey]), or of v's zero value. It is ""
// for any other value, with ok false for any other node.
func assignedKey(info *types.Info, v *types.Var, n ast.Node) (key string, ok bool) {
	var lhs, rhs []ast.Expr
	switch n := n.(type) {
	case *ast.AssignStmt:
		if n.Tok != token.ASSIGN && n.Tok != token.DEFINE {
			return "", false
		}
		lhs, rhs = n.Lhs, n.Rhs
	case *ast.ValueSpec:
		if len(n.Values) == 0 {
			return zeroKey(v.Type()), true
		}
		lhs, rhs = identExprs(n.Names), n.Values
	default:
		return "", false
	}
	k := indexOfVar(info, lhs, v)
	if k < 0 || len(lhs) != len(rhs) {
		return "", true
	}
	key, _ = valueKey(info, rhs[k])
	return key, true
}

// zeroKey returns the key of the zero value of t (see [valueKey]), or ""
// for a struct or an array.
func zeroKey(t types.Type) string {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsBoolean != 0:
			return "false"
		case u.Info()&types.IsString != 0:
			return `""`
		case u.Info()&types.IsNumeric != 0:
			return "0"
		}
		return ""
	case *types.Struct, *types.Array:
		return ""
	}
	return "nil"
}

// inFuncLit reports whether n is in a function literal of body.
func inFuncLit(body *ast.BlockStmt, n ast.Node) bool {
	found := false
	ast.Inspect(body, func(m ast.Node) bool {
		if lit, ok := m.(*ast.FuncLit); ok && within(lit, n.Pos()) {
			found = true
		}
		return !found
	})
	return found
}
