package lostrelease

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"
)

// failsEveryPath is the fact the analyzer exports for a function whose
// every path marks a test failed or ends the test, the goroutine or the
// program (see [checker.failure]). A call of it ends a path as t.Fatal
// does: no guard is lost after it.
type failsEveryPath struct{}

// AFact marks failsEveryPath as an [analysis.Fact].
func (*failsEveryPath) AFact() {}

func (*failsEveryPath) String() string { return "failsEveryPath" }

// testingFailures are the methods of package testing's T, B, F and TB that
// mark a test failed or end it.
var testingFailures = map[string]bool{
	"Error": true, "Errorf": true, "Fail": true, "FailNow": true,
	"Fatal": true, "Fatalf": true, "Skip": true, "Skipf": true, "SkipNow": true,
}

// testFailed reports whether call calls the Failed method of package
// testing's T, B, F or TB: where it returns true, the test has failed.
func testFailed(info *types.Info, call *ast.CallExpr) bool {
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	return ok && fn.Pkg() != nil && fn.Pkg().Path() == "testing" && fn.Name() == "Failed" && fn.Signature().Recv() != nil
}

// failure reports whether n, a node of a CFG, is a statement that calls a
// method of package testing in testingFailures (on a *testing.T,
// *testing.B, *testing.F or testing.TB, whatever function it is in), or a
// function with a [failsEveryPath] fact. A call that never returns (panic,
// os.Exit, log.Fatal, runtime.Goexit, or a function whose every path ends
// in one) needs no test here: it ends its block in ctrlflow's CFG, which
// the path search follows.
func (c *checker) failure(n ast.Node) bool {
	es, ok := n.(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := ast.Unparen(es.X).(*ast.CallExpr)
	if !ok {
		return false
	}
	fn, ok := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func)
	if !ok || fn.Pkg() == nil {
		return false
	}
	if fn.Pkg().Path() == "testing" {
		return fn.Signature().Recv() != nil && testingFailures[fn.Name()]
	}
	return c.failsOf(fn.Origin())
}

// failsOf reports whether fn has a [failsEveryPath] fact.
func (c *checker) failsOf(fn *types.Func) bool {
	if fn.Pkg() == c.pass.Pkg {
		return c.fails[fn]
	}
	return c.pass.ImportObjectFact(fn, new(failsEveryPath))
}

// deriveFailures finds this package's functions whose every path fails
// (see [failsEveryPath]), following such functions that call one another
// until nothing changes, and exports a fact for each. A function with a
// defer statement gets none: a deferred recover could let it return.
func (c *checker) deriveFailures(decls []*ast.FuncDecl, cfgs *ctrlflow.CFGs) {
	var cands []*ast.FuncDecl
	for _, fd := range decls {
		if c.mayFailEveryPath(fd) {
			cands = append(cands, fd)
		}
	}
	for changed := true; changed; {
		changed = false
		for _, fd := range cands {
			fn, _ := c.pass.TypesInfo.Defs[fd.Name].(*types.Func)
			if fn == nil || c.fails[fn] {
				continue
			}
			if g := cfgs.FuncDecl(fd); g != nil && c.everyPathFails(g) {
				c.fails[fn] = true
				changed = true
			}
		}
	}
	for _, fd := range cands {
		if fn, _ := c.pass.TypesInfo.Defs[fd.Name].(*types.Func); fn != nil && c.fails[fn] {
			c.pass.ExportObjectFact(fn, new(failsEveryPath))
		}
	}
}

// mayFailEveryPath reports whether fd has no defer statement and calls, as
// a statement, a function that [checker.failure] may accept, now or once
// the package's facts are known.
func (c *checker) mayFailEveryPath(fd *ast.FuncDecl) bool {
	found, deferred := false, false
	inspectFunc(fd.Body, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.DeferStmt:
			deferred = true
		case *ast.ExprStmt:
			found = found || c.failure(n) || c.callsLocal(n)
		}
	})
	return found && !deferred
}

// callsLocal reports whether es calls a function of this package.
func (c *checker) callsLocal(es *ast.ExprStmt) bool {
	call, ok := ast.Unparen(es.X).(*ast.CallExpr)
	if !ok {
		return false
	}
	fn := typeutil.StaticCallee(c.pass.TypesInfo, call)
	return fn != nil && fn.Pkg() == c.pass.Pkg
}

// everyPathFails reports whether no path of g from its entry reaches a
// return without passing a [checker.failure] call. g is ctrlflow's CFG,
// where a call that never returns already ends its block.
func (c *checker) everyPathFails(g *cfg.CFG) bool {
	if len(g.Blocks) == 0 {
		return false
	}
	seen := make(map[*cfg.Block]bool)
	todo := []*cfg.Block{g.Blocks[0]}
	for len(todo) > 0 {
		b := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[b] {
			continue
		}
		seen[b] = true
		failed := false
		for _, n := range b.Nodes {
			if c.failure(n) {
				failed = true
				break
			}
		}
		switch {
		case failed:
		case b.Return() != nil:
			return false
		default:
			todo = append(todo, b.Succs...)
		}
	}
	return true
}
