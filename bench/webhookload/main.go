// Command webhookload drives a running `amparo serve` or `amparo demo` with
// inbound-SMS webhooks signed exactly as Twilio signs them, and reports
// throughput, latency percentiles, errors by status and, given -pid, the
// server's peak resident memory.
//
// It starts nothing: point it at a server by URL. N concurrent callers each
// play a short triage (by default Hola, 2, 1, 3, 1, AYUDA, 1) from a fresh
// phone number, every message under a unique MessageSid, until -n requests
// have been sent or -d has passed, whichever comes first. It refuses any
// target that is not on the loopback interface.
//
//	go run ./bench/webhookload -url http://127.0.0.1:8080 -token $TWILIO_AUTH_TOKEN \
//	    -account $TWILIO_ACCOUNT_SID -to $TWILIO_FROM_NUMBER -c 8 -d 10s -pid $(pgrep -n amparo)
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/amparo/amparo/sms/carrier"
)

type options struct {
	target    *url.URL // where requests go
	signURL   string   // AMPARO_PUBLIC_URL + /twilio/sms: what the signature covers
	token     string
	account   string
	to        string
	callers   int
	max       int64
	duration  time.Duration
	timeout   time.Duration
	pid       int
	script    []string
	numberMin uint64
}

func main() {
	var (
		rawURL  = flag.String("url", "http://127.0.0.1:8080", "base URL of the running server (loopback only)")
		public  = flag.String("public-url", "", "the server's AMPARO_PUBLIC_URL, which signatures cover; default -url")
		token   = flag.String("token", os.Getenv("TWILIO_AUTH_TOKEN"), "Twilio auth token the server checks signatures with (default $TWILIO_AUTH_TOKEN)")
		account = flag.String("account", envOr("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"), "AccountSid sent in each webhook (default $TWILIO_ACCOUNT_SID)")
		to      = flag.String("to", envOr("TWILIO_FROM_NUMBER", "+51044000100"), "the hotline number, sent as To (default $TWILIO_FROM_NUMBER)")
		callers = flag.Int("c", 8, "concurrent callers")
		n       = flag.Int64("n", 100000, "stop after this many requests")
		dur     = flag.Duration("d", 10*time.Second, "stop after this long")
		timeout = flag.Duration("timeout", 10*time.Second, "per-request timeout")
		pid     = flag.Int("pid", 0, "server process id: sample its VmRSS/VmHWM from /proc while running")
		script  = flag.String("script", "Hola,2,1,3,1,AYUDA,1", "comma-separated messages each caller sends, in order, before a new caller takes her place")
	)
	flag.Parse()
	target, err := url.Parse(strings.TrimSuffix(*rawURL, "/"))
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		fatalf("-url must be an absolute http(s) URL")
	}
	if err := loopbackOnly(target.Hostname()); err != nil {
		fatalf("%v", err)
	}
	if *token == "" {
		fatalf("-token (or TWILIO_AUTH_TOKEN) is required: the server's TWILIO_AUTH_TOKEN")
	}
	if *callers < 1 || *n < 1 || *dur <= 0 {
		fatalf("-c, -n and -d must be positive")
	}
	sign := strings.TrimSuffix(*public, "/")
	if sign == "" {
		sign = target.String()
	}
	o := options{
		target: target, signURL: sign + "/twilio/sms", token: *token, account: *account, to: *to,
		callers: *callers, max: *n, duration: *dur, timeout: *timeout, pid: *pid,
		script: strings.Split(*script, ","),
		// Peruvian mobiles are +51 9 and eight digits; a random start keeps
		// runs against the same database from meeting earlier callers.
		numberMin: randUint64() % 50_000_000,
	}
	r := run(o)
	r.print(os.Stdout, o)
	if r.ok == 0 {
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "webhookload: "+format+"\n", args...)
	os.Exit(2)
}

