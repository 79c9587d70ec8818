package casefile

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile/internal/casefiledb"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/fold"
	"github.com/amparo/amparo/phone"
)

// Contact is a survivor as the hotline knows her: the number she writes from.
type Contact struct {
	ID          uuid.UUID
	Phone       string // E.164
	HasCodeWord bool
	CreatedAt   time.Time
}

// Code-word guessing: every maxCodeWordFailures wrong answers since the last
// right one, checks are refused for a while: codeWordLockFor the first time,
// twice as long each time after, up to codeWordMaxLock. A survivor who forgot
// hers reaches a caseworker by voice; an abuser spoofing her number gets five
// tries, then five more an hour later, then two hours later, and so on.
// minCodeWordLen (after normalising) keeps the word itself from being
// guessable in a handful of tries.
const (
	maxCodeWordFailures = 5
	codeWordLockFor     = time.Hour
	codeWordMaxLock     = 7 * 24 * time.Hour
	minCodeWordLen      = 3
	// The failure count is a smallint; past the cap it stops growing and
	// every further lockout is codeWordMaxLock.
	maxCodeWordFailureCount = 10000
)

// codeWordLock is how long checks are refused after the given number of
// wrong answers in a row, or 0 if that count does not start a lock.
func codeWordLock(failures int) time.Duration {
	if failures < maxCodeWordFailures || failures%maxCodeWordFailures != 0 {
		return 0
	}
	d := codeWordLockFor
	for range failures/maxCodeWordFailures - 1 {
		if d >= codeWordMaxLock {
			break
		}
		d *= 2
	}
	return min(d, codeWordMaxLock)
}

func normalizePhone(raw string) (string, error) {
	e164, err := phone.Normalize(raw, "")
	if err != nil {
		return "", fmt.Errorf("casefile: %w", err) // crypto's error never holds the number
	}
	return e164, nil
}

// FindContact finds the live contact for a phone number in any common format
// (E.164, national, spaced...). It tries every accepted index key, so a
// contact indexed before an index-key rotation is still found.
func (s *Store) FindContact(ctx context.Context, db DB, phone string) (Contact, bool, error) {
	e164, err := normalizePhone(phone)
	if err != nil {
		return Contact{}, false, err
	}
	found, err := casefiledb.New(db).FindContacts(ctx, s.index.Candidates(e164))
	if err != nil {
		return Contact{}, false, fmt.Errorf("casefile: find contact: %w", err)
	}
	for _, x := range found {
		if x.KekID == nil {
			// A row found by its index is live, and a live contact has a
			// key (contact_live_has_keys).
			return Contact{}, false, fmt.Errorf("casefile: find contact: contact %s has no key", x.ID)
		}
		dek, err := s.unwrap(*x.KekID, x.WrappedDek, contactOwner(x.ID))
		if err != nil {
			return Contact{}, false, err
		}
		pt, err := sealer{dek, "contact", x.ID}.open("phone_sealed", x.PhoneSealed)
		if err != nil {
			return Contact{}, false, err
		}
		// The index is only a hint: the sealed number decides.
		if string(pt) == e164 {
			return Contact{ID: x.ID, Phone: e164, HasCodeWord: x.HasCodeWord, CreatedAt: x.CreatedAt.UTC()}, true, nil
		}
	}
	return Contact{}, false, nil
}

