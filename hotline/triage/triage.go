// Package triage is the survivor's SMS conversation as a pure state
// machine: given the stored State, her message and the time, Step returns
// the next State, the replies to send and the Effects the hotline must carry
// out. It holds no database, network or clock of its own, so every path of
// the conversation is tested here, and the hotline needs no conversation
// logic: it seals the State per conversation, runs the Effects, and renders
// the replies (templates.Message) in Output.Lang.
//
// The order follows DESIGN §4: danger first (the first reply names 105 and
// Linea 100), then consent to open a case, needs, when it happened (for the
// 72 h / 120 h clinical windows), community, consent per referral, safe
// contact and a code word, and a summary with the case reference. SALIR,
// BORRAR, AYUDA, INICIO and the language switches work at every step, in
// Spanish and English, whatever the case or accents; a first message in
// English starts in English. An answer that is not understood gets a short
// re-prompt that repeats the options, and every message of hers gets an
// answer, after SALIR too.
//
// Caller ID can be spoofed, and whoever holds her phone reads the replies,
// so until her code word matches nothing here depends on whether her number
// has a record: the state machine does not know. Everyone gets the same
// first reply, which invites a code word from someone who wrote before; a
// word that matches opens the returning menu. BORRAR asks everyone for the
// code word, or leave to erase what no code word protects (the hotline
// decides what that is). Wrong words, at either prompt, count towards one
// lockout per conversation.
//
// Danger is heard in her own words too, at every step (ReadDanger): the
// first statement raises the same alarm as "yes" to the danger question,
// once per conversation, and from then on no reply says there is no case.
//
// Using the package:
//
//	place := triage.Place{Communities: ..., Zone: ...} // from the directory and configuration
//	st := triage.New(now, "es")
//	st, out := place.Step(st, body, now)
//	// run out.Effects in order; for CheckCodeWord, answer with
//	// place.CodeWordResult and use its output instead;
//	// after OpenCase, out = out.WithReference(caseRef);
//	// render out.Replies in out.Lang and send them.
//
// Expiry is not decided here: the hotline's sweep closes a conversation idle
// for its configured time (IdleTimeout unless set), in SQL over every
// conversation at once, and raises a callback task if it still owes one
// (OwesCallback).
package triage

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/templates"
)

// Version is the State layout this release writes. UnmarshalJSON reads
// every version up to it; a state written by a newer release is rejected
// (ErrVersion) and the hotline starts the conversation again.
const Version = 1

// IdleTimeout is how long a conversation waits for her next message. A
// day lets her answer when it is safe to pick up the phone again.
const IdleTimeout = 24 * time.Hour

// maxCodeWordTries bounds guessing from a phone that may not be hers.
const maxCodeWordTries = 3

// ErrVersion means stored state has a version this release cannot read.
var ErrVersion = errors.New("triage: unsupported state version")

type step string

const (
	stepStart        step = "start"
	stepDanger       step = "danger"
	stepDangerWait   step = "danger_wait" // a code word sent instead of an answer is being checked
	stepContinue     step = "continue"
	stepReturnMenu   step = "return_menu"
	stepConsent      step = "consent"
	stepNeeds        step = "needs"
	stepWhen         step = "when"
	stepCommunity    step = "community"
	stepReferrals    step = "referrals"
	stepContact      step = "contact"
	stepHours        step = "hours"
	stepCodeWord     step = "codeword"
	stepEraseWord    step = "erase_word" // BORRAR before her code word matched: her word, or 1 for what no word protects
	stepEraseWait    step = "erase_wait"
	stepEraseConfirm step = "erase_confirm" // BORRAR after her code word matched
	stepDone         step = "done"
	stepStopped      step = "stopped"
	stepErased       step = "erased"
)