// loopbackOnly refuses a host that resolves to anything but loopback: this
// tool floods what it points at.
func loopbackOnly(host string) error {
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("cannot resolve %q", host)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("refusing non-loopback target %s (%s)", host, ip)
		}
	}
	return nil
}

func randUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

type result struct {
	elapsed  time.Duration
	ok       int64
	lat      []time.Duration // every completed request, ok or not
	byStatus map[string]int64
	empty    int64         // 200 answers without a <Message>
	rssPeak  int64         // kB, highest VmRSS sampled
	hwm      int64         // kB, VmHWM at the end (peak since the server started)
	rssStart int64         // kB, VmRSS before the load
	cpu      time.Duration // server user+system CPU time spent during the load
	memErr   error
}

func run(o options) *result {
	// The deadline stops new requests; those in flight finish (bounded by
	// -timeout), so the server is not left with cancelled transactions.
	deadline := time.Now().Add(o.duration)
	ctx := context.Background()
	tr := &http.Transport{
		MaxIdleConns: o.callers, MaxIdleConnsPerHost: o.callers, MaxConnsPerHost: o.callers,
		DisableCompression: true, IdleConnTimeout: 30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: o.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	r := &result{byStatus: map[string]int64{}}
	var memWG sync.WaitGroup
	memDone := make(chan struct{})
	if o.pid > 0 {
		rss, _, err := readMem(o.pid)
		if err != nil {
			fatalf("-pid %d: %v", o.pid, err)
		}
		r.rssStart, r.rssPeak = rss, rss
		cpu0, _ := readCPU(o.pid)
		defer func() {
			if cpu1, err := readCPU(o.pid); err == nil {
				r.cpu = cpu1 - cpu0
			}
		}()
		memWG.Add(1)
		go func() {
			defer memWG.Done()
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-memDone:
					return
				case <-t.C:
				}
				rss, hwm, err := readMem(o.pid)
				if err != nil {
					r.memErr = err
					return
				}
				r.rssPeak = max(r.rssPeak, rss)
				r.hwm = hwm
			}
		}()
	}

	var (
		sent    atomic.Int64
		callers atomic.Uint64
		mu      sync.Mutex
		wg      sync.WaitGroup
	)
	start := time.Now()
	for range o.callers {
		wg.Go(func() {
			var (
				lat    = make([]time.Duration, 0, 1024)
				status = map[string]int64{}
				ok     int64
				empty  int64
				from   string
			)
			for i := 0; ; i++ {
				if !time.Now().Before(deadline) || sent.Add(1) > o.max {
					break
				}
				if i%len(o.script) == 0 {
					n := (o.numberMin + callers.Add(1)) % 100_000_000
					from = fmt.Sprintf("+519%08d", n)
				}
				t0 := time.Now()
				code, hasMsg, err := o.send(ctx, client, from, o.script[i%len(o.script)])
				d := time.Since(t0)
				lat = append(lat, d)
				switch {
				case err != nil:
					status["transport: "+errClass(err)]++
				case code == http.StatusOK:
					ok++
					if !hasMsg {
						empty++
					}
				default:
					status[strconv.Itoa(code)]++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			r.lat = append(r.lat, lat...)
			r.ok += ok
			r.empty += empty
			for k, v := range status {
				r.byStatus[k] += v
			}
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	close(memDone)
	memWG.Wait()
	if o.pid > 0 && r.memErr == nil {
		if rss, hwm, err := readMem(o.pid); err == nil {
			r.rssPeak, r.hwm = max(r.rssPeak, rss), hwm
		}
	}
	return r
}

// send posts one signed webhook and reports the status and whether the
// TwiML carried a reply.
func (o options) send(ctx context.Context, c *http.Client, from, body string) (int, bool, error) {
	sid := carrier.NewSID("SM")
	params := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {o.account},
		"From": {from}, "To": {o.to}, "Body": {body},
		"NumMedia": {"0"}, "NumSegments": {"1"}, "ApiVersion": {"2010-04-01"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.target.String()+"/twilio/sms", strings.NewReader(params.Encode()))
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", carrier.Sign(o.token, o.signURL, params))
	resp, err := c.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, false, err
	}
	return resp.StatusCode, strings.Contains(string(raw), "<Message>"), nil
}

func errClass(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "connection reset"):
		return "connection reset"
	}
	return "other"
}

// readCPU returns the user+system CPU time of pid from /proc/PID/stat.
func readCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(raw), ')')
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat")
	}
	return time.Duration(ut+st) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

