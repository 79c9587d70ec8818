package portal

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
)

// route is one case route of the portal, with what a successful request
// answers.
type route struct {
	method, path string // path has {case} or {followup}
	form         url.Values
	ok           int
	action       Action
}

var caseRoutes = []route{
	{http.MethodGet, "/cases/{case}", nil, http.StatusOK, ActOpenCase},
	{http.MethodPost, "/cases/{case}/open", url.Values{"reason": {"supervision"}}, http.StatusOK, ActOpenCase},
	{http.MethodPost, "/cases/{case}/claim", nil, http.StatusSeeOther, ActClaim},
	{http.MethodPost, "/cases/{case}/assign", url.Values{"user": {"{assignee}"}}, http.StatusSeeOther, ActAssign},
	{http.MethodPost, "/cases/{case}/incident-type", url.Values{"type": {"physical_assault"}}, http.StatusSeeOther, ActClassify},
	{http.MethodPost, "/cases/{case}/notes", url.Values{"body": {"nota"}}, http.StatusSeeOther, ActAddNote},
	{http.MethodPost, "/cases/{case}/follow-ups", url.Values{"kind": {"check_in"}, "due": {"2026-03-11T09:30"}}, http.StatusSeeOther, ActFollowUp},
	{http.MethodPost, "/cases/{case}/referrals", url.Values{"need": {"health"}}, http.StatusSeeOther, ActRefer},
	{http.MethodPost, "/cases/{case}/messages", url.Values{"text": {"sms.survivor.portal.hello"}}, http.StatusOK, ActMessageHer},
	{http.MethodPost, "/referrals/{referral}/chase", nil, http.StatusSeeOther, ActRefer},
	{http.MethodPost, "/referrals/{referral}/revoke", nil, http.StatusSeeOther, ActRefer},
	{http.MethodPost, "/follow-ups/{followup}/done", nil, http.StatusSeeOther, ActFollowUp},
	{http.MethodPost, "/follow-ups/{followup}/reschedule", url.Values{"due": {"2026-03-12T09:30"}}, http.StatusSeeOther, ActFollowUp},
	{http.MethodGet, "/cases/{case}/audit", nil, http.StatusOK, ActViewAudit},
	{http.MethodGet, "/cases/{case}/caller", nil, http.StatusOK, ActBlockCaller},
	{http.MethodPost, "/cases/{case}/caller/block", url.Values{"reason": {"prank"}, "days": {"7"}}, http.StatusSeeOther, ActBlockCaller},
	{http.MethodPost, "/cases/{case}/caller/unblock", url.Values{"block": {"{block}"}}, http.StatusSeeOther, ActBlockCaller},
}

// supervisorsOnly are the case routes' actions a caseworker may not do on
// a case she may open.
var supervisorsOnly = []Action{ActAssign, ActViewAudit, ActBlockCaller}

