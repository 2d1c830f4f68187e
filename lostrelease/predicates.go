package lostrelease

import (
	"fmt"
	"go/ast"
	"go/types"
	"maps"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/types/typeutil"
)

// isPredicate is the fact the analyzer exports for a status predicate: a
// function that returns a bool and reads one status, a parameter or a
// value receiver of a basic type or of type error that it never assigns,
// and whose every return gives a constant or a condition on that status
// alone (comparisons with constants, !, &&, ||; see [predicateWalk]). Its
// other parameters, and what else it does (writing an HTTP error, say),
// do not matter. A call of it on a status stands for what it returns.
type isPredicate struct {
	// Receiver is true for a method whose receiver is the status; else
	// the status is the parameter at index Param.
	Receiver bool
	Param    int
	// True and False say which values the status holds when the
	// predicate returns true, and false.
	True, False valueRule
	// Maps is set instead for a status map: a function that returns
	// another basic type (an HTTP code, say), a constant on every path. It
	// holds, for each value returned, the values of the status it is
	// returned for, sorted by the value returned.
	Maps []mapped
}

// mapped says that a status map returns Value (as [valueKey] gives it)
// for the values of the status in Rule.
type mapped struct {
	Value string
	Rule  valueRule
}

// A valueRule says that a status holds one of Values, or none of them.
type valueRule struct {
	In bool
	// Values lists the values, sorted, as [valueSet] does.
	Values []string
}

// AFact marks isPredicate as an [analysis.Fact].
func (*isPredicate) AFact() {}

// String returns "isPredicate", then the values for which the predicate
// returns true and false: `isPredicate true:0|1 false:!0|1`.
func (f *isPredicate) String() string {
	s := fmt.Sprintf("isPredicate true:%s false:%s", f.True, f.False)
	if f.Maps != nil {
		var parts []string
		for _, m := range f.Maps {
			parts = append(parts, m.Value+"="+m.Rule.String())
		}
		s = "isPredicate maps:" + strings.Join(parts, ",")
	}
	if !f.Receiver && f.Param > 0 {
		s += fmt.Sprintf(" param:%d", f.Param)
	}
	return s
}

func (r valueRule) String() string {
	s := strings.Join(r.Values, "|")
	if !r.In {
		return "!" + s
	}
	return s
}

func (r valueRule) constraint() valueConstraint {
	set := make(map[string]bool, len(r.Values))
	for _, v := range r.Values {
		set[v] = true
	}
	return valueConstraint{r.In, set}
}

func ruleOf(c valueConstraint) valueRule {
	return valueRule{In: c.in, Values: slices.Sorted(maps.Keys(c.set))}
}

// derivePredicates finds this package's status predicates and exports a
// fact for each. A predicate's conditions are read on their own: a call of
// another predicate in them is not followed.
func (c *checker) derivePredicates(decls []*ast.FuncDecl, cfgs *ctrlflow.CFGs) {
	for _, fd := range decls {
		fn, ok := c.pass.TypesInfo.Defs[fd.Name].(*types.Func)
		if !ok {
			continue
		}
		if f := predicateFact(c.pass.TypesInfo, fd, fn.Signature(), cfgs); f != nil {
			c.predicates[fn] = f
			c.pass.ExportObjectFact(fn, f)
		}
	}
}

