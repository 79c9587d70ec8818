package hotline

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/hotline/internal/hotlinedb"
	"github.com/amparo/amparo/hotline/triage"
	"github.com/amparo/amparo/internal/fold"
	"github.com/amparo/amparo/phone"
	"github.com/amparo/amparo/roster"
	"github.com/amparo/amparo/templates"
)

// The IVR: language, "in danger now?", then a <Dial> to whoever is on call
// with the emergency numbers and an urgent callback task when nobody
// answers. No verb here records: <Dial> records only when asked to.

type say struct {
	XMLName  xml.Name `xml:"Say"`
	Language string   `xml:"language,attr"`
	Text     string   `xml:",chardata"`
}

type gather struct {
	XMLName       xml.Name `xml:"Gather"`
	Input         string   `xml:"input,attr"`
	NumDigits     int      `xml:"numDigits,attr"`
	Action        string   `xml:"action,attr"`
	Method        string   `xml:"method,attr"`
	Language      string   `xml:"language,attr"`
	Timeout       int      `xml:"timeout,attr"`
	SpeechTimeout string   `xml:"speechTimeout,attr"`
	Says          []say
}

// dialNumber's URL is fetched by Twilio when the number answers, and its
// TwiML is played to whoever answered before the calls are joined.
type dialNumber struct {
	XMLName   xml.Name `xml:"Number"`
	URL       string   `xml:"url,attr"`
	URLMethod string   `xml:"method,attr"`
	Number    string   `xml:",chardata"`
}

type dial struct {
	XMLName  xml.Name `xml:"Dial"`
	CallerID string   `xml:"callerId,attr"`
	Timeout  int      `xml:"timeout,attr"`
	Action   string   `xml:"action,attr"`
	Method   string   `xml:"method,attr"`
	Numbers  []dialNumber
}

type redirect struct {
	XMLName xml.Name `xml:"Redirect"`
	Method  string   `xml:"method,attr"`
	URL     string   `xml:",chardata"`
}

type hangup struct {
	XMLName xml.Name `xml:"Hangup"`
}

type voiceResponse struct {
	XMLName xml.Name `xml:"Response"`
	Verbs   []any
}

// dialTimeout is how long counsellors' phones ring before the caller hears
// the emergency numbers instead.
const dialTimeout = 20

// voices maps our languages to Twilio's <Say> and speech-recognition tags.
var voices = map[string][2]string{templates.ES: {"es-MX", "es-PE"}, templates.EN: {"en-US", "en-US"}}

func (h *Hotline) sayKey(lang, key string) say {
	text, err := templates.Render(lang, key, nil)
	if err != nil {
		h.log.Error("hotline: voice prompt", "key", key, "err", err)
	}
	return say{Language: voices[templates.Lang(lang)][0], Text: text}
}

func (h *Hotline) voiceURL(path, lang string, extra url.Values) string {
	q := url.Values{"l": {templates.Lang(lang)}}
	for k, v := range extra {
		q[k] = v
	}
	return h.cfg.PublicURL + path + "?" + q.Encode()
}

func (h *Hotline) handleVoice(w http.ResponseWriter, r *http.Request) error {
	if err := h.readCall(w, r); err != nil {
		return err
	}
	if h.admitCall(r.Context(), r.PostForm.Get("From")) != "" {
		writeTwiML(w, h.refusedCall(templates.ES))
		return nil
	}
	// The choice is said once in each language, each in its own voice.
	writeTwiML(w, voiceResponse{Verbs: []any{
		gather{Input: "dtmf speech", NumDigits: 1, Action: h.voiceURL("/twilio/voice/lang", templates.ES, nil), Method: http.MethodPost,
			Language: voices[templates.ES][1], Timeout: 5, SpeechTimeout: "auto",
			Says: []say{h.sayKey(templates.ES, templates.KeyVoiceLang), h.sayKey(templates.EN, templates.KeyVoiceLang)}},
		redirect{Method: http.MethodPost, URL: h.voiceURL("/twilio/voice/lang", templates.ES, nil)},
	}})
	return nil
}

