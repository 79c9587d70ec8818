package hotline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/hotline/internal/hotlinedb"
	"github.com/amparo/amparo/phone"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
	"github.com/amparo/amparo/sms"
	"github.com/amparo/amparo/templates"
)

// dangerCodeLife is how long a danger alert's reply code means something:
// an answer a day late is not taken for another alert's.
const dangerCodeLife = 24 * time.Hour

// DangerUnansweredArgs is the hotline.danger_unanswered job: at the alert's
// answer-by time it escalates a danger alert nobody answered. The case id
// only, since River keeps args in plain JSON.
type DangerUnansweredArgs struct {
	CaseID uuid.UUID `json:"case_id"`
}

// Kind implements river.JobArgs.
func (DangerUnansweredArgs) Kind() string { return "hotline.danger_unanswered" }

type dangerWorker struct {
	river.WorkerDefaults[DangerUnansweredArgs]
	h *Hotline
}

func (w *dangerWorker) Work(ctx context.Context, job *river.Job[DangerUnansweredArgs]) error {
	return pgx.BeginFunc(ctx, w.h.pool, func(tx pgx.Tx) error { return w.h.dangerUnanswered(ctx, tx, job.Args.CaseID) })
}

// alertDanger tells whoever is on call (counsellors, else supervisors, else
// the fallback duty phones) that the case is in danger now, each text with
// one reply code; if nobody answers "OK <code>" within
// Config.DangerAnswerWithin, dangerUnanswered escalates it. Alerts to
// different phones share the code, so any of them may take the case.
func (h *Hotline) alertDanger(ctx context.Context, tx pgx.Tx, caseID uuid.UUID, ref string) error {
	phones, _, err := h.roster.Responders(ctx, tx, roster.AlertDangerNow)
	if err != nil {
		return err
	}
	if len(phones) == 0 {
		h.log.Warn("hotline: nobody on call to alert", "case_id", caseID, "kind", "danger_now")
	}
	now := h.clk.Now()
	code, err := h.dangerCode(ctx, tx, now)
	if err != nil {
		return err
	}
	body, err := templates.Render(templates.ES, templates.KeyStaffDangerNow, map[string]string{"ref": ref, "code": code})
	if err != nil {
		return err
	}
	answerBy := now.Add(h.cfg.DangerAnswerWithin)
	for _, p := range phones {
		to, err := phone.Normalize(p, "")
		if err != nil {
			return err
		}
		if err := hotlinedb.New(tx).InsertDangerAlert(ctx, hotlinedb.InsertDangerAlertParams{
			ID: uuid.New(), CaseID: caseID, Phone: to, ReplyCode: code, CreatedAt: now, AnswerBy: answerBy}); err != nil {
			return fmt.Errorf("hotline: danger alert: %w", err)
		}
		if _, err := h.out.Enqueue(ctx, tx, sms.Message{Purpose: sms.PurposeStaff, CaseID: &caseID, To: to, Body: body, TTL: sms.StaffAlertTTL}); err != nil {
			return err
		}
	}
	_, err = h.jobs.InsertTx(ctx, tx, DangerUnansweredArgs{CaseID: caseID},
		&river.InsertOpts{ScheduledAt: answerBy, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// dangerCode is the smallest four-digit code no danger alert of the last
// dangerCodeLife holds. The advisory lock serialises the choice.
func (h *Hotline) dangerCode(ctx context.Context, tx pgx.Tx, now time.Time) (string, error) {
	q := hotlinedb.New(tx)
	if err := q.LockDangerCodes(ctx); err != nil {
		return "", err
	}
	codes, err := q.DangerCodesInUse(ctx, now.Add(-dangerCodeLife))
	if err != nil {
		return "", fmt.Errorf("hotline: danger code: %w", err)
	}
	used := make([]int, len(codes))
	for i, c := range codes {
		used[i] = int(c)
	}
	// Drawn at random: "OK" with the code silences the alert's escalation,
	// so it must not be guessable by whoever spoofs a counsellor's number.
	code, err := referral.DrawCode(used)
	if err != nil {
		return "", fmt.Errorf("hotline: danger code: %w", err)
	}
	return fmt.Sprint(code), nil
}

// dangerUnanswered escalates the case's danger alert to the supervisors on
// call and the fallback duty phones, unless someone answered it. It acts
// once: the rows stay locked while it decides and record the escalation.
func (h *Hotline) dangerUnanswered(ctx context.Context, tx pgx.Tx, caseID uuid.UUID) error {
	alerts, err := hotlinedb.New(tx).LockDangerAlert(ctx, caseID)
	if err != nil {
		return fmt.Errorf("hotline: danger alert: %w", err)
	}
	// sqlc cannot type min() over the CTE: pgx reads a time.Time, or nil
	// when the case has no alert (it reached nobody): nothing to escalate.
	answerBy, found := alerts.AnswerBy.(time.Time)
	if !found || alerts.Answered || alerts.Escalated {
		return nil
	}
	now := h.clk.Now()
	if wait := answerBy.Sub(now); wait > 0 {
		return river.JobSnooze(wait) // River's scheduler may run it a little early
	}
	// Erased since (she asked, from a safe moment): nobody is to go
	// looking for her on this alert any more.
	c, err := h.cases.CaseFacts(ctx, tx, caseID)
	if caseGone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ref := c.Reference
	supervisors, err := h.roster.OnCall(ctx, tx, roster.Supervisor)
	if err != nil {
		return err
	}
	phones := slices.Compact(slices.Sorted(slices.Values(append(supervisors, h.roster.Fallback()...))))
	if len(phones) == 0 {
		h.log.Warn("hotline: unanswered danger alert has nobody to escalate to", "case_id", caseID)
	}
	body, err := templates.Render(templates.ES, templates.KeyStaffDangerUnanswered, map[string]string{"ref": ref})
	if err != nil {
		return err
	}
	for _, p := range phones {
		if _, err := h.out.Enqueue(ctx, tx, sms.Message{Purpose: sms.PurposeStaff, CaseID: &caseID, To: p, Body: body, TTL: sms.StaffAlertTTL}); err != nil {
			return err
		}
	}
	if err := hotlinedb.New(tx).EscalateDangerAlert(ctx, now, caseID); err != nil {
		return err
	}
	h.log.Warn("hotline: danger alert unanswered, escalated", "case_id", caseID, "phones", len(phones))
	return nil
}

// dangerReply handles "OK <code>" from a phone a danger alert went to:
// the alert is answered (and will not escalate) and the sender is told the
// case is theirs. handled is false for anything else, which then goes on
// to the provider and survivor paths. It is asked first: a staff phone
// that is also a provider's duty phone answers its danger alert with the
// same words as a notice.
func (h *Hotline) dangerReply(ctx context.Context, tx pgx.Tx, e164, body string) (replies []string, handled bool, err error) {
	accept, code, ok := referral.ParseReply(body)
	if !ok || !accept {
		return nil, false, nil
	}
	now := h.clk.Now()
	caseID, err := hotlinedb.New(tx).AnswerDangerAlert(ctx, hotlinedb.AnswerDangerAlertParams{
		Now: now, Phone: e164, ReplyCode: code, Since: now.Add(-dangerCodeLife)})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("hotline: danger reply: %w", err)
	}
	h.log.Info("hotline: danger alert answered", "case_id", caseID)
	ref, err := h.cases.Reference(ctx, tx, caseID)
	if err != nil {
		return nil, true, err
	}
	text, err := templates.Render(templates.ES, templates.KeyStaffDangerTaken, map[string]string{"ref": ref})
	if err != nil {
		return nil, true, err
	}
	return []string{text}, true, nil
}
