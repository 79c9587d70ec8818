package hotline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/hotline/internal/hotlinedb"
	"github.com/amparo/amparo/phone"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/templates"
)

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
	e164, phoneErr := phone.Normalize(in.From, "")
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
	key, err := crypto.NewRowKey(h.keys, "inbound_message", id.String())
	if err != nil {
		return nil, err
	}
	body, err := key.Seal("body", []byte(in.Body))
	if err != nil {
		return nil, err
	}

	// A concurrent copy of this MessageSid waits on the unique index until
	// the first commits, then inserts nothing; whatever else the pipeline
	// did for it is rolled back, since a duplicate never commits.
	b := &pgx.Batch{}
	b.Queue(hotlinedb.InsertInbound, queryArgs(hotlinedb.InsertInboundParams{
		ID: id, MessageSid: in.MessageSID, PhoneIndex: candidates[0], IndexKeyID: new(h.index.CurrentKeyID()),
		KekID: new(key.KEKID), WrappedDek: key.Wrapped, BodySealed: body, ReceivedAt: h.clk.Now()})...)
	b.Queue(hotlinedb.Admit, queryArgs(h.admitParams(candidates[0], candidates))...)
	b.Queue(hotlinedb.DangerAlerted, e164, h.clk.Now().Add(-dangerCodeLife))
	b.Queue(hotlinedb.ActiveConversation, candidates)
	var (
		op                opening
		inserted, alerted bool
		conv              *convRow
		provider          bool
	)
	// Last: referral reads its own answer when the pipeline is closed.
	referral.QueueProviderCheck(b, e164, &provider)
	w, err := beginWebhookTx(ctx, h.pool, b, func(br pgx.BatchResults) error {
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
		if err := br.QueryRow().Scan(&alerted); err != nil {
			return fmt.Errorf("hotline: danger alert check: %w", err)
		}
		conv, err = scanConversationRow(br.QueryRow(), candidates)
		return err
	})
	if err != nil {
		return nil, err
	}
	op.provider = provider || alerted
	defer w.release(ctx)
	w.conv = conv
	if !inserted {
		return h.replay(ctx, w, in.MessageSID)
	}

	outcome, replies, err := h.route(ctx, w, e164, candidates, op, in.Body)
	if err != nil {
		return nil, err
	}
	var sealedReplies []byte
	if len(replies) > 0 {
		raw, err := json.Marshal(replies)
		if err != nil {
			return nil, err
		}
		if sealedReplies, err = key.Seal("reply", raw); err != nil {
			return nil, err
		}
	}
	// An erasure in this very step has already shredded the row; its reply
	// is then sent once and not kept (RecordInboundOutcome).
	w.queue(hotlinedb.RecordInboundOutcome, outcome, sealedReplies, id)
	if err := w.commit(ctx); err != nil {
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
func (h *Hotline) route(ctx context.Context, w *webhookTx, e164 string, candidates [][]byte, op opening, body string) (outcome string, replies []string, err error) {
	if op.refused != "" {
		return op.refused, nil, nil
	}
	if op.provider {
		tx, err := w.Tx(ctx)
		if err != nil {
			return "", nil, err
		}
		reply, handled, err := h.dangerReply(ctx, tx, e164, body)
		if err != nil || handled {
			return "provider", reply, err
		}
		reply, handled, err = h.providerReply(ctx, tx, e164, body)
		if err != nil || handled {
			return "provider", reply, err
		}
	}
	replies, err = h.converse(ctx, w, e164, candidates, body)
	return "survivor", replies, err
}

// replay returns the replies stored with an already handled MessageSid.
func (h *Hotline) replay(ctx context.Context, w *webhookTx, sid string) ([]string, error) {
	tx, err := w.Tx(ctx)
	if err != nil {
		return nil, err
	}
	row, err := hotlinedb.New(tx).InboundReply(ctx, sid)
	if err != nil {
		return nil, fmt.Errorf("hotline: replay: %w", err)
	}
	id, kekID, wrapped, replies := row.ID, row.KekID, row.WrappedDek, row.ReplySealed
	h.log.Info("hotline: duplicate sms", "inbound_id", id)
	if kekID == nil || replies == nil {
		return nil, nil
	}
	key, err := crypto.OpenRowKey(h.keys, "inbound_message", id.String(), *kekID, wrapped)
	if err != nil {
		return nil, err
	}
	raw, err := key.Open("reply", replies)
	if err != nil {
		return nil, err
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, errors.New("hotline: stored reply unreadable")
	}
	return out, nil
}

// webhookTx is the SMS webhook's transaction, with an explicit API for the
// two round trips a live conversation step costs: open sends BEGIN with the
// opening statements in one pipeline (pgx's own Begin would cost a round
// trip of its own), queue holds writes back, and commit sends them with the
// COMMIT in one pipeline. It is not a pgx.Tx: code that must run statements
// in between (casefile, referral, River, and the hotline's own effects)
// asks Tx for pgx's own Tx on the same transaction, which costs one round
// trip the first time and which a step that only reads and writes her
// conversation never asks for.
type webhookTx struct {
	conn    *pgxpool.Conn
	open    bool      // BEGIN sent; neither COMMIT nor ROLLBACK yet
	conv    *convRow  // her conversation as the opening pipeline read it
	pending pgx.Batch // writes held back for commit's pipeline
	tx      pgx.Tx    // pgx's Tx on this transaction, once Tx was asked
}

// begin acquires a connection and sends BEGIN followed by the statements
// of b in one pipeline; results reads theirs, in order. A statement that
// fails makes the server skip the rest of the pipeline.
func beginWebhookTx(ctx context.Context, pool *pgxpool.Pool, b *pgx.Batch, results func(pgx.BatchResults) error) (*webhookTx, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	w := &webhookTx{conn: conn, open: true}
	// Transaction control (BEGIN here, COMMIT, ROLLBACK, SELECT 1 below)
	// stays in Go: it queries no table and sqlc has nothing to generate.
	opening := &pgx.Batch{QueuedQueries: append([]*pgx.QueuedQuery{{SQL: `BEGIN`}}, b.QueuedQueries...)}
	err = func() (err error) {
		br := conn.SendBatch(ctx, opening)
		defer func() {
			if cerr := br.Close(); err == nil {
				err = cerr
			}
		}()
		if _, err := br.Exec(); err != nil {
			return err
		}
		return results(br)
	}()
	if err != nil {
		w.release(ctx)
		return nil, err
	}
	return w, nil
}

// queue holds a write back until commit. sql is one of hotlinedb's
// exported queries (or commit's COMMIT).
func (w *webhookTx) queue(sql string, args ...any) { w.pending.Queue(sql, args...) }

// queryArgs spreads the fields of a hotlinedb Params struct into the
// arguments of a statement queued by hand (a pipeline), in the order of
// its placeholders: sqlc declares the fields in that order, and its own
// method passes them so.
func queryArgs(params any) []any {
	v := reflect.ValueOf(params)
	args := make([]any, v.NumField())
	for i := range args {
		args[i] = v.Field(i).Interface()
	}
	return args
}

// flush sends the held-back writes, in order, in one round trip.
func (w *webhookTx) flush(ctx context.Context) error {
	if w.pending.Len() == 0 {
		return nil
	}
	b := w.pending
	w.pending = pgx.Batch{}
	if err := w.conn.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("hotline: write: %w", err)
	}
	return nil
}