// State is one conversation. It is plain data for the hotline to store
// (sealed: it holds her answers and code word until the case is opened) and
// to hand back unchanged; only this package changes it.
type State struct {
	V        int       `json:"v"`
	Step     step      `json:"step"`
	Resume   step      `json:"resume,omitempty"` // where BORRAR was typed, to return to if she does not confirm
	Lang     string    `json:"lang"`
	Verified bool      `json:"verified,omitempty"` // her code word matched in this conversation
	Danger   bool      `json:"danger,omitempty"`
	Opened   bool      `json:"opened,omitempty"` // her answers went into a case
	Tries    int       `json:"tries,omitempty"`  // wrong code words so far
	LastAt   time.Time `json:"last_at"`

	Needs      []string        `json:"needs,omitempty"`
	IncidentAt *time.Time      `json:"incident_at,omitempty"`
	Community  string          `json:"community,omitempty"`
	Consent    map[string]bool `json:"consent,omitempty"`
	MayText    bool            `json:"may_text,omitempty"`
	MayCall    bool            `json:"may_call,omitempty"`
	FromHour   int             `json:"from_hour,omitempty"`
	ToHour     int             `json:"to_hour,omitempty"`
	CodeWord   string          `json:"code_word,omitempty"`

	// place is where this step runs, set by Step for its duration only:
	// the place is the deployment's, not hers, so it is never stored.
	place *Place
}

// Output is what one step asks of the hotline.
type Output struct {
	Lang    string // render Replies in this language
	Replies []templates.Message
	Effects []Effect
}

// WithReference fills the case reference into the summary reply; call it
// with the reference of the case stored for OpenCase. Until then the summary
// does not render, so a missing reference can never reach her phone as a
// gap.
func (o Output) WithReference(ref string) Output {
	replies := slices.Clone(o.Replies)
	for i, m := range replies {
		if m.Key == templates.KeySummary {
			replies[i] = templates.Message{Key: m.Key, Args: map[string]string{"ref": ref}}
		}
	}
	o.Replies = replies
	return o
}

// New starts a conversation. It is the same whether or not her number is
// known: her first message is answered with the danger question, which
// also invites a code word from someone who wrote before, unless it already
// says she is in danger (ReadDanger): then the alarm is raised at once.
func New(now time.Time, lang string) State {
	return State{V: Version, Step: stepStart, Lang: templates.Lang(lang), LastAt: now.UTC()}
}

// OwesCallback reports whether a counsellor must call her back if she goes
// silent now: she said she was in danger, and her answers have not gone
// into a case. SALIR, "no" or BORRAR without her code word leave it owed:
// whoever holds her phone can send those.
func (st State) OwesCallback() bool { return st.Danger && !st.Opened }

// Finished reports whether the conversation reached an end: the summary,
// a refusal, SALIR or BORRAR.
func (st State) Finished() bool {
	switch st.Step {
	case stepDone, stepStopped, stepErased:
		return true
	}
	return false
}

// UnmarshalJSON reads a stored state, refusing versions this release does
// not know rather than guessing at their meaning.
func (st *State) UnmarshalJSON(b []byte) error {
	type plain State
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if p.V < 1 || p.V > Version {
		return fmt.Errorf("%w: %d", ErrVersion, p.V)
	}
	*st = State(p)
	return nil
}

// Step advances the conversation by one message from her, in place p.
func (p Place) Step(st State, input string, now time.Time) (State, Output) {
	st = st.clone()
	st.place = &p
	st.V = Version
	st.Lang = templates.Lang(st.Lang)
	st.LastAt = now.UTC()
	norm := normalize(input)
	if (st.Step == stepStart || st.Step == "") && english(norm) {
		// Her first words choose the language: "help" or "hello" must not
		// need a keyword first.
		st.Lang = templates.EN
	}
	said := ReadDanger(input).Said

	var out Output
	switch kw := parseKeyword(norm); {
	case kw != kwNone:
		st, out = onKeyword(st, kw)
	case said == SaidDanger:
		st, out = heardDanger(st)
	case said == SaidSafe && (st.Step == stepDanger || st.Step == stepDangerWait):
		// "No estoy en peligro" answers the question as "no" does.
		st, out = afterDanger(st)
	default:
		st, out = respond(st, norm, now)
	}
	out.Lang = st.Lang
	st.place = nil
	return st, out
}

// CodeWordResult continues after a CheckCodeWord effect: ok is whether the
// word matched her case. Called in any other state, it changes nothing and
// repeats the current question.
func (p Place) CodeWordResult(st State, ok bool, now time.Time) (State, Output) {
	st = st.clone()
	st.place = &p
	st, out := codeWordResult(st, ok, now)
	st.place = nil
	return st, out
}

func codeWordResult(st State, ok bool, now time.Time) (State, Output) {
	st.LastAt = now.UTC()
	var out Output
	switch st.Step {
	case stepDangerWait:
		st, out = dangerWordResult(st, ok)
	case stepEraseWait:
		st, out = eraseWordResult(st, ok)
	default:
		st, out = ask(st)
	}
	out.Lang = st.Lang
	return st, out
}

