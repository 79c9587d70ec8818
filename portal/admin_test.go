package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
)

// upload posts a directory file to the import form as a browser does.
func (b *browser) upload(file, mode string) page {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("mode", mode); err != nil {
		b.e.t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("file", "directory.json")
	if err != nil {
		b.e.t.Fatal(err)
	}
	io.WriteString(fw, file)
	mw.Close()
	return b.postBody("/admin/directory", mw.FormDataContentType(), body.String())
}

// postBody posts a body that is not a url-encoded form.
func (b *browser) postBody(path, contentType, body string) page {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(raw), location: resp.Header.Get("Location"), header: resp.Header}
}

// audited lists the audit log as "actor action detail", oldest first.
func (e *env) audited(actions ...string) []string {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT actor || ' ' || action || ' ' || detail FROM audit_log WHERE action = ANY($1) ORDER BY id`, actions)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestAdminManagesAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.directory()
	adm := e.user("adm", RoleAdmin)
	b := e.browser()
	b.signIn("adm")
	// She lands on her own pages, and no link offers her the desk she may not see.
	if p := b.get("/"); p.location != "/admin/users" {
		t.Fatalf("an admin's / goes to %q, want /admin/users", p.location)
	}
	mustLack(t, b.get("/admin/users"), `href="/desk"`)

	p := b.post("/admin/users", url.Values{"username": {"Rosa.P"}, "role": {"provider"}, "org": {"org"},
		"communities": {"El Porvenir, la-esperanza"}, "password": {testPassword}})
	if p.status != http.StatusSeeOther || p.location != "/admin/users?done=added" {
		t.Fatalf("add: %d %q %s", p.status, p.location, p.body)
	}
	rosa := mustUser(t, e, "rosa.p")
	if rosa.Role != RoleProvider || rosa.OrgKey != "org" || strings.Join(rosa.Communities, ",") != "el-porvenir,la-esperanza" || rosa.Enrolled {
		t.Fatalf("created %+v", rosa)
	}
	p = b.get("/admin/users?done=added")
	mustContain(t, p, "Cuenta creada", `data-user="rosa.p"`, "el-porvenir, la-esperanza", "sin código configurado")
	// Her first sign-in enrols her authenticator: the admin never saw the secret.
	rb := e.browser()
	rb.signIn("rosa.p")

	for name, tc := range map[string]struct {
		form url.Values
		want string
	}{
		"provider without organisation": {url.Values{"username": {"poli"}, "role": {"provider"}, "password": {testPassword}}, "una organización solo para cuentas de proveedor"},
		"short password":                {url.Values{"username": {"poli"}, "role": {"caseworker"}, "password": {"corta"}}, "12 caracteres o más"},
		"unknown role":                  {url.Values{"username": {"poli"}, "role": {"root"}, "password": {testPassword}}, "un rol"},
		"unknown organisation":          {url.Values{"username": {"poli"}, "role": {"provider"}, "org": {"nope"}, "password": {testPassword}}, "Revise los datos"},
		"taken":                         {url.Values{"username": {"ROSA.P"}, "role": {"caseworker"}, "password": {testPassword}}, "Ese nombre de usuario ya existe"},
	} {
		p := b.post("/admin/users", tc.form)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, tc.want) {
			t.Errorf("%s: %d, want 400 saying %q:\n%s", name, p.status, tc.want, p.body)
		}
		mustLack(t, p, testPassword)
	}
	if _, err := e.p.UserByID(e.ctx, rosa.ID); err != nil {
		t.Fatal(err)
	}

	if p := b.post("/admin/users/rosa.p/reset-totp", nil); p.status != http.StatusSeeOther {
		t.Fatalf("reset: %d", p.status)
	}
	if mustUser(t, e, "rosa.p").Enrolled {
		t.Fatal("reset left her enrolled")
	}
	if p := b.post("/admin/users/rosa.p/disable", nil); p.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", p.status)
	}
	if p := rb.get("/desk"); p.status != http.StatusSeeOther || p.location != "/sign-in" {
		t.Fatalf("a disabled account's session still works: %d %q", p.status, p.location)
	}
	mustContain(t, b.get("/admin/users"), "desactivada")
	if p := b.post("/admin/users/adm/disable", nil); p.status != http.StatusBadRequest || !strings.Contains(p.body, "propia cuenta") {
		t.Fatalf("self-disable: %d", p.status)
	}
	if p := b.post("/admin/users/nadie/disable", nil); p.status != http.StatusNotFound {
		t.Fatalf("unknown account: %d", p.status)
	}
	got := e.audited("staff.create", "staff.reset_totp", "staff.disable")
	want := []string{"cli staff.create role:admin", adm.ID.String() + " staff.create role:provider",
		adm.ID.String() + " staff.reset_totp user:" + rosa.ID.String(), adm.ID.String() + " staff.disable user:" + rosa.ID.String()}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// adminDirectory is testDirectory with a third service and the police
// station's capacity changed.
var adminDirectory = strings.Replace(strings.Replace(testDirectory, `"capacity": 500`, `"capacity": 7`, 1),
	`"priority": 10}`, `"priority": 10},
      {"key": "cem", "name": "CEM", "kind": "cem", "needs": ["psychosocial", "legal"], "communities": ["*"],
       "hours": {"mon": ["08:00-16:00"]}, "capacity": 5, "duty_phone": "+51900000905", "ack_minutes": {"urgent": 30, "routine": 240},
       "priority": 30, "next": "pol"}`, 1)

func TestAdminImportsTheDirectoryCheckingFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.directory()
	adm := e.user("adm", RoleAdmin)
	b := e.browser()
	b.signIn("adm")
	before := b.get("/admin/directory/export").body

	p := b.upload(adminDirectory, "check")
	mustContain(t, p, "nada escrito todavía", `data-op="change"`, "<code>pol</code> (capacity)", `data-op="add"`, "<code>cem</code>", `id="apply"`)
	if after := b.get("/admin/directory/export").body; after != before {
		t.Fatal("checking wrote")
	}
	// The apply button carries the file that was checked.
	start := strings.Index(p.body, `name="directory" value="`) + len(`name="directory" value="`)
	carried := p.body[start : start+strings.Index(p.body[start:], `"`)]
	p = b.postBody("/admin/directory", "application/x-www-form-urlencoded",
		url.Values{"mode": {"apply"}, "directory": {html.UnescapeString(carried)}}.Encode())
	mustContain(t, p, "El archivo no las lista", "Directorio actualizado", `data-service="cem"`, "mon 08:00-16:00", "51900000905", "urgente 30, rutina 240", "<code>pol</code>")
	var capacity int
	if err := e.pool.QueryRow(e.ctx, `SELECT capacity FROM service WHERE key = 'pol'`).Scan(&capacity); err != nil || capacity != 7 {
		t.Fatalf("pol capacity %d %v", capacity, err)
	}
	if got := e.audited("directory.import"); len(got) != 1 || got[0] != adm.ID.String()+" directory.import added 1, changed 1, deactivated 0" {
		t.Fatalf("audit: %q", got)
	}

	// The export is the file that, uploaded again, changes nothing.
	exp := b.get("/admin/directory/export")
	if exp.status != http.StatusOK || !strings.Contains(exp.header.Get("Content-Disposition"), "directory.json") {
		t.Fatalf("export: %d %v", exp.status, exp.header)
	}
	var d referral.Directory
	if err := json.Unmarshal([]byte(exp.body), &d); err != nil || len(d.Organizations[0].Services) != 3 {
		t.Fatalf("export: %v %s", err, exp.body)
	}
	mustContain(t, b.upload(exp.body, "apply"), "Sin cambios")

	// A bad file, or demo data over real providers: every problem named, nothing written.
	snapshot := exp.body
	for name, tc := range map[string]struct{ file, want string }{
		"fields":    {strings.Replace(strings.Replace(adminDirectory, `"capacity": 50`, `"capacity": -50`, 1), "+51900000905", "12", 1), `service &#34;hp&#34;: capacity: negative`},
		"malformed": {adminDirectory[:200], "unexpected EOF"},
		"demo":      {strings.Replace(adminDirectory, "{", `{"demo": true,`, 1), "the file is demo data"},
	} {
		for _, mode := range []string{"check", "apply"} {
			p := b.upload(tc.file, mode)
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, tc.want) || !strings.Contains(p.body, "nada se escribió") {
				t.Errorf("%s (%s): %d, want 422 saying %q:\n%s", name, mode, p.status, tc.want, p.body)
			}
		}
		if name == "fields" {
			mustContain(t, b.upload(tc.file, "check"), `service &#34;cem&#34;: duty_phone: not a valid phone number`)
		}
	}
	if again := b.get("/admin/directory/export"); again.body != snapshot {
		t.Fatal("a refused file wrote")
	}
	if p := b.postBody("/admin/directory", "application/x-www-form-urlencoded", "mode=apply"); p.status != http.StatusBadRequest {
		t.Fatalf("no file: %d", p.status)
	}
}

