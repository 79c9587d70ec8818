package hotline

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/sms"
	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

// restartWith rewires the hotline as a restarted process with the keyring
// raw would be: every collaborator that holds keys gets the new ones.
func (e *env) restartWith(raw []byte) *crypto.Keyring {
	e.t.Helper()
	kr, err := crypto.ParseKeyring(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	e.kr, e.rawKeyring = kr, raw
	outbox := sms.NewOutbox(kr, kr.BlindIndex(), e.river, e.clk)
	e.cases = casefile.New(e.pool, kr, kr.BlindIndex(), e.clk, casefile.WithEraseHook(referral.EraseHook(outbox, e.river)),
		casefile.WithEraseHook(EraseHook(e.river, e.clk)),
		casefile.WithKeyHolders(NewKeyTables(kr, kr.BlindIndex()), sms.NewKeyTables(kr, kr.BlindIndex())))
	e.out = sms.NewNotifier(outbox, e.cases)
	e.refs = referral.New(e.pool, e.cases, e.river, e.out, e.clk)
	sender, err := sms.NewSender(e.smsConfig, sms.SenderDeps{Pool: e.pool, Keys: kr, Notifier: e.out, Referrals: e.refs, Clock: e.clk})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sender = sender
	e.h.keys, e.h.index, e.h.cases, e.h.referrals, e.h.out, e.h.sender = kr, kr.BlindIndex(), e.cases, e.refs, outbox, sender
	return kr
}

// rewrap queues `amparo keys rewrap` and works it to completion.
func (e *env) rewrap() {
	e.t.Helper()
	workers := river.NewWorkers()
	casefile.AddWorkers(workers, e.cases)
	client, err := river.NewClient(riverpgxv5.New(e.pool), &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers: workers, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond, TestOnly: true,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	if err := client.Start(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	defer client.Stop(e.ctx)
	if err := e.cases.EnqueueRewrap(e.ctx, client, "u-admin"); err != nil {
		e.t.Fatal(err)
	}
	for {
		select {
		case ev := <-events:
			if ev.Job.Kind != (casefile.RewrapArgs{}).Kind() {
				continue
			}
			if ev.Kind != river.EventKindJobCompleted {
				e.t.Fatalf("re-wrap job: %s (errors %v)", ev.Kind, ev.Job.Errors)
			}
			return
		case <-time.After(30 * time.Second):
			e.t.Fatal("re-wrap job did not complete within 30 s")
		}
	}
}

func (e *env) keyUsage(id string) casefile.KEKUsage {
	e.t.Helper()
	st, err := e.cases.KeyStatus(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range st {
		if u.ID == id {
			return u
		}
	}
	e.t.Fatalf("keys status has no line for %s: %+v", id, st)
	return casefile.KEKUsage{}
}

// withoutOldKEKs is the keyring file after step 6 of SECURITY.md's KEK
// rotation: the current KEK only, every index key kept.
func withoutOldKEKs(t testing.TB, raw []byte) []byte {
	t.Helper()
	var ring map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ring); err != nil {
		t.Fatal(err)
	}
	var keks []json.RawMessage
	if err := json.Unmarshal(ring["keks"], &keks); err != nil {
		t.Fatal(err)
	}
	ring["keks"], _ = json.Marshal(keks[:1])
	out, err := json.Marshal(ring)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The rotation procedure of SECURITY.md reaches every row that depends on
// a key: after rotate, rewrap and retire, her open conversation goes on and
// a text queued before the rotation is still sent. keys status calls the
// old KEK retirable only once no row at all needs it, and the old index key
// not while opt-outs, blocks and message rows are still indexed under it.
func TestKeyRotationReachesEveryKeyedRow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.restartWith(e.rawKeyring) // the key tables join status and rewrap, as in cmd/amparo
	oldKEK, oldIdx := e.kr.CurrentKEKID(), e.kr.BlindIndex().CurrentKeyID()

	// A row in every table that holds a wrapped key or a phone index.
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, templates.ES, templates.KeyWelcome))
	e.sim.Phone("+51987000111").Send("SALIR")
	caller := "+51987000333"
	form := url.Values{"CallSid": {carrier.NewSID("CA")}, "From": {caller}, "To": {hotlineNumber}, "AccountSid": {testAccount}}
	if dialed := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form, "Digits", "1"), testToken)); !strings.Contains(dialed, "<Dial") {
		t.Fatalf("danger call: %s", dialed)
	}
	if _, err := e.h.BlockCaller(e.ctx, Block{Phone: "+51987000222", Reason: "prank", Until: tuesday10.Add(time.Hour), SetBy: "u-sup"}); err != nil {
		t.Fatal(err)
	}
	contact, err := e.cases.CreateContact(e.ctx, e.pool, "+51987000444")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.cases.OpenCase(e.ctx, e.pool, contact.ID, casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth},
		Lang: "es", CodeWord: "girasol"})
	if err != nil {
		t.Fatal(err)
	}
	queued := e.queue(sms.Message{Purpose: sms.PurposeStaff, CaseID: &c.ID, To: counsellor, Body: "Amparo: prueba", TTL: sms.StaffAlertTTL})
	for _, col := range e.cases.KeyColumns() {
		if e.count(col.Table, col.Column+" IS NOT NULL") == 0 {
			t.Fatalf("no row of %s.%s: the test would not see whether the rotation reaches it", col.Table, col.Column)
		}
	}

	// Steps 1-4: rotate both keys, restart, rewrap.
	raw, err := crypto.RotateKeyring(e.rawKeyring, tuesday10)
	if err == nil {
		raw, err = crypto.RotateIndexKey(raw, tuesday10)
	}
	if err != nil {
		t.Fatal(err)
	}
	kr := e.restartWith(raw)
	e.rewrap()

	// Step 5.
	if u := e.keyUsage(oldKEK); u.Rows != 0 || !u.Retirable {
		t.Fatalf("old KEK after rewrap: %+v; want no rows, retirable", u)
	}
	for _, col := range e.cases.KeyColumns() {
		if !col.Index {
			if n := e.count(col.Table, col.Column+" IS NOT NULL AND "+col.KeyIDColumn+" <> $1", kr.CurrentKEKID()); n != 0 {
				t.Errorf("%s: %d data key(s) not under the new KEK", col.Table, n)
			}
		}
	}
	if n := e.count("outbound_message", "to_index IS NOT NULL AND index_key_id <> $1", kr.BlindIndex().CurrentKeyID()); n != 0 {
		t.Errorf("%d outbound recipient(s) not re-indexed", n)
	}
	if n := e.count("caller_rate", "index_key_id <> $1", kr.BlindIndex().CurrentKeyID()); n != 0 {
		t.Errorf("%d rate counter(s) under the old index key", n)
	}
	// Opt-outs, blocks, message rows and live conversations keep theirs:
	// there is no number beside them to index again.
	if u := e.keyUsage(oldIdx); u.Retirable || u.Rows < 4 {
		t.Errorf("old index key after rewrap: %+v; rows still use it, so it is not retirable", u)
	}

	// Step 6: retire the old KEK (the old index key stays, as advised).
	e.restartWith(withoutOldKEKs(t, raw))
	st, err := e.cases.KeyStatus(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range st {
		if !u.InKeyring && u.Rows > 0 {
			t.Errorf("after retiring: %+v needs a key the keyring lacks", u)
		}
	}
	survivor.Send("2").Expect(text(t, templates.ES, templates.KeyConsent))
	if n := e.count("conversation", "status = 'active' AND index_key_id = $1", kr.BlindIndex().CurrentKeyID()); n != 1 {
		t.Errorf("her conversation is not under the new index key after her next message (%d)", n)
	}
	if err := e.sender.Send(e.ctx, queued, false); err != nil {
		t.Fatal(err)
	}
	e.sim.Phone(counsellor).Expect("Amparo: prueba")
}