// readMem returns VmRSS and VmHWM of pid, in kB.
func readMem(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %q", k, v)
		}
		if k == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
	}
	return rss, hwm, s.Err()
}

func (r *result) print(w io.Writer, o options) {
	slices.Sort(r.lat)
	pct := func(p float64) string {
		if len(r.lat) == 0 {
			return "-"
		}
		i := min(len(r.lat)-1, int(float64(len(r.lat))*p))
		return fmt.Sprintf("%.1f ms", float64(r.lat[i].Microseconds())/1000)
	}
	total := int64(len(r.lat))
	fmt.Fprintf(w, "webhookload: %d callers, script %q, %s against %s\n", o.callers, strings.Join(o.script, ","), r.elapsed.Round(time.Millisecond), o.target)
	fmt.Fprintf(w, "requests:    %d (%d ok, %d failed)\n", total, r.ok, total-r.ok)
	fmt.Fprintf(w, "throughput:  %.0f req/s (ok only: %.0f req/s)\n", float64(total)/r.elapsed.Seconds(), float64(r.ok)/r.elapsed.Seconds())
	fmt.Fprintf(w, "latency:     p50 %s  p95 %s  p99 %s  max %s\n", pct(0.50), pct(0.95), pct(0.99), pct(1))
	if r.empty > 0 {
		fmt.Fprintf(w, "note:        %d ok answers carried no <Message>\n", r.empty)
	}
	if len(r.byStatus) == 0 {
		fmt.Fprintln(w, "errors:      none")
	} else {
		keys := make([]string, 0, len(r.byStatus))
		for k := range r.byStatus {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprint(w, "errors:     ")
		for _, k := range keys {
			fmt.Fprintf(w, " %s×%d", k, r.byStatus[k])
		}
		fmt.Fprintln(w)
	}
	if o.pid > 0 {
		if r.memErr != nil {
			fmt.Fprintf(w, "memory:      sampling stopped: %v\n", r.memErr)
		}
		fmt.Fprintf(w, "memory:      pid %d VmRSS %.1f MB before, peak %.1f MB sampled; VmHWM %.1f MB\n",
			o.pid, float64(r.rssStart)/1024, float64(r.rssPeak)/1024, float64(r.hwm)/1024)
		if total > 0 {
			fmt.Fprintf(w, "server cpu:  %.2f s (%.0f %% of one core), %.0f µs per request\n",
				r.cpu.Seconds(), 100*r.cpu.Seconds()/r.elapsed.Seconds(), float64(r.cpu.Microseconds())/float64(total))
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil && total > 0 {
		self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		fmt.Fprintf(w, "load cpu:    %.2f s for this generator, %.0f µs per request\n", self.Seconds(), float64(self.Microseconds())/float64(total))
	}
	// One machine-readable line for scripts.
	fmt.Fprintf(w, "RESULT req_s=%.1f ok=%d failed=%d p50_ms=%s p95_ms=%s p99_ms=%s rss_peak_kb=%d hwm_kb=%d\n",
		float64(total)/r.elapsed.Seconds(), r.ok, total-r.ok,
		strings.TrimSuffix(pct(0.50), " ms"), strings.TrimSuffix(pct(0.95), " ms"), strings.TrimSuffix(pct(0.99), " ms"), r.rssPeak, r.hwm)
}
