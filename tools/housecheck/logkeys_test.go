package housecheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// errorKey is the one key log lines give an error under. "err" is the
// key most of the code used when the rule was made.
const errorKey = "err"

// otherErrorKeys are the keys that held errors before, and must not again.
var otherErrorKeys = map[string]bool{"error": true, "e": true, "cause": true, "error_message": true, "errmsg": true}

// TestOneLogKeyForErrors reads every Go file of the repository (both
// modules, tests and test fixtures included) and fails on a log/slog call
// that gives a value under one of otherErrorKeys instead of errorKey.
func TestOneLogKeyForErrors(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".tools", "node_modules", "vendor", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, key := range badLogKeys(f) {
			rel, _ := filepath.Rel(root, path)
			pos := fset.Position(key.Pos())
			t.Errorf("%s:%d: log key %s: errors are logged under %q", rel, pos.Line, key.Value, errorKey)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read only %d Go files under %s: not the repository?", files, root)
	}
}

// TestBadLogKeysFindsThem: the checker sees keys in every position slog
// takes them, and nothing else.
func TestBadLogKeysFindsThem(t *testing.T) {
	src := `package x
func f() {
	log.Warn("a", "error", err)
	log.Warn("a", "job", id, "cause", err)
	log.ErrorContext(ctx, "a", "error", err)
	log.Log(ctx, slog.LevelWarn, "a", "e", err)
	log.With("error", err).Info("a")
	slog.Any("error", err)
	log.Warn("a", "err", err, "job_err", jerr)
	t.Error("error", "text")
	fmt.Println("error", err)
	log.Info("error", "k", v)
}`
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range badLogKeys(f) {
		got = append(got, k.Value)
	}
	want := `"error" "cause" "error" "e" "error" "error"`
	if strings.Join(got, " ") != want {
		t.Errorf("badLogKeys = %v, want %s", got, want)
	}
}

// badLogKeys returns the string literals in key position of slog calls
// (Logger methods, slog's package functions and attribute constructors)
// that name an error under another key than errorKey.
func badLogKeys(f *ast.File) []*ast.BasicLit {
	var out []*ast.BasicLit
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		first := -1 // index of the first key
		switch sel.Sel.Name {
		case "Debug", "Info", "Warn", "Error":
			first = 1
		case "DebugContext", "InfoContext", "WarnContext", "ErrorContext":
			first = 2
		case "Log":
			first = 3
		case "With":
			first = 0
		case "Any", "String", "Group":
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "slog" {
				first = 0
			}
		}
		if first < 0 || len(call.Args) < first+2 {
			return true
		}
		for i := first; i+1 < len(call.Args); i += 2 {
			lit, ok := call.Args[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				continue
			}
			if k, err := strconv.Unquote(lit.Value); err == nil && otherErrorKeys[k] {
				out = append(out, lit)
			}
		}
		return true
	})
	return out
}

// repoRoot is the repository's top directory: where go.work is.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the test's directory")
		}
		dir = parent
	}
}
