package hotline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/templates"
)

func inboundBinding(id uuid.UUID, column string) crypto.Binding {
	return crypto.Binding{Table: "inbound_message", Column: column, RowID: id.String()}
}

func inboundOwner(id uuid.UUID) string { return "inbound_message|" + id.String() }

// receiveSMS handles one authenticated inbound SMS and returns the replies to
// answer with. Everything it changes commits in one transaction, keyed by
// the MessageSid: a copy of a message already handled only replays the
// replies stored with it.
//
// Round trips are most of what a webhook costs (the statements are small,
// and the commit's flush is shared with other sessions), so the transaction
// talks to the server in as few as the logic allows. A survivor's message in
// a live conversation takes two: one pipeline that begins the transaction,
// records the MessageSid, counts it against her rate limit and checks for a
// block, asks whether the sender is a provider and loads her conversation,
// locked; then, after the step, one pipeline with the conversation's and the
// message's final writes and the COMMIT. A pipeline's statements run in the
// order queued, as if sent one by one; after an error in one, the rest are
// skipped, so a COMMIT queued behind a failed write never runs.
func (h *Hotline) receiveSMS(ctx context.Context, in InboundSMS) ([]string, error) {
	e164, phoneErr := crypto.NormalizePhone(in.From, "")
	if phoneErr != nil {
		// A short code, an alphanumeric sender or garbage: nobody we can
		// route, recognise or text later. The sender still gets the
		// emergency numbers; nothing is stored, since nothing could act on
		// it, and a copy of the webhook gets the same answer.
		h.log.Info("hotline: sms received", "outcome", "unroutable")
		text, err := templates.Render(templates.ES, templates.KeyEmergency, nil)
		if err != nil {
			return nil, err
		}
		return []string{text}, nil
	}
	candidates := h.index.Candidates(e164)
	id := uuid.New()
	dek, err := crypto.NewDataKey()
	if err != nil {
		return nil, err
	}
	kekID, wrapped, err := crypto.WrapDataKey(h.keys, dek, inboundOwner(id))
	if err != nil {
		return nil, err
	}
	body, err := dek.Seal([]byte(in.Body), inboundBinding(id, "body"))
	if err != nil {
		return nil, err
	}

	conn, err := h.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx := &inboundTx{conn: conn}
	defer tx.release(ctx)

	// A concurrent copy of this MessageSid waits on the unique index until
	// the first commits, then inserts nothing; whatever else the pipeline
	// did for it is rolled back, since a duplicate never commits.
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`INSERT INTO inbound_message (id, message_sid, phone_index, index_key_id, kek_id, wrapped_dek, body_sealed, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_sid) DO NOTHING`,
		id, in.MessageSID, candidates[0], h.index.CurrentKeyID(), kekID, wrapped, body, h.clk.Now())
	b.Queue(admitSQL, h.admitArgs(candidates[0], candidates)...)
	b.Queue(replierSQL, e164, h.clk.Now().Add(-dangerCodeLife))
	b.Queue(activeConversationSQL, candidates)
	tx.open = true
	var (
		op       opening
		inserted bool
	)
	err = func() (err error) {
		br := conn.SendBatch(ctx, b)
		defer func() {
			if cerr := br.Close(); err == nil {
				err = cerr
			}
		}()
		if _, err := br.Exec(); err != nil {
			return err
		}
		tag, err := br.Exec()
		if err != nil {
			return fmt.Errorf("hotline: record inbound: %w", err)
		}
		inserted = tag.RowsAffected() == 1
		var (
			hits    int
			blocked bool
		)
		if err := br.QueryRow().Scan(&hits, &blocked); err != nil {
			return fmt.Errorf("hotline: rate limit: %w", err)
		}
		op.refused = h.admitVerdict(hits, blocked)
		if err := br.QueryRow().Scan(&op.provider); err != nil {
			return fmt.Errorf("hotline: provider check: %w", err)
		}
		tx.conv, err = scanConversationRow(br.QueryRow(), candidates)
		return err
	}()
	if err != nil {
		return nil, err
	}
	if !inserted {
		return h.replay(ctx, tx, in.MessageSID)
	}

	outcome, replies, err := h.route(ctx, tx, e164, candidates, op, in.Body)
	if err != nil {
		return nil, err
	}
	var sealedReplies []byte
	if len(replies) > 0 {
		raw, err := json.Marshal(replies)
		if err != nil {
			return nil, err
		}
		if sealedReplies, err = dek.Seal(raw, inboundBinding(id, "reply")); err != nil {
			return nil, err
		}
	}
	// An erasure in this very step has already shredded the row; its reply
	// is then sent once and not kept.
	tx.queue(`UPDATE inbound_message SET outcome = $2, reply_sealed = $3
		WHERE id = $1 AND wrapped_dek IS NOT NULL`, id, outcome, sealedReplies)
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	h.log.Info("hotline: sms received", "inbound_id", id, "outcome", outcome, "replies", len(replies))
	return replies, nil
}

