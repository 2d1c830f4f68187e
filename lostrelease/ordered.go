package lostrelease

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strings"
)

// ordered is constraint for an ordered comparison of s's variable with an
// integer constant (`st > statusOK`, `code >= 400`): where it is truth, the
// variable holds those of s's values that meet it. It says nothing unless
// each of s's values, but for an unknown one (see [otherValue]), is an
// integer: the values of a predicate's parameter, say, are not known.
func (ps *pathSearch) ordered(s *status, e *ast.BinaryExpr, truth bool) (valueConstraint, bool) {
	op, other := e.Op, e.Y
	if !ps.holdsStatus(s.v, e.X) {
		if !ps.holdsStatus(s.v, e.Y) {
			return valueConstraint{}, false
		}
		op, other = mirrored(op), e.X
	}
	c := ps.info.Types[other].Value
	if c == nil || c.Kind() != constant.Int || len(s.values) == 0 {
		return valueConstraint{}, false
	}
	set := make(map[string]bool)
	for _, key := range s.values {
		if key == otherValue {
			continue
		}
		x, ok := intOfKey(key)
		if !ok {
			return valueConstraint{}, false
		}
		if constant.Compare(x, op, c) == truth {
			set[key] = true
		}
	}
	return valueConstraint{in: true, set: set}, true
}

// mirrored returns the operator op with its operands swapped: > for <.
func mirrored(op token.Token) token.Token {
	switch op {
	case token.LSS:
		return token.GTR
	case token.GTR:
		return token.LSS
	case token.LEQ:
		return token.GEQ
	case token.GEQ:
		return token.LEQ
	}
	return op
}

// intOfKey returns the integer a value key (see [valueKey]) stands for.
func intOfKey(key string) (constant.Value, bool) {
	neg := strings.HasPrefix(key, "-")
	x := constant.MakeFromLiteral(strings.TrimPrefix(key, "-"), token.INT, 0)
	if x.Kind() != constant.Int {
		return nil, false
	}
	if neg {
		x = constant.UnaryOp(token.SUB, x, 0)
	}
	return x, true
}

// mappedComparison is constraint for a comparison of what a status map
// (see [isPredicate]) returns for s's variable with a constant, directly
// or through a copy: `st.httpCode() != http.StatusOK`, or
// `code := st.httpCode(); if code >= 400 { ... }`. Where it is truth, the
// variable holds a value for which the map returns one that meets it.
func (ps *pathSearch) mappedComparison(s *status, e *ast.BinaryExpr, truth bool, depth int) (valueConstraint, bool) {
	op, other := e.Op, e.Y
	m := ps.mapOn(s.v, e.X, depth)
	if m == nil {
		op, other = mirrored(op), e.X
		m = ps.mapOn(s.v, e.Y, depth)
	}
	c := ps.info.Types[other].Value
	if m == nil || c == nil {
		return valueConstraint{}, false
	}
	r := valueConstraint{in: true, set: map[string]bool{}}
	for _, mv := range m.Maps {
		var meets bool
		switch op {
		case token.EQL, token.NEQ:
			meets = (mv.Value == c.ExactString()) == (op == token.EQL)
		default:
			x, ok := intOfKey(mv.Value)
			if !ok || c.Kind() != constant.Int {
				return valueConstraint{}, false
			}
			meets = constant.Compare(x, op, c)
		}
		if meets == truth {
			r = combine(r, mv.Rule.constraint(), false)
		}
	}
	return r, true
}

// mapOn returns the fact of the status map that e calls on v, directly or
// through a copy (see [pathSearch.statusCopy]), or nil.
func (ps *pathSearch) mapOn(v *types.Var, e ast.Expr, depth int) *isPredicate {
	if id, ok := ast.Unparen(e).(*ast.Ident); ok && depth < maxCopyDepth {
		if c := ps.statusCopy(id, v); c != nil {
			return ps.mapOn(v, c, depth+1)
		}
	}
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return nil
	}
	if p := ps.calledOn(v, call); p != nil && p.Maps != nil {
		return p
	}
	return nil
}
