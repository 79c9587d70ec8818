package hotline

import (
	"testing"
	"time"
)

// The sweep narrows its scan by started_at, which is not what idleness is:
// a conversation that began longer than IdleAfter ago but is still being
// answered must stay, and expire only once she has been silent that long.
func TestExpireGoesByLastActivityNotStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	idle := e.h.cfg.IdleAfter
	gone := e.sim.Phone("+51987000222")
	gone.Send("Hola").ExpectSMS()
	long := e.sim.Phone(survivorPhone)
	long.Send("Hola").ExpectSMS()
	e.clk.Advance(idle - time.Minute)
	long.Send("2").ExpectSMS()
	e.clk.Advance(2 * time.Minute)

	if n, err := e.h.ExpireIdle(e.ctx); err != nil || n != 1 {
		t.Fatalf("expired %d (%v), want 1: only the silent one", n, err)
	}
	if got := e.count("conversation", "status = 'active'"); got != 1 {
		t.Fatalf("%d active conversations, want 1", got)
	}
	e.clk.Advance(idle)
	if n, err := e.h.ExpireIdle(e.ctx); err != nil || n != 1 {
		t.Fatalf("expired %d (%v), want 1 once she too has been silent for IdleAfter", n, err)
	}
	if got := e.count("conversation", "status = 'active'"); got != 0 {
		t.Fatalf("%d active conversations, want 0", got)
	}
}
