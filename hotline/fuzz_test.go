package hotline

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/amparo/amparo/sms/carrier"
)

// FuzzWebhookForm feeds arbitrary bodies through the gate every webhook
// passes: it must never panic, must refuse anything unsigned, and must
// accept exactly what Twilio's scheme signs.
func FuzzWebhookForm(f *testing.F) {
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B51987654321&Body=Hola", false)
	f.Add("Body=%ZZ&From=", true)
	f.Add("a=1&a=2&b", true)
	f.Add(strings.Repeat("x=y&", 100), true)
	f.Add("Body=\x00\xff%C3%A1", true)
	h := &Hotline{cfg: Config{PublicURL: "https://amparo.example", BodyLimit: 4 << 10}, validator: client.NewRequestValidator(testToken)}
	f.Fuzz(func(t *testing.T, body string, sign bool) {
		req := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		parsed, parseErr := url.ParseQuery(body)
		repeated := false
		for _, v := range parsed {
			repeated = repeated || len(v) > 1
		}
		if sign && parseErr == nil {
			req.Header.Set("X-Twilio-Signature", carrier.Sign(testToken, h.cfg.PublicURL+"/twilio/sms", parsed))
		}
		err := h.readSigned(httptest.NewRecorder(), req)
		switch {
		case len(body) > int(h.cfg.BodyLimit):
			if !errors.Is(err, errTooLarge) {
				t.Fatalf("oversized body: %v", err)
			}
		case !sign || parseErr != nil:
			if err == nil {
				t.Fatal("unsigned body accepted")
			}
		case !repeated && err != nil:
			t.Fatalf("correctly signed body refused: %v", err)
		}
		if err == nil {
			in, perr := parseInboundSMS(req.PostForm)
			if perr == nil && (!sidPattern.MatchString(in.MessageSID) || in.From == "") {
				t.Fatalf("accepted malformed fields %+v", in)
			}
		}
	})
}
