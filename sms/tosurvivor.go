package sms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/sms/internal/smsdb"
	"github.com/amparo/amparo/templates"
)

// ContactProfile is what a survivor allowed, as the sender needs it to
// decide whether and when a text the system starts may reach her.
type ContactProfile struct {
	MayText bool
	// FromHour (inclusive) and ToHour (exclusive, may be 24) bound her
	// hours in Zone; FromHour > ToHour wraps past midnight, equal means
	// any hour.
	FromHour, ToHour int
	Zone             *time.Location // the deployment's (referral.DirectoryZone)
	Stopped          bool           // she said SALIR/STOP and has not started over
	Gone             bool           // her case or contact is erased
}

// ContactAt says when a text may reach her: at == now means at once, a
// later at is the opening of her next allowed hours, and ok false means
// never (she did not allow texts, she said stop, or she is erased). It is
// the one rule for every text the system starts to her, applied when the
// text is queued and again when it is sent; her hours are casefile's
// (ContactPrefs.NextInHours), which the portal applies to providers too.
func ContactAt(p ContactProfile, now time.Time) (at time.Time, ok bool) {
	if !p.MayText || p.Stopped || p.Gone {
		return time.Time{}, false
	}
	hours := casefile.ContactPrefs{FromHour: p.FromHour, ToHour: p.ToHour}
	return hours.NextInHours(now, p.Zone), true
}

// Notifier is the Outbox with the case store that texts to a survivor need:
// her number and what she allowed. It implements referral.Notifier.
type Notifier struct {
	*Outbox
	cases *casefile.Store
	// inbox is the providers' portal inbox, which their notice points to;
	// NewSender sets it from the public address the portal is served at.
	inbox string
}

var _ referral.Notifier = (*Notifier)(nil)

// NewNotifier returns the Notifier that queues through out and reads cases.
func NewNotifier(out *Outbox, cases *casefile.Store) *Notifier {
	return &Notifier{Outbox: out, cases: cases}
}

// caseGone reports an error that means the case no longer exists to act on.
func caseGone(err error) bool {
	return errors.Is(err, casefile.ErrErased) || errors.Is(err, casefile.ErrNotFound)
}

// SurvivorText is a text the system starts to her.
type SurvivorText struct {
	Body string
	// UsefulUntil, if set, is when the text stops being worth sending
	// (a clinical window closing); otherwise SurvivorTTL after its
	// allowed time.
	UsefulUntil time.Time
}

