package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/amparo/amparo/internal/pglocal"
	"github.com/amparo/amparo/internal/pgtest"
	"github.com/amparo/amparo/referral"
)

// failoverEnv opts in to TestFailover: `make failover-test` sets it. It
// builds two durable clusters and takes a minute, so `make test` leaves it
// out; its figures are in bench/README.md.
const failoverEnv = "AMPARO_FAILOVER_TEST"

// TestFailover runs serve on a multi-host DATABASE_URL
// (target_session_attrs=read-write) against a primary with a synchronous
// standby, both durable. Under signed webhook load, with referrals whose
// acknowledge-by deadline falls during the outage, the primary is stopped
// the hard way (immediate: no checkpoint) and the standby promoted. Then:
//   - every message answered 200 is in the promoted database;
//   - the same serve process answers again, without a restart;
//   - the referrals due during the outage escalate after the promotion.
//
// It reports messages lost, seconds of non-200 answers and escalation
// lateness after the promotion.
func TestFailover(t *testing.T) {
	if os.Getenv(failoverEnv) == "" {
		t.Skipf("set %s=1 (make failover-test) to run the replication failover test", failoverEnv)
	}
	pgtest.AdminURL(t)
	bin := buildAmparo(t)
	ctx := context.Background()

	r := newBareRig(t, bin)
	r.startPrimary(pglocal.Options{Dir: r.pgDir, Durable: true, Settings: []string{"synchronous_standby_names=standby1"}})
	standby, err := pglocal.StartStandby(ctx, r.cluster, "standby1", pglocal.Options{Dir: filepath.Join(filepath.Dir(r.pgDir), "standby"), Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { standby.Stop() })
	r.ports = append(r.ports, standby.Port)
	r.configure()

	pool := r.db()
	waitFor(t, r, 30*time.Second, "the standby streams synchronously", func() bool {
		var state string
		err := pool.QueryRow(ctx, `SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'`).Scan(&state)
		return err == nil && state == "sync"
	})
	r.start()
	if err := referral.LoadDirectory(ctx, pool, referral.DemoDirectory()); err != nil {
		t.Fatal(err)
	}
	const supervisor = "+51900000999"
	if _, err := pool.Exec(ctx, `INSERT INTO on_call (role, phone, starts_at, ends_at)
		VALUES ('supervisor', $1, now() - interval '1 hour', now() + interval '1 day')`, supervisor); err != nil {
		t.Fatal(err)
	}
	const cem = "+51900000301" // next in the police's chain: open always

	ref := r.reference(append(slices.Clone(faultScript), faultProbe))
	survivors := r.referToPolice(3, 500)

	callers := newCallers(faultCallers, faultScript, 300)
	total := faultCallers * len(faultScript)
	var (
		outage                     sync.WaitGroup
		once                       sync.Once
		crashedAt, promotedAt      time.Time
		mu                         sync.Mutex
		firstFailure, lastFailure  time.Time
		failures, answersAfterDown int
	)
	outage.Add(1)
	onAck := func(n int64) {
		if n != int64(total/4) {
			return
		}
		once.Do(func() {
			// The deadlines fall during the outage.
			tag, err := pool.Exec(ctx, `WITH moved AS (
					UPDATE referral SET ack_by = now() + interval '1 second' WHERE status = 'notified' RETURNING id, ack_by)
				UPDATE river_job j SET scheduled_at = moved.ack_by FROM moved
				WHERE j.kind = 'referral.ack_deadline' AND j.args->>'referral_id' = moved.id::text AND j.state = 'scheduled'`)
			if err != nil || tag.RowsAffected() != 3 {
				t.Errorf("moving the deadlines: %d jobs moved, err %v; want 3", tag.RowsAffected(), err)
			}
			go func() {
				defer outage.Done()
				crashedAt = time.Now()
				if err := r.cluster.Crash(); err != nil {
					t.Errorf("crash the primary: %v", err)
					return
				}
				r.pgUp = false
				time.Sleep(2 * time.Second) // the failure detector's share of a real failover
				if err := standby.Promote(ctx); err != nil {
					t.Errorf("promote the standby: %v", err)
				}
				promotedAt = time.Now()
			}()
		})
	}
	r.load(callers, retryUntil, time.Now().Add(90*time.Second), onAck, func(w *webhook) {
		mu.Lock()
		defer mu.Unlock()
		if w.status == http.StatusOK && w.err == nil {
			if !crashedAt.IsZero() {
				answersAfterDown++
			}
			return
		}
		now := time.Now()
		if firstFailure.IsZero() {
			firstFailure = now
		}
		lastFailure = now
		failures++
	})
	once.Do(func() { outage.Done() }) // if the load never got that far
	outage.Wait()
	if crashedAt.IsZero() || promotedAt.IsZero() {
		t.Fatal("the load ended before the failover happened")
	}
	if r.srv.exited() {
		t.Fatalf("serve exited during the failover (%v)", r.srv.err)
	}

	// Lost: a webhook answered 200 whose MessageSid the promoted database
	// does not hold. Read before anything is redelivered.
	rows := r.committed()
	lost := 0
	for _, msgs := range append(slices.Clone(callers), survivors...) {
		for _, w := range msgs {
			if _, ok := rows[w.sid]; w.ackedAt > 0 && !ok {
				lost++
				t.Errorf("%s message %d answered 200 but is not in the promoted database", w.from, w.seq)
			}
		}
	}

	waitFor(t, r, 30*time.Second, "the referrals due during the outage escalate", func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM referral WHERE status = 'escalated'`).Scan(&n)
		return err == nil && n == 3
	})
	var lastEscalated time.Time
	if err := pool.QueryRow(ctx, `SELECT max(at) FROM referral_event WHERE to_status = 'escalated'`).Scan(&lastEscalated); err != nil {
		t.Fatal(err)
	}
	lateness := lastEscalated.Sub(promotedAt)
	if lateness > 6*time.Second {
		t.Errorf("escalations fired %s after the promotion; DESIGN §8 wants 6 s", lateness.Round(time.Millisecond))
	}
	waitFor(t, r, 15*time.Second, "the CEM and the supervisor are told", func() bool {
		return r.sim.Calls(cem) >= 3 && r.sim.Calls(supervisor) >= 3
	})

	r.redeliverAll(callers, ref)
	r.checkExactlyOnce(append(callers, survivors...), len(ref))

	unavailable := time.Duration(0)
	if failures > 0 {
		unavailable = lastFailure.Sub(firstFailure)
	}
	t.Logf("failover: primary crashed, standby promoted %s later; %d webhooks answered 200 afterwards by the same process",
		promotedAt.Sub(crashedAt).Round(time.Millisecond), answersAfterDown)
	t.Logf("FIGURES lost=%d non200_answers=%d non200_window=%s escalation_after_promotion=%s",
		lost, failures, unavailable.Round(100*time.Millisecond), lateness.Round(time.Millisecond))
}