// predicateFact returns the fact for fd, of signature sig, if it is a
// status predicate or map. Its status is its value receiver if that may be
// one, else the first of its parameters that may be one and of which its
// returns say something.
func predicateFact(info *types.Info, fd *ast.FuncDecl, sig *types.Signature, cfgs *ctrlflow.CFGs) *isPredicate {
	if fd.Body == nil || sig.TypeParams().Len() > 0 || sig.RecvTypeParams().Len() > 0 ||
		sig.Results().Len() != 1 {
		return nil
	}
	result, ok := sig.Results().At(0).Type().Underlying().(*types.Basic)
	assigned := assignmentsIn(info, fd.Body)
	if !ok || len(assigned[sig.Results().At(0)]) > 0 || hasDefer(fd.Body) {
		return nil // a named result assigned may be returned bare; a deferred call may change it, or recover
	}
	var ps *pathSearch
	try := func(subject *types.Var, f *isPredicate) *isPredicate {
		if !statusType(subject.Type()) || !reads(info, fd.Body, subject) || len(assigned[subject]) > 0 {
			return nil
		}
		if ps == nil {
			ps = newPathSearch(info, fd.Body, cfgs.FuncDecl(fd))
		}
		isBool := result.Info()&types.IsBoolean != 0
		// The status's values are not known here: an ordered comparison says nothing.
		pw := &predicateWalk{ps: ps, s: &status{v: subject}, conds: isBool}
		if !pw.run() || !pw.saysSomething() {
			return nil
		}
		if isBool {
			f.True, f.False = ruleOf(pw.returned("true")), ruleOf(pw.returned("false"))
			return f
		}
		for _, k := range slices.Sorted(maps.Keys(pw.ret)) {
			f.Maps = append(f.Maps, mapped{k, ruleOf(pw.ret[k])})
		}
		return f
	}
	if r := sig.Recv(); r != nil && statusType(r.Type()) {
		return try(r, &isPredicate{Receiver: true})
	}
	for i := range sig.Params().Len() {
		if f := try(sig.Params().At(i), &isPredicate{Param: i}); f != nil {
			return f
		}
	}
	return nil
}

// hasDefer reports whether body has a defer statement, outside function
// literals: a deferred call that recovers a panic makes the function
// return its zero value.
func hasDefer(body *ast.BlockStmt) bool {
	found := false
	inspectFunc(body, func(n ast.Node) {
		_, d := n.(*ast.DeferStmt)
		found = found || d
	})
	return found
}

// reads reports whether body refers to v.
func reads(info *types.Info, body *ast.BlockStmt, v *types.Var) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == v {
			found = true
		}
		return !found
	})
	return found
}

// statusType reports whether t may be a status's type: a basic type, or
// error (an interface of another kind never equals a constant).
func statusType(t types.Type) bool {
	_, ok := t.Underlying().(*types.Basic)
	return ok || types.Identical(t, errorType)
}

// predicateOf returns the fact of fn if it is a status predicate.
func (c *checker) predicateOf(fn *types.Func) *isPredicate {
	if fn.Pkg() == nil {
		return nil
	}
	if fn.Pkg() == c.pass.Pkg {
		return c.predicates[fn]
	}
	var f isPredicate
	if c.pass.ImportObjectFact(fn, &f) {
		return &f
	}
	return nil
}

// predicateCall is constraint for a call: a status predicate called on v
// itself (`st.granted()`, `isOK(st)`, `admit(w, st)`) says what it
// returns.
func (ps *pathSearch) predicateCall(v *types.Var, call *ast.CallExpr, truth bool) (valueConstraint, bool) {
	p := ps.calledOn(v, call)
	if p == nil || p.Maps != nil {
		return valueConstraint{}, false
	}
	if truth {
		return p.True.constraint(), true
	}
	return p.False.constraint(), true
}

// calledOn returns the fact of the status predicate or map that call
// calls on v itself, or nil.
func (ps *pathSearch) calledOn(v *types.Var, call *ast.CallExpr) *isPredicate {
	fn := typeutil.StaticCallee(ps.info, call)
	if fn == nil || ps.predicateOf == nil {
		return nil
	}
	fn = fn.Origin()
	p := ps.predicateOf(fn)
	if p == nil {
		return nil
	}
	var arg ast.Expr
	var param *types.Var
	params := fn.Signature().Params()
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); p.Receiver && ok {
		switch s := ps.info.Selections[sel]; {
		case s != nil && s.Kind() == types.MethodVal:
			arg, param = sel.X, fn.Signature().Recv()
		case s != nil && s.Kind() == types.MethodExpr && len(call.Args) > 0: // status.ok(st)
			arg, param = call.Args[0], fn.Signature().Recv()
		}
	} else if !p.Receiver && len(call.Args) == params.Len() && p.Param < params.Len() {
		arg, param = call.Args[p.Param], params.At(p.Param)
	}
	if arg == nil || !ps.holdsStatus(v, arg) || !types.Identical(v.Type(), param.Type()) {
		return nil
	}
	return p
}
