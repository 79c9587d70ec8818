package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/amparo/amparo"

// pkg is one package of the module as its non-test files say.
type pkg struct {
	dir     string // relative to the module root, "/" separated
	imports []string
	files   map[string]*ast.File
	fset    *token.FileSet
}

// loadModule parses every package of the module, skipping test files:
// what tests import and run is theirs to choose.
func loadModule(t *testing.T) map[string]*pkg {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	pkgs := map[string]*pkg{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		p := pkgs[rel]
		if p == nil {
			p = &pkg{dir: rel, files: map[string]*ast.File{}, fset: token.NewFileSet()}
			pkgs[rel] = p
		}
		f, err := parser.ParseFile(p.fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		name, _ := filepath.Rel(root, path)
		p.files[filepath.ToSlash(name)] = f
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(p.imports, ip) {
				p.imports = append(p.imports, ip)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("found only %d packages under %s", len(pkgs), root)
	}
	return pkgs
}

func ours(dir string) string { return module + "/" + dir }

// neverImports is DESIGN.md §2's last column. For our own packages the
// rule holds through any chain of imports, so a package cannot reach a
// forbidden one by way of a third; for others it is the direct import.
var neverImports = map[string][]string{
	"crypto":    {"ours", "log/slog"},
	"casefile":  {ours("hotline"), ours("portal"), ours("referral")},
	"referral":  {ours("hotline"), ours("portal"), "github.com/twilio/twilio-go", "net/http"},
	"hotline":   {ours("portal")},
	"sms":       {ours("hotline"), ours("portal")},
	"roster":    {ours("hotline"), ours("portal")},
	"portal":    {ours("hotline"), "github.com/twilio/twilio-go"},
	"audit":     {"domain"},
	"templates": {"domain"},
}

var domain = []string{"casefile", "referral", "hotline", "sms", "roster", "portal"}

func TestImportsFollowTheDesign(t *testing.T) {
	pkgs := loadModule(t)
	// reach lists every package of ours that dir depends on, directly or not.
	var reach func(dir string, seen map[string]bool)
	reach = func(dir string, seen map[string]bool) {
		for _, ip := range pkgs[dir].imports {
			if dep, ok := strings.CutPrefix(ip, module+"/"); ok && !seen[dep] && pkgs[dep] != nil {
				seen[dep] = true
				reach(dep, seen)
			}
		}
	}
	for dir, rules := range neverImports {
		p := pkgs[dir]
		if p == nil {
			t.Errorf("package %s is gone: update DESIGN.md §2 and this table", dir)
			continue
		}
		deps := map[string]bool{}
		reach(dir, deps)
		for _, rule := range rules {
			switch rule {
			case "ours":
				if len(deps) > 0 {
					t.Errorf("%s imports packages of ours: %v", dir, keys(deps))
				}
			case "domain":
				for _, d := range domain {
					if deps[d] {
						t.Errorf("%s depends on the domain package %s", dir, d)
					}
				}
			default:
				if dep, ok := strings.CutPrefix(rule, module+"/"); ok {
					if deps[dep] {
						t.Errorf("%s depends on %s, which DESIGN.md §2 forbids", dir, dep)
					}
				} else if slices.Contains(p.imports, rule) {
					t.Errorf("%s imports %s, which DESIGN.md §2 forbids", dir, rule)
				}
			}
		}
	}
	// Nothing but cmd/amparo (and tools under bench/) may import cmd or
	// the portal from a domain package.
	for dir, p := range pkgs {
		for _, ip := range p.imports {
			if strings.HasPrefix(ip, module+"/cmd/") {
				t.Errorf("%s imports %s: cmd is wiring, nothing depends on it", dir, ip)
			}
			if ip == ours("portal") && slices.Contains(domain, dir) {
				t.Errorf("domain package %s imports the portal", dir)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
