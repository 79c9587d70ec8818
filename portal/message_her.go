package portal

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/templates"
)

// Messenger queues a text to the survivor of a case under her safe-contact
// profile, in tx. sendAt is when it will go (now, or the opening of her
// next allowed hours); queued false means it never will (she allowed no
// texts, said SALIR, or is erased). cmd/amparo wires package sms's
// Notifier, which applies the profile again when the text is due.
//
// SaidStop reports whether she said SALIR (sms keeps that list): a provider
// is then not shown her number.
type Messenger interface {
	MessageSurvivor(ctx context.Context, tx pgx.Tx, caseID uuid.UUID, body string) (sendAt time.Time, queued bool, err error)
	SaidStop(ctx context.Context, tx pgx.Tx, caseID uuid.UUID) (bool, error)
}

// freeText is the form's value for a text the caseworker writes herself.
const freeText = "free"

type messageChoice struct {
	Key  string
	Text string // in her language, as she will read it
}

type messageData struct {
	CaseID    uuid.UUID
	Reference string
	Queued    bool
	Later     bool // outside her hours: it waits for SendAt
	SendAt    time.Time
}

// messageChoices are the catalogue texts the case page offers, in lang.
func messageChoices(lang casefile.Lang) ([]messageChoice, error) {
	out := make([]messageChoice, 0, len(templates.SurvivorPortalKeys))
	for _, key := range templates.SurvivorPortalKeys {
		s, err := templates.Render(string(lang), key, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, messageChoice{Key: key, Text: s})
	}
	return out, nil
}

// messageHer queues a text to her: a catalogue text, or one the caseworker
// wrote after confirming it names no violence, service or detail (her phone
// may be read by the person she fears). The sending is audited, never the
// text; the page says whether and when it will go.
func (p *Portal) messageHer(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.caseFor(r, ActMessageHer)
	if err != nil {
		return err
	}
	if p.messenger == nil {
		return errors.New("portal: no messenger wired")
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	ctx := r.Context()
	facts, err := p.cases.CaseFacts(ctx, p.pool, sc.ID)
	if err != nil {
		return err
	}
	choice := r.PostForm.Get("text")
	var body string
	switch {
	case choice == freeText:
		body = templates.FoldGSM7(strings.TrimSpace(r.PostForm.Get("body")))
		if r.PostForm.Get("discreet") != "1" || body == "" {
			return errBadRequest
		}
		if enc, n := templates.Segments(body); enc != templates.GSM7 || n > 2 {
			return errBadRequest
		}
	case slices.Contains(templates.SurvivorPortalKeys, choice):
		if body, err = templates.Render(string(facts.Lang), choice, nil); err != nil {
			return err
		}
	default:
		return errBadRequest
	}
	d := messageData{CaseID: sc.ID, Reference: facts.Reference}
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var err error
		if d.SendAt, d.Queued, err = p.messenger.MessageSurvivor(ctx, tx, sc.ID, body); err != nil || !d.Queued {
			return err
		}
		detail := "template:" + strings.TrimPrefix(choice, "sms.survivor.portal.")
		if choice == freeText {
			detail = "free_text"
		}
		return audit.Append(ctx, tx, p.now(), audit.Entry{Actor: u.ID.String(), Action: string(ActMessageHer),
			CaseID: sc.ID.String(), Detail: detail})
	})
	if err != nil {
		return err
	}
	if !d.Queued {
		return p.renderStatus(w, r, http.StatusConflict, "message_her", d)
	}
	d.Later = d.SendAt.After(p.clk.Now())
	return p.render(w, r, "message_her", d)
}
