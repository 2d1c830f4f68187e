package lostrelease

import (
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// ignorePrefix starts a comment that marks a deliberate leak.
const ignorePrefix = "//lostrelease:ignore"

const msgNoReason = "//lostrelease:ignore needs a reason: say why the leak is deliberate"

// A lineKey names one line of one file.
type lineKey struct {
	file *token.File
	line int
}

// directives returns the //lostrelease:ignore comments of the pass's files
// by line, and reports those without a reason.
func directives(pass *analysis.Pass) map[lineKey]string {
	m := make(map[lineKey]string)
	for _, f := range pass.Files {
		tf := pass.Fset.File(f.Pos())
		for _, cg := range f.Comments {
			for _, cm := range cg.List {
				rest, ok := strings.CutPrefix(cm.Text, ignorePrefix)
				if !ok || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
					continue
				}
				reason := strings.TrimSpace(rest)
				if reason == "" {
					pass.ReportRangef(cm, msgNoReason)
				}
				m[lineKey{tf, tf.Line(cm.Pos())}] = reason
			}
		}
	}
	return m
}

// ignored reports whether a //lostrelease:ignore comment with a reason is
// on call's line or the line above.
func (c *checker) ignored(call *ast.CallExpr) bool {
	tf := c.pass.Fset.File(call.Pos())
	line := tf.Line(call.Pos())
	return c.ignores[lineKey{tf, line}] != "" || c.ignores[lineKey{tf, line - 1}] != ""
}