func (st State) clone() State {
	st.Needs = slices.Clone(st.Needs)
	st.Consent = maps.Clone(st.Consent)
	if st.IncidentAt != nil {
		t := *st.IncidentAt
		st.IncidentAt = &t
	}
	return st
}

func reply(keys ...string) Output {
	var out Output
	for _, k := range keys {
		out.Replies = append(out.Replies, templates.Message{Key: k})
	}
	return out
}

func onKeyword(st State, kw keyword) (State, Output) {
	switch kw {
	case kwStop:
		out := reply(templates.KeyStop)
		out.Effects = []Effect{Stop{}}
		return forget(st, stepStopped), out
	case kwHelp:
		help := reply(templates.KeyHelp)
		if st.Finished() {
			return st, help
		}
		st, q := ask(st)
		help.Replies = append(help.Replies, q.Replies...)
		return st, help
	case kwErase:
		if !st.Step.erasing() {
			st.Resume = st.Step
		}
		switch {
		case st.Verified:
			return goTo(st, stepEraseConfirm)
		case st.Tries >= maxCodeWordTries:
			return resume(st, templates.KeyEraseLocked)
		}
		return goTo(st, stepEraseWord)
	case kwEraseYes:
		return erase(st)
	case kwRestart:
		st, out := restart(st)
		out.Effects = []Effect{Resume{Verified: st.Verified}}
		return st, out
	default: // kwEnglish, kwSpanish
		st.Lang = templates.ES
		if kw == kwEnglish {
			st.Lang = templates.EN
		}
		return ask(st)
	}
}

// forget drops her answers: once a case is stored, or she has stopped or
// erased, the conversation keeps only what it needs to go on. Whether her
// code word matched, and how many wrong ones she gave, survive INICIO, so
// starting over neither forgets her proof nor resets the lockout. After
// BORRAR nothing is held about her: she is a stranger again.
func forget(st State, to step) State {
	if to == stepErased {
		return State{V: Version, Step: to, Lang: st.Lang, LastAt: st.LastAt}
	}
	return State{
		V: Version, Step: to, Lang: st.Lang, LastAt: st.LastAt,
		Verified: st.Verified, Tries: st.Tries, Danger: st.Danger, Opened: st.Opened,
	}
}

// erase carries out a confirmed BORRAR. Triage cannot know what her number
// holds, and must not say: with her code word it reports everything erased;
// without it, the hotline erases only what no code word protects, and the
// reply says so in words that are true whatever the number held.
func erase(st State) (State, Output) {
	out := reply(templates.KeyEraseDoneNoCodeWord)
	if st.Verified {
		out = reply(templates.KeyEraseDone)
	}
	out.Effects = []Effect{EraseConfirmed{Verified: st.Verified}}
	return forget(st, stepErased), out
}

// erasing reports whether the step belongs to BORRAR's own questions.
func (s step) erasing() bool {
	return s == stepEraseWord || s == stepEraseWait || s == stepEraseConfirm
}

// dangerWordResult continues after a code word sent at the danger question:
// a match opens the returning menu, and is her choice to come back after
// SALIR; a wrong word is answered exactly as any
// other unclear answer, so the reply tells nothing of the number.
func dangerWordResult(st State, ok bool) (State, Output) {
	if ok {
		st.Tries, st.Verified = 0, true
		st, out := goTo(st, stepReturnMenu)
		out.Effects = []Effect{Resume{Verified: true}}
		return st, out
	}
	st.Tries++
	st.Step = stepDanger
	return again(st)
}

// eraseWordResult continues BORRAR after her code word was checked: a match
// leads to the confirmation, a wrong word counts against the lockout.
func eraseWordResult(st State, ok bool) (State, Output) {
	switch {
	case ok:
		st.Tries, st.Verified = 0, true
		return goTo(st, stepEraseConfirm)
	case st.Tries+1 >= maxCodeWordTries:
		st.Tries++
		return resume(st, templates.KeyEraseLocked)
	}
	st.Tries++
	st.Step = stepEraseWord
	return st, reply(templates.KeyEraseCodeWordRetry)
}

// resume leaves BORRAR without erasing: she returns to the question she
// was at when she typed it, after lead says why.
func resume(st State, lead string) (State, Output) {
	st.Step, st.Resume = st.Resume, ""
	st, q := ask(st)
	q.Replies = append([]templates.Message{{Key: lead}}, q.Replies...)
	return st, q
}

