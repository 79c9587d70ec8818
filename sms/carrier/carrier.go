// Package carrier is a simulated phone network with a Twilio-compatible REST
// API, used by `amparo demo` and by the hotline's and sms's end-to-end tests.
// It implements the REST calls package sms makes (create a message; redact
// or delete a message; delete a call), records every message per phone number
// and every redaction and deletion, reports delivery through status callbacks
// signed exactly as Twilio signs them, and lets simulated phones text the
// hotline through its real, signed webhook. Faults can be injected per number
// so delivery failures are testable without a real carrier.
package carrier

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config describes the account the carrier serves and where the hotline's
// webhooks live.
type Config struct {
	AccountSID string
	AuthToken  string
	// PublicURL is the hotline's AMPARO_PUBLIC_URL: inbound webhooks are
	// posted to PublicURL+"/twilio/sms" and signed over that URL.
	PublicURL string
	// HotlineNumber is the hotline's own number (the To of inbound texts).
	HotlineNumber string
	// Client delivers webhooks; nil means http.DefaultClient.
	Client *http.Client
	// T, when set, makes Expect failures fail a test. Nil in demo mode.
	T TB
	// Wait bounds how long Expect waits for an asynchronous message.
	Wait time.Duration
}

// TB is the part of testing.TB the expectations use.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// Direction of a recorded message, from the phone's point of view.
const (
	ToPhone   = "in"  // the hotline (REST or TwiML reply) sent it to the phone
	FromPhone = "out" // the phone sent it to the hotline
)

// Message is one text seen by the carrier.
type Message struct {
	SID    string
	Dir    string
	Body   string
	Via    string // "api" or "twiml" for messages to the phone; "sms" otherwise
	Status string // delivery status for API messages
	At     time.Time
	// Redacted: its body was emptied through the API. Deleted: the
	// record was deleted. Either way Body is then "".
	Redacted, Deleted bool
}

// Purge is one redaction or deletion the API was asked for.
type Purge struct {
	Action string // "redact" or "delete"
	Kind   string // "message" or "call"
	SID    string
}

// Fault changes what happens to messages sent to one number.
type Fault struct {
	// HTTPStatus > 0 rejects the REST call with this status and Code.
	HTTPStatus int
	// Code is the Twilio error code reported (REST error or ErrorCode).
	Code int
	// Undelivered accepts the message, then reports it undelivered.
	Undelivered bool
	// LostAnswer accepts and sends the message, then drops the connection
	// without answering, as a network failure after Twilio took the
	// request does; status callbacks follow as usual.
	LostAnswer bool
	// Times is how many sends the fault affects; 0 means once.
	Times int
}

// Carrier is the simulated network. Safe for concurrent use.
type Carrier struct {
	cfg Config

	mu      sync.Mutex
	changed *sync.Cond
	threads map[string][]Message
	unread  map[string]int
	faults  map[string]Fault
	calls   map[string]int // REST create calls per number, faults included
	purges  []Purge        // done, in order
	deleted map[string]bool
	// purgeFaults is how many purge requests still answer 503.
	purgeFaults int
	// inflight counts callback sequences still running. Not a WaitGroup:
	// new sends may start while Settle waits, which a WaitGroup forbids.
	inflight int
	journal  *os.File // see Journal; nil keeps messages in memory only
	log      *slog.Logger
}

// New returns a carrier for cfg.
func New(cfg Config) *Carrier {
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.Wait == 0 {
		cfg.Wait = 10 * time.Second
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	c := &Carrier{
		cfg:     cfg,
		threads: map[string][]Message{},
		unread:  map[string]int{},
		faults:  map[string]Fault{},
		calls:   map[string]int{},
		deleted: map[string]bool{},
	}
	c.changed = sync.NewCond(&c.mu)
	return c
}

// Fail injects a fault for messages sent to number.
func (c *Carrier) Fail(number string, f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults[number] = f
}

// Calls reports how many times the REST API was asked to send to number.
func (c *Carrier) Calls(number string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[number]
}

// Thread returns every message to and from number, oldest first.
func (c *Carrier) Thread(number string) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.threads[number]...)
}

// Numbers lists every phone the carrier has seen, sorted.
func (c *Carrier) Numbers() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.threads))
	for n := range c.threads {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Settle waits until no status callback is in flight.
func (c *Carrier) Settle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.inflight > 0 {
		c.changed.Wait()
	}
}

func (c *Carrier) record(number string, m Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.threads[number] = append(c.threads[number], m)
	c.remember(journalEntry{Number: number, Message: &m})
	c.changed.Broadcast()
}

func (c *Carrier) setStatus(number, sid, status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applyStatus(number, sid, status)
	c.remember(journalEntry{Number: number, SID: sid, Status: status})
}

// applyStatus sets the status of message sid; the caller holds c.mu.
func (c *Carrier) applyStatus(number, sid, status string) {
	for i := range c.threads[number] {
		if c.threads[number][i].SID == sid {
			c.threads[number][i].Status = status
		}
	}
}

// FailPurges makes the next n redaction or deletion requests answer 503,
// as a Twilio outage would.
func (c *Carrier) FailPurges(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purgeFaults = n
}

// Purges returns every redaction and deletion done, in order.
func (c *Carrier) Purges() []Purge {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Purge(nil), c.purges...)
}

