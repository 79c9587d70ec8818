package referral

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/roster"
)

const narrative = "Relato confidencial: Rosa Quispe, Jr. Los Olivos 123"

func TestEndToEndConsentToAcknowledgement(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	incident := tuesday10.Add(-10 * time.Hour)
	c := h.openCase(casefile.CaseInput{
		Urgent: true, Needs: []casefile.Need{casefile.NeedHealth, casefile.NeedPolice, casefile.NeedLegal},
		Consent:    map[casefile.Need]bool{casefile.NeedHealth: true, casefile.NeedPolice: true},
		IncidentAt: &incident, Narrative: narrative,
		Contact: casefile.ContactPrefs{MayText: true, FromHour: 9, ToHour: 18},
	})
	refs := h.create(c)
	if len(refs) != 2 || refs[0].Need != casefile.NeedHealth || refs[1].Need != casefile.NeedPolice {
		t.Fatalf("want health and police referrals (legal has no consent), got %+v", refs)
	}
	health := refs[0]
	if health.Status != Pending || health.CodePhone != phoneA || health.ReplyCode != "1000" {
		t.Fatalf("health referral = %+v", health)
	}
	if want := tuesday10.Add(15 * time.Minute); !health.AckBy.Equal(want) {
		t.Errorf("urgent ack_by = %v, want %v", health.AckBy, want)
	}
	if want := incident.Add(72 * time.Hour); health.ServeBy == nil || !health.ServeBy.Equal(want) {
		t.Errorf("serve_by = %v, want PEP deadline %v", health.ServeBy, want)
	}
	if again := h.create(c); len(again) != 2 || again[0].ID != health.ID {
		t.Fatalf("a second CreateForCase must return the same referrals, got %+v", again)
	}
	if n := len(h.referrals(c.ID)); n != 2 {
		t.Fatalf("a second CreateForCase created referrals: %d", n)
	}

	if k := h.dispatch(health.ID); k != river.EventKindJobCompleted {
		t.Fatalf("dispatch: %s", k)
	}
	notices, _ := h.rec.snapshot()
	want := ProviderNotice{ReferralID: health.ID, Phone: phoneA, Reference: c.Reference, ReplyCode: "1000", Lang: "es"}
	if len(notices) != 1 || notices[0] != want {
		t.Fatalf("notices = %+v, want [%+v]", notices, want)
	}
	if s := h.get(health.ID).Status; s != Notified {
		t.Fatalf("after dispatch: %s", s)
	}
	if k := h.dispatch(health.ID); k != river.EventKindJobCompleted {
		t.Fatalf("second dispatch run: %s", k)
	}
	if notices, _ = h.rec.snapshot(); len(notices) != 1 {
		t.Fatalf("a second dispatch run must send nothing: %d notices", len(notices))
	}

	// The right code from the wrong phone, and from a survivor's phone.
	if out := h.reply(phoneB, "OK 1000"); !out.Handled || out.Result != ReplyUnknownCode {
		t.Fatalf("code from another provider's phone: %+v", out)
	}
	if out := h.reply("+51987650001", "OK 1000"); out.Handled {
		t.Fatalf("a survivor's number must not be handled as a provider: %+v", out)
	}
	if s := h.get(health.ID).Status; s != Notified {
		t.Fatalf("a reply from the wrong phone changed the referral: %s", s)
	}

	if out := h.reply(phoneA, "  ok   1000 "); out.Result != ReplyAcknowledged || out.ReferralID != health.ID {
		t.Fatalf("OK from the right phone: %+v", out)
	}
	if out := h.reply(phoneA, "Sí 1000"); out.Result != ReplyAcknowledged {
		t.Fatalf("repeated OK: %+v", out)
	}
	ev := h.history(health.ID)
	if len(ev) != 3 || ev[2].From != Notified || ev[2].To != Acknowledged || !strings.HasPrefix(ev[2].Actor, "provider:") {
		t.Fatalf("history = %+v (a repeated reply must not act twice)", ev)
	}
	if k := h.ackDeadline(health.ID); k != river.EventKindJobCompleted {
		t.Fatalf("ack deadline on an acknowledged referral: %s", k)
	}
	if s := h.get(health.ID).Status; s != Acknowledged {
		t.Fatalf("ack deadline moved an acknowledged referral to %s", s)
	}

	// The packet says what the provider needs and no more.
	p, err := h.svc.Packet(h.ctx, h.pool, health.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Reference != c.Reference || p.Need != casefile.NeedHealth || !p.Urgent || len(p.Deadlines) != 2 ||
		p.Deadlines[0].Kind != DeadlinePEP || !p.Deadlines[0].By.Equal(incident.Add(72*time.Hour)) ||
		p.Deadlines[0].By.Location().String() != "America/Lima" || p.Deadlines[1].Kind != DeadlineEC || !p.Contact.MayText {
		t.Fatalf("packet = %+v", p)
	}

	assertNoSurvivorContent(t, h, c)
}

// assertNoSurvivorContent looks for the narrative and her number anywhere
// referral writes in plaintext, River's job table included.
func assertNoSurvivorContent(t *testing.T, h *harness, c casefile.Case) {
	t.Helper()
	for _, q := range []string{
		`SELECT row_to_json(r)::text FROM referral r`,
		`SELECT row_to_json(e)::text FROM referral_event e`,
		`SELECT args::text || COALESCE(errors::text, '') FROM river_job`,
	} {
		rows, err := h.pool.Query(h.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			if strings.Contains(s, "Rosa") || strings.Contains(s, "Olivos") || strings.Contains(s, "+5198765") {
				t.Errorf("survivor content in plaintext: %s", q)
			}
		}
	}
}

func TestAckDeadlineEscalatesExactlyOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	h.onCall(roster.Supervisor, phoneSup)
	c := h.openCase(casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedHealth}})
	r := h.create(c)[0]
	h.dispatch(r.ID)

	h.clk.Advance(14*time.Minute + 59*time.Second)
	if k := h.ackDeadline(r.ID); k != river.EventKindJobSnoozed {
		t.Fatalf("before ack_by the job must snooze, got %s", k)
	}
	if s := h.get(r.ID).Status; s != Notified {
		t.Fatalf("escalated early: %s", s)
	}
	h.clk.Advance(time.Second)
	for range 2 {
		if k := h.ackDeadline(r.ID); k != river.EventKindJobCompleted {
			t.Fatalf("ack deadline: %s", k)
		}
	}
	// A retried insert of the same stage creates nothing.
	h.inTx(func(tx pgx.Tx) error {
		res, err := h.inserter.InsertTx(h.ctx, tx, AckDeadlineArgs{ReferralID: r.ID}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
		if err == nil && !res.UniqueSkippedAsDuplicate {
			t.Error("second insert of the same ack-deadline job was not skipped")
		}
		return err
	})

	all := h.referrals(c.ID)
	if len(all) != 2 || all[0].Status != Escalated || all[1].Status != Pending || all[1].CodePhone != phoneB ||
		all[1].ParentID == nil || *all[1].ParentID != r.ID {
		t.Fatalf("want A escalated and one new referral to B, got %+v", all)
	}
	_, alerts := h.rec.snapshot()
	if len(alerts) != 1 || alerts[0] != (roster.Alert{Phone: phoneSup, Kind: roster.AlertEscalated, CaseID: c.ID, Reference: c.Reference}) {
		t.Fatalf("alerts = %+v", alerts)
	}
	ev := h.history(r.ID)
	if last := ev[len(ev)-1]; last.To != Escalated || last.Reason != "ack_deadline_missed" || last.Actor != "system" {
		t.Fatalf("history = %+v", ev)
	}
}

