package hotline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/hotline/internal/hotlinedb"
	"github.com/amparo/amparo/hotline/triage"
	"github.com/amparo/amparo/templates"
)

// actorSurvivor names her in audit rows written for her own requests.
const actorSurvivor = "survivor"

// turn is one step of a conversation while its effects run.
type turn struct {
	h          *Hotline
	tx         pgx.Tx
	conv       *conversation
	e164       string
	candidates [][]byte
	erased     bool
	place      triage.Place
}

// converse steps her conversation with body, runs the effects and returns
// the rendered replies. The caller's transaction holds her rate-limit row,
// so no other message of hers is being stepped at the same time.
func (h *Hotline) converse(ctx context.Context, w *webhookTx, e164 string, candidates [][]byte, body string) ([]string, error) {
	now := h.clk.Now()
	if w.conv == nil || !slices.EqualFunc(w.conv.candidates, candidates, bytes.Equal) {
		return nil, errors.New("hotline: conversation not loaded for this caller")
	}
	conv, found, err := h.openConversation(w.conv)
	if err != nil {
		return nil, err
	}
	var st triage.State
	if found {
		err := json.Unmarshal(conv.state, &st)
		if err != nil || now.Sub(conv.lastActivity) >= h.cfg.IdleAfter {
			// Abandoned, or written by a release that no longer reads it:
			// close it (a danger flag still earns its callback) and begin anew.
			tx, err := w.Tx(ctx)
			if err != nil {
				return nil, err
			}
			if err := h.abandon(ctx, tx, conv.id, conv.caseID, conv.danger); err != nil {
				return nil, err
			}
			found = false
		}
	}
	if !found {
		tx, err := w.Tx(ctx)
		if err != nil {
			return nil, err
		}
		if conv, st, err = h.begin(ctx, tx, e164); err != nil {
			return nil, err
		}
	}

	// Cached: read in the webhook's transaction about once a minute, not
	// per message.
	place, err := h.places.get(ctx, func() (pgx.Tx, error) { return w.Tx(ctx) })
	if err != nil {
		return nil, err
	}
	st, out := place.Step(st, body, now)
	t := &turn{h: h, conv: conv, e164: e164, candidates: candidates, place: place}
	if len(out.Effects) > 0 {
		// Effects run statements now; a step without any (most of a
		// conversation) keeps to the webhook's two round trips.
		if t.tx, err = w.Tx(ctx); err != nil {
			return nil, err
		}
		if st, out, err = t.run(ctx, st, out); err != nil {
			return nil, err
		}
	}
	if t.erased {
		return h.render(out), nil
	}
	conv.danger = st.OwesCallback()
	if conv.state, err = json.Marshal(st); err != nil {
		return nil, err
	}
	if err := h.saveConversation(w, conv, candidates[0], !found); err != nil {
		return nil, err
	}
	return h.render(out), nil
}

// begin starts a conversation. Triage treats every number alike, so that
// no reply tells whoever holds her phone whether it has a record; the
// conversation only remembers her contact, to check a code word against.
func (h *Hotline) begin(ctx context.Context, tx pgx.Tx, e164 string) (*conversation, triage.State, error) {
	conv, err := h.newConversation()
	if err != nil {
		return nil, triage.State{}, err
	}
	contact, known, err := h.cases.FindContact(ctx, tx, e164)
	if err != nil {
		return nil, triage.State{}, err
	}
	if known {
		conv.contactID = &contact.ID
	}
	return conv, triage.New(h.clk.Now(), templates.ES), nil
}

// hasLiveCase reports whether the contact has a case that is not erased,
// other than except.
func (h *Hotline) hasLiveCase(ctx context.Context, tx pgx.Tx, contactID uuid.UUID, except *uuid.UUID) (bool, error) {
	cases, err := h.cases.ListCases(ctx, tx, casefile.ListFilter{ContactID: contactID})
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(cases, func(c casefile.CaseSummary) bool {
		return c.Status != casefile.StatusErased && (except == nil || c.ID != *except)
	}), nil
}

