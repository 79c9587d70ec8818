package portal

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/amparo/amparo/internal/logging"
	"github.com/amparo/amparo/internal/pgtest"
)

// TestCanaryPortalWritesNothingReadable: a note and a follow-up written
// through the portal, a referral it makes, a free text to her (the portal's
// side of it: its audit row, session and logs; the outbox's sealed row is
// TestPortalInChromium's), sign-ins (right and wrong) and
// the account's own secrets, then pg_dump of the whole database (River's
// tables and the session store included) and every log line: no canary.
func TestCanaryPortalWritesNothingReadable(t *testing.T) {
	t.Parallel()
	logs := &pgtest.LogBuffer{}
	e := newEnvLog(t, logging.New(logs, slog.LevelDebug))
	e.directory()
	cw := e.user("cw", RoleCaseworker)
	c := e.caseIn("el-porvenir", false)
	e.assign(c, cw)
	b := e.browser()
	b.post("/sign-in", url.Values{"username": {"cw"}, "password": {"wrong " + testPassword}})
	b.signIn("cw")

	tag := rand.Text()[:12]
	note := "NOTA-" + tag + " su expareja volvió"
	followNote := "SEGUIMIENTO-" + tag
	if p := b.post("/cases/"+c.ID.String()+"/notes", url.Values{"body": {note}}); p.status != 303 {
		t.Fatal(p.status)
	}
	if p := b.post("/cases/"+c.ID.String()+"/follow-ups", url.Values{"kind": {"check_in"}, "due": {"2026-03-11T09:30"}, "note": {followNote}}); p.status != 303 {
		t.Fatal(p.status)
	}
	if p := b.post("/cases/"+c.ID.String()+"/referrals", url.Values{"need": {"health"}}); p.status != 303 {
		t.Fatal(p.status)
	}
	text := "Hola TEXTO-" + tag + " responde cuando puedas"
	if p := b.post("/cases/"+c.ID.String()+"/messages", url.Values{"text": {"free"}, "body": {text}, "discreet": {"1"}}); p.status != 200 {
		t.Fatal(p.status)
	}
	if got := e.msgs.bodies(); len(got) != 1 || got[0] != text {
		t.Fatalf("the free text was not handed to the messenger: %q", got)
	}
	mustContain(t, b.get("/cases/"+c.ID.String()), tag)
	uri, err := e.p.ResetTOTP(e.ctx, "cw", "")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := strings.Cut(uri, "secret=")

	dump := pgtest.Dump(t, e.p.pool.Config().ConnString())
	for _, table := range []string{"public.case_note", "public.follow_up", "public.staff_user", "public.sessions", "public.river_job", "referral.dispatch"} {
		if !strings.Contains(dump, table) {
			t.Fatalf("dump lacks %q: it would prove nothing", table)
		}
	}
	logged := logs.String()
	if !strings.Contains(logged, c.ID.String()) || !strings.Contains(logged, cw.ID.String()) {
		t.Fatalf("no log line names the case and the user; the log check would prove nothing:\n%s", logged)
	}
	for _, s := range []string{tag, note, followNote, text, c.Narrative, testPassword, secret} {
		for _, form := range []string{s, strings.ToLower(s), hex.EncodeToString([]byte(s))} {
			if strings.Contains(dump, form) {
				t.Errorf("database dump contains %q", form)
			}
			if strings.Contains(logged, form) {
				t.Errorf("logs contain %q", form)
			}
		}
	}
}
