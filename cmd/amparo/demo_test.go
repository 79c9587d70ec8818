package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/internal/pgtest"
)

// TestDemoNewcomerTour walks the tour the README promises: text the hotline
// on the simulated phone page, finish the triage, see the case reference,
// see the provider's discreet notice arrive through the simulated carrier,
// and acknowledge it as the provider.
func TestDemoNewcomerTour(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	env, _, stderr := testEnv(map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	exited := start(ctx, env, "demo", "-addr", addr, "-dir", t.TempDir())
	t.Cleanup(func() {
		cancel()
		<-exited.done
		if exited.code != exitOK {
			t.Errorf("demo exited %d; stderr:\n%s", exited.code, stderr)
		}
	})
	base := "http://" + addr
	waitStatus(t, exited, stderr, base+"/readyz", http.StatusOK, 30*time.Second)

	const survivor = "+51987654321"
	// Not in danger, consent, health, yesterday, El Porvenir, refer to
	// health, texts only, mornings, code word.
	for _, body := range []string{"Hola", "2", "1", "1", "2", "1", "1", "1", "1", "luna"} {
		text(t, base, survivor, body)
	}
	page := waitPage(t, base, regexp.MustCompile(`Responda OK (\d{4})`))
	if !regexp.MustCompile(`tu caso es AMP-[0-9A-Z]{4}`).MatchString(page) {
		t.Fatalf("no case reference on the simulated phone:\n%s", page)
	}

	// The provider's section is the one whose thread holds the notice.
	var provider, code string
	for _, section := range strings.Split(page, "<h2>")[1:] {
		if m := regexp.MustCompile(`Responda OK (\d{4})`).FindStringSubmatch(section); m != nil {
			heading := strings.SplitN(section, "</h2>", 2)[0]
			provider, code = heading[strings.LastIndex(heading, " ")+1:], m[1]
			provider = strings.ReplaceAll(provider, "&#43;", "+")
			if strings.Contains(section, "violencia") || strings.Contains(section, "luna") {
				t.Errorf("provider notice is not discreet:\n%s", section)
			}
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
		if page = string(b); re.MatchString(page) {
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
