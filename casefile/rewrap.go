package casefile

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile/internal/casefiledb"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/jobs"
)

// RewrapArgs starts the re-wrap job. It carries nothing: the job finds its
// work in the database, so a rerun after a crash continues where it stopped.
type RewrapArgs struct{}

// Kind implements river.JobArgs.
func (RewrapArgs) Kind() string { return "casefile.rewrap" }

// InsertOpts keeps one re-wrap job in flight: enqueueing again while one is
// waiting or running adds nothing. Completed jobs are left out of the unique
// states so that the next rotation can enqueue a new one.
func (RewrapArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}}
}

// AddWorkers registers the casefile workers.
func AddWorkers(w *river.Workers, s *Store) {
	river.AddWorker(w, &rewrapWorker{s: s})
}

type rewrapWorker struct {
	river.WorkerDefaults[RewrapArgs]
	s *Store
}

// Work re-wraps batch after batch. After s.rewrapSlice (well inside River's
// default job timeout) it puts itself back in the queue with a zero snooze,
// which costs no attempt, and the next run carries on. A key that cannot be
// unwrapped (its KEK was retired too early) fails the run, loudly and with
// its row id, rather than being skipped: the fix is restoring the KEK.
func (w *rewrapWorker) Work(ctx context.Context, _ *river.Job[RewrapArgs]) error {
	start := time.Now()
	for {
		n, err := w.s.rewrapBatch(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			w.s.log.InfoContext(ctx, "casefile: rewrap complete", "kek_id", w.s.keys.CurrentKEKID(), "index_key_id", w.s.index.CurrentKeyID())
			return nil
		}
		if time.Since(start) >= w.s.rewrapSlice {
			return river.JobSnooze(0)
		}
	}
}

// EnqueueRewrap starts the re-wrap job and audits the request.
func (s *Store) EnqueueRewrap(ctx context.Context, ins jobs.Inserter, actor string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res, err := ins.InsertTx(ctx, tx, RewrapArgs{}, nil)
		if err != nil {
			return fmt.Errorf("casefile: enqueue rewrap: %w", err)
		}
		detail := "to " + s.keys.CurrentKEKID() + ", index " + s.index.CurrentKeyID()
		if res.UniqueSkippedAsDuplicate {
			detail += " (already queued)"
		}
		return audit.Append(ctx, tx, s.now(), audit.Entry{Actor: actor, Action: "keys.rewrap", Detail: detail})
	})
}

// rewrapBatch moves up to s.batchSize contact keys, as many case keys and
// as many rows of each KeyHolder to the current KEK (and phone indexes to
// the current index key) in one transaction, and returns how many rows it
// changed. SKIP LOCKED lets it run beside live traffic and beside another
// copy of itself.
func (s *Store) rewrapBatch(ctx context.Context) (int, error) {
	kek, idx := s.keys.CurrentKEKID(), s.index.CurrentKeyID()
	var contacts, cases, others int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if contacts, err = s.rewrapContacts(ctx, tx, kek, idx); err != nil {
			return err
		}
		if cases, err = s.rewrapCases(ctx, tx, kek); err != nil {
			return err
		}
		others = 0
		for _, h := range s.keyHolders {
			n, err := h.Rewrap(ctx, tx, s.batchSize)
			if err != nil {
				return err
			}
			others += n
		}
		if contacts+cases+others == 0 {
			return nil
		}
		return audit.Append(ctx, tx, s.now(), audit.Entry{Actor: "system", Action: "keys.rewrap.batch",
			Detail: fmt.Sprintf("%d contact(s), %d case(s), %d other row(s) to %s, index %s", contacts, cases, others, kek, idx)})
	})
	if err != nil {
		return 0, err
	}
	if n := contacts + cases + others; n > 0 {
		s.log.InfoContext(ctx, "casefile: rewrap batch", "contacts", contacts, "cases", cases, "others", others, "kek_id", kek)
	}
	return contacts + cases + others, nil
}

func (s *Store) rewrapContacts(ctx context.Context, tx pgx.Tx, kek, idx string) (int, error) {
	todo, err := casefiledb.New(tx).ContactsToRewrap(ctx, kek, idx, int32(s.batchSize))
	if err != nil {
		return 0, fmt.Errorf("casefile: rewrap contacts: %w", err)
	}
	var b pgx.Batch
	for _, r := range todo {
		k, err := s.rewrapRowKey("contact", r.ID, r.KekID, r.WrappedDek)
		if err != nil {
			return 0, err
		}
		phone, err := k.stored.Open("phone_sealed", r.PhoneSealed)
		if err != nil {
			return 0, fmt.Errorf("casefile: open contact.phone_sealed of %s: %w", r.ID, err)
		}
		p := casefiledb.RewrapContactParams{
			ID: r.ID, KekID: k.current.KEKID, WrappedDek: k.current.Wrapped,
			PhoneIndex: s.index.Current(string(phone)), IndexKeyID: idx,
		}
		// In the order of the query's parameters (the fields of p).
		b.Queue(casefiledb.RewrapContact, p.KekID, p.WrappedDek, p.PhoneIndex, p.IndexKeyID, p.ID)
	}
	return len(todo), s.sendBatch(ctx, tx, &b)
}