func TestEscalationSkipsClosedProviderInChain(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth}})
	r := h.create(c)[0]
	// B is in the chain after A, but nobody answers its phone now.
	if _, err := h.pool.Exec(h.ctx, `UPDATE service SET active = false WHERE key = 'hp-b'`); err != nil {
		t.Fatal(err)
	}
	h.inTx(func(tx pgx.Tx) error { return h.svc.NoticeFailed(h.ctx, tx, r.ID) })
	all := h.referrals(c.ID)
	if len(all) != 2 || all[0].Status != Escalated || all[1].CodePhone != phoneC {
		t.Fatalf("a failed notice must escalate at once, past closed B to C: %+v", all)
	}
	// No supervisor on call: the escalation becomes a caseworker task.
	if f := h.followUps(c.ID); len(f) != 1 || f[0].Kind != casefile.FollowUpEscalated || !f[0].Urgent {
		t.Fatalf("follow-ups = %+v", f)
	}
}

func TestRestartBetweenCreationAndDeadlineStillEscalates(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts River clients")
	}
	h := newHarness(t, testDirectory)
	h.onCall(roster.Supervisor, phoneSup)
	h.config.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}
	h.config.FetchCooldown = 20 * time.Millisecond
	h.config.FetchPollInterval = 50 * time.Millisecond
	h.config.Logger = slog.New(slog.DiscardHandler)

	first := h.newClient()
	h.inserter.Set(first)
	if err := first.Start(h.ctx); err != nil {
		t.Fatal(err)
	}
	c := h.openCase(casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedHealth}})
	r := h.create(c)[0]
	waitFor(t, 10*time.Second, func() bool { return h.get(r.ID).Status == Notified })
	if err := first.Stop(h.ctx); err != nil {
		t.Fatal(err)
	}

	h.clk.Advance(16 * time.Minute) // past ack_by while nothing runs
	second := h.newClient()
	h.inserter.Set(second)
	start := time.Now()
	if err := second.Start(h.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Stop(h.ctx) })
	waitFor(t, 10*time.Second, func() bool { return h.get(r.ID).Status == Escalated })
	t.Logf("escalated %v after the new client started", time.Since(start).Round(time.Millisecond))
	waitFor(t, 10*time.Second, func() bool {
		all := h.referrals(c.ID)
		return len(all) == 2 && all[1].Status == Notified && all[1].CodePhone == phoneB
	})
	if _, alerts := h.rec.snapshot(); len(alerts) != 1 || alerts[0].Kind != roster.AlertEscalated {
		t.Fatalf("alerts = %+v", alerts)
	}
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPEPBoundaryToTheMinute(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	for _, tc := range []struct {
		ago  time.Duration
		kind string
	}{
		{71*time.Hour + 59*time.Minute, DeadlinePEP},
		{72 * time.Hour, DeadlinePEP}, // "within 72 hours" includes the 72nd
		{72*time.Hour + time.Minute, DeadlineEC},
		{120 * time.Hour, DeadlineEC},
		{120*time.Hour + time.Minute, ""},
	} {
		incident := tuesday10.Add(-tc.ago)
		c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth}, IncidentAt: &incident})
		r := h.create(c)[0]
		p, err := h.svc.Packet(h.ctx, h.pool, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch tc.kind {
		case "":
			if r.ServeBy != nil || len(p.Deadlines) != 0 {
				t.Errorf("%v after the incident: no clinical deadline expected, got %v %+v", tc.ago, r.ServeBy, p.Deadlines)
			}
		default:
			window := 72 * time.Hour
			if tc.kind == DeadlineEC {
				window = 120 * time.Hour
			}
			want := incident.Add(window)
			if r.ServeBy == nil || !r.ServeBy.Equal(want) || len(p.Deadlines) == 0 || p.Deadlines[0].Kind != tc.kind {
				t.Errorf("%v after the incident: serve_by %v, deadlines %+v; want %s at %v", tc.ago, r.ServeBy, p.Deadlines, tc.kind, want)
			}
		}
		// Free A's single place for the next case.
		h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, r.ID, Revoked, "cw-1", "test") })
	}
}

