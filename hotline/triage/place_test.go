package triage

import (
	"strings"
	"testing"
	"time"
)

// trujillo is the place these tests run in: the pilot's three communities
// in the demo directory's order, and Lima's time zone.
var trujillo = Place{
	Communities: []Community{{"el-porvenir", "El Porvenir"}, {"la-esperanza", "La Esperanza"}, {"florencia-de-mora", "Florencia de Mora"}},
	Zone:        mustZone("America/Lima"),
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// madrid is another city: other communities, in another order, and a
// zone six or seven hours from Lima's with daylight saving.
var madrid = Place{
	Communities: []Community{{"puente-de-vallecas", "Puente de Vallecas"}, {"usera", "Usera"}, {"villaverde", "Villaverde"}, {"san-blas", "San Blas"}},
	Zone:        mustZone("Europe/Madrid"),
}

func TestAnotherPlaceAsksAndReadsItsOwnCommunities(t *testing.T) {
	for in, want := range map[string]string{
		"1": "puente-de-vallecas", "vallecas": "puente-de-vallecas", "En Usera": "usera", "4": "san-blas",
		"san blas": "san-blas", "5": OtherCommunity, "otra": OtherCommunity,
	} {
		if got, ok := madrid.parseCommunity(normalize(in)); !ok || got != want {
			t.Errorf("parseCommunity(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"6", "porvenir", "usera o villaverde", "de"} {
		if got, ok := madrid.parseCommunity(normalize(in)); ok {
			t.Errorf("parseCommunity(%q) = %q, accepted", in, got)
		}
	}
	// Trujillo's words mean nothing there.
	if got, ok := trujillo.parseCommunity(normalize("usera")); ok {
		t.Errorf("Trujillo read usera as %q", got)
	}
}

func TestAnotherPlaceCountsDaysInItsOwnZone(t *testing.T) {
	// 00:30 on 29 March 2026 in Madrid, still the 28th in Lima; Madrid's
	// clocks go forward at 02:00 that night.
	now := time.Date(2026, 3, 29, 0, 30, 0, 0, madrid.Zone)
	st := New(now, "es")
	for _, in := range []string{"Hola", "2", "1", "1"} {
		st, _ = madrid.Step(st, in, now)
	}
	st, out := madrid.Step(st, "2", now) // yesterday
	if want := time.Date(2026, 3, 28, 0, 0, 0, 0, madrid.Zone); st.IncidentAt == nil || !st.IncidentAt.Equal(want) {
		t.Fatalf("yesterday in Madrid = %v, want %v", st.IncidentAt, want)
	}
	var texts []string
	for _, m := range out.Replies {
		s, err := m.Render(out.Lang)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, s)
	}
	// PEP runs 72 h from the start of yesterday, shown on Madrid's summer
	// clock; then the community question lists Madrid's communities.
	if len(texts) != 2 || !strings.Contains(texts[0], "31/03 01:00") ||
		texts[1] != "¿En qué zona estas? 1 Puente de Vallecas 2 Usera 3 Villaverde 4 San Blas 5 Otra" {
		t.Fatalf("replies %q", texts)
	}
	st, out = madrid.Step(st, "Lima", now)
	if s, _ := out.Replies[0].Render(out.Lang); s != "Responde 1 Puente de Vallecas, 2 Usera, 3 Villaverde, 4 San Blas o 5 Otra." {
		t.Fatalf("re-prompt %q", s)
	}
	st, _ = madrid.Step(st, "usera", now)
	if st.Community != "usera" || st.place != nil {
		t.Fatalf("community %q (place kept: %v)", st.Community, st.place != nil)
	}
}
