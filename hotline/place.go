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

// get returns the place, reading the directory if the last read is stale.
// A failed read keeps serving the last good place: a conversation must not
// stop because the directory could not be read.
func (p *places) get(ctx context.Context, tx func() (pgx.Tx, error)) (triage.Place, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < placeTTL {
		return p.cur, nil
	}
	db, err := tx()
	var cs []referral.CommunityEntry
	if err == nil {
		cs, err = referral.Communities(ctx, db)
	}
	if err != nil {
		if !p.at.IsZero() {
			return p.cur, nil
		}
		return triage.Place{}, err
	}
	place := triage.Place{Zone: p.zone, Communities: make([]triage.Community, len(cs))}
	for i, c := range cs {
		place.Communities[i] = triage.Community{Key: c.Key, Name: c.Name}
	}
	p.cur, p.at = place, time.Now()
	return place, nil
}
