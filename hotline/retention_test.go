package hotline

import (
	"testing"
	"time"

	"github.com/amparo/amparo/hotline/carrier"
	"github.com/amparo/amparo/templates"
)

// Message texts are shredded once they have served: a week on, her texts,
// our replies and what we sent staff can no longer be read with any key,
// while the rows stay for the statistics and a late retry of her webhook
// still changes nothing.
func TestOldMessageTextsAreShredded(t *testing.T) {
	if messageRetention <= withdrawalTTL || messageRetention <= survivorTTL {
		t.Fatalf("retention %s would shred texts still waiting to be sent", messageRetention)
	}
	e := newEnv(t, false)
	survivor := e.sim.Phone(survivorPhone)
	sid := carrier.NewSID("SM")
	if replies, err := survivor.Deliver(sid, "Hola"); err != nil || len(replies) != 1 {
		t.Fatalf("first text: %v, %v", replies, err)
	}
	survivor.Expect(text(t, templates.ES, templates.KeyWelcome))
	alert := e.queue(outbound{purpose: purposeStaff, to: counsellor, body: "Amparo: prueba", ttl: staffAlertTTL})
	if err := e.h.sendOutbound(e.ctx, alert, false); err != nil {
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
	if n, err := e.h.ShredOldMessages(e.ctx); err != nil || n != 0 {
		t.Fatalf("shredded %d (%v) before the retention ran out", n, err)
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
	// Twilio retrying the first webhook now: answered, nothing happens again.
	if replies, err := survivor.Deliver(sid, "Hola"); err != nil || len(replies) != 0 {
		t.Fatalf("late retry: %v, %v; want an empty answer", replies, err)
	}
	if e.count("inbound_message", "") != 2 {
		t.Fatal("a late retry was stored as a new message")
	}
	e.assertNotStored("Amparo: prueba")
}
