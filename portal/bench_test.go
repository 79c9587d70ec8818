package portal

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/casefile"
)

// seedScale fills the database with benchScale cases (contacts, cases,
// follow-ups) and three referrals per case, in plain SQL: only the
// plaintext columns the desk reads matter, so sealed columns hold filler.
// About 80 % of cases are open, 2 % urgent, 5 % inside a clinical window,
// a fifth of the referrals are open and some of those past acknowledge-by.
const benchScale = 100_000

func (e *env) seedScale(b *testing.B, cw User) {
	b.Helper()
	e.directory()
	now := e.clk.Now()
	steps := []string{
		`INSERT INTO contact (id, phone_index, index_key_id, kek_id, wrapped_dek, phone_sealed, created_at)
		 SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, decode(md5(i::text), 'hex'), 'idx',
			'kek', decode(md5('k' || i), 'hex'), decode(md5('p' || i), 'hex'), $1::timestamptz - i * interval '1 minute'
		 FROM generate_series(1, $2::int) i`,
		`INSERT INTO case_file (id, reference, contact_id, status, urgent, needs, consented_needs, community, may_text, may_call,
			contact_from_hour, contact_to_hour, lang, pep_deadline, ec_deadline, created_at, assigned_to)
		 SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, 'AMP-' || upper(lpad(to_hex(i), 6, '0')),
			('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
			CASE WHEN i % 5 = 0 THEN 'closed' ELSE 'open' END, i % 50 = 0, '{health,police,legal}', '{health,police,legal}',
			(ARRAY['el-porvenir', 'la-esperanza', 'florencia-de-mora'])[i % 3 + 1], true, false, 9, 18, 'es',
			CASE WHEN i % 20 = 1 THEN $1::timestamptz + (i % 72) * interval '1 hour' END,
			CASE WHEN i % 20 = 1 THEN $1::timestamptz + (i % 72 + 48) * interval '1 hour' END,
			$1::timestamptz - i * interval '1 minute', CASE WHEN i % 7 = 0 THEN $3::uuid END
		 FROM generate_series(1, $2::int) i`,
		`INSERT INTO follow_up (id, case_id, kind, due_at, urgent, status, created_at)
		 SELECT gen_random_uuid(), ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid,
			CASE WHEN i % 97 = 0 THEN 'callback' ELSE 'check_in' END, $1::timestamptz + (i % 500 - 100) * interval '1 hour',
			false, CASE WHEN i % 3 = 0 THEN 'done' ELSE 'open' END, $1::timestamptz
		 FROM generate_series(1, $2::int) i`,
		`INSERT INTO referral (id, case_id, service_id, need, status, urgent, ack_by, reply_code, code_phone, created_at, updated_at)
		 SELECT gen_random_uuid(), ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, s.id, n.need,
			CASE WHEN i % 5 = 0 AND n.need = 'health' THEN 'notified' ELSE 'completed' END, false,
			$1::timestamptz + ((i % 48) - 24) * interval '1 hour', lpad((1000 + i % 9000)::text, 4, '0'), '+518' || lpad(i::text, 9, '0'),
			$1::timestamptz - i * interval '1 minute', $1::timestamptz
		 FROM generate_series(1, $2::int) i
		 CROSS JOIN (VALUES ('health'), ('police'), ('legal')) n(need)
		 JOIN service s ON s.key = CASE n.need WHEN 'police' THEN 'pol' ELSE 'hp' END`,
		`ANALYZE`,
	}
	for _, q := range steps {
		var args []any
		switch {
		case strings.Contains(q, "$3"):
			args = []any{now, benchScale, cw.ID}
		case strings.Contains(q, "$1"):
			args = []any{now, benchScale}
		}
		if _, err := e.p.pool.Exec(e.ctx, q, args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
}

// p95 reports the 95th percentile of the request times.
func p95(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkDeskPage: the caseworker's desk over 100,000 cases and 300,000
// referrals, through HTTP (TLS, session, policy, query, template). The
// time is measured at the client, so it includes the round trip.
func BenchmarkDeskPage(b *testing.B) {
	e := newEnv(b)
	cw := e.user("cw", RoleCaseworker)
	e.seedScale(b, cw)
	br := e.browser()
	br.signIn("cw")
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		p := br.get("/desk")
		times = append(times, time.Since(start))
		if p.status != http.StatusOK {
			b.Fatalf("desk: %d", p.status)
		}
	}
	p95(b, times)
}

// BenchmarkCasePage: opening one case (decrypting it, its notes and
// follow-ups, appending the audit row) among those 100,000 cases.
func BenchmarkCasePage(b *testing.B) {
	e := newEnv(b)
	cw := e.user("cw", RoleCaseworker)
	e.seedScale(b, cw)
	c := e.caseIn("el-porvenir", true)
	e.assign(c, cw)
	for range 5 {
		if _, err := e.cases.AddNote(e.ctx, e.p.pool, c.ID, cw.ID.String(), "nota de prueba para medir"); err != nil {
			b.Fatal(err)
		}
	}
	e.followUp(c, "check_in", e.clk.Now().Add(time.Hour), false)
	e.referral(c, casefile.NeedPolice) // the seeded health posts are full
	br := e.browser()
	br.signIn("cw")
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		p := br.get("/cases/" + c.ID.String())
		times = append(times, time.Since(start))
		if p.status != http.StatusOK {
			b.Fatalf("case: %d", p.status)
		}
	}
	p95(b, times)
}

// BenchmarkDeskQuery is the desk's two queries alone (referral's stalled
// cases, then casefile.Desk), to tell query time from the page's other work.
func BenchmarkDeskQuery(b *testing.B) {
	e := newEnv(b)
	cw := e.user("cw", RoleCaseworker)
	e.seedScale(b, cw)
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		stalled, err := e.refs.StalledCases(e.ctx, e.p.pool, stalledShown)
		if err != nil {
			b.Fatal(err)
		}
		items, err := e.cases.Desk(e.ctx, e.p.pool, casefile.DeskFilter{Now: e.clk.Now(), Viewer: cw.ID, Stalled: stalled, Limit: deskSize})
		times = append(times, time.Since(start))
		if err != nil || len(items) != deskSize {
			b.Fatalf("desk: %d items, %v", len(items), err)
		}
	}
	p95(b, times)
}