// TestAccessMatrix drives every case route as every role, on a case of her
// own and on one outside her scope. The expectations are written out here,
// not derived from Decide, so that a change to the policy shows up as a
// changed table.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	users := map[Role]User{
		RoleCaseworker: e.user("cw", RoleCaseworker, "el-porvenir"),
		RoleSupervisor: e.user("sup", RoleSupervisor, "el-porvenir"),
		RoleProvider:   e.user("prov", RoleProvider),
		RoleAdmin:      e.user("adm", RoleAdmin),
	}
	colleague := e.user("cw2", RoleCaseworker, "el-porvenir")
	browsers := map[Role]*browser{}
	for role := range users {
		browsers[role] = e.browser()
		browsers[role].signIn(users[role].Username)
	}
	want := func(role Role, own bool, rt route) int {
		switch {
		case role == RoleProvider || role == RoleAdmin || !own:
			return http.StatusNotFound
		case slices.Contains(supervisorsOnly, rt.action) && role == RoleCaseworker:
			return http.StatusForbidden
		}
		return rt.ok
	}
	for _, role := range Roles {
		for _, own := range []bool{true, false} {
			for _, rt := range caseRoutes {
				name := fmt.Sprintf("%s/own=%v/%s %s", role, own, rt.method, rt.path)
				var c casefile.Case
				if own {
					c = e.caseIn("el-porvenir", false)
					e.assign(c, users[role])
				} else {
					c = e.caseIn("la-esperanza", false)
				}
				fu := e.followUp(c, "check_in", e.clk.Now().Add(time.Hour), false)
				ref := e.referral(c, casefile.NeedPolice)
				if err := e.blocks.BlockCaseCaller(e.ctx, c.ID, "spam", e.clk.Now().Add(time.Hour), "test"); err != nil {
					t.Fatal(err)
				}
				path := strings.NewReplacer("{case}", c.ID.String(), "{followup}", fu.String(), "{referral}", ref.String()).Replace(rt.path)
				form := url.Values{}
				fill := strings.NewReplacer("{assignee}", colleague.ID.String(), "{block}", e.blocks.blocksOf(c.ID)[0].ID.String())
				for k, v := range rt.form {
					form[k] = []string{fill.Replace(v[0])}
				}
				var p page
				if rt.method == http.MethodGet {
					p = browsers[role].get(path)
				} else {
					p = browsers[role].post(path, form)
				}
				if got, w := p.status, want(role, own, rt); got != w {
					t.Errorf("%s: status %d, want %d", name, got, w)
				}
				if p.status == http.StatusNotFound {
					mustLack(t, p, c.Reference, "Relato sellado")
				}
			}
		}
	}
	// Pages about no one case, and the roles that may open them.
	for _, pg := range []struct {
		path  string
		roles []Role
	}{
		{"/desk", []Role{RoleCaseworker, RoleSupervisor}},
		{"/board", []Role{RoleSupervisor}},
		{"/board?partial=1", []Role{RoleSupervisor}},
		{"/queue", []Role{RoleSupervisor, RoleAdmin}},
	} {
		for role, b := range browsers {
			w := http.StatusForbidden
			if slices.Contains(pg.roles, role) {
				w = http.StatusOK
			}
			if p := b.get(pg.path); p.status != w {
				t.Errorf("%s GET %s: %d, want %d", role, pg.path, p.status, w)
			}
		}
	}
	// An id that is no case at all answers like another team's case.
	if p := browsers[RoleCaseworker].get("/cases/" + uuid.NewString()); p.status != http.StatusNotFound {
		t.Errorf("unknown case: %d", p.status)
	}
	if p := browsers[RoleCaseworker].get("/cases/not-a-uuid"); p.status != http.StatusNotFound {
		t.Errorf("malformed id: %d", p.status)
	}
}

// providerRoutes are the provider's routes on a referral, each with the
// state the referral must be in for the answer to be allowed.
var providerRoutes = []struct {
	route
	from referral.Status
}{
	{route{http.MethodGet, "/referrals/{referral}", nil, http.StatusOK, ActViewPacket}, referral.Notified},
	{route{http.MethodPost, "/referrals/{referral}/phone", nil, http.StatusOK, ActRevealPhone}, referral.Notified},
	{route{http.MethodPost, "/referrals/{referral}/acknowledge", nil, http.StatusSeeOther, ActAnswer}, referral.Notified},
	{route{http.MethodPost, "/referrals/{referral}/accept", nil, http.StatusSeeOther, ActAnswer}, referral.Acknowledged},
	{route{http.MethodPost, "/referrals/{referral}/decline", url.Values{"reason": {"no_capacity"}}, http.StatusSeeOther, ActAnswer}, referral.Notified},
	{route{http.MethodPost, "/referrals/{referral}/served", nil, http.StatusSeeOther, ActAnswer}, referral.Accepted},
}