// restart keeps the facts about the conversation (language, whether her
// code word matched or how often it did not, whether she flagged danger)
// and asks everything again.
func restart(st State) (State, Output) {
	st = forget(st, stepStart)
	return ask(st)
}

// ask repeats the question of the current step, settling the steps that
// have no question of their own. After SALIR the answer to anything she
// writes is the emergency numbers and the way back: never silence.
func ask(st State) (State, Output) {
	switch st.Step {
	case stepStart, "", stepDangerWait:
		return goTo(st, stepDanger)
	case stepEraseWait:
		return goTo(st, stepEraseWord)
	case stepStopped:
		return st, reply(templates.KeyStopped)
	}
	return goTo(st, st.Step)
}

// goTo moves to a step and asks its question.
func goTo(st State, to step) (State, Output) {
	st.Step = to
	switch to {
	case stepDanger:
		return st, reply(templates.KeyWelcome)
	case stepContinue:
		return st, reply(templates.KeyDangerAlerted)
	case stepReturnMenu:
		return st, reply(templates.KeyReturnMenu)
	case stepConsent:
		return st, reply(templates.KeyConsent)
	case stepNeeds:
		return st, reply(templates.KeyNeeds)
	case stepWhen:
		return st, reply(templates.KeyWhen)
	case stepCommunity:
		return st, Output{Replies: []templates.Message{{Key: templates.KeyCommunity, Args: st.place.options(st.Lang, false)}}}
	case stepReferrals:
		return st, Output{Replies: []templates.Message{{Key: templates.KeyReferrals, Args: needOptions(st)}}}
	case stepContact:
		return st, reply(templates.KeyContact)
	case stepHours:
		return st, reply(templates.KeyHours)
	case stepCodeWord:
		return st, reply(templates.KeyCodeWord)
	case stepEraseWord:
		return st, reply(templates.KeyEraseCodeWord)
	case stepEraseConfirm:
		return st, reply(templates.KeyEraseConfirm)
	}
	// Finished, or a step this release does not know: nothing to ask, but
	// never silence.
	return st, reply(templates.KeyDone)
}

// retry is the short re-prompt for each question.
var retry = map[step]string{
	stepDanger:     templates.KeyDangerRetry,
	stepContinue:   templates.KeyContinueRetry,
	stepReturnMenu: templates.KeyReturnMenuRetry,
	stepConsent:    templates.KeyConsentRetry,
	stepNeeds:      templates.KeyNeedsRetry,
	stepWhen:       templates.KeyWhenRetry,
	stepContact:    templates.KeyContactRetry,
	stepHours:      templates.KeyHoursRetry,
	stepCodeWord:   templates.KeyCodeWordRetry,
}

func again(st State) (State, Output) {
	if st.Step == stepReferrals {
		return st, Output{Replies: []templates.Message{{Key: templates.KeyReferralsRetry, Args: needOptions(st)}}}
	}
	if st.Step == stepCommunity {
		return st, Output{Replies: []templates.Message{{Key: templates.KeyCommunityRetry, Args: st.place.options(st.Lang, true)}}}
	}
	if k, ok := retry[st.Step]; ok {
		return st, reply(k)
	}
	return ask(st)
}

// needOptions lists her needs numbered from 1 in the order shown; the
// answer is read against the same list (parseReferrals).
func needOptions(st State) map[string]string {
	labels := map[string]string{
		"health": templates.KeyNeedHealth, "police": templates.KeyNeedPolice, "shelter": templates.KeyNeedShelter,
		"legal": templates.KeyNeedLegal, "psychosocial": templates.KeyNeedPsychosocial,
	}
	opts := make([]string, 0, len(st.Needs))
	for i, n := range st.Needs {
		label, err := templates.Render(st.Lang, labels[n], nil)
		if err != nil {
			panic(err) // the catalogue test guarantees every label exists
		}
		opts = append(opts, strconv.Itoa(i+1)+" "+label)
	}
	return map[string]string{"options": strings.Join(opts, " ")}
}