// protected reports whether her number holds what a message without her
// code word must neither destroy nor take over: a code word (even one she
// chose a minute ago in this conversation), or a live case this
// conversation did not open.
func (t *turn) protected(ctx context.Context) (bool, error) {
	c, found, err := t.h.cases.FindContact(ctx, t.tx, t.e164)
	if err != nil {
		return false, err
	}
	var contacts []uuid.UUID
	if found {
		if c.HasCodeWord {
			return true, nil
		}
		contacts = append(contacts, c.ID)
	}
	if id := t.conv.contactID; id != nil && (!found || *id != c.ID) {
		contacts = append(contacts, *id) // what erase would reach
	}
	for _, id := range contacts {
		if live, err := t.h.hasLiveCase(ctx, t.tx, id, t.conv.caseID); err != nil || live {
			return live, err
		}
	}
	return false, nil
}

// run carries out the effects in order. A code-word check replaces the
// step's output with triage's verdict on it.
func (t *turn) run(ctx context.Context, st triage.State, out triage.Output) (triage.State, triage.Output, error) {
	now := t.h.clk.Now()
	for _, e := range out.Effects {
		switch e := e.(type) {
		case triage.DangerNow:
			if err := t.danger(ctx, st.Lang, e); err != nil {
				return st, out, err
			}
		case triage.OpenCase:
			unverified := false
			if !st.Verified {
				var err error
				if unverified, err = t.protected(ctx); err != nil {
					return st, out, err
				}
			}
			ref, err := t.openCase(ctx, e, unverified)
			if err != nil {
				return st, out, err
			}
			out = out.WithReference(ref)
		case triage.Stop:
			if err := t.stop(ctx); err != nil {
				return st, out, err
			}
		case triage.Resume:
			lead, err := t.resume(ctx, e.Verified)
			if err != nil {
				return st, out, err
			}
			if lead != "" {
				out.Replies = slices.Insert(out.Replies, 0, templates.Message{Key: lead})
			}
		case triage.EraseConfirmed:
			if err := t.erase(ctx, e.Verified); err != nil {
				return st, out, err
			}
		case triage.CheckCodeWord:
			ok, err := t.checkCodeWord(ctx, e.Word)
			if err != nil {
				return st, out, err
			}
			st, out = t.place.CodeWordResult(st, ok, now)
			return t.run(ctx, st, out)
		case triage.Callback:
			if err := t.callback(ctx); err != nil {
				return st, out, err
			}
		default:
			return st, out, fmt.Errorf("hotline: unhandled triage effect %T", e)
		}
	}
	return st, out, nil
}

// contact returns her contact, creating it the first time a case needs one.
func (t *turn) contact(ctx context.Context) (uuid.UUID, error) {
	if t.conv.contactID != nil {
		return *t.conv.contactID, nil
	}
	c, found, err := t.h.cases.FindContact(ctx, t.tx, t.e164)
	if err != nil {
		return uuid.Nil, err
	}
	if !found {
		if c, err = t.h.cases.CreateContact(ctx, t.tx, t.e164); err != nil {
			return uuid.Nil, err
		}
	}
	t.conv.contactID = &c.ID
	return c.ID, nil
}

// danger opens the urgent case at once and alerts whoever is on call.
// Triage raises the alarm once per conversation, but it may come after the
// conversation opened a routine case (she writes it after the summary):
// that case is not urgent and nobody was alerted, so an urgent one is
// opened. She has been told how the counsellor will reach her: as she
// agreed, or else by text in this conversation, at any hour.
func (t *turn) danger(ctx context.Context, lang string, e triage.DangerNow) error {
	if t.conv.caseID != nil {
		f, err := t.h.cases.CaseFacts(ctx, t.tx, *t.conv.caseID)
		switch {
		case err == nil && f.Urgent:
			return nil // this conversation already raised its alarm
		case err != nil && !caseGone(err):
			return err
		}
	}
	prefs := casefile.ContactPrefs{MayText: true, FromHour: 0, ToHour: 24}
	if e.Agreed {
		prefs = casefile.ContactPrefs{MayText: e.MayText, MayCall: e.MayCall, FromHour: e.FromHour, ToHour: e.ToHour}
	}
	c, err := t.h.openUrgentCase(ctx, t.tx, t.e164, lang, prefs)
	if err != nil {
		return err
	}
	t.conv.contactID, t.conv.caseID = &c.ContactID, &c.ID
	return nil
}

