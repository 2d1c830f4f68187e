package lostrelease

import (
	"fmt"
	"go/ast"
	"go/types"
	"maps"
	"slices"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// isPredicate is the fact the analyzer exports for a status predicate: a
// function of one parameter, or a method of a value receiver and no
// parameters, whose body is a single `return cond`, cond a bool condition
// on that parameter or receiver alone (comparisons with constants, !, &&,
// ||). A call of it on a status stands for cond on that status.
type isPredicate struct {
	// Receiver is true for a method, whose receiver is the status; else
	// the status is the only parameter.
	Receiver bool
	// True and False say which values the status holds when the
	// predicate returns true, and false.
	True, False valueRule
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
	return fmt.Sprintf("isPredicate true:%s false:%s", f.True, f.False)
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
// fact for each. A predicate's condition is read on its own: a call of
// another predicate in it is not followed.
func (c *checker) derivePredicates(decls []*ast.FuncDecl) {
	for _, fd := range decls {
		fn, ok := c.pass.TypesInfo.Defs[fd.Name].(*types.Func)
		if !ok {
			continue
		}
		if f := predicateFact(c.pass.TypesInfo, fd, fn.Signature()); f != nil {
			c.predicates[fn] = f
			c.pass.ExportObjectFact(fn, f)
		}
	}
}

// predicateFact returns the fact for fd, of signature sig, if it is a
// status predicate.
func predicateFact(info *types.Info, fd *ast.FuncDecl, sig *types.Signature) *isPredicate {
	if fd.Body == nil || len(fd.Body.List) != 1 || sig.TypeParams().Len() > 0 || sig.RecvTypeParams().Len() > 0 ||
		sig.Results().Len() != 1 || !isBool(sig.Results().At(0).Type()) {
		return nil
	}
	ret, ok := fd.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 || hasFuncLit(ret) {
		return nil
	}
	f := &isPredicate{Receiver: sig.Recv() != nil}
	subject := sig.Recv()
	switch {
	case f.Receiver && sig.Params().Len() == 0:
	case !f.Receiver && sig.Params().Len() == 1:
		subject = sig.Params().At(0)
	default:
		return nil
	}
	if _, ok := subject.Type().Underlying().(*types.Basic); !ok && !types.Identical(subject.Type(), errorType) {
		return nil // an interface, say, which a constant of another type never equals
	}
	ps := &pathSearch{info: info, body: fd.Body}
	s := &status{v: subject} // its values are not known here: an ordered comparison says nothing
	t, okT := ps.constraint(s, ret.Results[0], true, 0)
	e, okF := ps.constraint(s, ret.Results[0], false, 0)
	if !okT || !okF {
		return nil
	}
	f.True, f.False = ruleOf(t), ruleOf(e)
	return f
}

func hasFuncLit(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		_, lit := n.(*ast.FuncLit)
		found = found || lit
		return !found
	})
	return found
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
// itself (`st.granted()`, `isOK(st)`) says what its condition says.
func (ps *pathSearch) predicateCall(v *types.Var, call *ast.CallExpr, truth bool) (valueConstraint, bool) {
	fn := typeutil.StaticCallee(ps.info, call)
	if fn == nil || ps.predicateOf == nil {
		return valueConstraint{}, false
	}
	fn = fn.Origin()
	p := ps.predicateOf(fn)
	if p == nil {
		return valueConstraint{}, false
	}
	var arg ast.Expr
	var param *types.Var
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); p.Receiver && ok && len(call.Args) == 0 {
		if s := ps.info.Selections[sel]; s != nil && s.Kind() == types.MethodVal {
			arg, param = sel.X, fn.Signature().Recv()
		}
	} else if !p.Receiver && len(call.Args) == 1 && fn.Signature().Params().Len() == 1 {
		arg, param = call.Args[0], fn.Signature().Params().At(0)
	}
	if arg == nil || !isVar(ps.info, arg, v) || !types.Identical(v.Type(), param.Type()) {
		return valueConstraint{}, false
	}
	if truth {
		return p.True.constraint(), true
	}
	return p.False.constraint(), true
}