// respond handles a message that is not a keyword.
func respond(st State, norm string, now time.Time) (State, Output) {
	switch st.Step {
	case stepDanger, stepDangerWait:
		st.Step = stepDanger
		switch parseYesNo(norm) {
		case yes:
			st.Danger = true
			st, out := goTo(st, stepContinue)
			out.Effects = []Effect{DangerNow{}}
			return st, out
		case no:
			return afterDanger(st)
		}
		// The welcome invites a code word from someone who wrote before.
		// Everyone's word is checked (none matches a number without a
		// record), so the answer never depends on the number.
		if w, ok := parseCodeWord(norm); ok && !st.Verified && st.Tries < maxCodeWordTries {
			st.Step = stepDangerWait
			return st, Output{Effects: []Effect{CheckCodeWord{Word: w}}}
		}
	case stepContinue:
		switch parseYesNo(norm) {
		case yes:
			return afterDanger(st)
		case no:
			// She chose not to go on by text: the alert stands, and she
			// writes when she can; nothing promises to write to her.
			st = forget(st, stepDone)
			return st, reply(templates.KeyDangerPaused)
		}
	case stepReturnMenu:
		switch n, _ := option(norm, 3); {
		case n == 1:
			out := reply(templates.KeyReturnCallback)
			out.Effects = []Effect{Callback{}}
			return forget(st, stepDone), out
		case n == 2 || norm == "nuevo" || norm == "new":
			return goTo(st, stepConsent)
		case n == 3:
			return forget(st, stepDone), reply(st.farewell(templates.KeyGoodbye))
		}
	case stepConsent:
		switch parseYesNo(norm) {
		case yes:
			return goTo(st, stepNeeds)
		case no:
			return forget(st, stepDone), reply(st.farewell(templates.KeyConsentDeclined))
		}
	case stepNeeds:
		if needs, ok := parseNeedList(norm); ok {
			st.Needs = needs
			if slices.Contains(needs, "health") {
				return goTo(st, stepWhen)
			}
			return goTo(st, stepCommunity)
		}
	case stepWhen:
		if at, ok := parseWhen(norm, now, st.place.zone()); ok {
			st.IncidentAt = at
			var first []templates.Message
			if at != nil {
				first = windowNotice(st.Lang, *at, now, st.place.zone())
			}
			st, out := goTo(st, stepCommunity)
			out.Replies = append(first, out.Replies...)
			return st, out
		}
	case stepCommunity:
		if c, ok := st.place.parseCommunity(norm); ok {
			st.Community = c
			return goTo(st, stepReferrals)
		}
	case stepReferrals:
		if consent, ok := parseReferrals(norm, st.Needs); ok {
			st.Consent = consent
			return goTo(st, stepContact)
		}
	case stepContact:
		if text, call, ok := parseContact(norm); ok {
			st.MayText, st.MayCall = text, call
			if !text && !call {
				st.FromHour, st.ToHour = 0, 0
				return goTo(st, stepCodeWord)
			}
			return goTo(st, stepHours)
		}
	case stepHours:
		if from, to, ok := parseHours(norm); ok {
			st.FromHour, st.ToHour = from, to
			return goTo(st, stepCodeWord)
		}
	case stepCodeWord:
		if w, ok := parseCodeWord(norm); ok {
			st.CodeWord = w
			return openCase(st)
		}
		if refusesCodeWord(norm) {
			// The plain retry would only repeat the rules to her.
			return st, reply(templates.KeyCodeWordWhy)
		}
	case stepEraseWord, stepEraseWait:
		switch parseYesNo(norm) {
		case yes:
			return erase(st)
		case no:
			return resume(st, templates.KeyEraseCancelled)
		}
		st.Step = stepEraseWait
		if w, ok := parseCodeWord(norm); ok {
			return st, Output{Effects: []Effect{CheckCodeWord{Word: w}}}
		}
		return codeWordResult(st, false, now)
	case stepEraseConfirm:
		if parseYesNo(norm) == yes {
			return erase(st)
		}
		return resume(st, templates.KeyEraseCancelled)
	case stepStopped:
		return ask(st)
	case stepDone, stepErased:
		return st, reply(templates.KeyDone)
	default:
		// A new conversation, or a step this release does not know:
		// whatever she wrote, safety comes first.
		return goTo(st, stepDanger)
	}
	return again(st)
}

