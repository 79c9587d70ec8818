package portal

import (
	"context"
	"encoding/gob"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// Session keys. A session holds ids and times only, never case data.
const (
	keyUser       = "uid"        // signed in: password and code both given
	keyPending    = "pending"    // password given, code not yet
	keyPendingAt  = "pending_at" // when the password was given
	keySignedInAt = "signed_in"
	keySeenAt     = "seen"
	keyOpened     = "opened" // case id → reason code, for cases opened with a reason
)

// Session values travel through scs's gob codec inside interfaces.
func init() {
	gob.Register(map[string]string{})
	gob.Register(time.Time{})
}

type ctxKey struct{}

// userFrom returns the signed-in user that requireUser put in ctx.
func userFrom(ctx context.Context) User {
	u, _ := ctx.Value(ctxKey{}).(User)
	return u
}

// requireUser lets a request through only with a live session of an
// enabled account. It enforces the idle and absolute limits against the
// portal's clock (scs enforces the same limits against the wall clock, a
// second line), and re-reads the account on every request, so disabling
// an account ends its sessions at their next request.
func (p *Portal) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id, err := uuid.Parse(p.sessions.GetString(ctx, keyUser))
		if err != nil {
			p.toSignIn(w, r)
			return
		}
		now := p.now()
		signedIn, seen := p.sessions.GetTime(ctx, keySignedInAt), p.sessions.GetTime(ctx, keySeenAt)
		if now.Sub(signedIn) >= Lifetime || now.Sub(seen) >= IdleTimeout {
			p.endSession(w, r, id, "expired")
			return
		}
		u, err := p.UserByID(ctx, id)
		if errors.Is(err, ErrUnknownUser) || (err == nil && u.Disabled) {
			p.endSession(w, r, id, "disabled")
			return
		}
		if err != nil {
			p.serveError(w, r, err)
			return
		}
		p.sessions.Put(ctx, keySeenAt, now)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, ctxKey{}, u)))
	})
}

func (p *Portal) endSession(w http.ResponseWriter, r *http.Request, id uuid.UUID, why string) {
	if err := p.sessions.Destroy(r.Context()); err != nil {
		p.serveError(w, r, err)
		return
	}
	p.log.InfoContext(r.Context(), "portal: session ended", "user_id", id, "why", why)
	p.toSignIn(w, r)
}

func (p *Portal) toSignIn(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
}

// startSession turns a pending sign-in into a signed-in session under a
// new token, so a token planted before sign-in is worth nothing after.
func (p *Portal) startSession(ctx context.Context, id uuid.UUID) error {
	if err := p.sessions.RenewToken(ctx); err != nil {
		return err
	}
	now := p.now()
	p.sessions.Remove(ctx, keyPending)
	p.sessions.Remove(ctx, keyPendingAt)
	p.sessions.Put(ctx, keyUser, id.String())
	p.sessions.Put(ctx, keySignedInAt, now)
	p.sessions.Put(ctx, keySeenAt, now)
	return nil
}

// pendingUser is the account whose password was given in this session, if
// that was recent enough.
func (p *Portal) pendingUser(ctx context.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(p.sessions.GetString(ctx, keyPending))
	if err != nil || p.now().Sub(p.sessions.GetTime(ctx, keyPendingAt)) > pendingTimeout {
		return uuid.Nil, false
	}
	return id, true
}

// noteOpened remembers that this session opened a case with a reason, so
// the pages that follow (after adding a note, say) do not ask again; each
// opening is still audited.
func (p *Portal) noteOpened(ctx context.Context, caseID uuid.UUID, reason string) {
	m, _ := p.sessions.Get(ctx, keyOpened).(map[string]string)
	if m == nil {
		m = map[string]string{}
	}
	m[caseID.String()] = reason
	p.sessions.Put(ctx, keyOpened, m)
}

func (p *Portal) openedReason(ctx context.Context, caseID uuid.UUID) string {
	m, _ := p.sessions.Get(ctx, keyOpened).(map[string]string)
	return m[caseID.String()]
}
