package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignInNeedsPasswordAndCodeAndShowsQROnFirstSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	b := e.browser()
	if p := b.get("/desk"); p.status != http.StatusSeeOther || p.location != "/sign-in" {
		t.Fatalf("desk without session: %d %q", p.status, p.location)
	}
	p := b.post("/sign-in", url.Values{"username": {"ana"}, "password": {testPassword}})
	if p.location != "/sign-in/code" {
		t.Fatalf("password step: %d %q", p.status, p.location)
	}
	// Half signed in is not signed in.
	if p := b.get("/desk"); p.location != "/sign-in" {
		t.Fatalf("desk after password only: %d %q", p.status, p.location)
	}
	p = b.get("/sign-in/code")
	mustContain(t, p, `src="/sign-in/qr.png"`, "escanee este código QR")
	qr := b.get("/sign-in/qr.png")
	if qr.status != 200 || qr.header.Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.body, "\x89PNG") {
		t.Fatalf("QR: %d %q", qr.status, qr.header.Get("Content-Type"))
	}
	p = b.post("/sign-in/code", url.Values{"code": {e.code("ana")}})
	if p.location != "/" {
		t.Fatalf("code step: %d %q", p.status, p.location)
	}
	mustContain(t, b.get("/desk"), "Bandeja de casos", "Sesión de ana (consejera)")
	// Enrolled: the secret is never shown again.
	b2 := e.browser()
	b2.post("/sign-in", url.Values{"username": {"ana"}, "password": {testPassword}})
	if p := b2.get("/sign-in/code"); strings.Contains(p.body, "qr.png") {
		t.Fatal("the QR code is shown after enrolment")
	}
	if p := b2.get("/sign-in/qr.png"); p.status != http.StatusNotFound {
		t.Fatalf("QR after enrolment: %d", p.status)
	}
}

func TestSignInRenewsTheSessionToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	b := e.browser()
	b.post("/sign-in", url.Values{"username": {"ana"}, "password": {testPassword}})
	pending := sessionCookie(b, e)
	if p := b.post("/sign-in/code", url.Values{"code": {e.code("ana")}}); p.location != "/" {
		t.Fatalf("code step: %d", p.status)
	}
	after := sessionCookie(b, e)
	if pending == "" || after == "" || after == pending {
		t.Fatalf("session token not renewed at sign-in (%q → %q)", pending, after)
	}
	// Whoever held the pre-sign-in token (planted or sniffed) holds nothing.
	old := e.browser()
	u, _ := url.Parse(e.srv.URL)
	old.client.Jar.SetCookies(u, []*http.Cookie{{Name: "amparo_session", Value: pending}})
	if p := old.get("/desk"); p.location != "/sign-in" {
		t.Fatalf("pre-sign-in token reaches the desk: %d", p.status)
	}
}

func sessionCookie(b *browser, e *env) string {
	u, _ := url.Parse(e.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "amparo_session" {
			return c.Value
		}
	}
	return ""
}

func TestSessionCookieIsHttpOnlySecureSameSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	b := e.browser()
	p := b.post("/sign-in", url.Values{"username": {"ana"}, "password": {testPassword}})
	c := p.header.Get("Set-Cookie")
	for _, want := range []string{"amparo_session=", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(c, want) {
			t.Fatalf("Set-Cookie %q lacks %s", c, want)
		}
	}
}

func TestTOTPCodeAcceptedOnceOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	code := e.code("ana")
	b := e.browser()
	b.post("/sign-in", url.Values{"username": {"ana"}, "password": {testPassword}})
	if p := b.post("/sign-in/code", url.Values{"code": {code}}); p.location != "/" {
		t.Fatalf("first use: %d", p.status)
	}
	// Same code, same 30 s window, from another browser with the password.
	b2 := e.browser()
	b2.post("/sign-in", url.Values{"username": {"ana"}, "password": {testPassword}})
	p := b2.post("/sign-in/code", url.Values{"code": {code}})
	if p.status != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d %q", p.status, p.location)
	}
	mustContain(t, p, "Usuario, contraseña o código incorrectos")
	if p := b2.get("/desk"); p.location != "/sign-in" {
		t.Fatal("replayed code signed in")
	}
	// An older code (previous step, within skew) is refused too.
	e.clk.Advance(-30 * time.Second)
	if p := b2.post("/sign-in/code", url.Values{"code": {e.code("ana")}}); p.status != http.StatusUnauthorized {
		t.Fatalf("code of an earlier step: %d", p.status)
	}
}

