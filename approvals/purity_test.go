package approvals

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestPackageIsPure keeps approvals a functional core: it may import only
// nova and side-effect-free standard packages, and never read the clock,
// so that every rule can be tested with values alone.
func TestPackageIsPure(t *testing.T) {
	allowed := []string{"github.com/novasre/nova", "fmt", "maps", "slices", "strings", "time", "unicode/utf8"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(allowed, path) {
				t.Errorf("%s imports %q: approvals must stay free of I/O", name, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "time" && (sel.Sel.Name == "Now" || sel.Sel.Name == "Since" || sel.Sel.Name == "Until") {
				t.Errorf("%s: calls time.%s; take now as a parameter", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
