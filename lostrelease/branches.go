package lostrelease

import (
	"go/ast"
	"go/token"

	"golang.org/x/tools/go/cfg"
)

// branchEnds maps each block of g that ends in a break, continue or goto to
// that statement. go/cfg does not keep branch statements in blocks, so the
// blocks are found from the statements around them: a branch statement
// ends the block that the statement before it ends, or the block that
// begins its statement list.
func branchEnds(g *cfg.CFG, body *ast.BlockStmt) map[*cfg.Block]*ast.BranchStmt {
	bf := &branchFinder{
		nodeBlock: make(map[ast.Node]*cfg.Block),
		kindBlock: make(map[kindStmt]*cfg.Block),
		ends:      make(map[*cfg.Block]*ast.BranchStmt),
	}
	for _, b := range g.Blocks {
		for _, n := range b.Nodes {
			bf.nodeBlock[n] = b
		}
		if k := (kindStmt{b.Kind, b.Stmt}); b.Stmt != nil && bf.kindBlock[k] == nil {
			bf.kindBlock[k] = b
		}
	}
	bf.list(body.List, g.Blocks[0])
	return bf.ends
}

// A kindStmt names the block of a kind that go/cfg makes for a statement.
type kindStmt struct {
	kind cfg.BlockKind
	stmt ast.Stmt
}

// branchFinder walks a function's statements alongside its blocks.
type branchFinder struct {
	nodeBlock map[ast.Node]*cfg.Block // the block that holds each node
	kindBlock map[kindStmt]*cfg.Block
	ends      map[*cfg.Block]*ast.BranchStmt
}

func (bf *branchFinder) block(kind cfg.BlockKind, s ast.Stmt) *cfg.Block {
	return bf.kindBlock[kindStmt{kind, s}]
}

// list returns the block that is current after stmts, given cur before.
func (bf *branchFinder) list(stmts []ast.Stmt, cur *cfg.Block) *cfg.Block {
	for _, s := range stmts {
		cur = bf.end(s, cur)
	}
	return cur
}

// end returns the block that is current after s, given cur before it.
func (bf *branchFinder) end(s ast.Stmt, cur *cfg.Block) *cfg.Block {
	switch s := s.(type) {
	case *ast.BranchStmt:
		if s.Tok != token.FALLTHROUGH && cur != nil {
			bf.ends[cur] = s
		}
		return nil
	case *ast.ReturnStmt:
		return nil
	case *ast.EmptyStmt:
		return cur
	case *ast.BlockStmt:
		return bf.list(s.List, cur)
	case *ast.LabeledStmt:
		return bf.end(s.Stmt, bf.block(cfg.KindLabel, s))
	case *ast.DeclStmt:
		if d, ok := s.Decl.(*ast.GenDecl); ok && len(d.Specs) > 0 {
			if b := bf.nodeBlock[d.Specs[len(d.Specs)-1]]; b != nil {
				return b
			}
		}
		return cur
	case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
		return bf.compound(s)
	}
	if b := bf.nodeBlock[s]; b != nil {
		return b
	}
	return cur
}

// compound walks the bodies of an if, for, switch or select statement and
// returns the block that follows it.
func (bf *branchFinder) compound(s ast.Stmt) *cfg.Block {
	clauses := func(body *ast.BlockStmt, kind cfg.BlockKind) {
		for _, c := range body.List {
			switch c := c.(type) {
			case *ast.CaseClause:
				bf.list(c.Body, bf.block(kind, c))
			case *ast.CommClause:
				bf.list(c.Body, bf.block(kind, c))
			}
		}
	}
	switch s := s.(type) {
	case *ast.IfStmt:
		bf.list(s.Body.List, bf.block(cfg.KindIfThen, s))
		if s.Else != nil {
			bf.end(s.Else, bf.block(cfg.KindIfElse, s))
		}
		return bf.block(cfg.KindIfDone, s)
	case *ast.ForStmt:
		bf.list(s.Body.List, bf.block(cfg.KindForBody, s))
		return bf.block(cfg.KindForDone, s)
	case *ast.RangeStmt:
		bf.list(s.Body.List, bf.block(cfg.KindRangeBody, s))
		return bf.block(cfg.KindRangeDone, s)
	case *ast.SwitchStmt:
		clauses(s.Body, cfg.KindSwitchCaseBody)
		return bf.block(cfg.KindSwitchDone, s)
	case *ast.TypeSwitchStmt:
		clauses(s.Body, cfg.KindSwitchCaseBody)
		return bf.block(cfg.KindSwitchDone, s)
	case *ast.SelectStmt:
		clauses(s.Body, cfg.KindSelectCaseBody)
		return bf.block(cfg.KindSelectDone, s)
	}
	return nil
}
