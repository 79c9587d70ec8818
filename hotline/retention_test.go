package hotline

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/sms"
	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

// Message texts are shredded once they have served: a week on, her texts,
// our replies and what we sent staff can no longer be read with any key,
// while the rows stay for the statistics and a late retry of her webhook
// still changes nothing.
func TestOldMessageTextsAreShredded(t *testing.T) {
	t.Parallel()
	if messageRetention <= sms.WithdrawalTTL || messageRetention <= sms.SurvivorTTL {
		t.Fatalf("retention %s would shred texts still waiting to be sent", messageRetention)
	}
	e := newEnv(t, false)
	survivor := e.sim.Phone(survivorPhone)
	sid := carrier.NewSID("SM")
	if replies, err := survivor.Deliver(sid, "Hola"); err != nil || len(replies) != 1 {
		t.Fatalf("first text: %v, %v", replies, err)
	}
	survivor.Expect(text(t, templates.ES, templates.KeyWelcome))
	alert := e.queue(sms.Message{Purpose: sms.PurposeStaff, To: counsellor, Body: "Amparo: prueba", TTL: sms.StaffAlertTTL})
	if err := e.sender.Send(e.ctx, alert, false); err != nil {
		t.Fatal(err)
	}
	e.sim.Phone(counsellor).Expect("Amparo: prueba")
	e.sim.Settle() // its delivery status is in
	sealed := func() (inbound, outbound int) {
		t.Helper()
		return e.count("inbound_message", "wrapped_dek IS NOT NULL OR body_sealed IS NOT NULL OR reply_sealed IS NOT NULL OR phone_index IS NOT NULL"),
			e.count("outbound_message", "wrapped_dek IS NOT NULL OR to_sealed IS NOT NULL OR body_sealed IS NOT NULL OR to_index IS NOT NULL")
	}

	e.clk.Advance(messageRetention - time.Minute)
	if n, err := e.h.ShredOldMessages(e.ctx); err != nil || n != 1 || e.count("caller_rate", "") != 0 {
		t.Fatalf("swept %d (%v) before the retention ran out; want only her rate counter, whose window has passed", n, err)
	}
	survivor.Send("Hola").Expect(text(t, templates.ES, templates.KeyWelcome)) // a newer text
	e.clk.Advance(2 * time.Minute)
	if n, err := e.h.ShredOldMessages(e.ctx); err != nil || n != 2 {
		t.Fatalf("shredded %d (%v), want the first text and the alert", n, err)
	}
	if in, out := sealed(); in != 1 || out != 0 {
		t.Fatalf("after the sweep %d inbound and %d outbound rows still hold texts; want only the newer inbound one", in, out)
	}
	if st, _, _ := e.status(alert); st != "delivered" || e.count("inbound_message", "") != 2 {
		t.Fatalf("the rows themselves must stay: alert %s, %d inbound", st, e.count("inbound_message", ""))
	}
	// Twilio's sids go too, each with the job that has Twilio forget it.
	var alertSID string
	for _, m := range e.sim.Thread(counsellor) {
		alertSID = m.SID
	}
	if n := e.count("inbound_message", "message_sid IS NOT NULL"); n != 1 {
		t.Errorf("%d inbound rows keep their sid, want only the newer one", n)
	}
	if n := e.count("outbound_message", "twilio_sid IS NOT NULL"); n != 0 {
		t.Errorf("%d outbound rows keep their sid", n)
	}
	e.assertPurgesQueued(sid, alertSID)
	e.assertNotStored("Amparo: prueba")
}

// assertPurgesQueued fails unless exactly the twilio_purge jobs for sids
// are queued, each carrying its sid and nothing else.
func (e *env) assertPurgesQueued(sids ...string) []sms.PurgeArgs {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT args::text FROM river_job WHERE kind = $1 ORDER BY id`, sms.PurgeArgs{}.Kind())
	if err != nil {
		e.t.Fatal(err)
	}
	raw, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		e.t.Fatal(err)
	}
	var got []sms.PurgeArgs
	queued := map[string]bool{}
	for _, r := range raw {
		var a sms.PurgeArgs
		dec := json.NewDecoder(strings.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			e.t.Fatalf("purge job args %s: %v", r, err)
		}
		got = append(got, a)
		queued[a.MessageSID+a.CallSID] = true
	}
	for _, s := range sids {
		if !queued[s] {
			e.t.Errorf("no purge job for %s; queued %v", s, raw)
		}
	}
	if len(raw) != len(sids) {
		e.t.Errorf("%d purge jobs queued, want %d: %v", len(raw), len(sids), raw)
	}
	return got
}