// ServeHTTP implements Twilio's Messages and Calls resources as the hotline
// uses them: POST Messages.json creates a message, POST Messages/{sid}.json
// with an empty Body redacts one, DELETE Messages/{sid}.json and DELETE
// Calls/{sid}.json delete the record.
func (c *Carrier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || !hmac.Equal([]byte(user), []byte(c.cfg.AccountSID)) || !hmac.Equal([]byte(pass), []byte(c.cfg.AuthToken)) {
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	account := "/2010-04-01/Accounts/" + c.cfg.AccountSID + "/"
	rest, inAccount := strings.CutPrefix(r.URL.Path, account)
	resource, sid, one := strings.Cut(strings.TrimSuffix(rest, ".json"), "/")
	switch {
	case !inAccount || !strings.HasSuffix(rest, ".json"):
	case r.Method == http.MethodPost && rest == "Messages.json":
		c.create(w, r)
		return
	case one && resource == "Messages" && (r.Method == http.MethodPost || r.Method == http.MethodDelete),
		one && resource == "Calls" && r.Method == http.MethodDelete:
		c.purge(w, r, strings.ToLower(strings.TrimSuffix(resource, "s")), sid)
		return
	}
	writeError(w, http.StatusNotFound, 20404, "The requested resource was not found")
}

// purge redacts (POST with an empty Body) or deletes a message or call. A
// record already deleted, or a message the carrier never carried, is not
// found, as at Twilio.
func (c *Carrier) purge(w http.ResponseWriter, r *http.Request, kind, sid string) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 21100, "Malformed request")
		return
	}
	action := "delete"
	if r.Method == http.MethodPost {
		if body, ok := r.PostForm["Body"]; !ok || len(body) != 1 || body[0] != "" {
			writeError(w, http.StatusBadRequest, 21100, "only redaction (an empty Body) is supported")
			return
		}
		action = "redact"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.purgeFaults > 0 {
		c.purgeFaults--
		writeError(w, http.StatusServiceUnavailable, 20503, "Injected fault")
		return
	}
	found := kind == "call" && !c.deleted[sid]
	for number := range c.threads {
		for i := range c.threads[number] {
			if m := &c.threads[number][i]; m.SID == sid && !m.Deleted {
				found = true
				m.Body = ""
				m.Redacted = m.Redacted || action == "redact"
				m.Deleted = action == "delete"
			}
		}
	}
	if !found {
		writeError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if action == "delete" {
		c.deleted[sid] = true
	}
	c.purges = append(c.purges, Purge{Action: action, Kind: kind, SID: sid})
	if action == "delete" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"sid": sid, "account_sid": c.cfg.AccountSID, "body": ""})
}

// create is POST Messages.json.
func (c *Carrier) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 21100, "Malformed request")
		return
	}
	to, from, body, callback := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body"), r.PostForm.Get("StatusCallback")
	if to == "" || body == "" {
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number and a 'Body' are required")
		return
	}

	c.mu.Lock()
	c.calls[to]++
	f, faulty := c.faults[to]
	if faulty {
		if f.Times--; f.Times <= 0 {
			delete(c.faults, to)
		} else {
			c.faults[to] = f
		}
	}
	c.mu.Unlock()
	if faulty && f.HTTPStatus > 0 {
		writeError(w, f.HTTPStatus, f.Code, "Injected fault")
		return
	}

	sid := NewSID("SM")
	c.record(to, Message{SID: sid, Dir: ToPhone, Body: body, Via: "api", Status: "queued", At: time.Now()})
	if faulty && f.LostAnswer {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	} else {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"sid": sid, "account_sid": c.cfg.AccountSID, "to": to, "from": from,
			"body": body, "status": "queued", "num_segments": "1", "direction": "outbound-api",
		})
	}

	final, code := "delivered", 0
	if faulty && f.Undelivered {
		final, code = "undelivered", f.Code
	}
	// Like Twilio, callbacks come after the create call has been answered:
	// the sender may still be recording the sid when the first one lands.
	c.mu.Lock()
	c.inflight++
	c.mu.Unlock()
	go func() {
		defer func() {
			c.mu.Lock()
			c.inflight--
			c.changed.Broadcast()
			c.mu.Unlock()
		}()
		for _, st := range []string{"sent", final} {
			c.setStatus(to, sid, st)
			if callback == "" {
				continue
			}
			params := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {c.cfg.AccountSID},
				"MessageStatus": {st}, "SmsStatus": {st}, "To": {to}, "From": {from}}
			if code != 0 && st == final {
				params.Set("ErrorCode", fmt.Sprint(code))
			}
			resp, err := c.post(callback, params)
			if err == nil {
				resp.Body.Close()
			}
		}
	}()
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
}

// post sends a form signed with the account's auth token, as Twilio does.
func (c *Carrier) post(target string, params url.Values) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", Sign(c.cfg.AuthToken, target, params))
	return c.cfg.Client.Do(req)
}

// Sign computes X-Twilio-Signature: base64(HMAC-SHA1(token, url followed by
// each POST parameter name and value, sorted by name)).
func Sign(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// NewSID returns a random Twilio-shaped sid with the given two-letter prefix.
func NewSID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
