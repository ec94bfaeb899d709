package report

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestNoLongLiterals keeps the report's prose in small pieces: no string
// literal of the package's code is over 200 characters, so a sentence
// can be read and changed where it is written.
func TestNoLongLiterals(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
			}
			if n := utf8.RuneCountInString(s); n > 200 {
				t.Errorf("%s: a string literal of %d characters: %.60q...", fset.Position(lit.Pos()), n, s)
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("checked %d files: not the package's sources", checked)
	}
}