func (h *Hotline) handleVoiceLang(w http.ResponseWriter, r *http.Request) error {
	if err := h.readCall(w, r); err != nil {
		return err
	}
	lang := templates.ES
	if r.PostForm.Get("Digits") == "2" || strings.Contains(fold.Plain(r.PostForm.Get("SpeechResult")), "english") {
		lang = templates.EN
	}
	writeTwiML(w, h.dangerQuestion(lang, false))
	return nil
}

func (h *Hotline) dangerQuestion(lang string, retry bool) voiceResponse {
	var says []say
	if retry {
		says = append(says, h.sayKey(lang, templates.KeyVoiceRetry))
	}
	says = append(says, h.sayKey(lang, templates.KeyVoiceDanger))
	extra := url.Values{}
	if retry {
		extra.Set("retry", "1")
	}
	return voiceResponse{Verbs: []any{
		gather{Input: "dtmf speech", NumDigits: 1, Action: h.voiceURL("/twilio/voice/danger", lang, extra), Method: http.MethodPost,
			Language: voices[lang][1], Timeout: 6, SpeechTimeout: "auto", Says: says},
		redirect{Method: http.MethodPost, URL: h.voiceURL("/twilio/voice/danger", lang, extra)},
	}}
}

// yesNo reads a keypad or spoken answer: 1/sí/yes/uno, 2/no/dos, or her
// own words as the SMS conversation reads them ("me está pegando", "no
// estoy en peligro"), before the first word: "no me deja salir" is danger.
func yesNo(digits, speech string) (yes, ok bool) {
	switch digits {
	case "1":
		return true, true
	case "2":
		return false, true
	}
	switch triage.ReadDanger(speech).Said {
	case triage.SaidDanger:
		return true, true
	case triage.SaidSafe:
		return false, true
	}
	first, _, _ := strings.Cut(strings.TrimSpace(fold.Plain(speech)), " ")
	first = strings.TrimFunc(first, func(r rune) bool { return !unicode.IsLetter(r) })
	switch first {
	case "si", "yes", "uno", "one", "yeah":
		return true, true
	case "no", "dos", "two":
		return false, true
	}
	return false, false
}

func (h *Hotline) handleVoiceDanger(w http.ResponseWriter, r *http.Request) error {
	if err := h.readCall(w, r); err != nil {
		return err
	}
	lang := templates.Lang(r.URL.Query().Get("l"))
	yes, ok := yesNo(r.PostForm.Get("Digits"), r.PostForm.Get("SpeechResult"))
	if !ok && r.URL.Query().Get("retry") == "" {
		writeTwiML(w, h.dangerQuestion(lang, true))
		return nil
	}
	if !yes {
		// "No", or silence twice: she may not be able to speak. Either way
		// she leaves with the numbers and a way to text.
		writeTwiML(w, h.farewell(lang, false))
		return nil
	}
	from := r.PostForm.Get("From")
	out, err := h.voiceOnce(r.Context(), r.PostForm.Get("CallSid"), stepDanger, func(ctx context.Context, tx pgx.Tx) (voiceResponse, error) {
		return h.voiceDanger(ctx, tx, r.PostForm.Get("CallSid"), from, lang)
	})
	if err != nil {
		// Nobody was alerted and no callback exists: say so loudly, with
		// the call's id, so an operator can find the caller in Twilio's
		// log. She still hears the emergency numbers.
		h.log.Error("hotline: danger call NOT recorded, no one alerted", "call_sid", r.PostForm.Get("CallSid"), "err", err)
		writeTwiML(w, h.dialDuty(lang, uuid.Nil, h.roster.Fallback()))
		return nil
	}
	writeTwiMLBytes(w, out)
	return nil
}

