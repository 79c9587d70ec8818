package referral

import (
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/casefile"
)

// BenchmarkConsentToNotification measures, on a started River client, the
// time from CreateForCase (her consent recorded, the referral routed and
// committed) to the Notifier being asked to send the provider's SMS by the
// dispatch worker. p50/p99 are reported as metrics; "serial" has one case
// in flight, "parallel" one per GOMAXPROCS×4 goroutine.
func BenchmarkConsentToNotification(b *testing.B) {
	for _, bc := range []struct {
		name     string
		cooldown time.Duration
	}{{"river-default-cooldown", 0}, {"cooldown-10ms", 10 * time.Millisecond}} {
		b.Run(bc.name+"/serial", func(b *testing.B) { benchNotify(b, bc.cooldown, false) })
		b.Run(bc.name+"/parallel", func(b *testing.B) { benchNotify(b, bc.cooldown, true) })
	}
}

func benchNotify(b *testing.B, cooldown time.Duration, parallel bool) {
	h := newHarness(b, testDirectory)
	h.config.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 20}}
	h.config.FetchCooldown = cooldown
	h.config.Logger = slog.New(slog.DiscardHandler)
	h.config.Test = river.TestConfig{} // real time: nothing here is a deadline
	client := h.newClient()
	h.inserter.Set(client)
	if err := client.Start(h.ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Stop(h.ctx) })

	var (
		mu      sync.Mutex
		waiting = map[uuid.UUID]chan struct{}{}
		lat     []time.Duration
	)
	h.rec.onSend = func(n ProviderNotice) {
		mu.Lock()
		ch := waiting[n.ReferralID]
		mu.Unlock()
		if ch != nil {
			close(ch)
		}
	}
	one := func(c casefile.Case) {
		start := time.Now()
		var id uuid.UUID
		ch := make(chan struct{})
		err := pgx.BeginFunc(h.ctx, h.pool, func(tx pgx.Tx) error {
			refs, err := h.svc.CreateForCase(h.ctx, tx, c.ID)
			if err != nil {
				return err
			}
			id = refs[0].ID
			mu.Lock()
			waiting[id] = ch
			mu.Unlock()
			return nil
		})
		if err != nil {
			b.Error(err)
			return
		}
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			b.Error("no notification within 10 s")
			return
		}
		mu.Lock()
		lat = append(lat, time.Since(start))
		mu.Unlock()
		// Close it so the provider's capacity and reply codes never run out.
		if _, err := h.pool.Exec(h.ctx, `UPDATE referral SET status = 'completed' WHERE id = $1`, id); err != nil {
			b.Error(err)
		}
	}
	police := casefile.CaseInput{Needs: []casefile.Need{casefile.NeedPolice}}
	// Warm up: leader election and the first fetches are start-up costs.
	for range 3 {
		one(h.openCase(police))
	}
	lat = lat[:0]
	b.ResetTimer()
	if parallel {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				one(h.openCase(police))
			}
		})
	} else {
		for b.Loop() {
			b.StopTimer()
			c := h.openCase(police)
			b.StartTimer()
			one(c)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
