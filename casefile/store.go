package casefile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
)

// DB is what every Store method runs on: a pgx.Tx (the caller's transaction,
// used as is) or a *pgxpool.Pool (multi-statement writes then get their own
// transaction).
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

var (
	_ DB = (*pgxpool.Pool)(nil)
	_ DB = pgx.Tx(nil)
)

// Errors. None of them, nor any error this package wraps, carries plaintext
// or a phone number: at most a row id.
var (
	// ErrNotFound: no contact or case with that id.
	ErrNotFound = errors.New("casefile: not found")
	// ErrErased: the contact or case was erased; its sealed content is gone
	// for good.
	ErrErased = errors.New("casefile: erased")
	// ErrInvalidInput: a field is out of range; the message names the field,
	// never its value.
	ErrInvalidInput = errors.New("casefile: invalid input")
	// ErrContactExists: CreateContact for a number that already has a live
	// contact (use FindContact first).
	ErrContactExists = errors.New("casefile: a contact with this number already exists")
	// ErrNoCodeWord: the contact never chose a code word, so nothing may be
	// disclosed to her number.
	ErrNoCodeWord = errors.New("casefile: contact has no code word")
	// ErrCodeWordLocked: too many wrong code words in a row; checks are
	// refused until the lock expires.
	ErrCodeWordLocked = errors.New("casefile: code word checks locked after repeated failures")
)

// Store is the casefile API. It is safe for concurrent use.
type Store struct {
	pool        *pgxpool.Pool
	keys        crypto.KeyWrapper
	index       *crypto.BlindIndex
	clk         clock.Clock
	log         *slog.Logger
	batchSize   int           // rows of each kind per re-wrap transaction
	rewrapSlice time.Duration // how long one run of the re-wrap job goes on
	eraseHooks  []EraseHook
	keyHolders  []KeyHolder
}

// Option configures a Store.
type Option func(*Store)

// WithLogger sets the logger (default: discard). Store logs ids only.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// ErasedCase names a case an erasure is about to shred: its id, and the
// reference staff and providers know it by (a plaintext fact that outlives
// the erasure).
type ErasedCase struct {
	ID        uuid.UUID
	Reference string
}

// EraseHook runs inside an erasure's transaction, after the erased cases'
// rows are locked and before their keys are destroyed, with the cases being
// erased and the erasure time. It lets a package that holds copies of a
// case's facts (referral: deadlines, open referrals, scheduled jobs, the
// providers who were sent them) deal with them atomically with the case,
// without casefile importing it. An error aborts the erasure.
type EraseHook func(ctx context.Context, tx pgx.Tx, cases []ErasedCase, at time.Time) error

// WithEraseHook adds a hook EraseCase and EraseContact run (referral's and
// the hotline's); hooks run in the order added.
func WithEraseHook(h EraseHook) Option {
	return func(s *Store) { s.eraseHooks = append(s.eraseHooks, h) }
}

// New returns a Store. keys wraps data keys (the keyring, or later a KMS);
// index computes blind indexes (usually keyring.BlindIndex()).
func New(pool *pgxpool.Pool, keys crypto.KeyWrapper, index *crypto.BlindIndex, clk clock.Clock, opts ...Option) *Store {
	s := &Store{pool: pool, keys: keys, index: index, clk: clk, log: slog.New(slog.DiscardHandler), batchSize: 100, rewrapSlice: 20 * time.Second}
	for _, o := range opts {
		o(s)
	}
	return s
}

// now is the store's clock at the precision PostgreSQL keeps, so values
// returned to callers equal what a later read returns.
func (s *Store) now() time.Time { return s.clk.Now().UTC().Truncate(time.Microsecond) }

// inTx runs fn in the caller's transaction when db is one (its atomicity is
// the caller's), otherwise in a new transaction on the pool.
func inTx(ctx context.Context, db DB, fn func(pgx.Tx) error) error {
	if tx, ok := db.(pgx.Tx); ok {
		return fn(tx)
	}
	return pgx.BeginFunc(ctx, db, fn)
}

// Owners of wrapped DEKs; the crypto package binds a wrapped key to its owner
// so a wrapped key copied to another row does not unwrap.
func contactOwner(id uuid.UUID) string { return "contact|" + id.String() }
func caseOwner(id uuid.UUID) string    { return "case_file|" + id.String() }

// newKey makes the data key of row id of table (its owner "table|id") and
// wraps it with the current KEK.
func (s *Store) newKey(table string, id uuid.UUID) (*crypto.DataKey, string, []byte, error) {
	k, err := crypto.NewRowKey(s.keys, table, id.String())
	if err != nil {
		return nil, "", nil, fmt.Errorf("casefile: new data key of %s|%s: %w", table, id, err)
	}
	return k.DataKey(), k.KEKID, k.Wrapped, nil
}

func (s *Store) unwrap(kekID string, wrapped []byte, owner string) (*crypto.DataKey, error) {
	dek, err := crypto.UnwrapDataKey(s.keys, kekID, wrapped, owner)
	if err != nil {
		return nil, fmt.Errorf("casefile: unwrap data key of %s: %w", owner, err)
	}
	return dek, nil
}

// sealer seals and opens the fields of one row.
type sealer struct {
	dek   *crypto.DataKey
	table string
	row   uuid.UUID
}

func (f sealer) binding(column string) crypto.Binding {
	return crypto.Binding{Table: f.table, Column: column, RowID: f.row.String()}
}

// seal returns nil for an empty value, so "nothing said" stays NULL.
func (f sealer) seal(column string, plaintext []byte) ([]byte, error) {
	if len(plaintext) == 0 {
		return nil, nil
	}
	b, err := f.dek.Seal(plaintext, f.binding(column))
	if err != nil {
		return nil, fmt.Errorf("casefile: seal %s.%s of %s: %w", f.table, column, f.row, err)
	}
	return b, nil
}

func (f sealer) open(column string, sealed []byte) ([]byte, error) {
	if sealed == nil {
		return nil, nil
	}
	pt, err := f.dek.Open(sealed, f.binding(column))
	if err != nil {
		return nil, fmt.Errorf("casefile: open %s.%s of %s: %w", f.table, column, f.row, err)
	}
	return pt, nil
}

func invalid(field string) error { return fmt.Errorf("%w: %s", ErrInvalidInput, field) }

// utc gives times read back from PostgreSQL the location the store writes
// them with, so a value round-trips equal.
func utc(ts ...*time.Time) {
	for _, t := range ts {
		*t = t.UTC()
	}
}

func utcOpt(ts ...**time.Time) {
	for _, t := range ts {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
}