// EnqueueToSurvivor queues msg to the survivor of caseID in tx, under
// ContactAt: at once, at the opening of her next allowed hours, or not at
// all (queued false). at is when it is due, so that whoever asked can say
// when it will go. The sender applies the rule again when the text is
// due, so a SALIR, an erasure or a change of her hours in between holds.
// Bodies must be discreet: whoever holds her phone may read them.
func (o *Notifier) EnqueueToSurvivor(ctx context.Context, tx pgx.Tx, caseID uuid.UUID, msg SurvivorText) (at time.Time, queued bool, err error) {
	facts, err := o.cases.CaseFacts(ctx, tx, caseID)
	if caseGone(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	to, err := o.cases.ContactPhone(ctx, tx, facts.ContactID)
	if caseGone(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	p, err := o.profile(ctx, tx, facts, to)
	if err != nil {
		return time.Time{}, false, err
	}
	now := o.clk.Now()
	at, ok := ContactAt(p, now)
	if !ok {
		return time.Time{}, false, nil
	}
	expires := at.Add(SurvivorTTL)
	if !msg.UsefulUntil.IsZero() && msg.UsefulUntil.Before(expires) {
		expires = msg.UsefulUntil
	}
	if !at.Before(expires) {
		return time.Time{}, false, nil // her hours open only after it has lost its use
	}
	_, err = o.Enqueue(ctx, tx, Message{Purpose: PurposeSurvivor, CaseID: &caseID, To: to, Body: msg.Body,
		TTL: expires.Sub(now), Delay: at.Sub(now)})
	if err != nil {
		return time.Time{}, false, err
	}
	return at, true, nil
}

// profile reads what she allowed for the case of facts, and whether the
// number to has said stop (under every accepted index key: a rotation may
// have replaced the key her SALIR was recorded under).
func (o *Notifier) profile(ctx context.Context, db casefile.DB, facts casefile.Facts, to string) (ContactProfile, error) {
	zone, err := referral.DirectoryZone(ctx, db)
	if err != nil {
		return ContactProfile{}, err
	}
	p := ContactProfile{MayText: facts.Contact.MayText, FromHour: facts.Contact.FromHour, ToHour: facts.Contact.ToHour, Zone: zone}
	if p.Stopped, err = smsdb.New(db).SaidStop(ctx, o.index.Candidates(to)); err != nil {
		return ContactProfile{}, fmt.Errorf("sms: opt-out: %w", err)
	}
	return p, nil
}

// SaidStop reports whether the number of the case's survivor said SALIR or
// STOP and has not started over: the portal then shows her number to no
// provider, whatever contact she allowed before. An erased case or contact
// has no number to show, and reads as stopped.
func (o *Notifier) SaidStop(ctx context.Context, db casefile.DB, caseID uuid.UUID) (bool, error) {
	facts, err := o.cases.CaseFacts(ctx, db, caseID)
	if caseGone(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	to, err := o.cases.ContactPhone(ctx, db, facts.ContactID)
	if caseGone(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	p, err := o.profile(ctx, db, facts, to)
	return p.Stopped, err
}

// survivorDue applies ContactAt when a text to her is due, with what she
// allows now. A text with no case has no profile to allow it.
func (s *Sender) survivorDue(ctx context.Context, tx pgx.Tx, caseID *uuid.UUID, to string, now time.Time) (time.Time, bool, error) {
	if caseID == nil {
		return time.Time{}, false, nil
	}
	facts, err := s.cases.CaseFacts(ctx, tx, *caseID)
	if caseGone(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	p, err := s.texts.profile(ctx, tx, facts, to)
	if err != nil {
		return time.Time{}, false, err
	}
	at, ok := ContactAt(p, now)
	return at, ok, nil
}

// TellSurvivor implements referral.Notifier: the one text that tells her
// a provider has taken her request (see referral.SurvivorNotice for what it
// may name), in her language, under her contact profile. Values from the
// directory are folded to GSM-7 so that a name's accent does not halve the
// text's room.
func (o *Notifier) TellSurvivor(ctx context.Context, tx pgx.Tx, n referral.SurvivorNotice) error {
	var (
		key  string
		args map[string]string
		msg  SurvivorText
	)
	switch {
	case n.Need == casefile.NeedHealth && n.Until != nil:
		layout, err := templates.Render(n.Lang, templates.KeyFormatDeadline, nil)
		if err != nil {
			return err
		}
		key = templates.KeySurvivorWhere
		args = map[string]string{"place": templates.FoldGSM7(n.Place), "deadline": n.Until.In(n.Loc).Format(layout)}
		msg.UsefulUntil = *n.Until
	case n.Need == casefile.NeedHealth:
		key, args = templates.KeySurvivorWhereOpen, map[string]string{"place": templates.FoldGSM7(n.Place)}
	default:
		label, err := templates.Render(n.Lang, needLabels[n.Need], nil)
		if err != nil {
			return err
		}
		key, args = templates.KeySurvivorTaken, map[string]string{"need": templates.FoldGSM7(label)}
	}
	body, err := templates.Render(n.Lang, key, args)
	if err != nil {
		return err
	}
	msg.Body = body
	_, _, err = o.EnqueueToSurvivor(ctx, tx, n.CaseID, msg)
	return err
}

// needLabels name a need as the intake's menu did.
var needLabels = map[casefile.Need]string{
	casefile.NeedHealth: templates.KeyNeedHealth, casefile.NeedPolice: templates.KeyNeedPolice,
	casefile.NeedShelter: templates.KeyNeedShelter, casefile.NeedLegal: templates.KeyNeedLegal,
	casefile.NeedPsychosocial: templates.KeyNeedPsychosocial,
}
