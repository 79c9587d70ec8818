package archtest

import (
	"go/ast"
	"go/token"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sqlLike is how a Go string that is SQL begins, or what it holds. Our SQL
// spells its keywords in capitals and its tables in lower case.
var sqlLike = regexp.MustCompile(`(?s)^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|LOCK|TRUNCATE)\s|\s(FROM|INTO|SET|WHERE|RETURNING)\s+[a-z_]`)

// sqlInGo is where SQL may still be a Go string, each with its reason: a
// file, a package folder, or "file#Func" for one function. Everything else
// runs named queries that sqlc generates into <package>/internal/<package>db.
var sqlInGo = map[string]string{
	"referral/board.go#Board":        "the board's filters are chosen at run time: a catch-all filter made the query several times slower (bench/README.md, SLA board)",
	"referral/board.go":              "the board's column list and open-state condition, spliced into Board's query",
	"referral/erase.go#dropJobs":     "reschedules a running job in River's own river_job table, which River has no call for",
	"hotline/inbound.go#Tx":          "the no-op statement pgx runs to make its Tx over the BEGIN the webhook's pipeline already sent",
	"casefile/rewrap.go#KeyStatus":   "the keyring's audit: counts rows per key over the key columns every KeyHolder declares, known only at run time; reads, never writes",
	"casefile/verify.go#verifyTable": "the same audit opening every declared wrapped key; reads, never writes",
	"internal/jobs/stats.go":         "reads River's own river_job table, which River owns and migrates",
	"migrations":                     "the migration runner and the GRANTs for a role named at run time",
	"internal/pgtest":                "the test database harness: creates and clones databases",
	"internal/pglocal":               "starts a private PostgreSQL for tests and benchmarks",
}

func allowed(file, fn string) bool {
	for place := range sqlInGo {
		if place == file || place == file+"#"+fn || strings.HasPrefix(file, place+"/") {
			return true
		}
	}
	return false
}

func TestSQLLivesInQueryFiles(t *testing.T) {
	pkgs := loadModule(t)
	generated := regexp.MustCompile(`/internal/[a-z]+db$`)
	for dir, p := range pkgs {
		if generated.MatchString(dir) {
			continue
		}
		for name, f := range p.files {
			for _, decl := range f.Decls {
				fn := ""
				if fd, ok := decl.(*ast.FuncDecl); ok {
					fn = fd.Name.Name
				}
				if allowed(name, fn) {
					continue
				}
				ast.Inspect(decl, func(n ast.Node) bool {
					lit, ok := n.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						return true
					}
					if s, err := strconv.Unquote(lit.Value); err == nil && sqlLike.MatchString(s) {
						t.Errorf("%s: SQL in a Go string (%.60q): make it a named query in %s/queries/*.sql, or say in sqlInGo why it cannot be one",
							p.fset.Position(lit.Pos()), s, dir)
					}
					return true
				})
			}
		}
	}
	for place := range sqlInGo {
		file, _, _ := strings.Cut(place, "#")
		if !strings.HasSuffix(file, ".go") {
			file += "/"
		}
		found := false
		for dir, p := range pkgs {
			for name := range p.files {
				found = found || name == file || strings.HasPrefix(dir+"/", file)
			}
		}
		if !found {
			t.Errorf("sqlInGo names %s, which no longer exists: take it off the list", place)
		}
	}
	if len(pkgs[generatedSample].files) == 0 {
		t.Errorf("no generated queries in %s: is sqlc's output where this test looks?", generatedSample)
	}
}

// generatedSample is one package sqlc writes, to show the test looks where
// the generated code is.
const generatedSample = "roster/internal/rosterdb"
