package hotline

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/amparo/amparo/sms/carrier"
)

// Twilio's published example (DESIGN §9): our signer must agree with it and
// with twilio-go's validator.
func TestTwilioPublishedSignatureVector(t *testing.T) {
	t.Parallel()
	const (
		token = "12345"
		u     = "https://mycompany.com/myapp.php?foo=1&bar=2"
		want  = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
	)
	params := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"}}
	if got := carrier.Sign(token, u, params); got != want {
		t.Fatalf("carrier.Sign = %s, want %s", got, want)
	}
	flat := map[string]string{}
	for k, v := range params {
		flat[k] = v[0]
	}
	v := client.NewRequestValidator(token)
	if !v.Validate(u, flat, want) {
		t.Fatal("twilio-go rejects the published vector")
	}
	if v.Validate(u, flat, carrier.Sign("54321", u, params)) {
		t.Fatal("a signature under another token validates")
	}
}

func TestWebhookRefusesUnsignedForgedAndOversized(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	form := smsForm(carrier.NewSID("SM"), survivorPhone, "Hola")
	for name, token := range map[string]string{"unsigned": "", "forged": "not-the-token"} {
		resp := e.post("/twilio/sms", form, token)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, resp.StatusCode)
		}
		resp.Body.Close()
	}
	// Signed over one body, sent with another.
	tampered := smsForm(form.Get("MessageSid"), survivorPhone, "Hola")
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/twilio/sms", strings.NewReader(tampered.Encode()+"x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", carrier.Sign(testToken, e.srv.URL+"/twilio/sms", tampered))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered: status %d, want 403", resp.StatusCode)
	}
	resp.Body.Close()

	big := smsForm(carrier.NewSID("SM"), survivorPhone, strings.Repeat("a", 70<<10))
	resp = e.post("/twilio/sms", big, testToken)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: status %d, want 413", resp.StatusCode)
	}
	resp.Body.Close()

	for _, table := range []string{"inbound_message", "conversation", "caller_rate", "outbound_message", "contact", "river_job"} {
		if n := e.count(table, ""); n != 0 {
			t.Errorf("%s has %d rows after refused webhooks", table, n)
		}
	}
}

func TestSignedWebhookAnswersTwiML(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	resp := e.post("/twilio/sms", smsForm(carrier.NewSID("SM"), survivorPhone, "Hola"), testToken)
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	replies, err := carrier.ParseTwiML([]byte(body))
	if err != nil || len(replies) != 1 || !strings.Contains(replies[0], "105") || !strings.Contains(replies[0], "Linea 100") {
		t.Fatalf("replies %q, err %v", replies, err)
	}
	e.assertNotStored("Hola", survivorPhone, "987654321")
}

func TestDuplicateWebhooksChangeNothingTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	survivor := e.sim.Phone(survivorPhone)
	first, err := survivor.Text("Hola")
	if err != nil {
		t.Fatal(err)
	}
	// Sequential replay of a message that moved the conversation on.
	sid := carrier.NewSID("SM")
	answer, err := survivor.Deliver(sid, "1") // in danger now: opens an urgent case
	if err != nil {
		t.Fatal(err)
	}
	again, err := survivor.Deliver(sid, "1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(answer, "|") != strings.Join(again, "|") || len(answer) == 0 {
		t.Fatalf("replay answered %q, first answer %q", again, answer)
	}
	if n := e.count("case_file", ""); n != 1 {
		t.Fatalf("%d cases after a replayed danger message, want 1", n)
	}
	alerts := e.count("outbound_message", "purpose = 'staff_alert'")

	// Twenty copies of one new message at once.
	sid = carrier.NewSID("SM")
	var wg sync.WaitGroup
	results := make([][]string, 20)
	errs := make([]error, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = survivor.Deliver(sid, "1") // continue by text
		}()
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("copy %d: %v", i, errs[i])
		}
		if strings.Join(results[i], "|") != strings.Join(results[0], "|") {
			t.Fatalf("copies answered differently: %q vs %q", results[i], results[0])
		}
	}
	if n := e.count("inbound_message", ""); n != 3 {
		t.Errorf("%d inbound rows, want 3", n)
	}
	if n := e.count("caller_rate", "hits = 3"); n != 1 {
		t.Errorf("rate counter not at 3: duplicates counted")
	}
	if n := e.count("case_file", ""); n != 1 {
		t.Errorf("%d cases, want 1", n)
	}
	if n := e.count("outbound_message", "purpose = 'staff_alert'"); n != alerts || alerts != 1 {
		t.Errorf("%d staff alerts (was %d), want 1", n, alerts)
	}
	if n := e.count("conversation", ""); n != 1 {
		t.Errorf("%d conversations, want 1", n)
	}
	_ = first
}
