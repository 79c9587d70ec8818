package templates

import (
	"go/ast"
	"go/parser"
	"go/token"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keyConstants reads keys.go so the test notices a constant added without
// a catalogue entry, and an entry no constant names.
func keyConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "keys.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				consts[name.Name] = v
			}
		}
	}
	return consts
}

func TestCatalogueMatchesKeyConstants(t *testing.T) {
	consts := keyConstants(t)
	named := map[string]bool{}
	for name, key := range consts {
		named[key] = true
		for _, lang := range []string{ES, EN} {
			if _, ok := catalogues[lang][key]; !ok {
				t.Errorf("%s = %q is missing in %s", name, key, lang)
			}
		}
	}
	for _, lang := range []string{ES, EN} {
		for key := range catalogues[lang] {
			if !named[key] {
				t.Errorf("%s catalogue key %q has no constant in keys.go", lang, key)
			}
		}
	}
}

func TestValidateRejectsInconsistentCatalogues(t *testing.T) {
	mk := func(es, en map[string]string) map[string]map[string]entry {
		out := map[string]map[string]entry{}
		for lang, texts := range map[string]map[string]string{ES: es, EN: en} {
			out[lang] = map[string]entry{}
			for k, v := range texts {
				p, err := parse(v)
				if err != nil {
					t.Fatal(err)
				}
				out[lang][k] = entry{text: v, params: p}
			}
		}
		return out
	}
	tests := []struct {
		name    string
		es, en  map[string]string
		wantErr string
	}{
		{"ok", map[string]string{"a": "x {ref}"}, map[string]string{"a": "y {ref} {ref}"}, ""},
		{"missing in en", map[string]string{"a": "x", "b": "y"}, map[string]string{"a": "x"}, `"b" missing in en`},
		{"missing in es", map[string]string{"a": "x"}, map[string]string{"a": "x", "b": "y"}, `"b" missing in es`},
		{"placeholder differs", map[string]string{"a": "x {ref}"}, map[string]string{"a": "x {code}"}, "placeholders"},
		{"placeholder dropped", map[string]string{"a": "x {ref}"}, map[string]string{"a": "x"}, "placeholders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate(mk(tt.es, tt.en))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("validate = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseRejectsMalformedPlaceholders(t *testing.T) {
	for _, text := range []string{"", "  ", "x {ref", "x ref}", "x {Ref}", "x {re f}", "x {}"} {
		if _, err := parse(text); err == nil {
			t.Errorf("parse(%q) accepted", text)
		}
	}
	got, err := parse("{b} {a} {b}")
	if err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("parse = %v, %v", got, err)
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		lang, key string
		args      map[string]string
		want      []string // fragments
		wantErr   string
	}{
		{ES, KeyWelcome, nil, []string{"105", "Linea 100", "¿Estas en peligro ahora? 1 Si 2 No", "palabra clave", "English: reply EN"}, ""},
		{EN, KeyWelcome, nil, []string{"105", "Linea 100", "Are you in danger now? 1 Yes 2 No", "code word", "Español: responde ES"}, ""},
		{"EN-gb", KeyWelcome, nil, []string{"Are you in danger now?"}, ""},
		{"qu", KeyWelcome, nil, []string{"¿Estas en peligro ahora?"}, ""},
		{"", KeyWelcome, nil, []string{"¿Estas en peligro ahora?"}, ""},
		{ES, KeyProviderNotice, map[string]string{"ref": "AMP-7K3Q", "code": "4821", "portal": "https://amparo.example.org/inbox"},
			[]string{"Amparo: nueva solicitud AMP-7K3Q. Responda OK 4821 para confirmar o NO 4821 si no puede. Detalles: https://amparo.example.org/inbox"}, ""},
		{ES, KeyProviderNotice, map[string]string{"ref": "AMP-7K3Q", "portal": "x"}, nil, `needs argument "code"`},
		{ES, KeyWelcome, map[string]string{"ref": "x"}, nil, `does not use argument "ref"`},
		{ES, "sms.nope", nil, nil, "unknown key"},
		// An argument that looks like a placeholder is data, not a template.
		{ES, KeySummary, map[string]string{"ref": "{ref}"}, []string{"tu caso es {ref}."}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.key, func(t *testing.T) {
			got, err := Render(tt.lang, tt.key, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Render = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Render = %q, want it to contain %q", got, w)
				}
			}
			m, err := Message{Key: tt.key, Args: tt.args}.Render(tt.lang)
			if err != nil || m != got {
				t.Errorf("Message.Render = %q, %v; want %q", m, err, got)
			}
		})
	}
}

func TestLang(t *testing.T) {
	for in, want := range map[string]string{"es": ES, "ES": ES, "es-PE": ES, "en": EN, " en-US ": EN, "": ES, "fr": ES, "english": ES} {
		if got := Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}

// maximalArgs are the longest realistic values of each placeholder: a case
// reference, a provider reply code, a formatted deadline, all five needs.
func maximalArgs(t *testing.T, lang string) map[string]string {
	t.Helper()
	layout, err := Render(lang, KeyFormatDeadline, nil)
	if err != nil {
		t.Fatal(err)
	}
	var needs []string
	for i, key := range []string{KeyNeedHealth, KeyNeedPolice, KeyNeedShelter, KeyNeedLegal, KeyNeedPsychosocial} {
		label, err := Render(lang, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		needs = append(needs, strconv.Itoa(i+1)+" "+label)
	}
	// The longest day, month and time in any layout we use.
	deadline := time.Date(2026, time.December, 31, 23, 59, 0, 0, time.UTC).Format(layout)
	return map[string]string{
		"ref":      "AMP-7K3Q9XW2",
		"code":     "999999",
		"deadline": deadline,
		"when":     deadline,
		"options":  strings.Join(needs, " "),
		// A directory's longest name and address (referral's maxPlace).
		"place": strings.Repeat("x", 140),
		"need":  FoldGSM7(slices.MaxFunc(needs, func(a, b string) int { return len(a) - len(b) })),
		"n":     "99",
		// The portal's inbox at the longest public address hotline.New
		// accepts (MaxPublicURL).
		"portal": "https://" + strings.Repeat("x", 100-len("https://")) + "/inbox",
	}
}

// Every SMS is GSM-7 (a single á makes it UCS-2, at 70 characters a
// segment instead of 160) and fits two segments at most; the whole intake
// has its own budget (TestFullIntakeFitsTheSegmentBudget).
func TestSMSFitInTwoSegments(t *testing.T) {
	for _, lang := range []string{ES, EN} {
		all := maximalArgs(t, lang)
		for _, key := range slices.Sorted(maps.Keys(catalogues[lang])) {
			if !strings.HasPrefix(key, "sms.") {
				continue
			}
			args := map[string]string{}
			for _, p := range catalogues[lang][key].params {
				v, ok := all[p]
				if !ok {
					t.Fatalf("%s uses {%s}: add a maximal value for it", key, p)
				}
				args[p] = v
			}
			text, err := Render(lang, key, args)
			if err != nil {
				t.Fatal(err)
			}
			enc, n := Segments(text)
			t.Logf("%s %-28s %s %d seg %3d chars", lang, key, enc, n, len([]rune(text)))
			if n > 2 || enc != GSM7 {
				t.Errorf("%s %s takes %d %s segments: %q", lang, key, n, enc, text)
			}
		}
	}
}

// Texts the system starts may reach a phone someone else reads.
func TestSystemStartedTextsAreDiscreet(t *testing.T) {
	banned := []string{"violen", "abus", "agres", "sexual", "víctima", "victim", "sobreviv", "surviv",
		"mujer", "women", "refugio", "shelter", "denuncia", "police", "policía", "salud", "health",
		"amenaza", "threat", "golpe", "peligro", "danger", "ayuda", "help", "línea 100", "105"}
	prefixes := []string{"sms.provider.", "sms.staff.", "sms.followup.", "sms.survivor."}
	for _, lang := range []string{ES, EN} {
		for key, e := range catalogues[lang] {
			if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(key, p) }) {
				continue
			}
			lower := strings.ToLower(e.text)
			for _, b := range banned {
				if strings.Contains(lower, b) {
					t.Errorf("%s %s contains %q: %q", lang, key, b, e.text)
				}
			}
		}
	}
}

func TestBaseLayoutParses(t *testing.T) {
	tpl, err := template.ParseFS(FS, "html/base.html")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tpl.ExecuteTemplate(&b, "base", struct{ Lang string }{ES}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<html lang="es">`) {
		t.Errorf("base layout = %q", b.String())
	}
}
