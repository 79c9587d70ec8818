package referral

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/crypto"
)

// Shift is one row of the on-call roster: who in role answers alerts, on
// which phone, from Starts until Ends.
type Shift struct {
	ID     int64
	Role   string
	Phone  string
	Name   string // who is on call, for the roster's readers; may be empty
	Starts time.Time
	Ends   time.Time
}

// insertShift returns the new shift's id and its phone in E.164.
func insertShift(ctx context.Context, db DB, sh Shift) (int64, string, error) {
	if sh.Role != RoleCounsellor && sh.Role != RoleSupervisor {
		return 0, "", fmt.Errorf("%w: role must be %s or %s", ErrBadInput, RoleCounsellor, RoleSupervisor)
	}
	e164, err := crypto.NormalizePhone(sh.Phone, "PE")
	if err != nil {
		return 0, "", fmt.Errorf("%w: phone is not a valid number", ErrBadInput)
	}
	if !sh.Ends.After(sh.Starts) {
		return 0, "", fmt.Errorf("%w: the shift must end after it starts", ErrBadInput)
	}
	var id int64
	err = db.QueryRow(ctx, `INSERT INTO on_call (role, phone, name, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		sh.Role, e164, strings.TrimSpace(sh.Name), sh.Starts, sh.Ends).Scan(&id)
	return id, e164, err
}

// AddShift puts sh on the roster and writes it to the audit log as actor's
// act, both or neither.
func AddShift(ctx context.Context, db DB, sh Shift, actor string, now time.Time) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		var phone string
		if id, phone, err = insertShift(ctx, tx, sh); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Entry{Actor: actor, Action: "oncall.add",
			Detail: fmt.Sprintf("shift %d %s %s", id, sh.Role, MaskPhone(phone))})
	})
	return id, err
}

// Shifts lists the shifts under way or still to come at now, soonest first.
func Shifts(ctx context.Context, db DB, now time.Time) ([]Shift, error) {
	rows, err := db.Query(ctx, `
		SELECT id, role, phone, name, starts_at, ends_at FROM on_call WHERE ends_at > $1 ORDER BY starts_at, id`, now)
	if err != nil {
		return nil, fmt.Errorf("referral: shifts: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Shift])
}

// RemoveShift takes a shift off the roster, audited as actor's act.
func RemoveShift(ctx context.Context, db DB, id int64, actor string, now time.Time) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var role, phone string
		err := tx.QueryRow(ctx, `DELETE FROM on_call WHERE id = $1 RETURNING role, phone`, id).Scan(&role, &phone)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: no shift %d", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Entry{Actor: actor, Action: "oncall.remove",
			Detail: "shift " + strconv.FormatInt(id, 10) + " " + role + " " + MaskPhone(phone)})
	})
}

// MaskPhone shows only a phone's last three digits: enough to tell two
// staff phones apart on a screen or in the audit log, not to dial one.
func MaskPhone(phone string) string {
	if len(phone) <= 3 {
		return strings.Repeat("*", len(phone))
	}
	return strings.Repeat("*", len(phone)-3) + phone[len(phone)-3:]
}
