package main

import (
	"bytes"
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/internal/pgtest"
)

// TestDemoNewcomerTour walks the tour the README promises, with the real
// binary as `make demo` runs it: the simulated phone names every number
// (directory names, the on-call roles, the fallback duty phone, so no
// warning about it); she texts the hotline in her own words; Ctrl-C
// (SIGINT) stops the demo with status 0; after a restart her conversation
// is still on the page and carries on where it was; the provider's notice
// arrives on a thread named after the service, is discreet, and the
// provider acknowledges it.
func TestDemoNewcomerTour(t *testing.T) {
	t.Parallel()
	bin := buildAmparo(t)
	dir, dbURL := t.TempDir(), pgtest.NewDatabase(t)
	addr := freeAddr(t)
	base := "http://" + addr

	demo := startDemo(t, bin, addr, dir, dbURL)
	page := waitPage(t, base, regexp.MustCompile(`Quién es quién`))
	for _, want := range []string{
		"+51900000101: DEMO – Centro de Salud El Porvenir", "+51900000001: consejera de turno",
		"+51900000002: supervisora de turno", "+51900000009: teléfono de guardia de respaldo",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the simulated phone page does not say %q", want)
		}
	}

	const survivor = "+51987654321"
	// Not in danger, consents, needs a doctor: her words, not option numbers.
	for _, body := range []string{"Hola", "no", "sí", "necesito un médico"} {
		text(t, base, survivor, body)
	}
	waitPage(t, base, regexp.MustCompile(`sobreviviente · \+51987654321`))
	demo.interrupt()
	if strings.Contains(demo.stderr.String(), "AMPARO_FALLBACK_DUTY_NUMBERS is not set") {
		t.Errorf("the demo warns about fallback duty numbers:\n%s", demo.stderr)
	}

	demo = startDemo(t, bin, addr, dir, dbURL)
	page = waitPage(t, base, regexp.MustCompile(`necesito un médico`))
	if !regexp.MustCompile(`(?s)→ enviado: Hola.*← recibido.*105.*→ enviado: necesito un médico.*← recibido`).MatchString(page) {
		t.Fatalf("her conversation did not survive the restart:\n%s", page)
	}
	// Yesterday, El Porvenir, refer her, texts only, 9 to 13, code word.
	for _, body := range []string{"ayer", "vivo en El Porvenir", "sí", "1", "de 9 a 13", "luna"} {
		text(t, base, survivor, body)
	}
	page = waitPage(t, base, regexp.MustCompile(`Responda OK (\d{4})`))
	if !regexp.MustCompile(`tu caso es AMP-[0-9A-Z]{4}`).MatchString(page) {
		t.Fatalf("no case reference on the simulated phone:\n%s", page)
	}

	// The provider's thread is the one that holds the notice, and its
	// heading is the service's directory name.
	var provider, code string
	for _, section := range strings.Split(page, "<h2>")[1:] {
		m := regexp.MustCompile(`Responda OK (\d{4})`).FindStringSubmatch(section)
		if m == nil {
			continue
		}
		heading := strings.SplitN(section, "</h2>", 2)[0]
		label, number, _ := strings.Cut(heading, " · ")
		provider, code = number, m[1]
		if !strings.HasPrefix(label, "DEMO – ") {
			t.Errorf("the provider's thread is labelled %q, not with its directory name", label)
		}
		if strings.Contains(section, "violencia") || strings.Contains(section, "luna") {
			t.Errorf("provider notice is not discreet:\n%s", section)
		}
	}
	if provider == "" || provider == survivor {
		t.Fatalf("could not find the provider's thread:\n%s", page)
	}
	text(t, base, provider, "OK "+code)
	waitPage(t, base, regexp.MustCompile(`Amparo: confirmado AMP-`))

	// Operators see the state of the work, by status and nothing else.
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	metrics := string(b)
	for _, want := range []string{
		`amparo_referrals_open{status="acknowledged"} 1`, "amparo_referrals_ack_stalled 0", "amparo_stats_up 1",
		`amparo_jobs{state="scheduled"}`, "amparo_outbox_oldest_due_seconds", `amparo_followups_open{urgency="urgent"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(metrics, survivor[3:]) || strings.Contains(metrics, "luna") {
		t.Errorf("/metrics names her:\n%s", metrics)
	}
	demo.interrupt()
}

// demoProcess is `amparo demo` running as a child process, as make runs it.
type demoProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{} // closed when it has exited
}

func startDemo(t *testing.T, bin, addr, dir, dbURL string) *demoProcess {
	t.Helper()
	d := &demoProcess{t: t, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(bin, "demo", "-addr", addr, "-dir", dir)
	d.cmd.Env = []string{"DATABASE_URL=" + dbURL, "PATH=" + os.Getenv("PATH")}
	d.cmd.Stdout, d.cmd.Stderr = io.Discard, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			d.cmd.Process.Kill()
			<-d.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-d.done:
			t.Fatalf("demo exited on its own (%v); stderr:\n%s", d.cmd.ProcessState, d.stderr)
		default:
		}
		if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return d
			}
		}
		if time.Now().After(deadline) {
			d.cmd.Process.Kill()
			<-d.done
			t.Fatalf("demo not ready within 30 s; stderr:\n%s", d.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// interrupt sends SIGINT, as Ctrl-C in the terminal does, and expects the
// demo to stop with status 0 within its shutdown bounds.
func (d *demoProcess) interrupt() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		d.t.Fatal(err)
	}
	select {
	case <-d.done:
		if code := d.cmd.ProcessState.ExitCode(); code != exitOK {
			d.t.Fatalf("demo exited %d on SIGINT, want 0; stderr:\n%s", code, d.stderr)
		}
	case <-time.After(40 * time.Second):
		d.t.Fatal("demo did not stop within 40 s of SIGINT")
	}
}

func text(t *testing.T, base, from, body string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(base+"/demo/phone/send", url.Values{"from": {from}, "body": {body}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || strings.Contains(loc, "failed") {
		t.Fatalf("texting %q: status %d, location %q", body, res.StatusCode, loc)
	}
}

// waitPage polls the simulated phone page until it matches re; provider
// notices arrive asynchronously through River and the carrier.
func waitPage(t *testing.T, base string, re *regexp.Regexp) string {
	t.Helper()
	var page string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		res, err := http.Get(base + "/demo/phone")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if page = html.UnescapeString(string(b)); re.MatchString(page) {
			return page
		}
	}
	t.Fatalf("simulated phone page never showed %q:\n%s", re, page)
	return ""
}

func TestDemoRefusesARealDirectory(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	if _, err := pool.Exec(context.Background(),
		`INSERT INTO organization (key, name) VALUES ('posta-real', 'Posta real')`); err != nil {
		t.Fatal(err)
	}
	env, _, stderr := testEnv(map[string]string{"DATABASE_URL": pool.Config().ConnString()}, nil)
	if code := run(context.Background(), []string{"demo", "-addr", freeAddr(t), "-dir", t.TempDir()}, env); code != exitFail {
		t.Fatalf("demo on a real directory: exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(stderr.String(), "real service directory") {
		t.Errorf("stderr = %q", stderr)
	}
}