func TestServeDeadlineNearAndMissed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	h.onCall(roster.Counsellor, phoneCou)
	c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedPolice}})
	r := h.create(c)[0]
	if r.ServeBy == nil || !r.ServeBy.Equal(tuesday10.Add(24*time.Hour)) {
		t.Fatalf("police serve_by = %v, want the 24 h default", r.ServeBy)
	}
	if k := h.serveDeadline(r.ID, stageNear); k != river.EventKindJobSnoozed {
		t.Fatalf("near before its time: %s", k)
	}
	h.clk.Advance(22 * time.Hour)
	for range 2 {
		h.serveDeadline(r.ID, stageNear)
	}
	_, alerts := h.rec.snapshot()
	if len(alerts) != 1 || alerts[0] != (roster.Alert{Phone: phoneCou, Kind: roster.AlertServeDeadlineNear, CaseID: c.ID, Reference: c.Reference}) {
		t.Fatalf("alerts = %+v", alerts)
	}
	if f := h.followUps(c.ID); len(f) != 1 || f[0].Kind != casefile.FollowUpServeDeadline {
		t.Fatalf("follow-ups = %+v", f)
	}
	// At serve-by's very instant the deadline is still met (as serveBy and
	// Packet count it): not breached, not on the SLA board.
	h.clk.Advance(2 * time.Hour)
	if k := h.serveDeadline(r.ID, stageMissed); k != river.EventKindJobSnoozed {
		t.Fatalf("missed at serve-by's instant: %s, want snoozed", k)
	}
	if got := h.get(r.ID); got.BreachedAt != nil {
		t.Fatalf("breached at serve-by's instant: %+v", got)
	}
	h.clk.Advance(time.Microsecond)
	for range 2 {
		h.serveDeadline(r.ID, stageMissed)
	}
	got := h.get(r.ID)
	if got.BreachedAt == nil || !got.BreachedAt.Equal(h.svc.now()) || got.Status != Pending {
		t.Fatalf("after serve_by: %+v", got)
	}
	over, err := h.svc.Overdue(h.ctx, h.pool)
	if err != nil || len(over) != 1 || over[0].ID != r.ID {
		t.Fatalf("SLA board = %+v, %v", over, err)
	}
	if n := len(h.history(r.ID)); n != 3 {
		t.Fatalf("history has %d events, want created + near + breached", n)
	}
}

