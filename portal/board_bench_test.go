package portal

import (
	"net/http"
	"testing"
	"time"

	"github.com/amparo/amparo/referral"
)

// seedOpenReferrals makes one referral of each seeded case (the health
// one) open, spread over the four open states and their clocks: 100,000
// open referrals in all, a quarter of them past their deadline.
func (e *env) seedOpenReferrals(b *testing.B) {
	b.Helper()
	for _, q := range []string{
		`UPDATE referral r SET status = (ARRAY['pending', 'notified', 'acknowledged', 'accepted'])[1 + abs(hashtext(r.id::text)) % 4],
			community = lower(c.community), ack_by = $1::timestamptz + ((abs(hashtext(r.id::text)) % 480) - 120) * interval '1 minute',
			serve_by = CASE WHEN abs(hashtext(r.case_id::text)) % 3 > 0 THEN $1::timestamptz + ((abs(hashtext(r.case_id::text)) % 96) - 24) * interval '1 hour' END
		 FROM case_file c WHERE c.id = r.case_id AND r.need = 'health'`,
		`VACUUM ANALYZE referral`,
	} {
		var args []any
		if q[0] == 'U' {
			args = []any{e.clk.Now()}
		}
		if _, err := e.p.pool.Exec(e.ctx, q, args...); err != nil {
			b.Fatalf("seed open referrals: %v", err)
		}
	}
}

// BenchmarkBoardPage: the SLA board over 100,000 open referrals (and
// 200,000 closed ones), through HTTP (TLS, session, policy, queries,
// template), measured at the client.
func BenchmarkBoardPage(b *testing.B) {
	e := newEnv(b)
	sup := e.user("sup", RoleSupervisor)
	e.seedScale(b, sup)
	e.seedOpenReferrals(b)
	br := e.browser()
	br.signIn("sup")
	for _, path := range []string{"/board", "/board?partial=1", "/board?community=la-esperanza&need=health"} {
		b.Run(path, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				p := br.get(path)
				times = append(times, time.Since(start))
				if p.status != http.StatusOK {
					b.Fatalf("board: %d", p.status)
				}
			}
			p95(b, times)
		})
	}
}

// BenchmarkBoardQuery is referral.Board alone, to tell query time from the
// page's other work.
func BenchmarkBoardQuery(b *testing.B) {
	e := newEnv(b)
	sup := e.user("sup", RoleSupervisor)
	e.seedScale(b, sup)
	e.seedOpenReferrals(b)
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		board, err := e.refs.Board(e.ctx, e.p.pool, referral.BoardFilter{PerState: boardPerState})
		times = append(times, time.Since(start))
		n := 0
		for _, c := range board.Count {
			n += c
		}
		if err != nil || n != benchScale {
			b.Fatalf("board: %d open, %v", n, err)
		}
	}
	p95(b, times)
}
