package portal

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/pgtest"
)

// SECURITY.md's KEK procedure (rotate, rewrap, retire) never locks staff out
// of the portal: the data keys of their TOTP secrets move with the rest.
func TestStaffSignInSurvivesKEKRetirement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ana", RoleCaseworker)

	rotated, err := crypto.RotateKeyring(e.raw, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	both, err := crypto.ParseKeyring(rotated)
	if err != nil {
		t.Fatal(err)
	}
	var moved int
	if err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) (err error) {
		moved, err = NewKeyTables(both).Rewrap(e.ctx, tx, 100)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if moved != 1 {
		t.Fatalf("rewrap moved %d staff keys, want 1", moved)
	}

	var ring map[string]json.RawMessage
	if err := json.Unmarshal(rotated, &ring); err != nil {
		t.Fatal(err)
	}
	var keks []json.RawMessage
	if err := json.Unmarshal(ring["keks"], &keks); err != nil {
		t.Fatal(err)
	}
	ring["keks"], _ = json.Marshal(keks[:1]) // the old KEK retired
	retired, _ := json.Marshal(ring)
	after := newEnvOn(t, pgtest.Logger(t), e.pool, retired)
	after.browser().signIn("ana")
}