// openUrgentCase opens a case for a survivor in danger now, before triage
// has asked what she needs. casefile wants at least one need; the on-call
// counsellor's call is psychosocial support, and with no consent recorded
// no referral starts from it.
func (h *Hotline) openUrgentCase(ctx context.Context, tx pgx.Tx, e164, lang string, prefs casefile.ContactPrefs) (casefile.Case, error) {
	contact, found, err := h.cases.FindContact(ctx, tx, e164)
	if err != nil {
		return casefile.Case{}, err
	}
	if !found {
		if contact, err = h.cases.CreateContact(ctx, tx, e164); err != nil {
			return casefile.Case{}, err
		}
	}
	c, err := h.cases.OpenCase(ctx, tx, contact.ID, casefile.CaseInput{
		Urgent: true, Needs: []casefile.Need{casefile.NeedPsychosocial}, Lang: casefile.Lang(templates.Lang(lang)), Contact: prefs,
	})
	if err != nil {
		return casefile.Case{}, err
	}
	h.log.Info("hotline: urgent case opened", "case_id", c.ID)
	return c, h.alertDanger(ctx, tx, c.ID, c.Reference)
}

// openCase stores the triaged case and starts its referrals in the same
// transaction. One conversation is one case: when the conversation already
// has a case (the urgent one opened the moment she said she was in danger),
// the triage describes that same case, so it is completed in place (it stays
// urgent, keeps its reference and the alert already sent) instead of a
// second case being opened.
// unverified marks a number with a protected record whose code word has
// not matched in this conversation: a caller-ID spoofer could be typing, so
// the word chosen here is not kept.
// Kept, it would be the word that later unlocks her record (and BORRAR).
func (t *turn) openCase(ctx context.Context, e triage.OpenCase, unverified bool) (string, error) {
	if unverified {
		e.CodeWord = ""
	}
	in := casefile.CaseInput{
		Urgent: e.Urgent, Community: e.Community, IncidentAt: e.IncidentAt,
		Consent: map[casefile.Need]bool{}, CodeWord: e.CodeWord, Lang: casefile.Lang(templates.Lang(e.Lang)),
		Contact: casefile.ContactPrefs{MayText: e.MayText, MayCall: e.MayCall, FromHour: e.FromHour, ToHour: e.ToHour},
	}
	for _, n := range e.Needs {
		in.Needs = append(in.Needs, casefile.Need(n))
		in.Consent[casefile.Need(n)] = e.Consent[n]
	}
	c, completed, err := t.completeCase(ctx, in)
	if err != nil {
		return "", err
	}
	if !completed {
		contactID, err := t.contact(ctx)
		if err != nil {
			return "", err
		}
		if c, err = t.h.cases.OpenCase(ctx, t.tx, contactID, in); err != nil {
			return "", err
		}
	}
	if _, err := t.h.referrals.CreateForCase(ctx, t.tx, c.ID); err != nil {
		return "", err
	}
	t.conv.contactID, t.conv.caseID = &c.ContactID, &c.ID
	if completed {
		t.h.log.Info("hotline: case completed", "case_id", c.ID, "conversation_id", t.conv.id)
	} else {
		t.h.log.Info("hotline: case opened", "case_id", c.ID, "conversation_id", t.conv.id)
	}
	return c.Reference, nil
}

// completeCase fills the conversation's case, if it has one, with in.
// completed is false when there is no case to complete: none yet, or staff
// erased it (or closed it) while she was still answering; her answers then
// go to a new case of her live contact rather than into a dead end. casefile
// refuses those cases before writing anything, so the transaction is intact.
func (t *turn) completeCase(ctx context.Context, in casefile.CaseInput) (c casefile.Case, completed bool, err error) {
	if t.conv.caseID == nil {
		return casefile.Case{}, false, nil
	}
	c, err = t.h.cases.CompleteCase(ctx, t.tx, *t.conv.caseID, in)
	switch {
	case err == nil:
		return c, true, nil
	case errors.Is(err, casefile.ErrErased), errors.Is(err, casefile.ErrNotFound), errors.Is(err, casefile.ErrInvalidInput):
		// An invalid input fails OpenCase in the same way; a closed case
		// does not.
		t.h.log.Warn("hotline: conversation's case cannot be completed; opening a new one",
			"case_id", *t.conv.caseID, "conversation_id", t.conv.id, "err", err)
		t.conv.caseID, t.conv.contactID = nil, nil // her contact is looked up again: it may be erased too
		return casefile.Case{}, false, nil
	default:
		return casefile.Case{}, false, err
	}
}