func TestAdminKeepsTheOnCallRoster(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.user("adm", RoleAdmin)
	b := e.browser()
	b.signIn("adm")
	mustContain(t, b.get("/admin/oncall"), "No hay turnos")

	p := b.post("/admin/oncall", url.Values{"name": {"Rosa"}, "role": {"counsellor"}, "phone": {"987 654 321"},
		"from": {"2026-03-10T08:00"}, "to": {"2026-03-10T20:00"}})
	if p.status != http.StatusSeeOther || p.location != "/admin/oncall?done=added" {
		t.Fatalf("add: %d %q %s", p.status, p.location, p.body)
	}
	shifts, err := roster.Shifts(e.ctx, e.pool, e.clk.Now())
	if err != nil || len(shifts) != 1 {
		t.Fatalf("shifts %v %v", shifts, err)
	}
	sh := shifts[0]
	// Typed in the desk's zone (Lima, UTC-5).
	if sh.Phone != "+51987654321" || sh.Role != "counsellor" || sh.Name != "Rosa" ||
		!sh.Starts.Equal(time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)) || !sh.Ends.Equal(time.Date(2026, 3, 11, 1, 0, 0, 0, time.UTC)) {
		t.Fatalf("shift %+v", sh)
	}
	// The alert path reads the roster through Duty: she is who it texts.
	phones, _, err := roster.New(e.clk, nil).Duty(e.ctx, e.pool, roster.Counsellor, roster.Supervisor)
	if err != nil || strings.Join(phones, ",") != "+51987654321" {
		t.Fatalf("duty phones %v %v", phones, err)
	}
	p = b.get("/admin/oncall?done=added")
	mustContain(t, p, "Turno agregado", "Rosa", "*********321", "10/03/2026 08:00", "10/03/2026 20:00")
	mustLack(t, p, "987654321", "987 654 321")

	for name, tc := range map[string]struct {
		form url.Values
		want string
	}{
		"phone":    {url.Values{"role": {"counsellor"}, "phone": {"12"}, "from": {"2026-03-10T08:00"}, "to": {"2026-03-10T20:00"}}, "un teléfono válido"},
		"role":     {url.Values{"role": {"nurse"}, "phone": {"987654321"}, "from": {"2026-03-10T08:00"}, "to": {"2026-03-10T20:00"}}, "un rol"},
		"order":    {url.Values{"role": {"counsellor"}, "phone": {"987654321"}, "from": {"2026-03-10T20:00"}, "to": {"2026-03-10T08:00"}}, "un final después del inicio"},
		"no times": {url.Values{"role": {"counsellor"}, "phone": {"987654321"}, "from": {"mañana"}}, "cuándo empieza"},
	} {
		if p := b.post("/admin/oncall", tc.form); p.status != http.StatusBadRequest || !strings.Contains(p.body, tc.want) {
			t.Errorf("%s: %d, want 400 saying %q", name, p.status, tc.want)
		}
	}
	if p := b.post(fmt.Sprintf("/admin/oncall/%d/remove", sh.ID), nil); p.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", p.status)
	}
	mustContain(t, b.get("/admin/oncall?done=removed"), "Turno quitado", "No hay turnos")
	for _, path := range []string{fmt.Sprintf("/admin/oncall/%d/remove", sh.ID), "/admin/oncall/x/remove"} {
		if p := b.post(path, nil); p.status != http.StatusNotFound {
			t.Errorf("%s: %d", path, p.status)
		}
	}
	want := []string{
		fmt.Sprintf("%s oncall.add shift %d counsellor *********321", adm.ID, sh.ID),
		fmt.Sprintf("%s oncall.remove shift %d counsellor *********321", adm.ID, sh.ID),
	}
	if got := e.audited("oncall.add", "oncall.remove"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