// TestProviderAccessMatrix drives every provider route as every role, on a
// referral to the provider's own organisation and on one to another's:
// only the provider of that organisation gets anywhere; everyone else finds
// nothing there. The inbox is the provider's, as the desk is staff's.
func TestProviderAccessMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.otherOrg()
	users := map[Role]User{
		RoleCaseworker: e.user("cw", RoleCaseworker),
		RoleSupervisor: e.user("sup", RoleSupervisor),
		RoleProvider:   e.user("prov", RoleProvider),
		RoleAdmin:      e.user("adm", RoleAdmin),
	}
	browsers := map[Role]*browser{}
	for role := range users {
		browsers[role] = e.browser()
		browsers[role].signIn(users[role].Username)
	}
	for _, role := range Roles {
		for _, own := range []bool{true, false} {
			for _, rt := range providerRoutes {
				c := e.caseIn("el-porvenir", false)
				need := casefile.NeedHealth // to "org", the provider's
				if !own {
					need = casefile.NeedLegal // to "other"
				}
				id := e.referral(c, need)
				if _, err := e.pool.Exec(e.ctx, `UPDATE referral SET status = $2 WHERE id = $1`, id, rt.from); err != nil {
					t.Fatal(err)
				}
				path := strings.ReplaceAll(rt.path, "{referral}", id.String())
				var p page
				if rt.method == http.MethodGet {
					p = browsers[role].get(path)
				} else {
					p = browsers[role].post(path, rt.form)
				}
				want := http.StatusNotFound
				if role == RoleProvider && own {
					want = rt.ok
				}
				if p.status != want {
					t.Errorf("%s/own=%v/%s %s: status %d, want %d", role, own, rt.method, rt.path, p.status, want)
				}
				if p.status == http.StatusNotFound {
					mustLack(t, p, c.Reference)
				}
				if moved := e.status(id) != rt.from; moved != (want == http.StatusSeeOther) {
					t.Errorf("%s/own=%v/%s %s: referral moved=%v", role, own, rt.method, rt.path, moved)
				}
			}
		}
	}
	for role, b := range browsers {
		w := http.StatusForbidden
		if role == RoleProvider {
			w = http.StatusOK
		}
		if p := b.get("/inbox"); p.status != w {
			t.Errorf("%s GET /inbox: %d, want %d", role, p.status, w)
		}
	}
}