// A serve-by deadline is met up to and including its instant everywhere:
// the SLA board and the missed job agree with serveBy and Packet.
func TestServeByInstantIsNotBreached(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedPolice}})
	r := h.create(c)[0]
	h.dispatch(r.ID)
	if out := h.reply(phonePol, "OK "+r.ReplyCode); out.Result != ReplyAcknowledged {
		t.Fatalf("ack: %+v", out)
	}
	h.clk.Set(*r.ServeBy)
	if over, err := h.svc.Overdue(h.ctx, h.pool); err != nil || len(over) != 0 {
		t.Fatalf("SLA board at serve-by's instant = %+v, %v; want empty", over, err)
	}
	if k := h.serveDeadline(r.ID, stageMissed); k != river.EventKindJobSnoozed {
		t.Fatalf("missed job at serve-by's instant: %s, want snoozed", k)
	}
	if got := h.get(r.ID); got.BreachedAt != nil {
		t.Fatalf("breached at serve-by's instant: %+v", got)
	}
	h.clk.Advance(time.Microsecond)
	if over, err := h.svc.Overdue(h.ctx, h.pool); err != nil || len(over) != 1 {
		t.Fatalf("SLA board just after serve-by = %+v, %v; want the referral", over, err)
	}
	h.serveDeadline(r.ID, stageMissed)
	if got := h.get(r.ID); got.BreachedAt == nil {
		t.Fatalf("not breached just after serve-by: %+v", got)
	}
}

func TestRoutingSkipsClosedAndFull(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	need := []casefile.Need{casefile.NeedHealth}
	if r := h.create(h.openCase(casefile.CaseInput{Needs: need}))[0]; r.CodePhone != phoneA {
		t.Fatalf("A is open with room: got %s", r.CodePhone)
	}
	if r := h.create(h.openCase(casefile.CaseInput{Needs: need}))[0]; r.CodePhone != phoneB {
		t.Fatalf("A is full (capacity 1): got %s", r.CodePhone)
	}
	h.clk.Set(time.Date(2026, 3, 15, 10, 0, 0, 0, lima)) // Sunday
	h.inTx(func(tx pgx.Tx) error {
		_, err := tx.Exec(h.ctx, `UPDATE referral SET status = 'completed'`)
		return err
	})
	if r := h.create(h.openCase(casefile.CaseInput{Needs: need}))[0]; r.CodePhone != phoneB {
		t.Fatalf("A is closed on Sunday: got %s", r.CodePhone)
	}
	h.clk.Set(time.Date(2026, 3, 16, 19, 59, 0, 0, lima)) // Monday, A's last minute
	if r := h.create(h.openCase(casefile.CaseInput{Needs: need}))[0]; r.CodePhone != phoneA {
		t.Fatalf("A is open at 19:59: got %s", r.CodePhone)
	}
}

