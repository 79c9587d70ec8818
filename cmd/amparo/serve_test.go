package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/pglocal"
	"github.com/amparo/amparo/internal/pgtest"
)

// TestServeSurvivesDatabaseOutage runs the real `amparo serve` against a
// private PostgreSQL that the test stops and starts again: /healthz stays
// 200 throughout, /readyz turns 503 within 10 s of the outage and 200 again
// after it, the process never exits on its own, and SIGTERM (context
// cancellation) ends it with status 0.
func TestServeSurvivesDatabaseOutage(t *testing.T) {
	pgtest.AdminURL(t) // the same rule as every database test: never skip silently in CI
	dir := t.TempDir()
	// As root the cluster runs as an unprivileged user, who must be able to
	// reach its data directory through the test's private temp folders.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	cluster, err := pglocal.Start(context.Background(), pglocal.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cluster.Stop()
		}
	})
	keyring, err := crypto.GenerateKeyring(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	env, _, stderr := testEnv(map[string]string{
		"DATABASE_URL":       cluster.URL,
		"AMPARO_ADDR":        addr,
		"AMPARO_PUBLIC_URL":  "http://" + addr,
		"AMPARO_KEYRING":     string(keyring),
		"TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("0", 32),
		"TWILIO_AUTH_TOKEN":  "testtoken0",
		"TWILIO_FROM_NUMBER": "+51987000000",
		"TWILIO_API_URL":     "http://127.0.0.1:1",
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := start(ctx, env, "serve", "-migrate")

	base := "http://" + addr
	waitStatus(t, exited, stderr, base+"/readyz", http.StatusOK, 30*time.Second)
	expectStatus(t, base+"/healthz", http.StatusOK)

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	waitStatus(t, exited, stderr, base+"/readyz", http.StatusServiceUnavailable, 10*time.Second)
	expectStatus(t, base+"/healthz", http.StatusOK)

	cluster, err = pglocal.Start(context.Background(), pglocal.Options{Dir: filepath.Join(dir, "pg"), Port: cluster.Port})
	if err != nil {
		t.Fatal(err)
	}
	stopped = false
	waitStatus(t, exited, stderr, base+"/readyz", http.StatusOK, 30*time.Second)

	cancel()
	select {
	case <-exited.done:
		if exited.code != exitOK {
			t.Fatalf("serve exited %d after shutdown; stderr:\n%s", exited.code, stderr)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop within its shutdown bounds")
	}
}

// running is an amparo subcommand running in the background.
type running struct {
	done chan struct{} // closed when it returns
	code int           // its exit status, once done is closed
}

func start(ctx context.Context, env Env, args ...string) *running {
	r := &running{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.code = run(ctx, args, env)
	}()
	return r
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func expectStatus(t *testing.T, url string, want int) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	res.Body.Close()
	if res.StatusCode != want {
		t.Fatalf("GET %s = %d, want %d", url, res.StatusCode, want)
	}
}

// waitStatus polls url until it answers want, failing on timeout or if the
// server exits meanwhile.
func waitStatus(t *testing.T, exited *running, stderr fmt.Stringer, url string, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := 0
	for time.Now().Before(deadline) {
		select {
		case <-exited.done:
			t.Fatalf("exited on its own with status %d; stderr:\n%s", exited.code, stderr)
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			last = res.StatusCode
			if last == want {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("GET %s: still %d after %s, want %d", url, last, within, want)
}

// serveVars is the environment of a `serve` against a migrated test
// database, its keyring in a file of mode perm; extra adds or overrides.
func serveVars(t *testing.T, addr string, perm os.FileMode, extra map[string]string) map[string]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyring.json")
	if err := os.WriteFile(path, mustGenerate(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"DATABASE_URL":        pgtest.NewDatabase(t),
		"AMPARO_ADDR":         addr,
		"AMPARO_PUBLIC_URL":   "http://" + addr,
		"AMPARO_KEYRING_FILE": path,
		"TWILIO_ACCOUNT_SID":  "AC" + strings.Repeat("0", 32),
		"TWILIO_AUTH_TOKEN":   "testtoken0",
		"TWILIO_FROM_NUMBER":  "+51987000000",
		"TWILIO_API_URL":      "http://127.0.0.1:1",

		"AMPARO_FALLBACK_DUTY_NUMBERS": "+51944000001",
	}
	for k, v := range extra {
		vars[k] = v
	}
	return vars
}

// TestServeRefusesKeyringOpenToOthers: a keyring file that group or others
// may read stops serve at start, with a message naming the file and the fix.
func TestServeRefusesKeyringOpenToOthers(t *testing.T) {
	t.Parallel()
	for _, perm := range []os.FileMode{0o640, 0o604, 0o620} {
		vars := serveVars(t, freeAddr(t), perm, nil)
		env, _, stderr := testEnv(vars, nil)
		// Time-bounded so that a serve that starts anyway fails the test
		// instead of hanging it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		code := run(ctx, []string{"serve"}, env)
		cancel()
		path := vars["AMPARO_KEYRING_FILE"]
		if code != exitFail || !strings.Contains(stderr.String(), path+" has mode") ||
			!strings.Contains(stderr.String(), "chmod 600 "+path) {
			t.Errorf("serve with a keyring of mode %#o: exit %d, stderr:\n%s", perm, code, stderr)
		}
	}
}

// TestMetricsOnTheirOwnListener: with AMPARO_METRICS_ADDR set, /metrics is
// served there and only there, so the public listener does not expose the
// service's activity; the keyring file here has the mode serve requires.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	t.Parallel()
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	env, _, stderr := testEnv(serveVars(t, addr, 0o600, map[string]string{"AMPARO_METRICS_ADDR": metricsAddr}), nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := start(ctx, env, "serve")
	waitStatus(t, exited, stderr, "http://"+addr+"/readyz", http.StatusOK, 30*time.Second)

	expectStatus(t, "http://"+addr+"/metrics", http.StatusNotFound)
	expectStatus(t, "http://"+metricsAddr+"/readyz", http.StatusNotFound)
	res, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"amparo_stats_up 1", `amparo_http_requests_total{method="GET",route="/readyz",status="200"}`} {
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET /metrics on %s: %d, lacks %q:\n%s", metricsAddr, res.StatusCode, want, b)
		}
	}

	cancel()
	select {
	case <-exited.done:
		if exited.code != exitOK {
			t.Fatalf("serve exited %d; stderr:\n%s", exited.code, stderr)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop within its shutdown bounds")
	}
	if _, err := http.Get("http://" + metricsAddr + "/metrics"); err == nil {
		t.Error("the metrics listener outlived serve")
	}
}