func (s *Store) rewrapCases(ctx context.Context, tx pgx.Tx, kek string) (int, error) {
	todo, err := casefiledb.New(tx).CaseKeysToRewrap(ctx, kek, int32(s.batchSize))
	if err != nil {
		return 0, fmt.Errorf("casefile: rewrap cases: %w", err)
	}
	var b pgx.Batch
	for _, r := range todo {
		// A case's key row is case_key, but its key is the case_file row's.
		k, err := s.rewrapRowKey("case_file", r.CaseID, r.KekID, r.WrappedDek)
		if err != nil {
			return 0, err
		}
		// In the order of the query's parameters.
		b.Queue(casefiledb.RewrapCaseKey, k.current.KEKID, k.current.Wrapped, r.CaseID)
	}
	return len(todo), s.sendBatch(ctx, tx, &b)
}

// rewrappedKey is a row's data key twice: as the row stores it, and wrapped
// anew with the current KEK.
type rewrappedKey struct{ stored, current *crypto.RowKey }

// rewrapRowKey is RewrapRowKey for casefile's own rows, whose queries
// read the KEK id as nullable.
func (s *Store) rewrapRowKey(table string, id uuid.UUID, kekID *string, wrapped []byte) (rewrappedKey, error) {
	if kekID == nil {
		// The queries select wrapped keys only, and a wrapped key has its
		// KEK id beside it (the tables' CHECKs).
		return rewrappedKey{}, fmt.Errorf("casefile: unwrap data key of %s|%s: no KEK id", table, id)
	}
	stored, current, err := RewrapRowKey(s.keys, table, id, *kekID, wrapped)
	if err != nil {
		return rewrappedKey{}, fmt.Errorf("casefile: %w", err)
	}
	return rewrappedKey{stored, current}, nil
}

// sendBatch runs the queued updates in one round trip.
func (s *Store) sendBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("casefile: rewrap: %w", err)
	}
	return nil
}

// KEKUsage is one line of `amparo keys status`: a key, how many stored rows
// still depend on it, and whether it can be retired.
type KEKUsage struct {
	ID        string
	Index     bool // a blind-index key; otherwise a KEK
	Rows      int  // KEK: wrapped data keys; index key: phone indexes and code-word tokens
	InKeyring bool // false with Rows > 0 means those rows cannot be opened or matched
	Current   bool
	Retirable bool // in the keyring, not current, and nothing depends on it
	// Unrecorded: phone indexes written before their key id was recorded
	// (migration 00050). Any old index key may be theirs, so while there
	// are some, no old index key is retirable.
	Unrecorded bool
}

// KeyColumn is a stored column whose value depends on a key of the keyring:
// a wrapped data key, whose KEK id is in KeyIDColumn of the same row, or
// (Index) a blind-index token, whose index key id is there. A NULL Column
// depends on nothing.
type KeyColumn struct {
	Table, Column, KeyIDColumn string
	Index                      bool
}

// KeyHolder is another package's tables of wrapped data keys and phone
// indexes, which the re-wrap job and KeyStatus cover beside casefile's own.
// A package that adds such a column declares it in KeyColumns (a test
// compares them with the schema) and moves it in Rewrap. A wrapped data
// key outside casefile's tables is owned by "<table>|<id>", id its row's
// id column: VerifyKeys unwraps it so.
type KeyHolder interface {
	KeyColumns() []KeyColumn
	// Rewrap moves up to limit rows of each of its tables to the current
	// KEK and index key in tx (what cannot be moved, such as an index
	// whose number is not stored, is left for KeyStatus to report), and
	// returns how many rows it changed.
	Rewrap(ctx context.Context, tx pgx.Tx, limit int) (int, error)
}

// WithKeyHolders adds holders to the re-wrap job and to KeyStatus.
func WithKeyHolders(hs ...KeyHolder) Option {
	return func(s *Store) { s.keyHolders = append(s.keyHolders, hs...) }
}

// casefileKeyColumns are casefile's own.
var casefileKeyColumns = []KeyColumn{
	{Table: "contact", Column: "wrapped_dek", KeyIDColumn: "kek_id"},
	{Table: "case_key", Column: "wrapped_dek", KeyIDColumn: "kek_id"},
	{Table: "contact", Column: "phone_index", KeyIDColumn: "index_key_id", Index: true},
	{Table: "contact", Column: "code_word_token", KeyIDColumn: "code_word_key_id", Index: true},
}

