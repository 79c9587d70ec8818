package sms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/phone"
	"github.com/amparo/amparo/roster"
	"github.com/amparo/amparo/sms/internal/smsdb"
	"github.com/amparo/amparo/templates"
)

// staffFold is how long after a text about a case to a staff phone further
// alerts about that case to that phone wait, and are folded into one text:
// one event (an escalation with its consequences) is one text, however
// many steps raised it.
const staffFold = time.Minute

// foldOrder ranks the alert kinds that may be folded, most pressing first:
// a folded text leads with the first of its kinds. Danger alerts are not
// here: they go at once, alone, with their reply code (danger.go).
var foldOrder = []roster.AlertKind{
	roster.AlertNoProvider, roster.AlertServeDeadlineMissed, roster.AlertEscalated,
	roster.AlertCallback, roster.AlertServeDeadlineNear,
}

// AlertStaff queues a staff alert in the caller's transaction, folded with
// the other alerts about its case to the same phone (see staffFold; danger
// alerts do not come this way, and an alert about no case is not folded): a
// text not yet handed to Twilio takes the new kind in, and a new text waits
// until staffFold after the last one went. A kind already in the waiting
// text adds nothing.
func (o *Outbox) AlertStaff(ctx context.Context, tx pgx.Tx, a roster.Alert) error {
	if _, ok := a.Kind.CatalogueKey(); !ok {
		return fmt.Errorf("%w: %s", errUnknownAlert, a.Kind)
	}
	to, err := phone.Normalize(a.Phone, "")
	if err != nil {
		return err
	}
	if a.CaseID == uuid.Nil || !slices.Contains(foldOrder, a.Kind) {
		// About no case (a locked duty phone): nothing to fold it with.
		body, err := staffBody([]roster.AlertKind{a.Kind}, a.Reference)
		if err != nil {
			return err
		}
		_, err = o.Enqueue(ctx, tx, Message{Purpose: PurposeStaff, To: to, Body: body, TTL: StaffAlertTTL})
		return err
	}
	q := smsdb.New(tx)
	if err := q.LockStaffAlerts(ctx, a.CaseID.String(), to); err != nil {
		return err
	}
	idx := o.index.Current(to)
	waiting, err := q.WaitingStaffAlert(ctx, &a.CaseID, idx)
	switch {
	case err == nil:
		kinds := make([]roster.AlertKind, len(waiting.AlertKinds))
		for i, k := range waiting.AlertKinds {
			kinds[i] = roster.AlertKind(k)
		}
		if slices.Contains(kinds, a.Kind) {
			return nil
		}
		if waiting.KekID == nil {
			// kek_id goes only with the whole row's shredding (Shred),
			// which also clears wrapped_dek, as this query excludes.
			return fmt.Errorf("sms: staff alert: row %s has a data key and no KEK id", waiting.ID)
		}
		return o.fold(ctx, tx, waiting.ID, *waiting.KekID, waiting.WrappedDek, append(kinds, a.Kind), a.Reference)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("sms: staff alert: %w", err)
	}
	now := o.clk.Now()
	last, err := q.LastStaffAlert(ctx, &a.CaseID, idx, now)
	if err != nil {
		return fmt.Errorf("sms: staff alert: %w", err)
	}
	var delay time.Duration
	// max() of no rows is NULL, which sqlc can only type as any.
	if last, ok := last.(time.Time); ok {
		delay = max(last.Add(staffFold).Sub(now), 0)
	}
	body, err := staffBody([]roster.AlertKind{a.Kind}, a.Reference)
	if err != nil {
		return err
	}
	id, err := o.Enqueue(ctx, tx, Message{Purpose: PurposeStaff, CaseID: &a.CaseID, To: to, Body: body,
		TTL: delay + StaffAlertTTL, Delay: delay})
	if err != nil {
		return err
	}
	return q.SetAlertKinds(ctx, []string{string(a.Kind)}, id)
}

// fold rewrites the waiting text id to carry kinds.
func (o *Outbox) fold(ctx context.Context, tx pgx.Tx, id uuid.UUID, kekID string, wrapped []byte, kinds []roster.AlertKind, ref string) error {
	body, err := staffBody(kinds, ref)
	if err != nil {
		return err
	}
	key, err := crypto.OpenRowKey(o.keys, outboundTable, id.String(), kekID, wrapped)
	if err != nil {
		return err
	}
	sealed, err := key.Seal("body", []byte(body))
	if err != nil {
		return err
	}
	stored := make([]string, len(kinds))
	for i, k := range kinds {
		stored[i] = string(k)
	}
	return smsdb.New(tx).FoldAlert(ctx, smsdb.FoldAlertParams{BodySealed: sealed, AlertKinds: stored, Now: o.clk.Now(), ID: id})
}

// staffBody is the text of an alert carrying kinds about case ref: the
// most pressing kind's text, and how many more there are. Staff read
// Spanish; the texts name a reference and nothing else.
func staffBody(kinds []roster.AlertKind, ref string) (string, error) {
	lead := slices.MinFunc(kinds, func(a, b roster.AlertKind) int {
		return slices.Index(foldOrder, a) - slices.Index(foldOrder, b)
	})
	key, _ := lead.CatalogueKey()
	body, err := templates.Render(templates.ES, key, map[string]string{"ref": ref})
	if err != nil || len(kinds) == 1 {
		return body, err
	}
	more, err := templates.Render(templates.ES, templates.KeyStaffMore, map[string]string{"n": strconv.Itoa(len(kinds) - 1)})
	return body + " " + more, err
}
