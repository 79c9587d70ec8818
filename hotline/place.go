package hotline

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/hotline/triage"
	"github.com/amparo/amparo/referral"
)

// DefaultZone is the time zone survivors speak in when the configuration
// names none (AMPARO_TIME_ZONE): the pilot's.
const DefaultZone = "America/Lima"

// placeTTL is how long a read of the directory's communities serves
// conversations. Re-reading on every message would add a round trip to
// each; a directory import reaches survivors within this time.
const placeTTL = time.Minute

// places keeps the triage Place: the directory's communities, read at most
// once per placeTTL, and the configured zone.
type places struct {
	zone *time.Location
	mu   sync.Mutex
	at   time.Time // monotonic: when place was read, on the process's clock
	cur  triage.Place
}

// get returns the place, reading the directory in the transaction tx
// gives (the webhook's: a second connection per message could exhaust the
// pool under load) if the last read is stale. The lock is not held while
// reading, so a slow read holds up no other conversation.
func (p *places) get(ctx context.Context, tx func() (pgx.Tx, error)) (triage.Place, error) {
	p.mu.Lock()
	cur, at := p.cur, p.at
	p.mu.Unlock()
	if !at.IsZero() && time.Since(at) < placeTTL {
		return cur, nil
	}
	db, err := tx()
	var cs []referral.CommunityEntry
	if err == nil {
		cs, err = referral.Communities(ctx, db)
	}
	if err != nil {
		return triage.Place{}, err
	}
	place := triage.Place{Zone: p.zone, Communities: make([]triage.Community, len(cs))}
	for i, c := range cs {
		place.Communities[i] = triage.Community{Key: c.Key, Name: c.Name}
	}
	p.mu.Lock()
	p.cur, p.at = place, time.Now()
	p.mu.Unlock()
	return place, nil
}
