package templates_test

import (
	"testing"
	"time"

	"github.com/amparo/amparo/hotline/triage"
	"github.com/amparo/amparo/templates"
)

// intakeBudget is what a complete SMS intake may cost her in billed
// segments. Twilio bills a GSM-7 segment per 160 characters (153 when
// concatenated) and a UCS-2 one per 70 (67): a single á turns a reply into
// UCS-2, which is why the catalogues write "Linea", "peligro", "psicologico".
const intakeBudget = 12

// trujillo is the pilot's place: the demo directory's communities.
var trujillo = triage.Place{Communities: []triage.Community{
	{Key: "el-porvenir", Name: "El Porvenir"}, {Key: "la-esperanza", Name: "La Esperanza"}, {Key: "florencia-de-mora", Name: "Florencia de Mora"},
}, Zone: time.FixedZone("PET", -5*60*60)}

// A complete intake, the longest there is: not in danger, all five needs
// (so the clinical question and its notice), consent to all, texts and
// calls (so the hours question), a code word, the summary.
func TestFullIntakeFitsTheSegmentBudget(t *testing.T) {
	now := time.Date(2026, time.March, 10, 15, 0, 0, 0, time.UTC)
	intakes := map[string][]string{
		templates.ES: {"Hola", "2", "1", "1 2 3 4 5", "1", "1", "TODOS", "2", "1", "girasol"},
		templates.EN: {"Hello", "2", "1", "1 2 3 4 5", "1", "1", "ALL", "2", "1", "sunflower"},
	}
	for lang, messages := range intakes {
		st := triage.New(now, templates.ES)
		total, replies, opened := 0, 0, false
		for _, in := range messages {
			var out triage.Output
			st, out = trujillo.Step(st, in, now)
			for _, e := range out.Effects {
				if _, ok := e.(triage.OpenCase); ok {
					opened = true
					out = out.WithReference("AMP-7K3Q9XW2")
				}
			}
			if out.Lang != lang {
				t.Fatalf("%s intake: %q answered in %s", lang, in, out.Lang)
			}
			for _, m := range out.Replies {
				text, err := m.Render(out.Lang)
				if err != nil {
					t.Fatal(err)
				}
				enc, n := templates.Segments(text)
				t.Logf("%s %-24s %s %d", lang, m.Key, enc, n)
				total += n
				replies++
			}
			now = now.Add(time.Minute)
		}
		if !opened {
			t.Fatalf("%s intake did not open a case", lang)
		}
		t.Logf("%s intake: %d replies, %d segments", lang, replies, total)
		if total > intakeBudget {
			t.Errorf("%s intake costs %d segments, budget %d", lang, total, intakeBudget)
		}
	}
}