// KeyColumns lists every column KeyStatus counts: casefile's and its
// holders'.
func (s *Store) KeyColumns() []KeyColumn {
	out := slices.Clone(casefileKeyColumns)
	for _, h := range s.keyHolders {
		out = append(out, h.KeyColumns()...)
	}
	return out
}

// unrecordedKey stands for a NULL key id in the counts.
const unrecordedKey = ""

// KeyStatus reports, for every KEK and index key that is in the keyring or
// still referenced by a row of any KeyColumns, how many rows depend on it;
// KEKs first, then index keys, each current first.
//
// Code-word tokens are one-way, so the re-wrap job cannot move them to a new
// index key: each is re-keyed when its owner next gives her code word. Nor
// can it move an index whose number is not stored with it (opt-outs, blocks,
// message rows): those go when their rows are shredded, or never. Until then
// they keep an old index key from being retirable.
func (s *Store) KeyStatus(ctx context.Context) ([]KEKUsage, error) {
	var kekQ, idxQ []string
	for _, c := range s.KeyColumns() {
		// Built in Go, not a named query: the tables and columns are the
		// KeyHolders', known at run time. Identifiers come from code, never
		// from input.
		q := fmt.Sprintf("SELECT COALESCE(%s, '') AS key_id FROM %s WHERE %s IS NOT NULL", c.KeyIDColumn, c.Table, c.Column)
		if c.Index {
			idxQ = append(idxQ, q)
		} else {
			kekQ = append(kekQ, q)
		}
	}
	count := func(parts []string) string {
		return "SELECT key_id, count(*) FROM (" + strings.Join(parts, " UNION ALL ") + ") k GROUP BY key_id"
	}
	keks, err := s.keyCounts(ctx, count(kekQ))
	if err != nil {
		return nil, err
	}
	idx, err := s.keyCounts(ctx, count(idxQ))
	if err != nil {
		return nil, err
	}
	kekIDs := []string{s.keys.CurrentKEKID()}
	// A KMS-backed wrapper need not list its keys; the keyring does.
	if l, ok := s.keys.(interface{ KEKIDs() []string }); ok {
		kekIDs = l.KEKIDs()
	}
	return append(usage(kekIDs, keks, false), usage(s.index.KeyIDs(), idx, true)...), nil
}

func (s *Store) keyCounts(ctx context.Context, q string) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("casefile: key status: %w", err)
	}
	out := map[string]int{}
	var (
		id string
		n  int
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { out[id] = n; return nil }); err != nil {
		return nil, fmt.Errorf("casefile: key status: %w", err)
	}
	return out, nil
}

// usage merges the keyring's ids (current first) with the counts found in
// the database; ids only the database knows come last, sorted, and rows
// whose key was not recorded last of all.
func usage(keyring []string, counts map[string]int, index bool) []KEKUsage {
	unrecorded := counts[unrecordedKey]
	delete(counts, unrecordedKey)
	var out []KEKUsage
	for i, id := range keyring {
		n := counts[id]
		out = append(out, KEKUsage{ID: id, Index: index, Rows: n, InKeyring: true, Current: i == 0,
			Retirable: i > 0 && n == 0 && unrecorded == 0})
	}
	var missing []KEKUsage
	for id, n := range counts {
		if !slices.Contains(keyring, id) {
			missing = append(missing, KEKUsage{ID: id, Index: index, Rows: n})
		}
	}
	slices.SortFunc(missing, func(a, b KEKUsage) int { return cmp.Compare(a.ID, b.ID) })
	out = append(out, missing...)
	if unrecorded > 0 {
		out = append(out, KEKUsage{ID: "(unrecorded)", Index: index, Rows: unrecorded, Unrecorded: true})
	}
	return out
}

// RewrapRowKey opens the data key stored with row id of table (its
// owner "<table>|<id>", as crypto.RowKey wraps it) and wraps it anew with
// the current KEK: the step every KeyHolder's Rewrap takes for each of its
// rows, through its own queries. A key that does not open fails loudly,
// with its row: the fix is restoring the KEK.
func RewrapRowKey(keys crypto.KeyWrapper, table string, id uuid.UUID, kekID string, wrapped []byte) (stored, current *crypto.RowKey, err error) {
	owner := table + "|" + id.String()
	if stored, err = crypto.OpenRowKey(keys, table, id.String(), kekID, wrapped); err != nil {
		return nil, nil, fmt.Errorf("unwrap data key of %s: %w", owner, err)
	}
	if current, err = stored.Rewrap(keys); err != nil {
		return nil, nil, fmt.Errorf("wrap data key of %s: %w", owner, err)
	}
	return stored, current, nil
}