// stop records SALIR/STOP: nothing the system starts goes to her any more,
// and what is already queued for her is dropped. Replies to her own
// messages are not affected: they answer her, in the webhook's response.
func (t *turn) stop(ctx context.Context) error {
	return t.h.out.Stop(ctx, t.tx, t.candidates)
}

// resume carries out triage.Resume and returns the reply that leads, if
// any. Verified, it lifts her SALIR and, if there was one, says so.
// Unverified, it lifts it only when her number has no code word, and
// always leads with the same words on what lifts a SALIR: an opt-out is a
// record too, and the reply must not tell whether there is one.
func (t *turn) resume(ctx context.Context, verified bool) (lead string, err error) {
	if !verified {
		c, found, err := t.h.cases.FindContact(ctx, t.tx, t.e164)
		if err != nil || (found && c.HasCodeWord) {
			return templates.KeyRestartStopped, err
		}
	}
	lifted, err := t.h.out.Resume(ctx, t.tx, t.candidates)
	if err != nil {
		return "", err
	}
	if lifted {
		t.h.log.Info("hotline: survivor lifted her opt-out", "conversation_id", t.conv.id)
	}
	switch {
	case !verified:
		return templates.KeyRestartStopped, nil
	case lifted:
		return templates.KeyResumed, nil
	}
	return "", nil
}

// erase carries out a confirmed BORRAR and ends the conversation. verified
// says her code word matched in this conversation. Without it, and when her
// number holds what a code word protects (protected) or a danger alert
// still owed its callback, only her words go: see eraseWords. Otherwise her
// contact and cases are shredded by casefile, and every message row that
// holds her words or number loses its key. Her rate-limit window and any
// block stay: they hold no words of hers, and erasing must not reset the
// limit at will. Her SALIR goes only with her code word.
func (t *turn) erase(ctx context.Context, verified bool) error {
	if !verified {
		keep, err := t.protected(ctx)
		if err != nil {
			return err
		}
		if keep || t.conv.danger {
			return t.eraseWords(ctx)
		}
	}
	if t.conv.contactID == nil {
		c, found, err := t.h.cases.FindContact(ctx, t.tx, t.e164)
		if err != nil {
			return err
		}
		if found {
			t.conv.contactID = &c.ID
		}
	}
	// Her texts and ours to her: Twilio keeps them, under these sids.
	messages, err := t.shredMessages(ctx)
	if err != nil {
		return err
	}
	now := t.h.clk.Now()
	sent, err := t.h.out.ForgetRecipient(ctx, t.tx, t.candidates)
	if err != nil {
		return err
	}
	q := hotlinedb.New(t.tx)
	if err := q.EraseActiveConversation(ctx, t.candidates); err != nil {
		return err
	}
	if verified {
		if _, err := t.h.out.Resume(ctx, t.tx, t.candidates); err != nil {
			return err
		}
	}
	// Past conversations would still tie her contact and cases to the
	// dates she wrote and whether she flagged danger.
	if err := q.DeletePastConversations(ctx, t.candidates, t.conv.contactID, t.conv.id); err != nil {
		return err
	}
	// Her message rows first: the sender may hold one of them while it
	// waits for her case (to file a failed delivery), and EraseContact
	// takes her cases.
	// Her calls are forgotten by EraseHook, with her cases.
	if t.conv.contactID != nil {
		if err := t.h.cases.EraseContact(ctx, t.tx, *t.conv.contactID, actorSurvivor); err != nil {
			return err
		}
	}
	if err := enqueuePurges(ctx, t.tx, t.h.jobs, now.Add(purgeDelay), append(messages, sent...), nil); err != nil {
		return err
	}
	t.erased = true
	t.h.log.Info("hotline: survivor erased her data", "conversation_id", t.conv.id)
	return nil
}

