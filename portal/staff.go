package portal

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/portal/internal/portaldb"
)

// Role is what a staff account may do; the policy function reads it.
type Role string

// Roles, spelled as the staff_user.role CHECK constraint spells them.
const (
	RoleCaseworker Role = "caseworker"
	RoleSupervisor Role = "supervisor"
	RoleProvider   Role = "provider"
	RoleAdmin      Role = "admin"
)

// Roles lists every Role.
var Roles = []Role{RoleCaseworker, RoleSupervisor, RoleProvider, RoleAdmin}

// User is a staff account as the portal sees it: no password, no secret.
type User struct {
	ID          uuid.UUID
	Username    string
	Role        Role
	OrgKey      string
	Communities []string // normalised; empty means every community
	Enrolled    bool     // a TOTP code has been accepted once
	Disabled    bool
	CreatedAt   time.Time
}

// Errors of the account store. None carries a password, code or secret.
var (
	ErrInvalidUser  = errors.New("portal: invalid account data")
	ErrUserExists   = errors.New("portal: username taken")
	ErrUnknownUser  = errors.New("portal: no such account")
	errBadSignIn    = errors.New("portal: sign-in refused")
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,39}$`)
)

// totpIssuer names the account in authenticator apps. It says nothing of
// the service's purpose: the app may be seen by someone else.
const totpIssuer = "Amparo"

// totpOpts are the code parameters every authenticator app supports.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewUser is what `amparo users add` supplies.
type NewUser struct {
	Username    string
	Role        Role
	OrgKey      string
	Communities []string
	Password    string
	// By is who the audit log says created the account: an administrator's
	// id in the portal, "cli" when empty (the `users` command).
	By string
}

// actor is who the audit log names for an account change made by by.
func actor(by string) string {
	if by == "" {
		return "cli"
	}
	return by
}

// CreateUser adds an account and returns its TOTP enrolment URI
// (otpauth://…). The secret is sealed under the account's own data key.
func (p *Accounts) CreateUser(ctx context.Context, in NewUser) (User, string, error) {
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	if !usernamePattern.MatchString(in.Username) {
		return User{}, "", fmt.Errorf("%w: username (2-40 of a-z 0-9 . _ -)", ErrInvalidUser)
	}
	if !slices.Contains(Roles, in.Role) {
		return User{}, "", fmt.Errorf("%w: role", ErrInvalidUser)
	}
	if (in.Role == RoleProvider) != (in.OrgKey != "") {
		return User{}, "", fmt.Errorf("%w: -org is needed for a provider and only for one", ErrInvalidUser)
	}
	if len(in.Password) < 12 {
		return User{}, "", fmt.Errorf("%w: password (at least 12 characters)", ErrInvalidUser)
	}
	hash, err := p.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, "", fmt.Errorf("%w: password: %w", ErrInvalidUser, err)
	}
	u := User{ID: uuid.New(), Username: in.Username, Role: in.Role, OrgKey: in.OrgKey,
		Communities: normalizeCommunities(in.Communities), CreatedAt: p.now()}
	key, sealed, kekID, wrapped, err := p.newTOTP(u)
	if err != nil {
		return User{}, "", err
	}
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		err := portaldb.New(tx).InsertUser(ctx, portaldb.InsertUserParams{ID: u.ID, Username: u.Username, Role: string(u.Role),
			OrgKey: u.OrgKey, Communities: u.Communities, PasswordHash: hash, KekID: kekID, WrappedDek: wrapped,
			TotpSealed: sealed, CreatedAt: u.CreatedAt})
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return ErrUserExists
		}
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			return fmt.Errorf("%w: no organisation with that key", ErrInvalidUser)
		}
		if err != nil {
			return fmt.Errorf("portal: create user: %w", err)
		}
		return audit.Append(ctx, tx, u.CreatedAt, audit.Entry{Actor: actor(in.By), Action: "staff.create", Detail: "role:" + string(u.Role)})
	})
	if err != nil {
		return User{}, "", err
	}
	return u, totpURI(u.Username, key.Secret()), nil
}

// newTOTP makes a TOTP secret for u, sealed under a fresh data key.
func (p *Accounts) newTOTP(u User) (key *otp.Key, sealed []byte, kekID string, wrapped []byte, err error) {
	key, err = totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Username,
		Period: uint(totpOpts.Period), Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("portal: totp secret: %w", err)
	}
	rk, err := crypto.NewRowKey(p.keys, "staff_user", u.ID.String())
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("portal: new key of %s: %w", u.ID, err)
	}
	if sealed, err = rk.Seal("totp_sealed", []byte(key.Secret())); err != nil {
		return nil, nil, "", nil, fmt.Errorf("portal: seal totp of %s: %w", u.ID, err)
	}
	return key, sealed, rk.KEKID, rk.Wrapped, nil
}

// ResetTOTP gives the account a new secret, to be enrolled again at its next
// sign-in, and returns the new enrolment URI. The old authenticator stops
// working at once. by is who asked, as for NewUser.By.
func (p *Accounts) ResetTOTP(ctx context.Context, username, by string) (string, error) {
	u, err := p.userByName(ctx, p.pool, username)
	if err != nil {
		return "", err
	}
	key, sealed, kekID, wrapped, err := p.newTOTP(u)
	if err != nil {
		return "", err
	}
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		err := portaldb.New(tx).ResetTOTP(ctx, portaldb.ResetTOTPParams{KekID: kekID, WrappedDek: wrapped, TotpSealed: sealed, ID: u.ID})
		if err != nil {
			return fmt.Errorf("portal: reset totp: %w", err)
		}
		return audit.Append(ctx, tx, p.now(), audit.Entry{Actor: actor(by), Action: "staff.reset_totp", Detail: "user:" + u.ID.String()})
	})
	if err != nil {
		return "", err
	}
	return totpURI(u.Username, key.Secret()), nil
}

// DisableUser disables an account. Its sessions end at their next request:
// every request re-reads the account. by is who asked, as for NewUser.By.
func (p *Accounts) DisableUser(ctx context.Context, username, by string) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		id, err := portaldb.New(tx).DisableUser(ctx, p.now(), strings.ToLower(username))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrUnknownUser
		}
		if err != nil {
			return fmt.Errorf("portal: disable user: %w", err)
		}
		return audit.Append(ctx, tx, p.now(), audit.Entry{Actor: actor(by), Action: "staff.disable", Detail: "user:" + id.String()})
	})
}

// ListUsers lists every account by username.
func (p *Accounts) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := portaldb.New(p.pool).ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("portal: list users: %w", err)
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = toUser(userRow(r))
	}
	return out, nil
}

// userRow is an account as the three queries that read a User give it:
// they select the same columns, so each generated row converts to it (and
// stops compiling the day one of them drifts).
type userRow portaldb.UserByIDRow

// toUser is the one place a stored account becomes a User.
func toUser(r userRow) User {
	return User{ID: r.ID, Username: r.Username, Role: Role(r.Role), OrgKey: r.OrgKey, Communities: r.Communities,
		Enrolled: r.Enrolled, Disabled: r.Disabled, CreatedAt: r.CreatedAt.UTC()}
}

// readUser is what every single-account read answers: ErrUnknownUser for
// no row.
func readUser(r userRow, err error) (User, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrUnknownUser
	}
	if err != nil {
		return User{}, fmt.Errorf("portal: read user: %w", err)
	}
	return toUser(r), nil
}

func (p *Accounts) userByName(ctx context.Context, db portaldb.DBTX, username string) (User, error) {
	r, err := portaldb.New(db).UserByName(ctx, strings.ToLower(username))
	return readUser(userRow(r), err)
}

// UserByID reads an account; ErrUnknownUser if there is none.
func (p *Accounts) UserByID(ctx context.Context, id uuid.UUID) (User, error) {
	r, err := portaldb.New(p.pool).UserByID(ctx, id)
	return readUser(userRow(r), err)
}

// normalizeCommunities spells communities as cases do ("el-porvenir"):
// lower case, words joined by hyphens, so "El Porvenir" works too.
func normalizeCommunities(in []string) []string {
	out := []string{}
	for _, c := range in {
		c = strings.Join(strings.Fields(strings.ToLower(c)), "-")
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
