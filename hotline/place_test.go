package hotline

import (
	"testing"
	"time"

	"github.com/amparo/amparo/templates"
)

// madridDirectory is a directory for another city, in another time zone:
// nothing of Trujillo in it, and nothing in code to change for it.
const madridDirectory = `{
  "timezone": "Europe/Madrid",
  "communities": [{"key": "puente-de-vallecas", "name": "Puente de Vallecas"}, {"key": "usera", "name": "Usera"},
                  {"key": "villaverde", "name": "Villaverde"}],
  "organizations": [{
    "key": "sermas", "name": "Servicio Madrileno de Salud",
    "services": [
      {"key": "cs-usera", "name": "Centro de Salud Usera", "address": "Calle Ejemplo 1", "kind": "health_post", "needs": ["health"],
       "communities": ["Usera"], "hours": "always", "capacity": 5, "duty_phone": "+34910000001",
       "ack_minutes": {"urgent": 15, "routine": 120}, "priority": 10},
      {"key": "cs-villaverde", "name": "Centro de Salud Villaverde", "address": "Calle Ejemplo 2", "kind": "health_post", "needs": ["health"],
       "communities": ["Villaverde"], "hours": "always", "capacity": 5, "duty_phone": "+34910000002",
       "ack_minutes": {"urgent": 15, "routine": 120}, "priority": 10}
    ]
  }]
}`

// TestAnotherCityRunsWithNoCodeChange runs an intake in Madrid: the
// question lists Madrid's communities from its directory, "yesterday" and
// the care deadline are read on Madrid's clock (AMPARO_TIME_ZONE), and the
// referral goes to the health centre of the community she named.
func TestAnotherCityRunsWithNoCodeChange(t *testing.T) {
	t.Parallel()
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, true, func(s *envSetup) { s.Zone, s.directory = madrid, madridDirectory })
	// 01:00 on Wednesday 11 March in Madrid; still Tuesday 19:00 in Lima.
	e.clk.Advance(time.Date(2026, 3, 11, 1, 0, 0, 0, madrid).Sub(e.clk.Now()))
	const es = templates.ES
	survivor := e.sim.Phone("+34600000001")
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("no").Expect(text(t, es, templates.KeyConsent))
	survivor.Send("sí").Expect(text(t, es, templates.KeyNeeds))
	survivor.Send("1").Expect(text(t, es, templates.KeyWhen))
	// Yesterday began at 00:00 on the 10th in Madrid: PEP until 00:00 on
	// the 13th there (on Lima's clock it would be the 12th).
	survivor.Send("2").Expect(text(t, es, templates.KeyHealthPEP, "deadline", "13/03 00:00"))
	survivor.Expect(text(t, es, templates.KeyCommunity, "options", "1 Puente de Vallecas 2 Usera 3 Villaverde 4 Otra"))
	survivor.Send("el porvenir").Expect(text(t, es, templates.KeyCommunityRetry, "options", "1 Puente de Vallecas, 2 Usera, 3 Villaverde o 4 Otra"))
	survivor.Send("usera").ExpectSMS("1 Salud")
	survivor.Send("TODOS").Expect(text(t, es, templates.KeyContact))
	survivor.Send("4").Expect(text(t, es, templates.KeyCodeWord))
	summary := survivor.Send("girasol").ExpectSMS("AMP-")
	ref := refPattern.FindString(summary.Body)
	if n := e.count("case_file", "reference = $1 AND community = 'usera'", ref); n != 1 {
		t.Fatalf("case %s not stored in usera", ref)
	}
	// Usera's centre is told; Villaverde's hears nothing (AssertQuiet).
	e.sim.Phone("+34910000001").ExpectSMS(ref)
	e.sim.Settle()
	e.sim.AssertQuiet()
}