// eraseWords is BORRAR without her code word from a number whose record it
// must not touch: the copies of her words in message rows are shredded and
// the conversation ends; her contact, cases, code word, SALIR and what the
// system has queued for her stay. A danger alert still owed its callback
// gets it now, since the conversation that would have raised it is gone.
func (t *turn) eraseWords(ctx context.Context) error {
	messages, err := t.shredMessages(ctx)
	if err != nil {
		return err
	}
	if err := enqueuePurges(ctx, t.tx, t.h.jobs, t.h.clk.Now().Add(purgeDelay), messages, nil); err != nil {
		return err
	}
	if t.conv.danger && t.conv.caseID != nil {
		if err := t.h.callBack(ctx, t.tx, *t.conv.caseID); err != nil {
			return err
		}
	}
	if err := t.h.closeConversation(ctx, t.tx, t.conv.id, "erased"); err != nil {
		return err
	}
	t.erased = true
	t.h.log.Info("hotline: erasure without code word kept the protected record", "conversation_id", t.conv.id)
	return nil
}

// shredMessages takes the key, texts and number index from every inbound
// row of her number, and returns their Twilio sids: Twilio keeps her texts
// under them.
func (t *turn) shredMessages(ctx context.Context) ([]string, error) {
	sids, err := hotlinedb.New(t.tx).ShredCallerMessages(ctx, t.candidates)
	if err != nil {
		return nil, err
	}
	return setSIDs(sids), nil
}

// setSIDs returns the sids that are set: a message row past its retention
// has none left.
func setSIDs(all []*string) []string {
	var sids []string
	for _, s := range all {
		if s != nil {
			sids = append(sids, *s)
		}
	}
	return sids
}

// checkCodeWord compares her word with her contact's. A word that cannot be
// checked is not a match: none was ever chosen (a case opened in danger, or
// by a call), checks are locked after repeated failures across
// conversations, or staff erased her contact meanwhile. casefile refuses
// those before writing anything, so the transaction goes on.
func (t *turn) checkCodeWord(ctx context.Context, word string) (bool, error) {
	if t.conv.contactID == nil {
		// Her contact may have been created since the conversation began
		// (a case opened by a call).
		c, found, err := t.h.cases.FindContact(ctx, t.tx, t.e164)
		if err != nil || !found {
			return false, err
		}
		t.conv.contactID = &c.ID
	}
	ok, err := t.h.cases.CheckCodeWord(ctx, t.tx, *t.conv.contactID, word)
	switch {
	case errors.Is(err, casefile.ErrNoCodeWord), errors.Is(err, casefile.ErrCodeWordLocked),
		errors.Is(err, casefile.ErrErased), errors.Is(err, casefile.ErrNotFound):
		t.h.log.Warn("hotline: code word cannot be checked; taken as wrong",
			"conversation_id", t.conv.id, "err", err)
		return false, nil
	case err != nil:
		return false, err
	}
	return ok, nil
}

// callback files a caseworker task on her latest case; triage emits it only
// after her code word matched.
func (t *turn) callback(ctx context.Context) error {
	if t.conv.contactID == nil {
		return nil
	}
	cases, err := t.h.cases.ListCases(ctx, t.tx, casefile.ListFilter{ContactID: *t.conv.contactID})
	if err != nil || len(cases) == 0 {
		return err
	}
	latest := slices.MaxFunc(cases, func(a, b casefile.CaseSummary) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return t.h.cases.AddFollowUp(ctx, t.tx, latest.ID, casefile.FollowUp{Kind: casefile.FollowUpCallback, DueAt: t.h.clk.Now()})
}

// render turns triage's replies into texts. A reply that fails to render is
// a catalogue bug: it is logged and left out, so she still gets the rest.
func (h *Hotline) render(out triage.Output) []string {
	texts := make([]string, 0, len(out.Replies))
	for _, m := range out.Replies {
		s, err := m.Render(out.Lang)
		if err != nil {
			h.log.Error("hotline: reply does not render", "key", m.Key, "err", err)
			continue
		}
		texts = append(texts, s)
	}
	return texts
}
