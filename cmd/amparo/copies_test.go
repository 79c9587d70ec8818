package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/hotline"
	"github.com/amparo/amparo/internal/pgtest"
	"github.com/amparo/amparo/referral"
)

// TestTwoCopies runs the deployment the README describes: two copies of
// serve behind a load balancer, on one database, as the least-privileged
// role. Under signed webhook load, with referrals whose acknowledge-by
// deadline falls just after, one copy is SIGKILLed. What must hold:
//   - no inbound message handled twice, none lost (as in TestFault);
//   - no provider notice or staff alert sent twice;
//   - the escalations still fire within DESIGN §8's 6 s of their deadline;
//   - River's maintenance stays single: one leader at a time, and its
//     start-of-term periodic jobs enqueued once per term, not once per copy.
func TestTwoCopies(t *testing.T) {
	pgtest.AdminURL(t) // the same rule as every database test: never skip silently in CI
	bin := buildAmparo(t)
	began := time.Now()
	r := newRig(t, bin)
	lb := startBalancer(t, r.addr, freeAddr(t), freeAddr(t))
	// Copy A starts alone, so River's leader is A: the copy killed below is
	// the one running maintenance.
	copyA := r.startCopy(lb.backends[0])
	leaders := watchLeaders(t, r)
	waitFor(t, r, 30*time.Second, "copy A becomes River's leader", func() bool { return len(leaders.seen()) == 1 })
	copyB := r.startCopy(lb.backends[1])

	ctx := context.Background()
	pool := r.db()
	if err := referral.LoadDirectory(ctx, pool, referral.DemoDirectory()); err != nil {
		t.Fatal(err)
	}
	const supervisor = "+51900000999"
	if _, err := pool.Exec(ctx, `INSERT INTO on_call (role, phone, starts_at, ends_at)
		VALUES ('supervisor', $1, now() - interval '1 hour', now() + interval '1 day')`, supervisor); err != nil {
		t.Fatal(err)
	}
	const (
		police = "+51900000201" // demo-comisaria-el-porvenir: open always
		cem    = "+51900000301" // demo-cem-el-porvenir, next in its chain: open always
	)

	// Three survivors finish the intake through the balancer, so each copy
	// serves some of their steps; each gets a police referral.
	ref := r.reference(append(slices.Clone(faultScript), faultProbe))
	survivors := r.referToPolice(3, 500)

	// The load; a third of the way through, copy A is killed and the three
	// referrals' acknowledge-by deadline falls, as if it had passed then.
	callers := newCallers(faultCallers, faultScript, 200)
	total := faultCallers * len(faultScript)
	var killed sync.Once
	r.load(callers, retryUntil, time.Now().Add(time.Minute), func(n int64) {
		if n != int64(total/3) {
			return
		}
		killed.Do(func() {
			r.killCopy(copyA)
			tag, err := pool.Exec(ctx, `WITH moved AS (
					UPDATE referral SET ack_by = now() WHERE status = 'notified' RETURNING id, ack_by)
				UPDATE river_job j SET scheduled_at = moved.ack_by FROM moved
				WHERE j.kind = 'referral.ack_deadline' AND j.args->>'referral_id' = moved.id::text AND j.state = 'scheduled'`)
			if err != nil || tag.RowsAffected() != 3 {
				t.Errorf("moving the deadlines: %d jobs moved, err %v; want 3", tag.RowsAffected(), err)
			}
		})
	}, nil)
	if !copyA.exited() {
		t.Fatal("the load ended before copy A was killed")
	}
	if copyB.exited() {
		t.Fatalf("copy B exited (%v); log:\n%s", copyB.err, r.logTail(8000))
	}

	waitFor(t, r, 30*time.Second, "the three referrals escalate", func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM referral WHERE status = 'escalated'`).Scan(&n)
		return err == nil && n == 3
	})
	var lateSeconds float64
	if err := pool.QueryRow(ctx, `SELECT extract(epoch FROM max(e.at - r.ack_by)) FROM referral_event e
		JOIN referral r ON r.id = e.referral_id WHERE e.to_status = 'escalated'`).Scan(&lateSeconds); err != nil {
		t.Fatal(err)
	}
	late := time.Duration(lateSeconds * float64(time.Second))
	t.Logf("escalations fired %s after their deadline, copy A dead since then", late.Round(time.Millisecond))
	if late > 6*time.Second {
		t.Errorf("escalation fired %s after its deadline with one copy down; DESIGN §8 wants 6 s", late.Round(time.Millisecond))
	}

	r.redeliverAll(callers, ref)
	r.checkExactlyOnce(append(callers, survivors...), len(ref))

	// Nothing sent twice: one notice per referral to each provider (and
	// to police, once its requests escalated, one passed-on text each),
	// one alert per escalated case to the supervisor.
	waitFor(t, r, 15*time.Second, "the CEM, the supervisor and the police are told", func() bool {
		return r.sim.Calls(cem) >= 3 && r.sim.Calls(supervisor) >= 3 && r.sim.Calls(police) >= 6
	})
	time.Sleep(time.Second)
	r.sim.Settle()
	for number, want := range map[string]int{police: 6, cem: 3, supervisor: 3} {
		if n := r.sim.Calls(number); n != want {
			t.Errorf("%s was sent %d texts, want %d: %q", number, n, want, bodies(r.sim.Thread(number)))
		}
	}

	// River hands leadership over once the dead leader's lease runs out.
	waitFor(t, r, 40*time.Second, "copy B takes over River's leadership", func() bool { return len(leaders.seen()) == 2 })
	terms := leaders.stop()
	for _, kind := range []string{hotline.ExpireArgs{}.Kind(), hotline.ShredMessagesArgs{}.Kind(), audit.AnchorArgs{}.Kind()} {
		// River staggers its maintenance services' start by a random delay.
		var n int
		waitFor(t, r, 30*time.Second, "the leader enqueues "+kind, func() bool {
			return pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1`, kind).Scan(&n) == nil && n > 0
		})
		// RunOnStart: each term of leadership enqueues it once; two copies
		// both running maintenance would enqueue it twice per term.
		if n > len(terms) {
			t.Errorf("%d %s jobs over %d leadership terms; want one per term", n, kind, len(terms))
		}
	}
	t.Logf("leadership terms seen: %d; total %s", len(terms), time.Since(began).Round(time.Millisecond))
}

