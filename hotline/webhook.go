package hotline

import (
	"encoding/xml"
	"errors"
	"net/http"
	"regexp"
)

// errTooLarge and errBadSignature are the two ways readSigned refuses a
// request; each maps to one status and neither carries request content.
var (
	errTooLarge     = errors.New("hotline: webhook body too large")
	errBadSignature = errors.New("hotline: webhook signature invalid")
	errMalformed    = errors.New("hotline: malformed webhook form")
)

// readSigned bounds, parses and authenticates a Twilio webhook. Nothing may
// happen before it returns nil: it is the gate in front of every effect.
func (h *Hotline) readSigned(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.BodyLimit)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
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

// refuse answers a webhook that readSigned, or a check of its fields,
// turned away, and logs it as a warning: a 4xx is never Twilio's normal
// traffic, but it is not an emergency either, and nothing was done. The log
// names the route, never the form.
func (h *Hotline) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, errTooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, errBadSignature):
		status = http.StatusForbidden
	}
	h.log.Warn("hotline: webhook refused", "path", r.URL.Path, "status", status, "err", err)
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