func TestNoProviderBecomesTaskAndAlert(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	h.onCall(roster.Supervisor, phoneSup)
	h.clk.Set(time.Date(2026, 3, 10, 18, 0, 0, 0, lima)) // legal aid closed (Mondays only)
	c := h.openCase(casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedLegal, casefile.NeedShelter}})
	if refs := h.create(c); len(refs) != 0 {
		t.Fatalf("nobody can take legal or shelter, got %+v", refs)
	}
	f := h.followUps(c.ID)
	if len(f) != 2 || f[0].Kind != casefile.FollowUpNoProvider || !f[0].Urgent {
		t.Fatalf("follow-ups = %+v", f)
	}
	if _, alerts := h.rec.snapshot(); len(alerts) != 2 || alerts[0].Kind != roster.AlertNoProvider || alerts[0].Phone != phoneSup {
		t.Fatalf("alerts = %+v", alerts)
	}
}

func TestDeclineReroutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth}})
	r := h.create(c)[0]
	if out := h.reply(phoneA, "NO 1000"); out.Result != ReplyStale {
		t.Fatalf("a reply before the notice went out: %+v", out)
	}
	h.dispatch(r.ID)
	if out := h.reply(phoneA, "no 1000"); out.Result != ReplyDeclined {
		t.Fatalf("NO: %+v", out)
	}
	if out := h.reply(phoneA, "no 1000"); out.Result != ReplyUnknownCode {
		t.Fatalf("a repeated NO must not act again: %+v", out)
	}
	all := h.referrals(c.ID)
	if len(all) != 2 || all[0].Status != Declined || all[1].CodePhone != phoneB || all[1].Status != Pending {
		t.Fatalf("want A declined and B referred, got %+v", all)
	}
}

func TestReplyCodesPerPhoneReusedAfterClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	police := []casefile.Need{casefile.NeedPolice}
	r1 := h.create(h.openCase(casefile.CaseInput{Needs: police}))[0]
	r2 := h.create(h.openCase(casefile.CaseInput{Needs: police}))[0]
	health := h.create(h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth}}))[0]
	if r1.ReplyCode != "1000" || r2.ReplyCode != "1001" || health.ReplyCode != "1000" {
		t.Fatalf("codes = %s %s (police), %s (health): smallest unused per phone", r1.ReplyCode, r2.ReplyCode, health.ReplyCode)
	}
	h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, r1.ID, Revoked, "cw-1", "survivor_request") })
	if r3 := h.create(h.openCase(casefile.CaseInput{Needs: police}))[0]; r3.ReplyCode != "1002" {
		t.Fatalf("a just-closed referral's code is quarantined: got %s, want 1002", r3.ReplyCode)
	}
	h.clk.Advance(codeQuarantine)
	if r4 := h.create(h.openCase(casefile.CaseInput{Needs: police}))[0]; r4.ReplyCode != "1000" {
		t.Fatalf("a closed referral's code is reused after the quarantine: got %s", r4.ReplyCode)
	}
}

func TestReplyRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	// Chat, not codes: wrong codes have a limit of their own.
	for i := range 10 {
		if out := h.reply(phoneA, "hola"); out.Result != ReplyBadFormat {
			t.Fatalf("reply %d: %+v", i, out)
		}
	}
	if out := h.reply(phoneA, "hola"); out.Result != ReplyRateLimited {
		t.Fatalf("11th reply in 10 minutes: %+v", out)
	}
	if out := h.reply(phoneB, "hola"); out.Result != ReplyBadFormat {
		t.Fatalf("the limit is per phone: %+v", out)
	}
	h.clk.Advance(10 * time.Minute)
	if out := h.reply(phoneA, "hola"); out.Result != ReplyBadFormat {
		t.Fatalf("after the window: %+v", out)
	}
}

func TestConsentOverride(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	c := h.openCase(casefile.CaseInput{
		Needs: []casefile.Need{casefile.NeedHealth, casefile.NeedPolice}, Consent: map[casefile.Need]bool{casefile.NeedHealth: true},
	})
	refer := func(override string) (Referral, error) {
		var r Referral
		err := pgx.BeginFunc(h.ctx, h.pool, func(tx pgx.Tx) (err error) {
			r, _, err = h.svc.Refer(h.ctx, tx, c.ID, casefile.NeedPolice, "cw-7", override)
			return err
		})
		return r, err
	}
	if _, err := refer(""); !errors.Is(err, ErrNoConsent) {
		t.Fatalf("no consent, no reason: %v", err)
	}
	if _, err := refer("she told me on the phone"); !errors.Is(err, ErrBadReason) {
		t.Fatalf("a prose reason must be refused: %v", err)
	}
	r, err := refer("imminent_danger")
	if err != nil || !r.Override || r.CodePhone != phonePol {
		t.Fatalf("override: %+v %v", r, err)
	}
	if ev := h.history(r.ID); ev[0].Reason != "override:imminent_danger" || ev[0].Actor != "cw-7" {
		t.Fatalf("history = %+v", ev)
	}
	var action, detail string
	err = h.pool.QueryRow(h.ctx, `SELECT action, detail FROM audit_log WHERE case_id = $1`, c.ID).Scan(&action, &detail)
	if err != nil || action != "referral.consent_override" || detail != "need=police reason=imminent_danger" {
		t.Fatalf("audit: %q %q %v", action, detail, err)
	}
	if n, _, err := audit.Verify(h.ctx, h.pool); err != nil || n != 1 {
		t.Fatalf("audit chain: %d %v", n, err)
	}
}

func TestIllegalTransitionRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	r := h.create(h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedPolice}}))[0]
	err := pgx.BeginFunc(h.ctx, h.pool, func(tx pgx.Tx) error {
		return h.svc.Transition(h.ctx, tx, r.ID, Completed, "cw-1", "done")
	})
	var te *TransitionError
	if !errors.Is(err, ErrIllegalTransition) || !errors.As(err, &te) || te.From != Pending || te.To != Completed {
		t.Fatalf("pending → completed: %v", err)
	}
	for _, to := range []Status{Acknowledged, Accepted, Completed} {
		h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, r.ID, to, "provider:x", "portal") })
	}
	if n := len(h.history(r.ID)); n != 4 {
		t.Fatalf("history has %d events", n)
	}
}

// The partial indexes of the migration and Status.Open must agree on which
// statuses are open.
func TestOpenStatusesMatchMigration(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	var def string
	if err := h.pool.QueryRow(h.ctx, `SELECT indexdef FROM pg_indexes WHERE indexname = 'referral_open_code_idx'`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	for _, s := range Statuses {
		if in := strings.Contains(def, "'"+string(s)+"'"); in != s.Open() {
			t.Errorf("%s: Open() = %v, in index predicate = %v (%s)", s, s.Open(), in, def)
		}
	}
}

func TestDemoDirectoryCoversEveryCommunityAndNeed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	// The demo runs on a database of its own (directory_one_kind).
	if _, err := h.pool.Exec(h.ctx, `DELETE FROM service; DELETE FROM organization`); err != nil {
		t.Fatal(err)
	}
	if err := LoadDirectory(h.ctx, h.pool, DemoDirectory()); err != nil {
		t.Fatal(err)
	}
	if err := LoadDirectory(h.ctx, h.pool, DemoDirectory()); err != nil {
		t.Fatalf("reloading: %v", err)
	}
	var total, demo int
	if err := h.pool.QueryRow(h.ctx, `SELECT count(*), count(*) FILTER (WHERE demo) FROM service WHERE key LIKE 'demo-%'`).Scan(&total, &demo); err != nil {
		t.Fatal(err)
	}
	if total < 10 || demo != total {
		t.Fatalf("demo services: %d, marked demo: %d", total, demo)
	}
	var kinds int
	if err := h.pool.QueryRow(h.ctx, `SELECT count(DISTINCT kind) FROM service WHERE demo`).Scan(&kinds); err != nil || kinds != 6 {
		t.Fatalf("demo directory covers %d kinds, want 6 (%v)", kinds, err)
	}
	if _, err := h.pool.Exec(h.ctx, `UPDATE service SET active = false WHERE NOT demo`); err != nil {
		t.Fatal(err)
	}
	for _, community := range []string{"El Porvenir", "La Esperanza", "Florencia de Mora"} {
		c := h.openCase(casefile.CaseInput{Community: community, Needs: casefile.Needs})
		if refs := h.create(c); len(refs) != len(casefile.Needs) {
			t.Errorf("%s on a Tuesday morning: %d of %d needs routed", community, len(refs), len(casefile.Needs))
		}
	}
}

