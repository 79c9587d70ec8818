package carrier

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalKeepsConversationsAcrossRestarts: a carrier given the same
// journal shows every thread as it was, delivery statuses included, drops a
// line cut short by a crash, and keeps appending after it.
func TestJournalKeepsConversationsAcrossRestarts(t *testing.T) {
	t.Parallel()
	const token, account, survivor, provider = "journaltoken", "AC0123456789abcdef0123456789abcdef", "+51987654321", "+51900000101"
	hotline := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte("<Response><Message>Recibido: " + r.PostForm.Get("Body") + "</Message></Response>"))
	}))
	defer hotline.Close()
	path := filepath.Join(t.TempDir(), "phone.jsonl")
	open := func() *Carrier {
		c := New(Config{AccountSID: account, AuthToken: token, PublicURL: hotline.URL, HotlineNumber: "+51044000100"})
		if err := c.Journal(path, nil); err != nil {
			t.Fatal(err)
		}
		return c
	}

	first := open()
	if _, err := first.Phone(survivor).Text("Hola"); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(first)
	defer api.Close()
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/2010-04-01/Accounts/"+account+"/Messages.json",
		strings.NewReader(url.Values{"To": {provider}, "From": {"+51044000100"}, "Body": {"Responda OK 4821"}}.Encode()))
	req.SetBasicAuth(account, token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("REST send: %v %v", res, err)
	}
	res.Body.Close()
	first.Settle()

	// A crash in the middle of a write leaves half a line.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"number":"+519876`)
	f.Close()

	second := open()
	for _, n := range []string{survivor, provider} {
		if got, want := summary(second.Thread(n)), summary(first.Thread(n)); got != want {
			t.Errorf("%s after a restart:\n got %s\nwant %s", n, got, want)
		}
	}
	if got := summary(second.Thread(provider)); !strings.Contains(got, "in api delivered Responda OK 4821") {
		t.Errorf("provider thread = %s", got)
	}
	if _, err := second.Phone(survivor).Text("2"); err != nil {
		t.Fatal(err)
	}
	third := open()
	if got := summary(third.Thread(survivor)); got != "out sms Hola | in twiml delivered Recibido: Hola | out sms 2 | in twiml delivered Recibido: 2" {
		t.Errorf("survivor thread after two restarts: %s", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode: %v %v", fi.Mode(), err)
	}
}

func summary(thread []Message) string {
	var parts []string
	for _, m := range thread {
		parts = append(parts, strings.Join(strings.Fields(m.Dir+" "+m.Via+" "+m.Status+" "+m.Body), " "))
	}
	return strings.Join(parts, " | ")
}