// CreateContact records a new contact for a number with no live contact.
func (s *Store) CreateContact(ctx context.Context, db DB, phone string) (Contact, error) {
	e164, err := normalizePhone(phone)
	if err != nil {
		return Contact{}, err
	}
	c := Contact{ID: uuid.New(), Phone: e164, CreatedAt: s.now()}
	dek, kekID, wrapped, err := s.newKey("contact", c.ID)
	if err != nil {
		return Contact{}, err
	}
	sealedPhone, err := sealer{dek, "contact", c.ID}.seal("phone_sealed", []byte(e164))
	if err != nil {
		return Contact{}, err
	}
	err = inTx(ctx, db, func(tx pgx.Tx) error {
		q := casefiledb.New(tx)
		// An older index key may still hold her: the UNIQUE constraint only
		// sees the current one.
		exists, err := q.ContactIndexed(ctx, s.index.Candidates(e164))
		if err != nil {
			return fmt.Errorf("casefile: create contact: %w", err)
		}
		if exists {
			return ErrContactExists
		}
		n, err := q.InsertContact(ctx, casefiledb.InsertContactParams{
			ID: c.ID, PhoneIndex: s.index.Current(e164), IndexKeyID: s.index.CurrentKeyID(),
			KekID: kekID, WrappedDek: wrapped, PhoneSealed: sealedPhone, CreatedAt: c.CreatedAt,
		})
		if err != nil {
			return fmt.Errorf("casefile: create contact: %w", err)
		}
		if n == 0 {
			return ErrContactExists
		}
		return nil
	})
	if err != nil {
		return Contact{}, err
	}
	return c, nil
}

// ContactKey returns the contact's data key, so the hotline can seal her
// conversation state under a key that her erasure destroys.
func (s *Store) ContactKey(ctx context.Context, db DB, contactID uuid.UUID) (*crypto.DataKey, error) {
	k, err := casefiledb.New(db).ContactKey(ctx, contactID)
	return s.loadKey(k.KekID, k.WrappedDek, err, contactOwner(contactID), "contact")
}

// ContactPhone opens a contact's number (E.164), for a text the system
// sends her: ErrErased once her contact is erased, ErrNotFound without it.
// It audits nothing: no person reads the number.
func (s *Store) ContactPhone(ctx context.Context, db DB, contactID uuid.UUID) (string, error) {
	dek, err := s.ContactKey(ctx, db, contactID)
	if err != nil {
		return "", err
	}
	sealed, err := casefiledb.New(db).ContactPhone(ctx, contactID)
	if err != nil {
		return "", fmt.Errorf("casefile: contact phone: %w", err)
	}
	if sealed == nil {
		return "", ErrErased
	}
	pt, err := sealer{dek, "contact", contactID}.open("phone_sealed", sealed)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// normalizeCodeWord folds what a survivor may type differently each time:
// case, accents, spaces and punctuation ("Mi Gatíta." = "migatita"). It
// returns "" for a word with fewer than minCodeWordLen letters or digits,
// which is no code word at all.
func normalizeCodeWord(w string) string {
	var (
		b strings.Builder
		n int
	)
	for _, r := range fold.Plain(w) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			n++
		}
	}
	if n < minCodeWordLen {
		return ""
	}
	return b.String()
}

// codeWordPurpose ties the token to one contact, so two survivors with the
// same code word do not share a token.
func codeWordPurpose(contactID uuid.UUID) string { return "code_word|" + contactID.String() }

// addCodeWord sets the contact's code word if she has none, and otherwise
// changes nothing: her word and its guessing lock are hers, and whoever
// texts from her number (caller ID can be spoofed) must not replace the one
// or reset the other by answering a triage.
func (s *Store) addCodeWord(ctx context.Context, tx pgx.Tx, contactID uuid.UUID, word string) error {
	w := normalizeCodeWord(word)
	if w == "" {
		return invalid(codeWordTooShort)
	}
	err := casefiledb.New(tx).AddCodeWord(ctx, s.index.Token(codeWordPurpose(contactID), w), s.index.CurrentKeyID(), contactID)
	if err != nil {
		return fmt.Errorf("casefile: set code word: %w", err)
	}
	return nil
}

const codeWordTooShort = "code word (fewer than 3 letters or digits)"

// setCodeWord stores a keyed one-way token of the code word: the database
// alone cannot reveal it, and no code path can read it back. It replaces
// the word and clears the guessing count, so only CheckCodeWord calls it,
// after a right answer (to re-key it under the current index key).
func (s *Store) setCodeWord(ctx context.Context, tx pgx.Tx, contactID uuid.UUID, word string) error {
	w := normalizeCodeWord(word)
	if w == "" {
		return invalid(codeWordTooShort)
	}
	err := casefiledb.New(tx).SetCodeWord(ctx, s.index.Token(codeWordPurpose(contactID), w), s.index.CurrentKeyID(), contactID)
	if err != nil {
		return fmt.Errorf("casefile: set code word: %w", err)
	}
	return nil
}

