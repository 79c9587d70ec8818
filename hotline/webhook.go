package hotline

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"

	"github.com/amparo/amparo/internal/web"
)

// The ways a webhook is refused, each wrapping the web error that gives
// its status (web.Status); none carries request content.
var (
	errTooLarge     = fmt.Errorf("hotline: webhook body too large: %w", &http.MaxBytesError{})
	errBadSignature = fmt.Errorf("hotline: webhook signature invalid: %w", web.ErrForbidden)
	errMalformed    = fmt.Errorf("hotline: malformed webhook form: %w", web.ErrBadRequest)
)

// readSigned bounds, parses and authenticates a Twilio webhook. Nothing may
// happen before it returns nil: it is the gate in front of every effect.
func (h *Hotline) readSigned(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.BodyLimit)
	if err := r.ParseForm(); err != nil {
		if web.IsTooLarge(err) {
			return errTooLarge
		}
		return errMalformed
	}
	params := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		params[k] = v[0]
	}
	// Twilio signs the URL it was configured with, query string included;
	// behind a proxy only the public URL is meaningful, never r.Host.
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || !h.validator.Validate(h.cfg.PublicURL+r.URL.RequestURI(), params, sig) {
		return errBadSignature
	}
	return nil
}

// handle is the hotline's use of the one adapter, web.Handle.
func (h *Hotline) handle(f web.HandlerFunc) http.HandlerFunc { return web.Handle(f, h.refuse) }

// refuse answers a webhook whose handler returned err with the bare status
// web.Status gives it. A 4xx (readSigned, or a check of its fields, turned
// it away) is logged as a warning: never Twilio's normal traffic, but not an
// emergency either, and nothing was done. A 500 is an error, and makes
// Twilio's retry (if any) safe: nothing was committed. The log names the
// route, never the form.
func (h *Hotline) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status := web.Status(err)
	if status == http.StatusInternalServerError {
		h.log.Error("hotline: webhook failed", "path", r.URL.Path, "err", err)
	} else {
		h.log.Warn("hotline: webhook refused", "path", r.URL.Path, "status", status, "err", err)
	}
	http.Error(w, http.StatusText(status), status)
}

// sidPattern is Twilio's resource sid: two letters and 32 hex digits.
var sidPattern = regexp.MustCompile(`^[A-Z]{2}[0-9a-f]{32}$`)

// maxInboundBody is Twilio's own limit for an SMS body, in characters; a
// longer one did not come from a handset.
const maxInboundBody = 1600

// InboundSMS is the part of Twilio's SMS webhook the hotline uses.
type InboundSMS struct {
	MessageSID string
	From       string
	Body       string
}

// parseInboundSMS validates the fields of an authenticated SMS webhook.
func parseInboundSMS(form map[string][]string) (InboundSMS, error) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	in := InboundSMS{MessageSID: get("MessageSid"), From: get("From"), Body: get("Body")}
	if !sidPattern.MatchString(in.MessageSID) || in.From == "" || len([]rune(in.Body)) > maxInboundBody {
		return InboundSMS{}, errMalformed
	}
	return in, nil
}

// readCall is readSigned for the voice webhooks, which all carry the call's
// CallSid: one that is not a Twilio sid is refused before anything is done
// with it.
func (h *Hotline) readCall(w http.ResponseWriter, r *http.Request) error {
	if err := h.readSigned(w, r); err != nil {
		return err
	}
	if !sidPattern.MatchString(r.PostForm.Get("CallSid")) {
		return errMalformed
	}
	return nil
}

// messagingResponse is TwiML for an SMS reply; encoding/xml escapes the
// texts, so a reply can never inject markup.
type messagingResponse struct {
	XMLName  xml.Name `xml:"Response"`
	Messages []string `xml:"Message"`
}

func writeTwiML(w http.ResponseWriter, v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}