func (h *Hotline) handleVoiceDialed(w http.ResponseWriter, r *http.Request) error {
	if err := h.readCall(w, r); err != nil {
		return err
	}
	lang := templates.Lang(r.URL.Query().Get("l"))
	if r.PostForm.Get("DialCallStatus") == "completed" {
		writeTwiML(w, voiceResponse{Verbs: []any{h.sayKey(lang, templates.KeyVoiceGoodbye), hangup{}}})
		return nil
	}
	caseID, err := uuid.Parse(r.URL.Query().Get("c"))
	if err != nil || caseID == uuid.Nil {
		// A withheld number: nobody to call back, nothing to record.
		writeTwiML(w, h.farewell(lang, false))
		return nil
	}
	out, err := h.voiceOnce(r.Context(), r.PostForm.Get("CallSid"), stepDialed, func(ctx context.Context, tx pgx.Tx) (voiceResponse, error) {
		if err := h.cases.AddFollowUp(ctx, tx, caseID, casefile.FollowUp{Kind: casefile.FollowUpCallback, DueAt: h.clk.Now(), Urgent: true}); err != nil {
			return voiceResponse{}, err
		}
		return h.farewell(lang, true), nil
	})
	if err != nil {
		h.log.Error("hotline: voice callback task", "case_id", caseID, "err", err)
		writeTwiML(w, h.farewell(lang, false))
		return nil
	}
	writeTwiMLBytes(w, out)
	return nil
}

// handleVoiceWhisper is said to the counsellor who answers a danger <Dial>.
// Staff are spoken to in Spanish, as they are texted.
func (h *Hotline) handleVoiceWhisper(w http.ResponseWriter, r *http.Request) error {
	if err := h.readCall(w, r); err != nil {
		return err
	}
	writeTwiML(w, voiceResponse{Verbs: []any{h.sayKey(templates.ES, templates.KeyVoiceWhisper)}})
	return nil
}

func (h *Hotline) farewell(lang string, callback bool) voiceResponse {
	verbs := []any{h.sayKey(lang, templates.KeyVoiceEmergency)}
	if callback {
		verbs = append(verbs, h.sayKey(lang, templates.KeyVoiceCallback))
	}
	return voiceResponse{Verbs: append(verbs, h.sayKey(lang, templates.KeyVoiceSMSOffer), h.sayKey(lang, templates.KeyVoiceGoodbye), hangup{})}
}

// refusedCall is what a blocked or rate-limited caller hears: the
// emergency numbers, and nothing that opens a case or rings anyone.
func (h *Hotline) refusedCall(lang string) voiceResponse {
	return voiceResponse{Verbs: []any{h.sayKey(lang, templates.KeyVoiceEmergency), h.sayKey(lang, templates.KeyVoiceGoodbye), hangup{}}}
}

// voiceDanger opens (once per call) an urgent case for the caller, alerts
// the on-call counsellors by SMS too, and answers with a <Dial> to them. A
// withheld number gets the dial and no case: there is nobody to call back.
// A blocked or rate-limited caller (callStanding) hears the emergency
// numbers and nothing else happens.
func (h *Hotline) voiceDanger(ctx context.Context, tx pgx.Tx, callSID, from, lang string) (voiceResponse, error) {
	var caseID uuid.UUID
	e164, phoneErr := phone.Normalize(from, "")
	if phoneErr == nil {
		verdict, err := h.callStanding(ctx, tx, e164)
		if err != nil {
			return voiceResponse{}, err
		}
		if verdict != "" {
			return h.refusedCall(lang), nil
		}
		if caseID, err = h.voiceCase(ctx, tx, callSID, e164, lang); err != nil {
			return voiceResponse{}, err
		}
	}
	phones, _, err := h.roster.Responders(ctx, tx, roster.AlertDangerNow)
	if err != nil {
		return voiceResponse{}, err
	}
	return h.dialDuty(lang, caseID, phones), nil
}

// dialDuty puts a caller in danger through to phones; with none, she hears
// the emergency numbers. caseID, when known, is where a missed <Dial> leaves
// its callback.
func (h *Hotline) dialDuty(lang string, caseID uuid.UUID, phones []string) voiceResponse {
	if len(phones) == 0 {
		return h.farewell(lang, caseID != uuid.Nil)
	}
	var params url.Values
	if caseID != uuid.Nil {
		params = url.Values{"c": {caseID.String()}}
	}
	// Her number never shows on a counsellor's phone, nor stays in its call
	// log: the call comes from the hotline's, and the whisper says what it is.
	d := dial{CallerID: h.cfg.FromNumber, Timeout: dialTimeout, Method: http.MethodPost,
		Action: h.voiceURL("/twilio/voice/dialed", lang, params)}
	for _, p := range phones {
		d.Numbers = append(d.Numbers, dialNumber{URL: h.cfg.PublicURL + "/twilio/voice/whisper", URLMethod: http.MethodPost, Number: p})
	}
	return voiceResponse{Verbs: []any{h.sayKey(lang, templates.KeyVoiceConnecting), d}}
}