// Tx returns pgx's own Tx on this transaction, for code that runs
// statements before the end of the step. What is held back is sent first,
// so the server sees statements in the order the code issued them. The
// hotline ends the transaction itself (commit): nothing may call the Tx's
// Commit or Rollback.
func (w *webhookTx) Tx(ctx context.Context) (pgx.Tx, error) {
	if !w.open {
		return nil, pgx.ErrTxClosed
	}
	if w.tx != nil {
		return w.tx, w.flush(ctx)
	}
	if err := w.flush(ctx); err != nil {
		return nil, err
	}
	// BEGIN went out in the opening pipeline. pgx creates its Tx only by
	// executing a begin statement; a second BEGIN would draw a warning, so
	// the statement is one that does nothing. Its round trip is the price
	// of a step that does more than carry on the conversation.
	tx, err := w.conn.Conn().BeginTx(ctx, pgx.TxOptions{BeginQuery: `SELECT 1`})
	if err != nil {
		return nil, err
	}
	w.tx = tx
	return tx, nil
}

// commit sends what is held back and the COMMIT in one pipeline. A COMMIT
// queued behind a failed write never runs, and one the server answers with
// ROLLBACK (an earlier statement failed, even one whose error was ignored)
// is pgx.ErrTxCommitRollback.
func (w *webhookTx) commit(ctx context.Context) error {
	if !w.open {
		return pgx.ErrTxClosed
	}
	w.queue(`COMMIT`) // transaction control: no query for sqlc (see beginWebhookTx)
	b := w.pending
	w.pending = pgx.Batch{}
	br := w.conn.SendBatch(ctx, &b)
	var (
		tag pgconn.CommandTag
		err error
	)
	for range b.Len() {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("hotline: write: %w", err)
	}
	w.open = false
	if tag.String() != "COMMIT" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// release rolls back unless the transaction has ended, and hands the
// connection back; the pool closes one that is still inside a transaction
// or broken.
func (w *webhookTx) release(ctx context.Context) {
	if w.open && w.conn.Conn().PgConn().TxStatus() != 'I' {
		_, _ = w.conn.Exec(ctx, `ROLLBACK`) // transaction control: no query for sqlc
	}
	w.open = false
	w.conn.Release()
}
