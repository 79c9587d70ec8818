package referral

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// exportJSON is the directory as `amparo directory export` prints it.
func (h *harness) exportJSON() string {
	h.t.Helper()
	d, err := ExportDirectory(h.ctx, h.pool)
	if err != nil {
		h.t.Fatal(err)
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// written is what an import may have touched: every row's update time and
// the audit log's length.
func (h *harness) written() string {
	h.t.Helper()
	var s string
	err := h.pool.QueryRow(h.ctx, `
		SELECT (SELECT string_agg(key || updated_at::text, ',' ORDER BY key) FROM service) ||
		       (SELECT string_agg(key || updated_at::text, ',' ORDER BY key) FROM organization) ||
		       (SELECT count(*) FROM audit_log)::text`).Scan(&s)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) importDir(body string, dry bool) ([]string, error) {
	changes, err := ImportDirectory(h.ctx, h.pool, strings.NewReader(body), dry, "cli", h.clk.Now())
	var lines []string
	for _, c := range changes {
		lines = append(lines, c.String())
	}
	return lines, err
}

func TestDirectoryExportImportRoundTripChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	before, file := h.written(), h.exportJSON()
	lines, err := h.importDir(file, false)
	if err != nil || len(lines) != 0 {
		t.Fatalf("importing the export: %v %v", lines, err)
	}
	if after := h.written(); after != before {
		t.Fatalf("a round trip wrote:\n%s\n%s", before, after)
	}
	if again := h.exportJSON(); again != file {
		t.Fatalf("export after round trip differs:\n%s\n%s", file, again)
	}
}

func TestDirectoryImportDryRunThenIdempotent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	file := h.exportJSON()
	var d Directory
	if err := json.Unmarshal([]byte(file), &d); err != nil {
		t.Fatal(err)
	}
	svcs := d.Organizations[0].Services
	var kept []ServiceEntry
	for _, s := range svcs {
		switch s.Key {
		case "hp-a":
			s.Capacity, s.DutyPhone = 3, "987 654 321" // national form: normalised, still a change
		case "leg":
			s.Active = new(bool)
		case "pol":
			continue // left out of the file: reported, not retired
		}
		kept = append(kept, s)
	}
	extra := kept[len(kept)-1]
	extra.Key, extra.Name, extra.Next = "leg-2", "L2", "leg"
	d.Organizations[0].Services = append(kept, extra)
	d.Organizations = append(d.Organizations, Organization{Key: "org-2", Name: "Org 2", Services: []ServiceEntry{}})
	b, _ := json.Marshal(d)

	before, exported := h.written(), h.exportJSON()
	want := []string{
		"~ service hp-a: capacity, duty_phone",
		"- service leg: deactivated",
		"+ service leg-2",
		"+ organization org-2",
		"? service pol: not in the file, left as it is (set \"active\": false to retire it)",
	}
	lines, err := h.importDir(string(b), true)
	if err != nil || !slices.Equal(lines, want) {
		t.Fatalf("dry run:\n%s\n(%v); want\n%s", strings.Join(lines, "\n"), err, strings.Join(want, "\n"))
	}
	if h.written() != before || h.exportJSON() != exported {
		t.Fatal("the dry run wrote")
	}
	if lines, err = h.importDir(string(b), false); err != nil || !slices.Equal(lines, want) {
		t.Fatalf("import: %v %v", lines, err)
	}
	var capacity int
	var phone string
	var legActive, polActive bool
	if err := h.pool.QueryRow(h.ctx, `SELECT capacity, duty_phone, (SELECT active FROM service WHERE key = 'leg'),
		(SELECT active FROM service WHERE key = 'pol') FROM service WHERE key = 'hp-a'`).Scan(&capacity, &phone, &legActive, &polActive); err != nil {
		t.Fatal(err)
	}
	if capacity != 3 || phone != "+51987654321" || legActive || !polActive {
		t.Fatalf("after import: hp-a %d %s, leg active %v, pol active %v", capacity, phone, legActive, polActive)
	}
	var actor, detail string
	if err := h.pool.QueryRow(h.ctx, `SELECT actor, detail FROM audit_log WHERE action = 'directory.import'`).Scan(&actor, &detail); err != nil || actor != "cli" || detail != "added 2, changed 1, deactivated 1" {
		t.Fatalf("audit: %q %q %v", actor, detail, err)
	}
	once := h.written()
	lines, err = h.importDir(string(b), false)
	if err != nil || !slices.Equal(lines, want[4:]) {
		t.Fatalf("second import: %v %v", lines, err)
	}
	if h.written() != once {
		t.Fatal("the second import wrote")
	}
}