// opening is what the first pipeline decided besides recording the message.
type opening struct {
	refused  string // "blocked" or "rate_limited"; "" to process the message
	provider bool   // the sender may be a provider or on-call staff answering a coded text
}

// route decides who the sender is and what to do with her message.
func (h *Hotline) route(ctx context.Context, tx pgx.Tx, e164 string, candidates [][]byte, op opening, body string) (outcome string, replies []string, err error) {
	if op.refused != "" {
		return op.refused, nil, nil
	}
	if op.provider {
		reply, handled, err := h.dangerReply(ctx, tx, e164, body)
		if err != nil || handled {
			return "provider", reply, err
		}
		reply, handled, err = h.providerReply(ctx, tx, e164, body)
		if err != nil || handled {
			return "provider", reply, err
		}
	}
	replies, err = h.converse(ctx, tx, e164, candidates, body)
	return "survivor", replies, err
}

// replay returns the replies stored with an already handled MessageSid.
func (h *Hotline) replay(ctx context.Context, tx pgx.Tx, sid string) ([]string, error) {
	var (
		id               uuid.UUID
		kekID            *string
		wrapped, replies []byte
	)
	err := tx.QueryRow(ctx, `SELECT id, kek_id, wrapped_dek, reply_sealed FROM inbound_message WHERE message_sid = $1`, sid).
		Scan(&id, &kekID, &wrapped, &replies)
	if err != nil {
		return nil, fmt.Errorf("hotline: replay: %w", err)
	}
	h.log.Info("hotline: duplicate sms", "inbound_id", id)
	if kekID == nil || replies == nil {
		return nil, nil
	}
	dek, err := crypto.UnwrapDataKey(h.keys, *kekID, wrapped, inboundOwner(id))
	if err != nil {
		return nil, err
	}
	raw, err := dek.Open(replies, inboundBinding(id, "reply"))
	if err != nil {
		return nil, err
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, errors.New("hotline: stored reply unreadable")
	}
	return out, nil
}

// inboundTx is the SMS webhook's transaction: a pgx.Tx on a pool connection
// whose BEGIN went out in receiveSMS's first pipeline (pgx's own Tx would
// cost a round trip for it). It carries her conversation as that pipeline
// read it, and holds back writes queued with queue, to send them with the
// message's final write and the COMMIT in one pipeline. Held-back writes are
// sent before any other statement goes through it, so the server sees
// statements in the order the code issued them; their errors surface at that
// point. Statements sent on Conn() directly bypass it and must not be used.
type inboundTx struct {
	conn    *pgxpool.Conn
	open    bool // BEGIN sent; neither COMMIT nor ROLLBACK yet
	conv    *convRow
	pending pgx.Batch
	err     error // a failed flush; every later statement fails with it
	nested  int   // savepoints taken, for their names
}

var _ pgx.Tx = (*inboundTx)(nil)

func (t *inboundTx) queue(sql string, args ...any) { t.pending.Queue(sql, args...) }