// CheckCodeWord says whether word is the contact's code word. Wrong answers
// count; after maxCodeWordFailures in a row it returns ErrCodeWordLocked for
// codeWordLockFor. A right answer under an older index key is re-keyed under
// the current one, so index-key rotation needs no plaintext.
func (s *Store) CheckCodeWord(ctx context.Context, db DB, contactID uuid.UUID, word string) (bool, error) {
	var ok bool
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		q := casefiledb.New(tx)
		cw, err := q.CodeWordForUpdate(ctx, contactID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return fmt.Errorf("casefile: check code word: %w", err)
		case cw.ErasedAt != nil:
			return ErrErased
		case cw.CodeWordToken == nil:
			return ErrNoCodeWord
		}
		token, keyID, failures, lockedUntil := cw.CodeWordToken, cw.CodeWordKeyID, int(cw.CodeWordFailures), cw.CodeWordLockedUntil
		now := s.now()
		if lockedUntil != nil && now.Before(*lockedUntil) {
			return ErrCodeWordLocked
		}
		keyAt := slices.Index(s.index.KeyIDs(), *keyID)
		if keyAt < 0 {
			return fmt.Errorf("casefile: code word of contact %s is keyed with index key %q, which is no longer in the keyring", contactID, *keyID)
		}
		w := normalizeCodeWord(word)
		ok = w != "" && hmac.Equal(s.index.TokenCandidates(codeWordPurpose(contactID), w)[keyAt], token)
		if !ok {
			// The count runs on across locks (only a right answer clears
			// it), so each lockout is longer than the one before.
			failures = min(failures+1, maxCodeWordFailureCount)
			var lock *time.Time
			if d := codeWordLock(failures); d > 0 {
				until := now.Add(d)
				lock = &until
				s.log.WarnContext(ctx, "casefile: code word checks locked", "contact_id", contactID, "lock", d)
			}
			err = q.CodeWordFailed(ctx, int16(failures), lock, contactID)
		} else if keyAt > 0 || failures > 0 || lockedUntil != nil {
			err = s.setCodeWord(ctx, tx, contactID, word)
		}
		if err != nil {
			return fmt.Errorf("casefile: check code word: %w", err)
		}
		return nil
	})
	return ok, err
}

// EraseContact is the survivor's BORRAR: it shreds her contact key and the
// key of every one of her cases, and removes her phone index and code word,
// so that nothing sealed about her can be read again and her number is no
// longer recognised. Erasing an erased contact is a no-op.
func (s *Store) EraseContact(ctx context.Context, db DB, contactID uuid.UUID, actor string) error {
	return inTx(ctx, db, func(tx pgx.Tx) error {
		q := casefiledb.New(tx)
		// The contact FOR UPDATE, then her cases FOR NO KEY UPDATE (the
		// queries say why).
		erasedAt, err := q.ContactErasedForUpdate(ctx, contactID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("casefile: erase contact: %w", err)
		}
		if erasedAt != nil {
			return nil
		}
		rows, err := q.LiveCasesOfContactForNoKeyUpdate(ctx, contactID)
		if err != nil {
			return fmt.Errorf("casefile: erase contact: %w", err)
		}
		cases := make([]ErasedCase, len(rows))
		for i, r := range rows {
			cases[i] = ErasedCase{ID: r.ID, Reference: r.Reference}
		}
		now := s.now()
		if err := s.runEraseHook(ctx, tx, cases, now); err != nil {
			return err
		}
		for _, c := range cases {
			if err := s.shredCase(ctx, tx, c.ID, actor, now); err != nil {
				return err
			}
		}
		if err := q.ShredContact(ctx, now, contactID); err != nil {
			return fmt.Errorf("casefile: erase contact: %w", err)
		}
		if err := audit.Append(ctx, tx, now, audit.Entry{
			Actor: actor, Action: "contact.erase",
			Detail: fmt.Sprintf("contact %s; %d case(s)", contactID, len(cases)),
		}); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "casefile: contact erased", "contact_id", contactID, "cases", len(cases))
		return nil
	})
}