func TestDirectoryImportRefusesBadFilesWritingNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	const ok = `"name":"S","kind":"police","needs":["police"],"communities":["x"],"hours":"always","capacity":1,"duty_phone":"+51900000999","ack_minutes":{"urgent":1,"routine":1}`
	svc := func(key, extra string) string { return `{"key":"` + key + `",` + ok + extra + `}` }
	file := func(orgs ...string) string { return `{"organizations":[` + strings.Join(orgs, ",") + `]}` }
	org := func(key string, svcs ...string) string {
		return `{"key":"` + key + `","name":"O","services":[` + strings.Join(svcs, ",") + `]}`
	}
	for name, tc := range map[string]struct{ body, want string }{
		"kind":      {file(org("o", svc("s", `,"kind":"spa"`))), `organization "o", service "s": kind: unknown kind "spa"`}, // of a repeated JSON field, the last counts
		"need":      {file(org("o", strings.Replace(svc("s", ""), `["police"]`, `["police","spa"]`, 1))), `organization "o", service "s": needs: unknown need "spa"`},
		"hours":     {file(org("o", strings.Replace(svc("s", ""), `"always"`, `{"mon":["8-20"]}`, 1))), `line 1: referral: hours`},
		"day":       {"{\n\"organizations\":[\n" + org("o", strings.Replace(svc("s", ""), `"always"`, `{"mo":["08:00-20:00"]}`, 1)) + "]}", `line 3: referral: hours: unknown day "mo"`},
		"phone":     {file(org("o", strings.Replace(svc("s", ""), "+51900000999", "12", 1))), `organization "o", service "s": duty_phone: not a valid phone number`},
		"capacity":  {file(org("o", strings.Replace(svc("s", ""), `"capacity":1`, `"capacity":-1`, 1))), `organization "o", service "s": capacity: negative`},
		"next":      {file(org("o", svc("s", `,"next":"nope"`))), `organization "o", service "s": next: unknown service "nope"`},
		"self":      {file(org("o", svc("s", `,"next":"s"`))), `service "s": next: escalates to itself`},
		"dup":       {file(org("o", svc("s", "")), org("p", svc("s", ""))), `organization "p", service "s": key: duplicate`},
		"dup org":   {file(org("o", svc("s", "")), org("o", svc("t", ""))), `organization "o": key: duplicate`},
		"field":     {file(org("o", svc("s", `,"colour":"red"`))), `json: unknown field "colour"`},
		"syntax":    {file(org("o", svc("s", ""))) + "}", "invalid character"},
		"truncated": {file(org("o", svc("s", "")))[:60], "unexpected EOF"},
		// The first organisation is fine; the second is not: nothing of either is written.
		"partial": {file(org("good", svc("g", "")), org("o", strings.Replace(svc("s", ""), `"capacity":1`, `"capacity":-1`, 1))), "capacity: negative"},
		// Conflicting with the database, which holds real providers.
		"conflict": {strings.Replace(file(org("o", svc("s", ""))), "{", `{"demo":true,`, 1), "the file is demo data"},
		// A file with several problems names each.
		"many": {file(org("o", strings.Replace(svc("s", `,"next":"nope"`), `"capacity":1`, `"capacity":-1`, 1), strings.Replace(svc("t", ""), "+51900000999", "12", 1))), `service "t": duty_phone`},
	} {
		before, exported := h.written(), h.exportJSON()
		for _, dry := range []bool{true, false} {
			_, err := h.importDir(tc.body, dry)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s (dry run %v): %v; want it to say %q", name, dry, err, tc.want)
			}
		}
		if h.written() != before || h.exportJSON() != exported {
			t.Errorf("%s: a refused file wrote", name)
		}
	}
}

func TestDirectoryImportKeepsDemoAndRealApart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	before := h.written()
	if _, err := ImportDirectory(h.ctx, h.pool, DemoDirectory(), false, "cli", h.clk.Now()); !errors.Is(err, ErrDemoMix) {
		t.Fatalf("demo over real: %v", err)
	}
	if h.written() != before {
		t.Fatal("a refused demo import wrote")
	}
	if _, err := h.pool.Exec(h.ctx, `DELETE FROM service; DELETE FROM organization`); err != nil {
		t.Fatal(err)
	}
	if err := LoadDirectory(h.ctx, h.pool, DemoDirectory()); err != nil {
		t.Fatal(err)
	}
	_, err := h.importDir(testDirectory, true)
	if !errors.Is(err, ErrDemoMix) || !strings.Contains(err.Error(), "demo data") {
		t.Fatalf("real over demo: %v", err)
	}
}

// TestTheDatabaseRefusesDemoBesideReal: under the import's and the demo's
// own checks, the schema refuses a demo row beside real ones on any path.
func TestTheDatabaseRefusesDemoBesideReal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	before := h.written()
	if err := LoadDirectory(h.ctx, h.pool, DemoDirectory()); err == nil || !strings.Contains(err.Error(), "real and demo providers never share a database") {
		t.Fatalf("demo loaded beside real providers: %v", err)
	}
	for _, sql := range []string{
		`INSERT INTO organization (key, name, demo) VALUES ('demo-x', 'X', true)`,
		`UPDATE service SET demo = true WHERE key = 'hp-a'`,
		`INSERT INTO community (key, name, position, demo) VALUES ('x', 'X', 1, true)`,
	} {
		if _, err := h.pool.Exec(h.ctx, sql); err == nil || !strings.Contains(err.Error(), "never share a database") {
			t.Errorf("%s: %v", sql, err)
		}
	}
	if h.written() != before {
		t.Fatal("a refused demo row was written")
	}
	// Real rows beside real ones are fine.
	if _, err := h.pool.Exec(h.ctx, `INSERT INTO community (key, name, position) VALUES ('x', 'X', 1)`); err != nil {
		t.Fatal(err)
	}
}