// flush sends the held-back writes, in order, in one round trip, and
// returns the command tag of the last.
func (t *inboundTx) flush(ctx context.Context) (pgconn.CommandTag, error) {
	if t.err != nil || t.pending.Len() == 0 {
		return pgconn.CommandTag{}, t.err
	}
	if !t.open {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	b := t.pending
	t.pending = pgx.Batch{}
	br := t.conn.SendBatch(ctx, &b)
	var tag pgconn.CommandTag
	for range b.Len() {
		if tag, t.err = br.Exec(); t.err != nil {
			break
		}
	}
	if err := br.Close(); t.err == nil {
		t.err = err
	}
	if t.err != nil {
		t.err = fmt.Errorf("hotline: write: %w", t.err)
	}
	return tag, t.err
}

// Commit sends what is held back and the COMMIT in one pipeline.
func (t *inboundTx) Commit(ctx context.Context) error {
	if !t.open {
		return pgx.ErrTxClosed
	}
	t.queue(`COMMIT`)
	tag, err := t.flush(ctx)
	if err != nil {
		return err
	}
	t.open = false
	if tag.String() != "COMMIT" {
		// The server rolled back a transaction an earlier error had failed.
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// Rollback ends the transaction unless it has ended; it is safe to call
// more than once, and after Commit.
func (t *inboundTx) Rollback(ctx context.Context) error {
	if !t.open {
		return pgx.ErrTxClosed
	}
	t.open = false
	t.pending = pgx.Batch{}
	if t.conn.Conn().PgConn().TxStatus() == 'I' {
		return nil // a failed COMMIT has already ended it
	}
	_, err := t.conn.Exec(ctx, `ROLLBACK`)
	return err
}

// release rolls back if needed and hands the connection back; the pool
// closes one that is still inside a transaction or broken.
func (t *inboundTx) release(ctx context.Context) {
	_ = t.Rollback(ctx)
	t.conn.Release()
}

// Begin starts a savepoint, as pgx's own Tx does.
func (t *inboundTx) Begin(ctx context.Context) (pgx.Tx, error) {
	t.nested++
	sp := &savepoint{inboundTx: t, name: fmt.Sprintf("sp_%d", t.nested)}
	if _, err := t.Exec(ctx, "SAVEPOINT "+sp.name); err != nil {
		return nil, err
	}
	return sp, nil
}

func (t *inboundTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if _, err := t.flush(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, cols, src)
}

func (t *inboundTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	// After a failed flush the transaction is aborted, and the batch fails
	// with the server's "current transaction is aborted".
	_, _ = t.flush(ctx)
	return t.conn.SendBatch(ctx, b)
}

// LargeObjects is not supported: the zero value fails on use. Nothing in
// the webhook's path uses large objects.
func (t *inboundTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *inboundTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if _, err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.conn.Conn().Prepare(ctx, name, sql)
}

func (t *inboundTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if _, err := t.flush(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return t.conn.Exec(ctx, sql, args...)
}

func (t *inboundTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if _, err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.conn.Query(ctx, sql, args...)
}

func (t *inboundTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if _, err := t.flush(ctx); err != nil {
		return errRow{err}
	}
	return t.conn.QueryRow(ctx, sql, args...)
}

func (t *inboundTx) Conn() *pgx.Conn { return t.conn.Conn() }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// savepoint is a nested transaction inside an inboundTx.
type savepoint struct {
	*inboundTx
	name   string
	closed bool
}

func (s *savepoint) Commit(ctx context.Context) error {
	if s.closed {
		return pgx.ErrTxClosed
	}
	s.closed = true
	_, err := s.Exec(ctx, "RELEASE SAVEPOINT "+s.name)
	return err
}

func (s *savepoint) Rollback(ctx context.Context) error {
	if s.closed {
		return pgx.ErrTxClosed
	}
	s.closed = true
	// Whatever was held back, or failed, since the savepoint is undone
	// with it (the SAVEPOINT statement itself sent what came before).
	s.pending = pgx.Batch{}
	if _, err := s.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT "+s.name); err != nil {
		return err
	}
	s.err = nil
	return nil
}