func TestLoadDirectoryRejectsBadEntries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	for name, body := range map[string]string{
		"kind":  `{"organizations":[{"key":"o","name":"O","services":[{"key":"s","name":"S","kind":"spa","needs":["health"],"communities":["x"],"hours":"always","capacity":1,"duty_phone":"+51900000999","ack_minutes":{"urgent":1,"routine":1}}]}]}`,
		"phone": `{"organizations":[{"key":"o","name":"O","services":[{"key":"s","name":"S","kind":"police","needs":["police"],"communities":["x"],"hours":"always","capacity":1,"duty_phone":"12","ack_minutes":{"urgent":1,"routine":1}}]}]}`,
		"next":  `{"organizations":[{"key":"o","name":"O","services":[{"key":"s","name":"S","kind":"police","needs":["police"],"communities":["x"],"hours":"always","capacity":1,"duty_phone":"+51900000999","ack_minutes":{"urgent":1,"routine":1},"next":"nope"}]}]}`,
		"hours": `{"organizations":[{"key":"o","name":"O","services":[{"key":"s","name":"S","kind":"police","needs":["police"],"communities":["x"],"hours":{"mon":["8-20"]},"capacity":1,"duty_phone":"+51900000999","ack_minutes":{"urgent":1,"routine":1}}]}]}`,
	} {
		err := pgx.BeginFunc(h.ctx, h.pool, func(tx pgx.Tx) error { return LoadDirectory(h.ctx, tx, strings.NewReader(body)) })
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// With nobody on the roster, alerts go to the fallback duty phones rather
// than to no one; a rostered role still comes first.
func TestEmptyRosterAlertsFallbackDuty(t *testing.T) {
	t.Parallel()
	const fallback = "+51900000999"
	h := newHarness(t, testDirectory)
	duty := roster.New(h.clk, []string{fallback})
	svc := New(h.pool, h.cases, h.inserter, h.rec, h.clk, WithRoster(duty))
	dutyPhones := func() []string {
		t.Helper()
		phones, _, err := duty.Duty(h.ctx, h.pool, roster.Counsellor, roster.Supervisor)
		if err != nil {
			t.Fatal(err)
		}
		return phones
	}
	if got := dutyPhones(); !slices.Equal(got, []string{fallback}) {
		t.Fatalf("empty roster: duty phones %v, want the fallback", got)
	}

	c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth}})
	r := h.create(c)[0]
	h.inTx(func(tx pgx.Tx) error { return svc.NoticeFailed(h.ctx, tx, r.ID) })
	if _, alerts := h.rec.snapshot(); len(alerts) != 1 || alerts[0] != (roster.Alert{Phone: fallback, Kind: roster.AlertEscalated, CaseID: c.ID, Reference: c.Reference}) {
		t.Fatalf("alerts = %+v; want the escalation at the fallback phone", alerts)
	}
	// No supervisor owns it: it is a caseworker task as well.
	if f := h.followUps(c.ID); len(f) != 1 || f[0].Kind != casefile.FollowUpEscalated {
		t.Fatalf("follow-ups = %+v; want the escalation task", f)
	}

	h.onCall(roster.Supervisor, phoneSup)
	if got := dutyPhones(); !slices.Equal(got, []string{phoneSup}) {
		t.Fatalf("supervisor on call: duty phones %v", got)
	}
	h.onCall(roster.Counsellor, phoneCou)
	if got := dutyPhones(); !slices.Equal(got, []string{phoneCou}) {
		t.Fatalf("counsellor on call: duty phones %v", got)
	}
}

// A referral whose acknowledge-by time passed a minute ago without its
// escalation is counted as stalled; once escalated it is not.
func TestStatsCountStalledReferrals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	stats := func() Stats {
		t.Helper()
		st, err := h.svc.Stats(h.ctx, h.pool)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	c := h.openCase(casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedHealth}})
	r := h.create(c)[0]
	h.dispatch(r.ID)
	if st := stats(); st.Open[Notified] != 1 || st.Open[Pending] != 0 || st.AckStalled != 0 {
		t.Fatalf("just notified: %+v", st)
	}
	h.clk.Set(r.AckBy.Add(stallGrace - time.Second))
	if st := stats(); st.AckStalled != 0 {
		t.Fatalf("within the grace: %+v", st)
	}
	h.clk.Set(r.AckBy.Add(stallGrace + time.Second))
	if st := stats(); st.AckStalled != 1 {
		t.Fatalf("a minute past acknowledge-by with no escalation: %+v; want 1 stalled", st)
	}
	h.ackDeadline(r.ID)
	if st := stats(); st.AckStalled != 0 || st.Open[Notified] != 0 || st.Open[Pending] != 1 {
		t.Fatalf("after the escalation: %+v; want its successor pending, nothing stalled", st)
	}
}
