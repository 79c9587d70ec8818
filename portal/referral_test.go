package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestReferralsAreCreatedRevokedAndChasedFromTheCasePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.directory()
	cw := e.user("cw", RoleCaseworker)
	c := e.caseIn("el-porvenir", false) // consented to health only
	e.assign(c, cw)
	b := e.browser()
	b.signIn("cw")
	path := "/cases/" + c.ID.String()

	if p := b.post(path+"/referrals", url.Values{"need": {"health"}}); p.status != http.StatusSeeOther {
		t.Fatalf("refer with consent: %d", p.status)
	}
	// The notice itself is referral's dispatch job (the browser test sees
	// it arrive on the provider's phone); here: routed, and the job is queued.
	var phone string
	var jobs int
	err := e.p.pool.QueryRow(e.ctx, `SELECT code_phone, (SELECT count(*) FROM river_job WHERE kind = 'referral.dispatch')
		FROM referral WHERE case_id = $1 AND need = 'health'`, c.ID).Scan(&phone, &jobs)
	if err != nil || phone != "+51900000902" || jobs != 1 {
		t.Fatalf("health referral: phone %q, dispatch jobs %d, %v", phone, jobs, err)
	}
	// Police: she did not consent. Without a reason it is refused.
	if p := b.post(path+"/referrals", url.Values{"need": {"police"}}); p.status != http.StatusBadRequest {
		t.Fatalf("refer without consent or reason: %d", p.status)
	}
	if p := b.post(path+"/referrals", url.Values{"need": {"police"}, "override": {"because I said so"}}); p.status != http.StatusBadRequest {
		t.Fatalf("free-text override: %d", p.status)
	}
	if p := b.post(path+"/referrals", url.Values{"need": {"police"}, "override": {"imminent_danger"}}); p.status != http.StatusSeeOther {
		t.Fatalf("refer with override: %d", p.status)
	}
	page := b.get(path)
	mustContain(t, page, "sin su consentimiento, con motivo registrado", "override:imminent_danger", "Denuncia policial — sin su consentimiento")
	if got := auditRows(t, e, "referral.consent_override"); len(got) != 1 || !strings.Contains(got[0], "need=police reason=imminent_danger") {
		t.Fatalf("override audit: %q", got)
	}

	refs, err := e.refs.ForCase(e.ctx, e.p.pool, c.ID)
	if err != nil || len(refs) != 2 {
		t.Fatalf("referrals: %v %v", refs, err)
	}
	health, police := refs[0], refs[1]
	if p := b.post("/referrals/"+police.ID.String()+"/revoke", nil); p.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", p.status)
	}
	if r, _ := e.refs.Get(e.ctx, e.p.pool, police.ID); r.Status != "revoked" {
		t.Fatalf("after revoke: %s", r.Status)
	}
	if p := b.post("/referrals/"+police.ID.String()+"/revoke", nil); p.status != http.StatusBadRequest {
		t.Fatalf("revoking twice: %d", p.status)
	}
	if p := b.post("/referrals/"+health.ID.String()+"/chase", nil); p.status != http.StatusSeeOther {
		t.Fatalf("chase: %d", p.status)
	}
	mustContain(t, b.get(path), "escalada", "caseworker_chase", "revocada", "caseworker_revoked")
}