// balancer stands for the load balancer in front of the copies: round
// robin, skipping a copy that refuses connections as a health-checked
// balancer would. A request cut off inside a copy is answered 502, and the
// caller redelivers, as Twilio does.
type balancer struct {
	backends []string // host:port of each copy
	next     atomic.Uint64
	client   *http.Client
}

func startBalancer(t *testing.T, addr string, backends ...string) *balancer {
	t.Helper()
	b := &balancer{backends: backends, client: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: faultWorkers, DisableCompression: true},
	}}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return b
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	first := b.next.Add(1)
	for i := range len(b.backends) {
		backend := b.backends[(int(first)+i)%len(b.backends)]
		out, err := http.NewRequest(req.Method, "http://"+backend+req.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, "proxy", http.StatusBadGateway)
			return
		}
		out.Header = req.Header.Clone()
		res, err := b.client.Do(out)
		if errors.Is(err, syscall.ECONNREFUSED) {
			continue
		}
		if err != nil {
			http.Error(w, "upstream cut off", http.StatusBadGateway)
			return
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		io.Copy(w, res.Body)
		res.Body.Close()
		return
	}
	http.Error(w, "no copy up", http.StatusBadGateway)
}

// leaderWatch samples River's leader while the test runs.
type leaderWatch struct {
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	terms []string // distinct leader ids, in the order seen
}

func watchLeaders(t *testing.T, r *rig) *leaderWatch {
	pool := r.db()
	w := &leaderWatch{done: make(chan struct{})}
	w.wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			var ids []string
			rows, err := pool.Query(context.Background(), `SELECT leader_id FROM river_leader`)
			if err == nil {
				for rows.Next() {
					var id string
					if rows.Scan(&id) == nil {
						ids = append(ids, id)
					}
				}
				rows.Close()
			}
			if len(ids) > 1 {
				t.Errorf("%d River leaders at once: %q", len(ids), ids)
			}
			w.mu.Lock()
			for _, id := range ids {
				if !slices.Contains(w.terms, id) {
					w.terms = append(w.terms, id)
				}
			}
			w.mu.Unlock()
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
		}
	})
	t.Cleanup(func() { w.stop() })
	return w
}

func (w *leaderWatch) stop() []string {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	w.wg.Wait()
	return w.seen()
}

func (w *leaderWatch) seen() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.terms)
}
