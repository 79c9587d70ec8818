package portal

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp/totp"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/portal/internal/portaldb"
)

// Lockout: the first freeFailures wrong answers in a row cost nothing; each
// one after locks the account for lockBase, doubling, up to lockMax. The
// lock is in the database, so every copy of the server enforces it.
const (
	freeFailures = 4
	lockBase     = 30 * time.Second
	lockMax      = 4 * time.Hour
)

// lockFor is how long the n-th failure in a row locks the account.
func lockFor(n int) time.Duration {
	if n <= freeFailures {
		return 0
	}
	d := lockBase
	for i := freeFailures + 1; i < n && d < lockMax; i++ {
		d *= 2
	}
	return min(d, lockMax)
}

// ensureDummyHash makes the hash verified for unknown usernames, so that
// the answer and its timing are the same whether or not an account exists.
func (p *Accounts) ensureDummyHash(ctx context.Context) error {
	p.dummyOnce.Do(func() {
		p.dummyHash, p.dummyErr = p.hasher.Hash(context.WithoutCancel(ctx), "amparo-dummy-password-for-timing")
	})
	return p.dummyErr
}

// checkPassword answers whether username and password name an account that
// may go on to the code step. It always runs one Argon2id verification, and
// answers errBadSignIn alike for an unknown username, a wrong password, a
// locked or a disabled account.
func (p *Accounts) checkPassword(ctx context.Context, username, password string) (uuid.UUID, error) {
	if err := p.ensureDummyHash(ctx); err != nil {
		return uuid.Nil, err
	}
	acct, err := portaldb.New(p.pool).PasswordCheck(ctx, strings.ToLower(strings.TrimSpace(username)))
	id, hash, lockedUntil, disabled := acct.ID, acct.PasswordHash, acct.LockedUntil, acct.Disabled
	known := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, fmt.Errorf("portal: read account: %w", err)
	}
	if !known {
		hash = p.dummyHash
	}
	ok, _, err := p.hasher.Verify(ctx, hash, password)
	if err != nil {
		return uuid.Nil, fmt.Errorf("portal: verify password: %w", err)
	}
	if !known {
		// The same write as a wrong password's, so that neither the answer
		// nor its time tells whether the name exists. The name itself is
		// not recorded: people type passwords into the wrong box.
		if err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
			return audit.Append(ctx, tx, p.now(), audit.Entry{Actor: "unknown-user", Action: "staff.sign_in_failed", Detail: "password"})
		}); err != nil {
			return uuid.Nil, fmt.Errorf("portal: record failed sign-in: %w", err)
		}
		return uuid.Nil, errBadSignIn
	}
	now := p.now()
	if disabled || (lockedUntil != nil && now.Before(*lockedUntil)) {
		return uuid.Nil, errBadSignIn
	}
	if !ok {
		return uuid.Nil, p.recordFailure(ctx, id, "password")
	}
	return id, nil
}

// recordFailure counts a wrong answer, locks the account when it is due, and
// returns errBadSignIn (or the database's error).
func (p *Accounts) recordFailure(ctx context.Context, id uuid.UUID, step string) error {
	now := p.now()
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		q := portaldb.New(tx)
		n, err := q.CountFailure(ctx, id)
		if err != nil {
			return err
		}
		if d := lockFor(int(n)); d > 0 {
			if err := q.LockAccount(ctx, now.Add(d), id); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, now, audit.Entry{Actor: id.String(), Action: "staff.sign_in_failed", Detail: step})
	})
	if err != nil {
		return fmt.Errorf("portal: record failed sign-in: %w", err)
	}
	p.log.InfoContext(ctx, "portal: sign-in failed", "user_id", id, "step", step)
	return errBadSignIn
}

// checkCode accepts a TOTP code for the account once: the step it belongs
// to must be later than the last accepted one, so a code seen over a
// shoulder or replayed from a proxy log is refused. On success the failure
// count resets and the account counts as enrolled.
func (p *Accounts) checkCode(ctx context.Context, id uuid.UUID, code string) error {
	now := p.now()
	code = strings.TrimSpace(code)
	q := portaldb.New(p.pool)
	acct, err := q.CodeCheck(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return errBadSignIn
	}
	if err != nil {
		return fmt.Errorf("portal: read account: %w", err)
	}
	if acct.Disabled || (acct.LockedUntil != nil && now.Before(*acct.LockedUntil)) {
		return errBadSignIn
	}
	secret, err := p.totpSecret(id, acct.KekID, acct.WrappedDek, acct.TotpSealed)
	if err != nil {
		return err
	}
	step, ok := matchStep(secret, code, now)
	if !ok || step <= acct.TotpLastStep {
		return p.recordFailure(ctx, id, "code")
	}
	n, err := q.AcceptCode(ctx, step, now, id)
	if err != nil {
		return fmt.Errorf("portal: record code: %w", err)
	}
	if n == 0 {
		// Another request took this step first: the same code twice.
		return p.recordFailure(ctx, id, "code")
	}
	return nil
}

func (p *Accounts) totpSecret(id uuid.UUID, kekID string, wrapped, sealed []byte) (string, error) {
	rk, err := crypto.OpenRowKey(p.keys, "staff_user", id.String(), kekID, wrapped)
	if err != nil {
		return "", fmt.Errorf("portal: unwrap key of %s: %w", id, err)
	}
	secret, err := rk.Open("totp_sealed", sealed)
	if err != nil {
		return "", fmt.Errorf("portal: open totp of %s: %w", id, err)
	}
	return string(secret), nil
}

// matchStep finds the step, within the allowed skew, whose code is code.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	if len(code) != int(totpOpts.Digits) {
		return 0, false
	}
	period := int64(totpOpts.Period)
	cur := now.Unix() / period
	for s := cur - int64(totpOpts.Skew); s <= cur+int64(totpOpts.Skew); s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*period, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// enrolmentURI is the otpauth URI of an account that has not enrolled yet;
// once enrolled the secret is never shown again (ErrUnknownUser).
func (p *Accounts) enrolmentURI(ctx context.Context, id uuid.UUID) (string, error) {
	acct, err := portaldb.New(p.pool).Enrolment(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) || acct.Enrolled {
		return "", ErrUnknownUser
	}
	if err != nil {
		return "", fmt.Errorf("portal: read account: %w", err)
	}
	secret, err := p.totpSecret(id, acct.KekID, acct.WrappedDek, acct.TotpSealed)
	if err != nil {
		return "", err
	}
	return totpURI(acct.Username, secret), nil
}

func totpURI(username, secret string) string {
	return fmt.Sprintf("otpauth://totp/%s:%s?algorithm=SHA1&digits=6&issuer=%s&period=30&secret=%s",
		totpIssuer, username, totpIssuer, secret)
}

// CurrentCode is the code an account's authenticator shows at now. Only
// the demo's code page and tests call it.
func (p *Accounts) CurrentCode(ctx context.Context, username string, now time.Time) (string, error) {
	acct, err := portaldb.New(p.pool).TOTPSecret(ctx, strings.ToLower(username))
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrUnknownUser
	}
	if err != nil {
		return "", fmt.Errorf("portal: read account: %w", err)
	}
	secret, err := p.totpSecret(acct.ID, acct.KekID, acct.WrappedDek, acct.TotpSealed)
	if err != nil {
		return "", err
	}
	return totp.GenerateCodeCustom(secret, now, totpOpts)
}
