package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/internal/pgtest"
)

func TestChainDetectsTampering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	at := time.Date(2026, 11, 27, 14, 20, 0, 123456789, time.FixedZone("PET", -5*3600))
	caseID := "0b8e2f1a-5c3d-4c1e-9d6f-7f9c2b1e3a44"
	for i, e := range []audit.Entry{
		{Actor: "system", Action: "keys.rotate"},
		{Actor: "u-1", Action: "case.open", CaseID: caseID, Detail: "notes"},
		{Actor: "u-2", Action: "case.erase", CaseID: caseID},
	} {
		if err := audit.Append(ctx, pool, at.Add(time.Duration(i)*time.Minute), e); err != nil {
			t.Fatal(err)
		}
	}
	n, _, err := audit.Verify(ctx, pool)
	if err != nil || n != 3 {
		t.Fatalf("Verify = %d, %v; want 3, nil", n, err)
	}

	if _, err := pool.Exec(ctx, "UPDATE audit_log SET detail = 'x'"); err == nil {
		t.Fatal("UPDATE on audit_log succeeded; it must be refused")
	}
	if _, err := pool.Exec(ctx, "DELETE FROM audit_log"); err == nil {
		t.Fatal("DELETE on audit_log succeeded; it must be refused")
	}

	// Someone with superuser rights goes around the trigger: the chain shows it.
	if _, err := pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
		UPDATE audit_log SET actor = 'someone-else' WHERE action = 'case.open'`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := audit.Verify(ctx, pool); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("Verify after tampering = %v; want ErrBroken", err)
	}
}

func TestAppendNeedsActorAndAction(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	if err := audit.Append(context.Background(), pool, time.Now(), audit.Entry{Action: "case.open"}); err == nil {
		t.Fatal("want an error for a missing actor")
	}
}
