package casefile

import (
	"context"
	"time"
)

// SetRewrapPace makes the re-wrap job work in small batches and short runs,
// so tests see several batches and several runs with few rows.
func SetRewrapPace(s *Store, batch int, slice time.Duration) {
	s.batchSize, s.rewrapSlice = batch, slice
}

// RewrapOneBatch runs one batch as a job run that crashed right after its
// first commit would have.
func RewrapOneBatch(ctx context.Context, s *Store) (int, error) { return s.rewrapBatch(ctx) }

var NormalizeCodeWord = normalizeCodeWord