// heardDanger answers a danger statement in her own words (ReadDanger), at
// any step. The first in a conversation raises the alarm as "yes" to the
// danger question does (DangerNow, so one urgent case and one alert however
// often she says it); she is told how a counsellor will reach her
// (dangerHeard) and the emergency numbers, then asked again the question
// she was at, so none of her answers is lost. After SALIR the alarm goes
// all the same, but she stays stopped (anyone can write such words from her
// number; only INICIO or her code word lifts SALIR): she is told the
// counsellor has her alert, and how to be written to again.
func heardDanger(st State) (State, Output) {
	var effects []Effect
	if !st.Danger {
		// A new alarm: a case opened earlier in the conversation was not
		// urgent, and this one owes her a callback until her answers are in.
		st.Danger, st.Opened = true, false
		effects = []Effect{st.dangerNow()}
	}
	var out Output
	switch st.Step {
	case stepStart, "", stepDanger, stepDangerWait:
		st, out = goTo(st, stepContinue)
	case stepStopped:
		out = reply(templates.KeyDangerPaused, templates.KeyStopped)
	case stepDone, stepErased:
		st.Step = stepDone
		out = reply(st.dangerHeard())
	default:
		out = reply(st.dangerHeard())
		var q Output
		st, q = again(st) // the short form: she has just read the question
		out.Replies = append(out.Replies, q.Replies...)
	}
	out.Effects = effects
	return st, out
}

// contactAgreed reports whether she has said, in this conversation, how
// she may be contacted.
func (st State) contactAgreed() bool { return st.Step == stepHours || st.Step == stepCodeWord }

func (st State) dangerNow() DangerNow {
	if !st.contactAgreed() {
		return DangerNow{}
	}
	d := DangerNow{Agreed: true, MayText: st.MayText, MayCall: st.MayCall, FromHour: st.FromHour, ToHour: st.ToHour}
	if st.Step == stepHours && (d.MayText || d.MayCall) {
		d.FromHour, d.ToHour = 0, 24 // she has not said when yet
	}
	return d
}

// dangerHeard is what she is told after a danger statement: how the
// counsellor will reach her, within what she agreed if she has said, or by
// this conversation; if she asked not to be contacted, only that the
// counsellor has her alert.
func (st State) dangerHeard() string {
	switch {
	case !st.contactAgreed():
		return templates.KeyDangerHeard
	case st.MayText || st.MayCall:
		return templates.KeyDangerHeardAgreed
	}
	return templates.KeyDangerPaused
}

// farewell is the reply that ends a conversation without the summary: key,
// unless she said she was in danger, when an urgent case is open whatever
// she declines now and "we did not open a case" would be a lie. She is
// told the truth instead: the case is open, a counsellor will write to her,
// and BORRAR erases it.
func (st State) farewell(key string) string {
	if st.Danger {
		return templates.KeyDangerOpen
	}
	return key
}

// afterDanger continues once the danger question is settled: to her menu
// if her code word matched, otherwise to a new case, the same for everyone.
func afterDanger(st State) (State, Output) {
	if st.Verified {
		return goTo(st, stepReturnMenu)
	}
	return goTo(st, stepConsent)
}

// windowNotice tells her, when a clinical window is still open, until when
// to reach a health centre. The earlier window (PEP) is named while open.
func windowNotice(lang string, incidentAt, now time.Time, zone *time.Location) []templates.Message {
	d := casefile.ClinicalDeadlines(incidentAt)
	key, deadline := templates.KeyHealthPEP, d.PEP
	switch {
	case d.PEPOpen(now):
	case d.ECOpen(now):
		key, deadline = templates.KeyHealthEC, d.EC
	default:
		return nil
	}
	layout, err := templates.Render(lang, templates.KeyFormatDeadline, nil)
	if err != nil {
		panic(err) // the catalogue test guarantees the layout exists
	}
	return []templates.Message{{Key: key, Args: map[string]string{"deadline": deadline.In(zone).Format(layout)}}}
}

func openCase(st State) (State, Output) {
	oc := OpenCase{
		Urgent:     st.Danger,
		Needs:      slices.Clone(st.Needs),
		Community:  st.Community,
		IncidentAt: st.IncidentAt,
		Consent:    maps.Clone(st.Consent),
		MayText:    st.MayText,
		MayCall:    st.MayCall,
		FromHour:   st.FromHour,
		ToHour:     st.ToHour,
		CodeWord:   st.CodeWord,
		Lang:       st.Lang,
	}
	out := reply(templates.KeySummary)
	out.Effects = []Effect{oc}
	st.Opened = true
	return forget(st, stepDone), out
}
