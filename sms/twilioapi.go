package sms

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// twilioAPI is Amparo's one client of Twilio's REST API.
type twilioAPI struct {
	rest *twilio.RestClient
	from string
}

// newSMSAPI builds the REST client. twilio-go hard-codes
// https://api.twilio.com in every generated service, and its only host knobs
// (TWILIO_EDGE/TWILIO_REGION) rename Twilio hosts; so a non-empty apiURL is
// honoured by a BaseClient that rebases each request after twilio-go has
// built its URL.
func newTwilioAPI(cfg Config) (*twilioAPI, error) {
	c := &client.Client{
		Credentials: client.NewCredentials(cfg.AccountSID, cfg.AuthToken),
		HTTPClient: &http.Client{
			// Well inside River's job timeout, so a hung carrier becomes a
			// retry instead of a stuck worker.
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(cfg.AccountSID)
	var base client.BaseClient = c
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("sms: TWILIO_API_URL must be an absolute http(s) URL")
		}
		base = rebased{Client: c, base: u}
	}
	return &twilioAPI{rest: twilio.NewRestClientWithParams(twilio.ClientParams{Client: base}), from: cfg.FromNumber}, nil
}

type rebased struct {
	*client.Client
	base *url.URL
}

func (r rebased) SendRequest(method, rawURL string, data url.Values, headers map[string]interface{}, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = r.base.Scheme, r.base.Host
	u.Path = strings.TrimSuffix(r.base.Path, "/") + u.Path
	return r.Client.SendRequest(method, u.String(), data, headers, body...)
}

// send hands one message to Twilio. Errors are *SendError: Twilio's own
// error text can quote the recipient's number, so only its code survives.
func (a *twilioAPI) send(to, body, statusCallback string) (sid, status string, err error) {
	p := &api.CreateMessageParams{}
	p.SetTo(to)
	p.SetFrom(a.from)
	p.SetBody(body)
	p.SetStatusCallback(statusCallback)
	m, err := a.rest.Api.CreateMessage(p)
	if err != nil {
		return "", "", classify(err)
	}
	if m.Sid == nil {
		return "", "", &SendError{}
	}
	status = "queued"
	if m.Status != nil {
		status = *m.Status
	}
	return *m.Sid, status, nil
}

// SendError is a failed create call: a Twilio error code (0 when the
// request never got an answer) and whether trying again could help. Lost is
// a call that got no answer at all: Twilio may have taken the message.
type SendError struct {
	Code      int
	Permanent bool
	Lost      bool
}

func (e *SendError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("sms: twilio %s failure, code %d", kind, e.Code)
}

// temporaryCodes are Twilio errors that say "not now" rather than "never":
// rate limiting (20429), Twilio-side outages (20500, 20503), a full
// per-number queue (30001), and rejected credentials (20003), which an
// operator fixes by rotating the token; the message's expiry bounds how long
// that may take.
var temporaryCodes = map[int]bool{20003: true, 20429: true, 20500: true, 20503: true, 30001: true}

// classify maps a twilio-go error to a SendError. Everything else a 4xx
// answer carries is permanent for this message: 21211 (invalid To), 21214
// and 21612 (To not reachable by SMS), 21217 and 21614 (not a valid mobile),
// 21408 (region not enabled), 21610 (recipient sent STOP), 21606 (our From
// cannot send), 30003-30007 (unreachable, blocked, unknown or landline
// handset, carrier filtering): the same request would get the same answer.
// Transport failures and 5xx are temporary.
func classify(err error) error {
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		perm := te.Status < 500 && te.Status != http.StatusTooManyRequests && !temporaryCodes[te.Code]
		return &SendError{Code: te.Code, Permanent: perm}
	}
	return &SendError{Lost: true}
}
