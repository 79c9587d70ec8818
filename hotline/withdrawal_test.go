package hotline

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/sms"
	"github.com/amparo/amparo/templates"
)

// When she erases her case, every provider that was sent one of her
// requests is told it is withdrawn, so that nobody goes looking for her.
func TestBorrarTellsProvidersTheirRequestsAreWithdrawn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	for _, step := range []string{"Hola", "no", "sí", "1 2", "1"} {
		survivor.Send(step).ExpectSMS()
	}
	survivor.ExpectSMS() // the community question follows the PEP advice
	for _, step := range []string{"1", "TODOS", "1", "1"} {
		survivor.Send(step).ExpectSMS()
	}
	ref := refPattern.FindString(survivor.Send("girasol").ExpectSMS("AMP-").Body)

	health, police := e.sim.Phone(healthPhone), e.sim.Phone(policePhone)
	notice := health.ExpectSMS(ref)
	healthCode := codePattern.FindStringSubmatch(notice.Body)[1]
	notice.Reply("OK " + healthCode).Expect(text(t, es, templates.KeyProviderAcknowledged, "ref", ref))
	survivor.ExpectSMS("Av. Sol 123") // where to go
	policeCode := codePattern.FindStringSubmatch(police.ExpectSMS(ref).Body)[1]

	survivor.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	survivor.Send("girasol").Expect(text(t, es, templates.KeyEraseConfirm))
	survivor.Send("1").Expect(text(t, es, templates.KeyEraseDone))

	health.Expect(text(t, es, templates.KeyProviderWithdrawn, "ref", ref, "code", healthCode))
	police.Expect(text(t, es, templates.KeyProviderWithdrawn, "ref", ref, "code", policeCode))
	if n := e.count("referral", "status <> 'revoked'"); n != 0 {
		t.Errorf("%d referrals not revoked", n)
	}
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// A withdrawal goes only to a provider that may have the request: a notice
// never tried is cancelled instead, and one being handed to Twilio right
// now is not overtaken.
func TestWithdrawalOnlyWhenTheProviderMayHaveTheNotice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	cases := 0
	notice := func() referral.ProviderNotice {
		cases++
		r := e.openReferral(fmt.Sprintf("+5198700%04d", cases))
		return referral.ProviderNotice{ReferralID: r.ID, Phone: healthPhone, Reference: "AMP-7K3Q", ReplyCode: "4821", Lang: "es"}
	}
	inTx := func(f func(tx pgx.Tx) error) {
		t.Helper()
		if err := pgx.BeginFunc(e.ctx, e.pool, f); err != nil {
			t.Fatal(err)
		}
	}
	notify := func(n referral.ProviderNotice) uuid.UUID {
		t.Helper()
		inTx(func(tx pgx.Tx) error { return e.out.NotifyProvider(e.ctx, tx, n) })
		var id uuid.UUID
		if err := e.pool.QueryRow(e.ctx, `SELECT id FROM outbound_message WHERE referral_id = $1 AND purpose = $2`,
			n.ReferralID, sms.PurposeProvider).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	withdraw := func(n referral.ProviderNotice) {
		t.Helper()
		inTx(func(tx pgx.Tx) error { return e.out.NotifyWithdrawn(e.ctx, tx, n) })
	}
	withdrawal := func(n referral.ProviderNotice) (id uuid.UUID, notBefore time.Time, found bool) {
		t.Helper()
		err := e.pool.QueryRow(e.ctx, `SELECT id, not_before FROM outbound_message WHERE referral_id = $1 AND purpose = $2`,
			n.ReferralID, sms.PurposeWithdrawal).Scan(&id, &notBefore)
		if err == pgx.ErrNoRows {
			return uuid.Nil, time.Time{}, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return id, notBefore, true
	}
	// lockAsSender holds a message row as the sender does across its call
	// to Twilio; rolling back is the send failing for now.
	lockAsSender := func(id uuid.UUID) pgx.Tx {
		t.Helper()
		tx, err := e.pool.Begin(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(e.ctx, `SELECT 1 FROM outbound_message WHERE id = $1 FOR UPDATE`, id); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	provider := e.sim.Phone(healthPhone)
	want := text(t, templates.ES, templates.KeyProviderWithdrawn, "ref", "AMP-7K3Q", "code", "4821")

	t.Run("never tried: cancelled, nothing sent", func(t *testing.T) {
		n := notice()
		id := notify(n)
		withdraw(n)
		if st, _, _ := e.status(id); st != "canceled" {
			t.Fatalf("untried notice is %s, want canceled", st)
		}
		if _, _, found := withdrawal(n); found {
			t.Fatal("a withdrawal was queued for a request the provider never had")
		}
		if err := e.sender.Send(e.ctx, id, false); err != nil {
			t.Fatal(err)
		}
		provider.ExpectNothing()
	})

	t.Run("handed over: withdrawn at once", func(t *testing.T) {
		n := notice()
		id := notify(n)
		if err := e.sender.Send(e.ctx, id, false); err != nil {
			t.Fatal(err)
		}
		provider.ExpectSMS("AMP-7K3Q", "OK 4821")
		withdraw(n)
		wid, notBefore, found := withdrawal(n)
		if !found || !notBefore.Equal(e.clk.Now()) {
			t.Fatalf("withdrawal queued %v, not before %v; want now", found, notBefore)
		}
		if err := e.sender.Send(e.ctx, wid, false); err != nil {
			t.Fatal(err)
		}
		provider.Expect(want)
	})

	t.Run("tried and failed for now: may have arrived", func(t *testing.T) {
		n := notice()
		id := notify(n)
		if _, err := e.pool.Exec(e.ctx, `UPDATE outbound_message SET attempts = 1 WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		withdraw(n)
		if st, _, _ := e.status(id); st != "canceled" {
			t.Fatalf("retried notice is %s, want canceled", st)
		}
		if _, _, found := withdrawal(n); !found {
			t.Fatal("no withdrawal for a notice that may have arrived")
		}
	})

	t.Run("being sent: the withdrawal waits for it", func(t *testing.T) {
		n := notice()
		id := notify(n)
		sender := lockAsSender(id)
		defer sender.Rollback(e.ctx)
		withdraw(n) // must not wait for the sender's lock
		_, notBefore, found := withdrawal(n)
		if !found || !notBefore.Equal(e.clk.Now().Add(sms.SendTimeout)) {
			t.Fatalf("withdrawal queued %v, not before %v; want %v", found, notBefore, e.clk.Now().Add(sms.SendTimeout))
		}
		if err := sender.Rollback(e.ctx); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := e.status(id); st != "pending" {
			t.Fatalf("the notice being sent is %s, want it left to its sender", st)
		}
	})

	t.Run("being sent when erased, then retried: not sent again", func(t *testing.T) {
		n := notice()
		id := notify(n)
		var caseID uuid.UUID
		if err := e.pool.QueryRow(e.ctx, `SELECT case_id FROM referral WHERE id = $1`, n.ReferralID).Scan(&caseID); err != nil {
			t.Fatal(err)
		}
		sender := lockAsSender(id)
		defer sender.Rollback(e.ctx)
		if err := e.cases.EraseCase(e.ctx, e.pool, caseID, "u-1"); err != nil {
			t.Fatal(err)
		}
		if err := sender.Rollback(e.ctx); err != nil { // the send failed for now
			t.Fatal(err)
		}
		if err := e.sender.Send(e.ctx, id, false); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := e.status(id); st != "canceled" {
			t.Fatalf("the retried notice of a withdrawn request is %s, want canceled", st)
		}
		provider.ExpectNothing()
	})
}
