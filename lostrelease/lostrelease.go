package lostrelease

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
)

// Analyzer reports release functions returned by WrapOnDone,
// WrapOnDoneCause, slots.Limiter's TryAcquire or Acquire, or a helper that
// returns theirs, that are discarded, not
// used on every path to a return statement, overwritten before use,
// deferred in a loop, or returned while a deferred cancel ends their
// context, on a path that can go on normally: not after a test is marked
// failed or ended, nor after a call that ends the goroutine or program. It
// exports a [returnsGuard] fact for each helper, an [isPredicate] fact for
// each status predicate, and a [failsEveryPath] fact for each function
// whose every path fails a test or ends.
var Analyzer = &analysis.Analyzer{
	Name: "lostrelease",
	Doc: "check that the release function returned by WrapOnDone is used\n\n" +
		"A release that is never called holds its resource until the guard's context is done. " +
		"lostrelease reports a guard, from WrapOnDone, WrapOnDoneCause, slots.Limiter's TryAcquire or Acquire, " +
		"or a helper that returns one, " +
		"that is discarded, held in a variable that is not used on some path to a return statement " +
		"or overwrite, deferred in a loop that retries, " +
		"or returned by a function that defers the cancel of its context.",
	URL:       "https://pkg.go.dev/github.com/ctxguard/release/lostrelease",
	Requires:  []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	FactTypes: []analysis.Fact{new(returnsGuard), new(isPredicate), new(failsEveryPath)},
	Run:       run,
}

// releasePkg is the import path of the package that defines WrapOnDone.
const releasePkg = "github.com/ctxguard/release"

func run(pass *analysis.Pass) (any, error) {
	c := &checker{pass: pass, local: make(map[*types.Func]*returnsGuard),
		predicates: make(map[*types.Func]*isPredicate), fails: make(map[*types.Func]bool)}
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	var decls []*ast.FuncDecl
	insp.Preorder([]ast.Node{(*ast.FuncDecl)(nil)}, func(n ast.Node) {
		if fd := n.(*ast.FuncDecl); fd.Body != nil && fd.Name.Name != "_" {
			decls = append(decls, fd) // a function named _ cannot be called
		}
	})
	// Status types and their predicates may live in a package that knows
	// nothing of guards: predicates are exported from every package.
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	c.derivePredicates(decls, cfgs)
	guards, failures := importedFacts(pass)
	// So may helpers that fail a test, in any package that knows testing.
	if pass.Pkg.Path() != "testing" && (failures || imports(pass.Pkg, "testing")) {
		c.deriveFailures(decls, cfgs)
	}
	if !guards && !mayHoldGuards(pass) {
		return nil, nil
	}
	c.deriveFacts(decls, cfgs)
	c.ignores = directives(pass)
	insp.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(n ast.Node) {
		switch fn := n.(type) {
		case *ast.FuncDecl:
			if fn.Body != nil {
				c.checkFunc(fn.Type, fn.Body, isMainMain(pass, fn), func() *cfg.CFG { return cfgs.FuncDecl(fn) })
				c.checkShortCtx(fn.Type, fn.Body, declName(pass, fn))
			}
		case *ast.FuncLit:
			c.checkFunc(fn.Type, fn.Body, false, func() *cfg.CFG { return cfgs.FuncLit(fn) })
			c.checkShortCtx(fn.Type, fn.Body, "the function literal")
		}
	})
	return nil, nil
}

// mayHoldGuards reports whether the package is the release package or
// depends on it or on the slots package (whose Limiter interface has known
// sources). A package that imports a function with a [returnsGuard] fact
// may hold guards too: that test matters under go vet, where the imports
// of a dependency are only those its export data names, which may leave
// out the release package behind a helper.
func mayHoldGuards(pass *analysis.Pass) bool {
	return pass.Pkg.Path() == releasePkg || dependsOn(pass.Pkg, releasePkg) || dependsOn(pass.Pkg, slotsPkg)
}

// importedFacts reports whether the pass knows of an imported function
// with a [returnsGuard] fact, and of one with a [failsEveryPath] fact.
func importedFacts(pass *analysis.Pass) (guards, failures bool) {
	for _, f := range pass.AllObjectFacts() {
		switch f.Fact.(type) {
		case *returnsGuard:
			guards = true
		case *failsEveryPath:
			failures = true
		}
		if guards && failures {
			break
		}
	}
	return guards, failures
}

// imports reports whether pkg imports path directly.
func imports(pkg *types.Package, path string) bool {
	for _, imp := range pkg.Imports() {
		if imp.Path() == path {
			return true
		}
	}
	return false
}

// dependsOn reports whether pkg imports path, directly or indirectly.
func dependsOn(pkg *types.Package, path string) bool {
	seen := make(map[*types.Package]bool)
	var walk func(*types.Package) bool
	walk = func(p *types.Package) bool {
		for _, imp := range p.Imports() {
			if imp.Path() == path {
				return true
			}
			if !seen[imp] {
				seen[imp] = true
				if walk(imp) {
					return true
				}
			}
		}
		return false
	}
	return walk(pkg)
}

// isMainMain reports whether fn is the main function of a main package.
func isMainMain(pass *analysis.Pass, fn *ast.FuncDecl) bool {
	return fn.Name.Name == "main" && fn.Recv == nil && pass.Pkg.Name() == "main"
}

// declName returns the name of the function fd declares, with its
// receiver's type name for a method.
func declName(pass *analysis.Pass, fd *ast.FuncDecl) string {
	if fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func); ok {
		return funcName(fn)
	}
	return fd.Name.Name
}
