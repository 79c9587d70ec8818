package hotline

import (
	"testing"

	"github.com/amparo/amparo/templates"
)

// BORRAR erases what she told us, not the hotline's defence against a
// flood: a caller over the rate limit stays over it after erasing, or
// erasing would reset the limit at will.
func TestBorrarKeepsRateLimitWindow(t *testing.T) {
	e := newEnv(t, false, func(c *envSetup) { c.RateLimit = 3 })
	pest := e.sim.Phone("+51987000333")
	pest.Send("hola").Expect(text(t, templates.ES, templates.KeyWelcome))
	pest.Send("BORRAR SI").ExpectSMS()
	pest.Send("hola").ExpectSMS()
	pest.Send("hola")
	pest.ExpectNothing()
	if n := e.count("inbound_message", "outcome = 'rate_limited'"); n != 1 {
		t.Fatalf("%d messages rate limited after BORRAR, want 1", n)
	}
}