func TestUnknownUserAndWrongPasswordAnswerAlike(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	b := e.browser()
	wrong := b.post("/sign-in", url.Values{"username": {"ana"}, "password": {"not the password"}})
	unknown := b.post("/sign-in", url.Values{"username": {"nadie"}, "password": {"not the password"}})
	if wrong.status != http.StatusUnauthorized || unknown.status != wrong.status || unknown.body != wrong.body {
		t.Fatalf("answers differ: %d vs %d", wrong.status, unknown.status)
	}
	// Time: both paths do the same work, one Argon2id verification and one
	// audited write, so that a stopwatch cannot tell them apart either. The
	// work is asserted; the times are only reported, since a loaded machine
	// makes any timing assertion flaky.
	audits := func() (n int) {
		if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM audit_log WHERE action = 'staff.sign_in_failed'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	timeIt := func(name string) (time.Duration, int) {
		before := audits()
		start := time.Now()
		_, _ = e.p.checkPassword(e.ctx, name, "not the password")
		return time.Since(start), audits() - before
	}
	known, knownWrites := timeIt("ana")
	unk, unknownWrites := timeIt("nadie")
	if knownWrites != 1 || unknownWrites != 1 {
		t.Errorf("a wrong password wrote %d audit rows and an unknown name %d; want one each", knownWrites, unknownWrites)
	}
	t.Logf("wrong password %v, unknown name %v", known, unk)
	var leaked int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM audit_log WHERE detail LIKE '%nadie%' OR actor LIKE '%nadie%'`).Scan(&leaked); err != nil {
		t.Fatal(err)
	}
	if leaked != 0 {
		t.Error("the unknown name was written to the audit log")
	}
}

func TestRepeatedFailuresLockTheAccountWithGrowingDelays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	b := e.browser()
	for i := 0; i < freeFailures+1; i++ {
		b.post("/sign-in", url.Values{"username": {"ana"}, "password": {"wrong password!"}})
	}
	// Locked: even the right password is refused, with the same answer.
	p := b.post("/sign-in", url.Values{"username": {"ana"}, "password": {testPassword}})
	if p.status != http.StatusUnauthorized {
		t.Fatalf("locked account accepted the password: %d", p.status)
	}
	e.clk.Advance(lockBase + time.Second)
	b.post("/sign-in", url.Values{"username": {"ana"}, "password": {"wrong password!"}}) // 6th: 60 s
	e.clk.Advance(lockBase + time.Second)
	if p := b.post("/sign-in", url.Values{"username": {"ana"}, "password": {testPassword}}); p.status != http.StatusUnauthorized {
		t.Fatalf("second lock did not grow: %d", p.status)
	}
	e.clk.Advance(lockBase)
	b.signIn("ana")
	var failures int
	if err := e.p.pool.QueryRow(e.ctx, `SELECT failed_attempts FROM staff_user WHERE username = 'ana'`).Scan(&failures); err != nil || failures != 0 {
		t.Fatalf("failures after a sign-in = %d, %v", failures, err)
	}
	for n, want := range map[int]time.Duration{4: 0, 5: 30 * time.Second, 6: time.Minute, 7: 2 * time.Minute, 40: lockMax} {
		if got := lockFor(n); got != want {
			t.Errorf("lockFor(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestWrongCodesCountTowardsLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	b := e.browser()
	b.post("/sign-in", url.Values{"username": {"ana"}, "password": {testPassword}})
	for i := 0; i < freeFailures+1; i++ {
		b.post("/sign-in/code", url.Values{"code": {"000000"}})
	}
	if p := b.post("/sign-in/code", url.Values{"code": {e.code("ana")}}); p.status != http.StatusUnauthorized {
		t.Fatalf("right code on a locked account: %d", p.status)
	}
}

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	b := e.browser()
	b.signIn("ana")
	e.clk.Advance(IdleTimeout - time.Minute)
	if p := b.get("/desk"); p.status != http.StatusOK {
		t.Fatalf("active session refused: %d", p.status)
	}
	e.clk.Advance(IdleTimeout)
	if p := b.get("/desk"); p.location != "/sign-in" {
		t.Fatalf("idle session still served: %d", p.status)
	}
	if p := b.get("/desk"); p.location != "/sign-in" {
		t.Fatal("an expired session came back")
	}

	b.signIn("ana")
	for elapsed := time.Duration(0); elapsed < Lifetime-10*time.Minute; elapsed += 10 * time.Minute {
		e.clk.Advance(10 * time.Minute)
		if p := b.get("/desk"); p.status != http.StatusOK {
			t.Fatalf("busy session ended after %v: %d", elapsed, p.status)
		}
	}
	e.clk.Advance(11 * time.Minute)
	if p := b.get("/desk"); p.location != "/sign-in" {
		t.Fatalf("session outlived its absolute lifetime: %d", p.status)
	}
}

func TestDisablingAnAccountEndsItsLiveSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	b := e.browser()
	b.signIn("ana")
	if p := b.get("/desk"); p.status != http.StatusOK {
		t.Fatal(p.status)
	}
	if err := e.p.DisableUser(e.ctx, "ana", ""); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/desk"); p.location != "/sign-in" {
		t.Fatalf("disabled account still served: %d", p.status)
	}
	if p := b.post("/sign-in", url.Values{"username": {"ana"}, "password": {testPassword}}); p.status != http.StatusUnauthorized {
		t.Fatalf("disabled account passed the password step: %d", p.status)
	}
}

func TestSignOutEndsTheSessionInTheStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	b := e.browser()
	b.signIn("ana")
	token := sessionCookie(b, e)
	if p := b.post("/sign-out", nil); p.location != "/sign-in" {
		t.Fatalf("sign-out: %d", p.status)
	}
	// Replaying the old cookie does not bring the session back.
	b2 := e.browser()
	u, _ := url.Parse(e.srv.URL)
	b2.client.Jar.SetCookies(u, []*http.Cookie{{Name: "amparo_session", Value: token}})
	if p := b2.get("/desk"); p.location != "/sign-in" {
		t.Fatalf("old token after sign-out: %d", p.status)
	}
	var n int
	if err := e.p.pool.QueryRow(e.ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("sessions left in the store: %d, %v", n, err)
	}
}

func TestTOTPSecretIsSealedAtRest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)
	var sealed []byte
	var hash string
	if err := e.p.pool.QueryRow(e.ctx, `SELECT totp_sealed, password_hash FROM staff_user`).Scan(&sealed, &hash); err != nil {
		t.Fatal(err)
	}
	uri, err := e.p.enrolmentURI(e.ctx, mustUser(t, e, "ana").ID)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := strings.Cut(uri, "secret=")
	if secret == "" || strings.Contains(string(sealed), secret) || !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("secret readable at rest, or password not Argon2id")
	}
}

func mustUser(t testing.TB, e *env, name string) User {
	t.Helper()
	u, err := e.p.userByName(e.ctx, e.p.pool, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