// voiceCase opens the urgent case of a call, or finds the one a retried
// webhook of the same call already opened.
func (h *Hotline) voiceCase(ctx context.Context, tx pgx.Tx, callSID, e164, lang string) (uuid.UUID, error) {
	q := hotlinedb.New(tx)
	caseID, err := q.VoiceCallCase(ctx, callSID)
	if err == nil {
		return caseID, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, err
	}
	c, err := h.openUrgentCase(ctx, tx, e164, lang, casefile.ContactPrefs{MayCall: true})
	if err != nil {
		return uuid.Nil, err
	}
	inserted, err := q.InsertVoiceCall(ctx, callSID, c.ID, h.clk.Now())
	if err != nil {
		return uuid.Nil, err
	}
	if inserted == 0 {
		return uuid.Nil, errors.New("hotline: concurrent voice webhook for one call")
	}
	return c.ID, nil
}

// The steps of a call whose effects happen once: the key of voice_event
// with the CallSid.
const (
	stepDanger = "danger" // "in danger now": urgent case, on-call alert, <Dial>
	stepDialed = "dialed" // nobody answered the <Dial>: urgent callback task
)

// voiceOnce runs the effects of one step of a call at most once per
// (CallSid, step) and returns the TwiML to answer with. The voice_event row
// is inserted first, in the effects' transaction: a concurrent copy of the
// webhook waits on its unique key until the first commits, then inserts
// nothing, does nothing, and replays the TwiML stored (sealed) with the row.
// If the first copy fails, its row rolls back with its effects and a retry
// does the work. callSID has passed readCall.
func (h *Hotline) voiceOnce(ctx context.Context, callSID, step string, effects func(context.Context, pgx.Tx) (voiceResponse, error)) ([]byte, error) {
	id := uuid.New()
	key, err := crypto.NewRowKey(h.keys, "voice_event", id.String())
	if err != nil {
		return nil, err
	}
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	q := hotlinedb.New(tx)
	inserted, err := q.InsertVoiceEvent(ctx, hotlinedb.InsertVoiceEventParams{
		ID: id, CallSid: callSID, Step: step, KekID: key.KEKID, WrappedDek: key.Wrapped, At: h.clk.Now()})
	if err != nil {
		return nil, err
	}
	if inserted == 0 {
		return h.voiceReplay(ctx, tx, callSID, step)
	}
	resp, err := effects(ctx, tx)
	if err != nil {
		return nil, err
	}
	out, err := xml.Marshal(resp)
	if err != nil {
		return nil, err
	}
	sealed, err := key.Seal("twiml_sealed", out)
	if err != nil {
		return nil, err
	}
	if err := q.SealVoiceAnswer(ctx, sealed, id); err != nil {
		return nil, err
	}
	return out, tx.Commit(ctx)
}

// voiceReplay returns the TwiML a step of a call was first answered with.
func (h *Hotline) voiceReplay(ctx context.Context, tx pgx.Tx, callSID, step string) ([]byte, error) {
	ev, err := hotlinedb.New(tx).VoiceAnswer(ctx, callSID, step)
	if err != nil {
		return nil, err
	}
	if ev.TwimlSealed == nil {
		return nil, errors.New("hotline: voice event without its answer")
	}
	key, err := crypto.OpenRowKey(h.keys, "voice_event", ev.ID.String(), ev.KekID, ev.WrappedDek)
	if err != nil {
		return nil, err
	}
	return key.Open("twiml_sealed", ev.TwimlSealed)
}

// writeTwiMLBytes answers with TwiML already marshalled, exactly as
// writeTwiML would have written it.
func writeTwiMLBytes(w http.ResponseWriter, out []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}
