package lostrelease

import (
	"go/ast"
	"go/constant"
	"go/token"
	"strings"
)

// ordered is constraint for an ordered comparison of s's variable with an
// integer constant (`st > statusOK`, `code >= 400`): where it is truth, the
// variable holds those of s's values that meet it. It says nothing unless
// each of s's values, but for an unknown one (see [otherValue]), is an
// integer: the values of a predicate's parameter, say, are not known.
func (ps *pathSearch) ordered(s *status, e *ast.BinaryExpr, truth bool) (valueConstraint, bool) {
	op, other := e.Op, e.Y
	if !isVar(ps.info, e.X, s.v) {
		if !isVar(ps.info, e.Y, s.v) {
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
