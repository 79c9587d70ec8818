package hotline

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amparo/amparo/sms/carrier"
)

// BenchmarkWebhookSMS measures the full inbound path as Twilio drives it:
// HTTP, signature check, decrypt, triage step, seal, one commit, TwiML.
// Parallel clients each play a caller through the first triage steps, so
// every request reads and writes a live sealed conversation. Reports
// requests per second and the 99th-percentile latency.
func BenchmarkWebhookSMS(b *testing.B) {
	e := newEnv(b, false)
	e.h.log = discardLogger()
	script := []string{"Hola", "2", "1", "3", "1", "AYUDA", "1"}
	var (
		callers atomic.Int64
		mu      sync.Mutex
		lat     []time.Duration
	)
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 256
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		var phone *carrier.Phone
		i := 0
		for pb.Next() {
			if i%len(script) == 0 {
				phone = e.sim.Phone(fmt.Sprintf("+51987%06d", callers.Add(1)))
			}
			t0 := time.Now()
			if _, err := phone.Text(script[i%len(script)]); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
			i++
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
