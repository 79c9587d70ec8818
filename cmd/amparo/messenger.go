package main

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/sms"
)

// survivorMessenger is the portal's Messenger: a caseworker's text to her
// goes through sms, the one place that applies her safe-contact profile,
// when queued and again when due.
type survivorMessenger struct{ out *sms.Notifier }

func (m survivorMessenger) SaidStop(ctx context.Context, tx pgx.Tx, caseID uuid.UUID) (bool, error) {
	return m.out.SaidStop(ctx, tx, caseID)
}

func (m survivorMessenger) MessageSurvivor(ctx context.Context, tx pgx.Tx, caseID uuid.UUID, body string) (time.Time, bool, error) {
	return m.out.EnqueueToSurvivor(ctx, tx, caseID, sms.SurvivorText{Body: body})
}
