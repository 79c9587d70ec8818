package portal

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/portal/internal/portaldb"
	"github.com/amparo/amparo/referral"
)

// Session bounds (DESIGN §6): a desk left alone signs out after IdleTimeout;
// no session outlives Lifetime, however busy.
const (
	IdleTimeout = 15 * time.Minute
	Lifetime    = 8 * time.Hour
	// pendingTimeout bounds the wait between a right password and its code.
	pendingTimeout = 5 * time.Minute
)

// Config is the portal's configuration.
type Config struct {
	// InsecureCookies drops the cookie's Secure flag. Only the plain-HTTP
	// demo sets it; everywhere else the portal is behind TLS.
	InsecureCookies bool
	// Demo enables the page that shows the demo accounts' current codes.
	Demo bool
	// TimeZone is where the desk shows times (default America/Lima).
	TimeZone *time.Location
	Log      *slog.Logger
}

// Deps are the domain services the portal calls.
type Deps struct {
	Pool      *pgxpool.Pool
	Keys      crypto.KeyWrapper
	Hasher    *crypto.PasswordHasher
	Cases     *casefile.Store
	Referrals *referral.Service
	Clock     clock.Clock
	// Messenger sends texts to her; without it the case page offers none.
	Messenger Messenger
	// Health reads the queue-health figures /metrics exports.
	Health QueueHealth
	// Blocks blocks and unblocks a case's caller; without it the caller
	// page offers no block.
	Blocks CallerBlocks
}

// Accounts are the staff accounts: creation, sign-in checks, lockout. The
// `users` command uses it without the web surface.
type Accounts struct {
	pool      *pgxpool.Pool
	keys      crypto.KeyWrapper
	hasher    *crypto.PasswordHasher
	clk       clock.Clock
	log       *slog.Logger
	dummyOnce sync.Once
	dummyHash string
	dummyErr  error
}

// NewAccounts returns the account store. hasher may be nil (a default one).
func NewAccounts(pool *pgxpool.Pool, keys crypto.KeyWrapper, hasher *crypto.PasswordHasher, clk clock.Clock, log *slog.Logger) *Accounts {
	if hasher == nil {
		hasher = crypto.NewPasswordHasher(0)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Accounts{pool: pool, keys: keys, hasher: hasher, clk: clk, log: log}
}

func (p *Accounts) now() time.Time { return p.clk.Now().UTC().Truncate(time.Microsecond) }

// Portal is the staff web surface. Create it with New.
type Portal struct {
	*Accounts
	cases     *casefile.Store
	referrals *referral.Service
	messenger Messenger
	health    QueueHealth
	blocks    CallerBlocks
	cfg       Config
	sessions  *scs.SessionManager
	pages     map[string]*template.Template
}

// New returns a Portal. Its session store deletes expired sessions every
// few minutes until ctx ends.
func New(ctx context.Context, cfg Config, d Deps) (*Portal, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.TimeZone == nil {
		loc, err := time.LoadLocation("America/Lima")
		if err != nil {
			return nil, err
		}
		cfg.TimeZone = loc
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	p := &Portal{Accounts: NewAccounts(d.Pool, d.Keys, d.Hasher, d.Clock, cfg.Log),
		cases: d.Cases, referrals: d.Referrals, messenger: d.Messenger, health: d.Health, blocks: d.Blocks,
		cfg: cfg, pages: pages}
	p.sessions = newSessions(ctx, d.Pool, cfg, cfg.Log, p.sessionError)
	return p, nil
}

func newSessions(ctx context.Context, pool *pgxpool.Pool, cfg Config, log *slog.Logger, onErr func(w http.ResponseWriter, r *http.Request, err error)) *scs.SessionManager {
	// pgxstore's own cleanup goroutine cannot be stopped safely (StopCleanup
	// races with its start), so expired rows are deleted here instead.
	go deleteExpiredSessions(ctx, pool, log)
	s := scs.New()
	s.Store = pgxstore.NewWithCleanupInterval(pool, 0)
	s.Lifetime = Lifetime
	s.IdleTimeout = IdleTimeout
	// A stolen database holds hashes of the tokens, not tokens it could replay.
	s.HashTokenInStore = true
	s.Cookie.Name = "amparo_session"
	s.Cookie.HttpOnly = true
	s.Cookie.Secure = !cfg.InsecureCookies
	s.Cookie.SameSite = http.SameSiteLaxMode
	s.Cookie.Path = "/"
	s.ErrorFunc = onErr
	return s
}

// sessionSweep is how often expired sessions are deleted. An expired row is
// never used (the store checks expiry on every read); this only keeps the
// table small.
const sessionSweep = 5 * time.Minute

func deleteExpiredSessions(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) {
	t := time.NewTicker(sessionSweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := portaldb.New(pool).DeleteExpiredSessions(ctx); err != nil && ctx.Err() == nil {
				log.Warn("portal: delete expired sessions", "err", err)
			}
		}
	}
}
