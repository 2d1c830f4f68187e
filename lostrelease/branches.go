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
	type kindStmt struct {
		kind cfg.BlockKind
		stmt ast.Stmt
	}
	nodeBlock := make(map[ast.Node]*cfg.Block)
	kindBlock := make(map[kindStmt]*cfg.Block)
	for _, b := range g.Blocks {
		for _, n := range b.Nodes {
			nodeBlock[n] = b
		}
		if k := (kindStmt{b.Kind, b.Stmt}); b.Stmt != nil && kindBlock[k] == nil {
			kindBlock[k] = b
		}
	}
	ends := make(map[*cfg.Block]*ast.BranchStmt)
	var list func([]ast.Stmt, *cfg.Block) *cfg.Block
	// end returns the block that is current after s, given cur before it.
	var end func(ast.Stmt, *cfg.Block) *cfg.Block
	end = func(s ast.Stmt, cur *cfg.Block) *cfg.Block {
		switch s := s.(type) {
		case *ast.BranchStmt:
			if s.Tok != token.FALLTHROUGH && cur != nil {
				ends[cur] = s
			}
			return nil
		case *ast.ReturnStmt:
			return nil
		case *ast.EmptyStmt:
			return cur
		case *ast.BlockStmt:
			return list(s.List, cur)
		case *ast.LabeledStmt:
			return end(s.Stmt, kindBlock[kindStmt{cfg.KindLabel, s}])
		case *ast.IfStmt:
			list(s.Body.List, kindBlock[kindStmt{cfg.KindIfThen, s}])
			if s.Else != nil {
				end(s.Else, kindBlock[kindStmt{cfg.KindIfElse, s}])
			}
			return kindBlock[kindStmt{cfg.KindIfDone, s}]
		case *ast.ForStmt:
			list(s.Body.List, kindBlock[kindStmt{cfg.KindForBody, s}])
			return kindBlock[kindStmt{cfg.KindForDone, s}]
		case *ast.RangeStmt:
			list(s.Body.List, kindBlock[kindStmt{cfg.KindRangeBody, s}])
			return kindBlock[kindStmt{cfg.KindRangeDone, s}]
		case *ast.SwitchStmt:
			for _, cc := range s.Body.List {
				list(cc.(*ast.CaseClause).Body, kindBlock[kindStmt{cfg.KindSwitchCaseBody, cc}])
			}
			return kindBlock[kindStmt{cfg.KindSwitchDone, s}]
		case *ast.TypeSwitchStmt:
			for _, cc := range s.Body.List {
				list(cc.(*ast.CaseClause).Body, kindBlock[kindStmt{cfg.KindSwitchCaseBody, cc}])
			}
			return kindBlock[kindStmt{cfg.KindSwitchDone, s}]
		case *ast.SelectStmt:
			for _, cc := range s.Body.List {
				list(cc.(*ast.CommClause).Body, kindBlock[kindStmt{cfg.KindSelectCaseBody, cc}])
			}
			return kindBlock[kindStmt{cfg.KindSelectDone, s}]
		case *ast.DeclStmt:
			if d, ok := s.Decl.(*ast.GenDecl); ok && len(d.Specs) > 0 {
				if b := nodeBlock[d.Specs[len(d.Specs)-1]]; b != nil {
					return b
				}
			}
			return cur
		}
		if b := nodeBlock[s]; b != nil {
			return b
		}
		return cur
	}
	list = func(stmts []ast.Stmt, cur *cfg.Block) *cfg.Block {
		for _, s := range stmts {
			cur = end(s, cur)
		}
		return cur
	}
	list(body.List, g.Blocks[0])
	return ends
}