func TestDecideReferral(t *testing.T) {
	t.Parallel()
	prov := User{ID: uuid.New(), Role: RoleProvider, OrgKey: "org"}
	own := referral.Scope{ID: uuid.New(), OrgKey: "org", Status: referral.Notified}
	for _, c := range []struct {
		name string
		u    User
		a    Action
		rs   *referral.Scope
		want error
	}{
		{"own packet", prov, ActViewPacket, &own, nil},
		{"other organisation", prov, ActViewPacket, &referral.Scope{OrgKey: "other", Status: referral.Notified}, errNotFound},
		{"no referral", prov, ActAnswer, nil, errNotFound},
		{"number of a closed referral", prov, ActRevealPhone, &referral.Scope{OrgKey: "org", Status: referral.Declined}, errForbidden},
		{"packet of a closed referral", prov, ActViewPacket, &referral.Scope{OrgKey: "org", Status: referral.Completed}, nil},
		{"disabled provider", User{ID: prov.ID, Role: RoleProvider, OrgKey: "org", Disabled: true}, ActViewPacket, &own, errNotFound},
		{"provider without organisation", User{ID: prov.ID, Role: RoleProvider}, ActViewInbox, nil, errForbidden},
		{"supervisor's packet", User{ID: uuid.New(), Role: RoleSupervisor}, ActViewPacket, &own, errNotFound},
		{"a case action is not the provider's", prov, ActOpenCase, &own, errForbidden},
	} {
		if got := DecideReferral(c.u, c.a, c.rs); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDeskShowsExactlyWhatPolicyAllows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cw := e.user("cw", RoleCaseworker, "El Porvenir") // as an operator types it
	other := e.user("cw2", RoleCaseworker, "la-esperanza")
	everywhere := e.user("sup", RoleSupervisor)
	cases := []casefile.Case{
		e.caseIn("el-porvenir", false),
		e.caseIn("El-Porvenir", true),
		e.caseIn("la-esperanza", false),
		e.caseIn("florencia-de-mora", false),
	}
	e.assign(cases[3], cw) // outside her communities, but hers
	e.assign(cases[0], other)
	for _, u := range []User{cw, other, everywhere} {
		b := e.browser()
		b.signIn(u.Username)
		u = mustUser(t, e, u.Username)
		p := b.get("/desk")
		for _, c := range cases {
			sc, err := e.cases.CaseScope(e.ctx, e.p.pool, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			allowed := Decide(u, ActOpenCase, &sc) == nil
			if u.ID == cw.ID && sc.Community == "el-porvenir" && !allowed {
				t.Errorf("a caseworker of El Porvenir may not open its case")
			}
			if shown := strings.Contains(p.body, c.Reference); shown != allowed {
				t.Errorf("%s: case in %s shown=%v, policy allows=%v", u.Username, sc.Community, shown, allowed)
			}
		}
	}
}

func TestCrossOriginUnsafeRequestsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("sup", RoleSupervisor)
	cw := e.user("cw", RoleCaseworker)
	b := e.browser()
	b.signIn("sup")
	c := e.caseIn("el-porvenir", false)
	ref := e.referral(c, casefile.NeedPolice)
	fuDue := e.clk.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	fu := e.followUp(c, "check_in", fuDue, false)
	unsafe := append([]route{
		{http.MethodPost, "/sign-in", url.Values{"username": {"sup"}, "password": {testPassword}}, 0, ""},
		{http.MethodPost, "/sign-in/code", url.Values{"code": {"123456"}}, 0, ""},
		{http.MethodPost, "/lang", url.Values{"lang": {"en"}}, 0, ""},
		{http.MethodPost, "/sign-out", nil, 0, ""},
	}, caseRoutes...)
	for _, pr := range providerRoutes {
		unsafe = append(unsafe, pr.route)
	}
	for _, rt := range unsafe {
		if rt.method == http.MethodGet {
			continue
		}
		path := strings.NewReplacer("{case}", c.ID.String(), "{followup}", fu.String(), "{referral}", ref.String()).Replace(rt.path)
		form := url.Values{}
		for k, v := range rt.form {
			form[k] = []string{strings.ReplaceAll(v[0], "{assignee}", cw.ID.String())}
		}
		for _, hdr := range []map[string]string{
			{"Sec-Fetch-Site": "cross-site"},
			{"Sec-Fetch-Site": "", "Origin": "https://evil.example"},
		} {
			if p := b.do(rt.method, path, form, hdr); p.status != http.StatusForbidden {
				t.Errorf("%s %s with %v: %d, want 403", rt.method, rt.path, hdr, p.status)
			}
		}
	}
	// Nothing happened: still signed in, nothing assigned, noted or done.
	if p := b.get("/desk"); p.status != http.StatusOK {
		t.Fatalf("cross-origin sign-out ended the session: %d", p.status)
	}
	var assigned, notes, changed, followUps, referrals int
	err := e.p.pool.QueryRow(e.ctx, `SELECT (SELECT count(*) FROM case_file WHERE assigned_to IS NOT NULL),
		(SELECT count(*) FROM case_note), (SELECT count(*) FROM follow_up WHERE status <> 'open' OR due_at <> $1),
		(SELECT count(*) FROM follow_up), (SELECT count(*) FROM referral WHERE status <> 'notified' OR need <> 'police')`,
		fuDue).Scan(&assigned, &notes, &changed, &followUps, &referrals)
	if err != nil || assigned+notes+changed+referrals != 0 || followUps != 1 {
		t.Fatalf("cross-origin requests changed data: assigned=%d notes=%d follow-ups changed=%d filed=%d referrals=%d (%v)",
			assigned, notes, changed, followUps-1, referrals, err)
	}
}

// adminRoutes are the administrator's pages and forms, each with what an
// admin's request answers. {user} is another account, {shift} a shift.
var adminRoutes = []route{
	{http.MethodGet, "/admin/users", nil, http.StatusOK, ActManageUsers},
	{http.MethodPost, "/admin/users", url.Values{"username": {"{new}"}, "role": {"caseworker"}, "password": {testPassword}}, http.StatusSeeOther, ActManageUsers},
	{http.MethodPost, "/admin/users/{user}/reset-totp", nil, http.StatusSeeOther, ActManageUsers},
	{http.MethodPost, "/admin/users/{user}/disable", nil, http.StatusSeeOther, ActManageUsers},
	{http.MethodGet, "/admin/directory", nil, http.StatusOK, ActManageDirectory},
	{http.MethodGet, "/admin/directory/export", nil, http.StatusOK, ActManageDirectory},
	{http.MethodPost, "/admin/directory", url.Values{"mode": {"apply"}, "directory": {testDirectory}}, http.StatusOK, ActManageDirectory},
	{http.MethodGet, "/admin/oncall", nil, http.StatusOK, ActManageOnCall},
	{http.MethodPost, "/admin/oncall", url.Values{"role": {"counsellor"}, "phone": {"+51987654321"}, "from": {"2026-03-10T08:00"}, "to": {"2026-03-10T20:00"}}, http.StatusSeeOther, ActManageOnCall},
	{http.MethodPost, "/admin/oncall/{shift}/remove", nil, http.StatusSeeOther, ActManageOnCall},
}

// TestAdminAccessMatrix drives every administrative route as every role:
// only admins get through, and a refused request changes nothing. The
// same routes refuse cross-origin requests before any role is asked.
func TestAdminAccessMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.directory()
	browsers := map[Role]*browser{}
	for _, role := range Roles {
		e.user("as-"+string(role), role)
		browsers[role] = e.browser()
		browsers[role].signIn("as-" + string(role))
	}
	for i, role := range Roles {
		for j, rt := range adminRoutes {
			target := e.user(fmt.Sprintf("target-%d-%d", i, j), RoleCaseworker)
			shift, err := roster.AddShift(e.ctx, e.pool, roster.Shift{Role: roster.Supervisor, Phone: "+51987000001",
				Starts: e.clk.Now(), Ends: e.clk.Now().Add(time.Hour)}, "test", e.clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			path := strings.NewReplacer("{user}", target.Username, "{shift}", fmt.Sprint(shift)).Replace(rt.path)
			form := url.Values{}
			for k, v := range rt.form {
				form[k] = []string{strings.ReplaceAll(v[0], "{new}", fmt.Sprintf("new-%d-%d", i, j))}
			}
			before := e.audited("staff.create", "staff.disable", "staff.reset_totp", "directory.import", "oncall.add", "oncall.remove")
			for _, hdr := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, nil} {
				if rt.method == http.MethodGet && hdr != nil {
					continue
				}
				want := rt.ok
				switch {
				case hdr != nil, role != RoleAdmin:
					want = http.StatusForbidden
				case rt.path == "/admin/directory" && rt.method == http.MethodPost:
					// The test directory is already loaded: applying it again changes nothing.
					want = http.StatusOK
				}
				var p page
				if rt.method == http.MethodGet {
					p = browsers[role].get(path)
				} else {
					p = browsers[role].do(rt.method, path, form, hdr)
				}
				if p.status != want {
					t.Errorf("%s %s %s (headers %v): %d, want %d", role, rt.method, rt.path, hdr, p.status, want)
				}
				after := e.audited("staff.create", "staff.disable", "staff.reset_totp", "directory.import", "oncall.add", "oncall.remove")
				if p.status == http.StatusForbidden && len(after) != len(before) {
					t.Errorf("%s %s %s (headers %v): refused, yet audited %v", role, rt.method, rt.path, hdr, after[len(before):])
				}
			}
		}
	}
}
