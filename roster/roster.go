// Package roster is who answers for the service at any hour: the on-call
// shifts (counsellors and supervisors, each on a phone), the fallback duty
// phones from the configuration, and which of them each kind of staff
// alert goes to. It owns the on_call table; nothing else reads or writes it.
//
// "Alert whoever is on call" is written once, here (Roster.Alert): referral
// (escalations, deadlines, locked reply codes) and hotline (callbacks) both
// call it with a kind, and the table alertRoles says who is asked for what.
// Roster does not send anything itself: the caller passes the Alerter (the
// sms Notifier) that queues the text in the caller's transaction. It imports
// no domain package, so referral, hotline, sms and the portal may all use it.
//
// Its SQL is in queries/*.sql, turned into Go in internal/rosterdb by sqlc
// (make generate); being internal, nothing outside roster can run it.
package roster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/phone"
	"github.com/amparo/amparo/roster/internal/rosterdb"
)

// DB is what roster's queries run on: a pool, a connection or a transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Role is a job on the roster.
type Role string

// Roles on the on-call roster, as on_call.role spells them.
const (
	Counsellor Role = "counsellor"
	Supervisor Role = "supervisor"
)

// Roles are all of them, as on_call's CHECK lists them.
var Roles = []Role{Counsellor, Supervisor}

// Errors the roster's calls return.
var (
	ErrNotFound = errors.New("roster: not found")
	// ErrBadInput wraps a message fit to show whoever entered the input.
	ErrBadInput = errors.New("roster: invalid input")
)

// Roster answers who is on call now. It is safe for concurrent use.
type Roster struct {
	clk      clock.Clock
	fallback []string
}

// New returns the roster read on clk's time, with fallback (E.164) as the
// phones alerts go to when nobody is on call (AMPARO_FALLBACK_DUTY_NUMBERS).
func New(clk clock.Clock, fallback []string) *Roster {
	return &Roster{clk: clk, fallback: slices.Clone(fallback)}
}

func (r *Roster) now() time.Time { return r.clk.Now().UTC().Truncate(time.Microsecond) }

// OnCall returns the phones of staff on call now in role.
func (r *Roster) OnCall(ctx context.Context, db DB, role Role) ([]string, error) {
	phones, err := rosterdb.New(db).OnCall(ctx, string(role), r.now())
	if err != nil {
		return nil, fmt.Errorf("roster: on call: %w", err)
	}
	return phones, nil
}

// Duty returns the phones of staff on call now in the first of roles that
// has anyone on call (rostered), or the fallback duty phones when none has:
// an alert about her must reach a person, not wait for an empty roster.
func (r *Roster) Duty(ctx context.Context, db DB, roles ...Role) (phones []string, rostered bool, err error) {
	for _, role := range roles {
		phones, err := r.OnCall(ctx, db, role)
		if err != nil || len(phones) > 0 {
			return phones, err == nil, err
		}
	}
	return r.Fallback(), false, nil
}

// Fallback returns the fallback duty phones, for a caller that cannot read
// the roster (the database is down) or finds it empty.
func (r *Roster) Fallback() []string { return slices.Clone(r.fallback) }

// Add puts a phone on the roster for role between starts and ends, without
// an audit row: for the demo and tests (AddShift is the audited way).
func (r *Roster) Add(ctx context.Context, db DB, role Role, phone string, starts, ends time.Time) error {
	_, _, err := insertShift(ctx, db, Shift{Role: role, Phone: phone, Starts: starts, Ends: ends})
	return err
}

// Rostered is a phone on a shift that has not ended, and its role.
type Rostered struct {
	Role  Role
	Phone string
}

// Phones lists the phones on shifts under way or to come, by role then
// phone, each once per role.
func (r *Roster) Phones(ctx context.Context, db DB) ([]Rostered, error) {
	rows, err := rosterdb.New(db).RosteredPhones(ctx, r.now())
	if err != nil {
		return nil, fmt.Errorf("roster: phones: %w", err)
	}
	out := make([]Rostered, len(rows))
	for i, row := range rows {
		out[i] = Rostered{Role: Role(row.Role), Phone: row.Phone}
	}
	return out, nil
}

// Shift is one row of the on-call roster: who in role answers alerts, on
// which phone, from Starts until Ends.
type Shift struct {
	ID     int64
	Role   Role
	Phone  string
	Name   string // who is on call, for the roster's readers; may be empty
	Starts time.Time
	Ends   time.Time
}

// insertShift returns the new shift's id and its phone in E.164.
func insertShift(ctx context.Context, db DB, sh Shift) (int64, string, error) {
	if !slices.Contains(Roles, sh.Role) {
		return 0, "", fmt.Errorf("%w: role must be %s or %s", ErrBadInput, Counsellor, Supervisor)
	}
	e164, err := phone.Normalize(sh.Phone, "")
	if err != nil {
		return 0, "", fmt.Errorf("%w: phone is not a valid number", ErrBadInput)
	}
	if !sh.Ends.After(sh.Starts) {
		return 0, "", fmt.Errorf("%w: the shift must end after it starts", ErrBadInput)
	}
	id, err := rosterdb.New(db).InsertShift(ctx, rosterdb.InsertShiftParams{
		Role: string(sh.Role), Phone: e164, Name: strings.TrimSpace(sh.Name), StartsAt: sh.Starts, EndsAt: sh.Ends})
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
	rows, err := rosterdb.New(db).Shifts(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("roster: shifts: %w", err)
	}
	out := make([]Shift, len(rows))
	for i, row := range rows {
		out[i] = Shift{ID: row.ID, Role: Role(row.Role), Phone: row.Phone, Name: row.Name, Starts: row.StartsAt, Ends: row.EndsAt}
	}
	return out, nil
}

// RemoveShift takes a shift off the roster, audited as actor's act.
func RemoveShift(ctx context.Context, db DB, id int64, actor string, now time.Time) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		removed, err := rosterdb.New(tx).DeleteShift(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: no shift %d", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Entry{Actor: actor, Action: "oncall.remove",
			Detail: "shift " + strconv.FormatInt(id, 10) + " " + removed.Role + " " + MaskPhone(removed.Phone)})
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
