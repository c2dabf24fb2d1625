package nova_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/novasre/nova"

// packageFiles maps each package directory to the parsed non-test files in it.
func packageFiles(t *testing.T) map[string][]*ast.File {
	t.Helper()
	out := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(purePackages, func(p string) bool { return strings.HasPrefix(filepath.Dir(path), p) }) {
			if f, err = parser.ParseFile(fset, path, nil, 0); err != nil {
				return err
			}
		}
		out[filepath.ToSlash(filepath.Dir(path))] = append(out[filepath.ToSlash(filepath.Dir(path))], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func importsOf(files []*ast.File) []string {
	var out []string
	for _, f := range files {
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func isStdlib(p string) bool { return !strings.Contains(strings.Split(p, "/")[0], ".") }

// ioPackages are standard-library packages that do I/O or read the world;
// the pure packages must not import them.
var ioPackages = []string{"net", "net/http", "os", "os/exec", "io/ioutil", "database/sql", "log", "log/slog", "syscall", "crypto/rand", "math/rand", "math/rand/v2"}

// purePackages do no I/O and never read the clock: values in, values out.
var purePackages = []string{"triage", "approvals", "postmortem", "review"}

// adapters are the packages that talk to the outside world.
var adapters = []string{"pagerduty", "slack", "store/bolt", "store/redis", "executor", "llm", "web", "config"}

func TestImportRules(t *testing.T) {
	pkgs := packageFiles(t)
	if len(pkgs) < 8 {
		t.Fatalf("found only %d packages; is the test running from the module root?", len(pkgs))
	}
	for dir, files := range pkgs {
		imps := importsOf(files)
		for _, imp := range imps {
			local, isLocal := strings.CutPrefix(imp, module+"/")
			switch {
			case dir == ".":
				if !isStdlib(imp) {
					t.Errorf("root package nova imports %s: it must use the standard library only", imp)
				}
			case slices.Contains(purePackages, dir):
				if !isStdlib(imp) && imp != module {
					t.Errorf("%s imports %s: pure packages import only the standard library and nova", dir, imp)
				}
				if slices.Contains(ioPackages, imp) {
					t.Errorf("%s imports %s: pure packages do no I/O", dir, imp)
				}
			case dir == "bot" || strings.HasPrefix(dir, "bot/"):
				if imp == "net/http" || strings.HasPrefix(imp, "net/http/") {
					t.Errorf("%s imports %s: bot never speaks HTTP; adapters do", dir, imp)
				}
				if isLocal && slices.ContainsFunc(adapters, func(a string) bool { return local == a || strings.HasPrefix(local, a+"/") }) {
					t.Errorf("%s imports the adapter %s: declare the port in bot and wire it in cmd/nova", dir, imp)
				}
				if isLocal && local == "internal/e2e" {
					t.Errorf("%s imports the end-to-end kit %s", dir, imp)
				}
				for _, driver := range []string{"github.com/redis/", "go.etcd.io/bbolt", "github.com/slack-go/", "github.com/PagerDuty/"} {
					if strings.HasPrefix(imp, driver) {
						t.Errorf("%s imports the driver %s", dir, imp)
					}
				}
				if isLocal && strings.HasPrefix(local, "bot/") && !botMayImport(dir, local) {
					t.Errorf("%s imports %s: bot's packages import only the ones below them (botLayers)", dir, local)
				}
			}
			if isLocal && local == "internal/e2e" && !strings.HasPrefix(dir, "cmd/") && dir != "internal/e2e" {
				t.Errorf("%s imports the end-to-end kit: only commands and tests use it", dir)
			}
			if isLocal && (local == "bot" || strings.HasPrefix(local, "bot/")) && !strings.HasPrefix(dir, "cmd/") && dir != "bot" && !strings.HasPrefix(dir, "bot/") {
				t.Errorf("%s imports bot: adapters never import the application", dir)
			}
		}
	}
}

// botLayers says which of bot's packages each one may import: a data path
// crosses each boundary once, downwards, and a port declared by a package
// (an interface or a func in its Config) is how it reaches anything beside
// or above it. bot itself composes them all.
var botLayers = map[string][]string{
	"bot/render":        {},
	"bot/settings":      {},
	"bot/auditlog":      {},
	"bot/internal/mock": {},
	"bot/rollout":       {"bot/render", "bot/settings"},
	"bot/writeback":     {"bot/render"},
	"bot/evidence":      {"bot/render", "bot/settings"},
	"bot/inbox":         {"bot/auditlog", "bot/settings"},
	"bot/actions":       {"bot/render", "bot/settings", "bot/writeback"},
	"bot/outbox":        {"bot/render", "bot/settings", "bot/writeback"},
	"bot/incident":      {"bot/auditlog", "bot/render", "bot/rollout", "bot/settings", "bot/writeback"},
	"bot/postmortems":   {"bot/render", "bot/settings", "bot/writeback"},
	"bot/backtest":      {"bot/evidence", "bot/settings"},
}

func botMayImport(dir, local string) bool {
	if dir == "bot" {
		return local != "bot/internal/mock"
	}
	allowed, known := botLayers[dir]
	return known && slices.Contains(allowed, local)
}

// TestBotPackagesAreLayered checks that every package under bot/ has its
// place in botLayers, so a new one states what it may import.
func TestBotPackagesAreLayered(t *testing.T) {
	for dir := range packageFiles(t) {
		if _, ok := botLayers[dir]; strings.HasPrefix(dir, "bot/") && !ok {
			t.Errorf("%s is not in botLayers: say which of bot's packages it may import", dir)
		}
	}
}

// TestProductionBinaryLinksNoEmulator follows cmd/nova's imports through
// the module: the emulators and the end-to-end kit are for the sandbox, the
// bench and tests, never linked into nova itself.
func TestProductionBinaryLinksNoEmulator(t *testing.T) {
	pkgs := packageFiles(t)
	seen := map[string]bool{}
	var walk func(dir string, path []string)
	walk = func(dir string, path []string) {
		if seen[dir] {
			return
		}
		seen[dir] = true
		for _, imp := range importsOf(pkgs[dir]) {
			local, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				if imp == module {
					walk(".", append(path, "nova"))
				}
				continue
			}
			if local == "pagerduty/pdemu" || local == "slack/slackemu" || local == "internal/e2e" {
				t.Errorf("nova links %s (through %s)", local, strings.Join(append(path, local), " → "))
			}
			walk(local, append(path, local))
		}
	}
	walk("cmd/nova", []string{"cmd/nova"})
	if !seen["bot"] || !seen["pagerduty"] {
		t.Fatalf("the walk did not reach bot and pagerduty: %v", seen)
	}
}

// TestPurePackagesTakeNow checks that the pure packages never read the clock.
func TestPurePackagesTakeNow(t *testing.T) {
	for dir, files := range packageFiles(t) {
		if !slices.Contains(purePackages, dir) {
			continue
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "time" && (sel.Sel.Name == "Now" || sel.Sel.Name == "Since" || sel.Sel.Name == "Until") {
					t.Errorf("%s calls time.%s: pure packages take now as a parameter", dir, sel.Sel.Name)
				}
				return true
			})
		}
	}
}