// A text whose data key cannot be unwrapped (its KEK was retired before the
// re-wrap reached it) fails at once and raises the alarm, instead of being
// retried unseen until it expires.
func TestUnopenableTextFailsAndRaisesTheAlarm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.testCase("+51987000444")
	id := e.queue(sms.Message{Purpose: sms.PurposeStaff, CaseID: &c.ID, To: counsellor, Body: "Amparo: prueba", TTL: sms.StaffAlertTTL})

	// Retired too early: a keyring with none of the KEKs that wrapped them.
	other, err := crypto.GenerateKeyring(tuesday10)
	if err != nil {
		t.Fatal(err)
	}
	lost, err := crypto.ParseKeyring(other)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := sms.NewSender(e.smsConfig, sms.SenderDeps{Pool: e.pool, Keys: lost, Notifier: e.out, Referrals: e.refs, Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Send(e.ctx, id, false); err != nil {
		t.Fatalf("send of an unopenable text returned %v; want a permanent failure, not a retry", err)
	}
	if st, _, _ := e.status(id); st != "failed" {
		t.Fatalf("unopenable text is %s, want failed", st)
	}
	if n := e.followUps(c.ID, "delivery_failed"); n != 1 {
		t.Fatalf("%d delivery_failed task(s), want 1", n)
	}
	if e.sim.Calls(counsellor) != 0 {
		t.Fatal("something was sent")
	}

}