// BenchmarkProviderInbox: a provider's inbox among the same 100,000 cases
// and 300,000 referrals, through HTTP. "clinic" is an organisation of
// realistic size, holding one in twenty-five of the health referrals (about
// 4,000, some 800 open); "org" holds all the rest, some 19,000 open, as a
// worst case no real provider has.
func BenchmarkProviderInbox(b *testing.B) {
	e := newEnv(b)
	cw := e.user("cw", RoleCaseworker)
	e.seedScale(b, cw)
	e.user("prov", RoleProvider)
	_, err := e.pool.Exec(e.ctx, `
		WITH o AS (INSERT INTO organization (key, name) VALUES ('clinic', 'Clínica') RETURNING id),
		s AS (INSERT INTO service (key, organization_id, name, kind, needs, communities, hours, capacity, duty_phone,
			ack_urgent_min, ack_routine_min)
			SELECT 'clinic-hp', o.id, 'Clínica', 'health_post', '{health}', '{*}', '"always"', 5000, '+51900000908', 15, 120
			FROM o RETURNING id)
		UPDATE referral SET service_id = s.id FROM s WHERE referral.need = 'health' AND abs(hashtext(referral.id::text)) % 25 = 0`)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.pool.Exec(e.ctx, `ANALYZE referral`); err != nil {
		b.Fatal(err)
	}
	e.providerOf("clinician", "clinic")
	for _, user := range []string{"clinician", "prov"} {
		b.Run(user, func(b *testing.B) {
			br := e.browser()
			br.signIn(user)
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				p := br.get("/inbox")
				times = append(times, time.Since(start))
				if p.status != http.StatusOK || !strings.Contains(p.body, `data-status="notified"`) {
					b.Fatalf("inbox: %d", p.status)
				}
			}
			p95(b, times)
		})
	}
	// The query alone (referral.Inbox), to tell it from the page's other work.
	b.Run("clinic-query", func(b *testing.B) {
		var times []time.Duration
		for b.Loop() {
			start := time.Now()
			items, err := e.refs.Inbox(e.ctx, e.pool, "clinic")
			times = append(times, time.Since(start))
			if err != nil || len(items) == 0 {
				b.Fatalf("inbox: %d items, %v", len(items), err)
			}
		}
		p95(b, times)
	})
}
