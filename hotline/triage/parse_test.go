package triage

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/templates"
)

func TestKeywordNormalisation(t *testing.T) {
	tests := map[string]keyword{
		"SALIR": kwStop, "  salir  ": kwStop, "Salir!": kwStop, "sálir": kwStop, "SALIR.": kwStop,
		"Stop": kwStop, "STOP\n": kwStop, "Cancelar": kwStop, "quit": kwStop,
		"AYUDA": kwHelp, "¡Ayuda!": kwHelp, "help": kwHelp, "HELP?": kwHelp, "Auxilio": kwNone,
		"BORRAR": kwErase, "bórrar": kwErase, "Delete": kwErase, "ERASE": kwErase,
		"BORRAR SI": kwEraseYes, "borrar sí": kwEraseYes, "Borrar,  SÍ!": kwEraseYes, "erase yes": kwEraseYes,
		"INICIO": kwRestart, "inicio": kwRestart, "Restart": kwRestart,
		"ENGLISH": kwEnglish, "INGLÉS": kwEnglish, "ingles": kwEnglish, "Inglés.": kwEnglish, "en inglés": kwEnglish,
		"ESPAÑOL": kwSpanish, "español": kwSpanish, "Espanol": kwSpanish, "SPANISH": kwSpanish,
		"EN": kwEnglish, "es": kwSpanish, "ES.": kwSpanish,
		"Borra todo": kwErase, "borrar mis mensajes": kwErase, "delete everything": kwErase,
		"No me escriban más": kwStop, "stop texting me": kwStop, "Don't text me": kwStop,
		// Only a whole message is a command.
		"no quiero salir": kwNone, "salir ahora": kwNone, "ayudame": kwNone, "stopp": kwNone,
		"borrar no": kwNone, "": kwNone, "1": kwNone,
	}
	for in, want := range tests {
		if got := parseKeyword(normalize(in)); got != want {
			t.Errorf("keyword(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := map[string]string{
		"  ¿Sí, POR favor?  ": "si por favor",
		"Mangó":               "mango",
		"Ñandú\t\nÇa":         "nandu ca",
		"9-13":                "9 13",
		"10h":                 "10h",
		"\xff\xfeSALIR":       "salir",
		"":                    "",
	}
	for in, want := range tests {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := fields("10h 9am x2y"); !reflect.DeepEqual(got, []string{"10", "h", "9", "am", "x", "2", "y"}) {
		t.Errorf("fields = %q", got)
	}
}

func TestYesNo(t *testing.T) {
	for _, in := range []string{"1", "sí", "si", "SI", "s", "S", "yes", "Y", "ok", "Sí, por favor", "1 sí",
		"Ya", "ya pues", "Dale", "bueno", "de acuerdo", "Claro que sí", "okay", "yeah"} {
		if got := parseYesNo(normalize(in)); got != yes {
			t.Errorf("%q = %d, want yes", in, got)
		}
	}
	for _, in := range []string{"2", "no", "NO", "n", "No, gracias", "2 no", "no quiero", "Todavía no", "ahora no", "not now"} {
		if got := parseYesNo(normalize(in)); got != no {
			t.Errorf("%q = %d, want no", in, got)
		}
	}
	for _, in := range []string{"no sé", "si pero", "3", "12", "tal vez", "", "ya no", "ya no quiero", "bueno no sé", "no sé si quiero"} {
		if got := parseYesNo(normalize(in)); got != unclear {
			t.Errorf("%q = %d, want unclear", in, got)
		}
	}
}

func TestParseNeedList(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: asked again
	}{
		{"1", []string{"health"}},
		{"1 3 4", []string{"health", "shelter", "legal"}},
		{"1,3", []string{"health", "shelter"}},
		{"1, 3 y 4", []string{"health", "shelter", "legal"}},
		{"13", []string{"health", "shelter"}},
		{"3 1 3", []string{"health", "shelter"}},
		{"12345", []string{"health", "police", "shelter", "legal", "psychosocial"}},
		{"salud y policía", []string{"health", "police"}},
		{"Salud, POLICIA", []string{"health", "police"}},
		{"necesito un abogado y apoyo psicológico", []string{"legal", "psychosocial"}},
		{"shelter and a lawyer", []string{"shelter", "legal"}},
		{"2 y refugio", []string{"police", "shelter"}},
		{"un lugar donde quedarme y la pastilla", []string{"health", "shelter"}},
		{"quiero denunciarlo", []string{"police"}},
		{"pensión para mis hijos", []string{"legal"}},
		{"terapia", []string{"psychosocial"}},
		{"6", nil},
		{"1 6", nil},
		{"0", nil},
		{"123456", nil},
		{"salud pero no policía", nil},
		{"ninguno", nil},
		{"no sé", nil},
		{"hola", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got, ok := parseNeedList(normalize(tt.in))
		if ok != (tt.want != nil) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseNeedList(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestParseReferrals(t *testing.T) {
	needs := []string{"health", "police", "psychosocial"}
	all := map[string]bool{"health": true, "police": true, "psychosocial": true}
	none := map[string]bool{"health": false, "police": false, "psychosocial": false}
	tests := []struct {
		in   string
		want map[string]bool
	}{
		{"TODOS", all},
		{"all", all},
		{"sí", all},
		{"ninguno", none},
		{"No", none},
		// Numbered from 1 as listed: her third need is psychosocial support.
		{"1 3", map[string]bool{"health": true, "police": false, "psychosocial": true}},
		{"policía", map[string]bool{"health": false, "police": true, "psychosocial": false}},
		{"apoyo", map[string]bool{"health": false, "police": false, "psychosocial": true}},
		{"4", nil},
		{"1 5", nil},
		{"refugio", nil}, // shelter was not one of her needs
		{"quizás", nil},
		// Her own short sentences.
		{"si a todo", all},
		{"Sí, a todos por favor", all},
		{"yes to all of them", all},
		{"a ninguno", none},
		{"si a ninguno", nil},
		{"no a todo", nil},
	}
	for _, tt := range tests {
		got, ok := parseReferrals(normalize(tt.in), needs)
		if ok != (tt.want != nil) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseReferrals(%q) = %v, %v; want %v", tt.in, got, ok, tt.want)
		}
	}
}

func TestParseCommunityContactHours(t *testing.T) {
	for in, want := range map[string]string{
		"1": "el-porvenir", "El Porvenir": "el-porvenir", "la esperanza": "la-esperanza",
		"3": "florencia-de-mora", "Florencia de Mora": "florencia-de-mora", "4": "other", "otra": "other",
		"5": "", "porvenir o esperanza": "", "trujillo": "",
	} {
		got, ok := trujillo.parseCommunity(normalize(in))
		if got != want || ok != (want != "") {
			t.Errorf("trujillo.parseCommunity(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for in, want := range map[string][2]bool{"1": {true, false}, "2": {true, true}, "3": {false, true}, "4": {false, false}} {
		text, call, ok := parseContact(in)
		if !ok || [2]bool{text, call} != want {
			t.Errorf("parseContact(%q) = %v %v %v", in, text, call, ok)
		}
	}
	// Her own words; anything that negates a way of contact is asked again
	// unless it refuses contact altogether.
	for in, want := range map[string][2]bool{
		"solo mensajes": {true, false}, "Mensajes y llamadas": {true, true}, "solo llamadas": {false, true},
		"llámame": {false, true}, "texts only": {true, false}, "No contactarme": {false, false},
		"do not contact me": {false, false},
	} {
		text, call, ok := parseContact(normalize(in))
		if !ok || [2]bool{text, call} != want {
			t.Errorf("parseContact(%q) = %v %v %v, want %v", in, text, call, ok, want)
		}
	}
	for _, in := range []string{"5", "mensajes pero no llamadas", "no me llamen", "nunca llamar", "don't call", "dont call me", "cuando quieras"} {
		if _, _, ok := parseContact(normalize(in)); ok {
			t.Errorf("parseContact(%q) accepted", in)
		}
	}
	tests := []struct {
		in       string
		from, to int
		ok       bool
	}{
		{"1", 8, 12, true}, {"4", 8, 21, true}, {"9-13", 9, 13, true}, {"de 9 a 13", 9, 13, true},
		{"9am-1pm", 9, 13, true}, {"de 8 a 5 pm", 8, 17, true}, {"20-6", 20, 6, true}, {"0-24", 0, 24, true},
		{"9", 0, 0, false}, {"9-9", 0, 0, false}, {"9-25", 0, 0, false}, {"24-5", 0, 0, false},
		{"9 10 11", 0, 0, false}, {"5", 0, 0, false},
		// The options' own words, as she would write them.
		{"en las mañanas", 8, 12, true}, {"Mañana", 8, 12, true}, {"de mañana", 8, 12, true},
		{"tarde", 12, 18, true}, {"por las tardes", 12, 18, true}, {"solo de noche", 18, 21, true},
		{"in the morning", 8, 12, true}, {"evenings", 18, 21, true},
		{"mañana o tarde", 8, 18, true}, {"en la tarde y en la noche", 12, 21, true},
		{"mañana, tarde o noche", 8, 21, true}, {"a cualquier hora", 8, 21, true},
		{"todo el día", 8, 21, true}, {"any time", 8, 21, true},
		{"en la mañana de 9 a 11", 9, 11, true},
		// Asked again, never guessed: tomorrow, later, a gap, a negation.
		{"mañana en la tarde", 12, 18, true}, {"mañana", 8, 12, true}, {"manana 9", 0, 0, false},
		{"más tarde", 0, 0, false}, {"later", 0, 0, false}, {"mañana o noche", 0, 0, false},
		{"no en la noche", 0, 0, false}, {"not at night", 0, 0, false},
		{"cualquier hora menos la noche", 0, 0, false}, {"cuando pueda", 0, 0, false},
	}
	for _, tt := range tests {
		from, to, ok := parseHours(normalize(tt.in))
		if from != tt.from || to != tt.to || ok != tt.ok {
			t.Errorf("parseHours(%q) = %d %d %v, want %d %d %v", tt.in, from, to, ok, tt.from, tt.to, tt.ok)
		}
	}
}

func TestParseCodeWord(t *testing.T) {
	for in, want := range map[string]string{
		"Mangó": "mango", "TIGRE": "tigre", "tiger7": "tiger7", "1234": "1234", "  Pera!  ": "pera",
		"ab": "", "a.b": "", "--x": "", "mi gato": "", "nuevo": "", "NEW": "", "salir": "", strings.Repeat("a", 21): "",
		// Greetings are answered, not spent as code-word tries.
		"Hola": "", "hello": "", "gracias": "", "Buenas": "",
		// Words that raise the alarm could never be checked as a code word.
		"machete": "", "cuchillo": "", "SOS": "", "auxiliooo": "", "knife": "",
		strings.Repeat("a", 20): strings.Repeat("a", 20),
	} {
		got, ok := parseCodeWord(normalize(in))
		if got != want || ok != (want != "") {
			t.Errorf("parseCodeWord(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestParseWhen(t *testing.T) {
	// 23:30 in Trujillo on 9 March: "today" began 23.5 h ago.
	now := time.Date(2026, time.March, 10, 4, 30, 0, 0, time.UTC)
	midnight := time.Date(2026, time.March, 9, 5, 0, 0, 0, time.UTC) // 00:00 Lima, 9 March
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Time // zero: asked again
		none bool      // she prefers not to say
	}{
		{"1", midnight, false},
		{"2", midnight.Add(-day), false},
		{"3", midnight.Add(-2 * day), false},
		{"4", midnight.Add(-4 * day), false},
		{"5", midnight.Add(-5 * day), false},
		{"6", time.Time{}, true},
		{"hoy", midnight, false},
		{"Ayer", midnight.Add(-day), false},
		{"anoche", midnight.Add(-6 * time.Hour), false},
		{"anteayer", midnight.Add(-2 * day), false},
		{"yesterday", midnight.Add(-day), false},
		{"last night", midnight.Add(-6 * time.Hour), false},
		{"hace 10 horas", now.Add(-10 * time.Hour), false},
		{"10h", now.Add(-10 * time.Hour), false},
		{"hace una hora", now.Add(-time.Hour), false},
		{"an hour ago", now.Add(-time.Hour), false},
		{"hace 30 minutos", now.Add(-30 * time.Minute), false},
		{"3 hours ago", now.Add(-3 * time.Hour), false},
		{"hace 2 días", midnight.Add(-2 * day), false},
		{"hace dos dias", midnight.Add(-2 * day), false},
		{"2 days ago", midnight.Add(-2 * day), false},
		{"hace 1 semana", midnight.Add(-7 * day), false},
		{"7", time.Time{}, false},
		{"10", time.Time{}, false},
		{"hace 2 días y 3 horas", time.Time{}, false},
		{"horas", time.Time{}, false},
		{"hace mucho", time.Time{}, false},
		{"hace 400 dias", time.Time{}, false},
		{"hace 99999999999999999999 horas", time.Time{}, false},
		// A day inside her own sentence, at its earliest moment.
		{"ayer en la noche", midnight.Add(-day), false},
		{"fue anoche", midnight.Add(-6 * time.Hour), false},
		{"yesterday evening", midnight.Add(-day), false},
		{"fue antier por la tarde", midnight.Add(-2 * day), false},
		{"no fue ayer", time.Time{}, false},
		{"ayer o anteayer", time.Time{}, false},
		// 9 March 2026 is a Monday: a weekday is the last one before today.
		{"el sábado", midnight.Add(-2 * day), false},
		{"fue el domingo en la noche", midnight.Add(-day), false},
		{"el lunes", midnight.Add(-7 * day), false},
		{"on friday", midnight.Add(-3 * day), false},
		{"la semana pasada", midnight.Add(-7 * day), false},
		{"last week", midnight.Add(-7 * day), false},
		{"esta mañana", midnight, false},
		{"hace un rato", midnight, false},
		{"el sábado o el domingo", time.Time{}, false},
		{"ayer sábado", time.Time{}, false}, // yesterday was Sunday: she contradicts herself
		{"ayer domingo", midnight.Add(-day), false},
		{"Prefiero no decir", time.Time{}, true},
		{"I'd rather not say", time.Time{}, true},
		{"no me acuerdo", time.Time{}, false}, // asked again, with the options
		{"no sé, ayer", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseWhen(normalize(tt.in), now, trujillo.Zone)
		switch {
		case tt.none:
			if !ok || got != nil {
				t.Errorf("parseWhen(%q) = %v, %v; want nil, true", tt.in, got, ok)
			}
		case tt.want.IsZero():
			if ok {
				t.Errorf("parseWhen(%q) = %v, accepted", tt.in, got)
			}
		case !ok || got == nil || !got.Equal(tt.want) || got.Location() != time.UTC:
			t.Errorf("parseWhen(%q) = %v, %v; want %v UTC", tt.in, got, ok, tt.want)
		}
	}
}

// The clinical windows, to the minute, through the whole path: her answer,
// the incident time, the deadlines, the notice she gets and the case.
func TestClinicalWindowsToTheMinute(t *testing.T) {
	tests := []struct {
		ago     string
		notice  string // key of the first reply, "" when no window is open
		pepOpen bool
		ecOpen  bool
	}{
		{"hace 4319 minutos", templates.KeyHealthPEP, true, true}, // 71 h 59 min
		{"hace 4320 minutos", templates.KeyHealthPEP, true, true}, // 72 h exactly: still within
		{"hace 4321 minutos", templates.KeyHealthEC, false, true},
		{"hace 71 horas", templates.KeyHealthPEP, true, true},
		{"hace 72 horas", templates.KeyHealthPEP, true, true},
		{"hace 7199 minutos", templates.KeyHealthEC, false, true}, // 119 h 59 min
		{"hace 7200 minutos", templates.KeyHealthEC, false, true}, // 120 h exactly: still within
		{"hace 7201 minutos", "", false, false},
		{"hace 119 horas", templates.KeyHealthEC, false, true},
		{"hace 120 horas", templates.KeyHealthEC, false, true},
	}
	whenStep := reachable(t)["when"]
	for _, tt := range tests {
		t.Run(tt.ago, func(t *testing.T) {
			st, out := trujillo.Step(whenStep, tt.ago, t0)
			if st.IncidentAt == nil {
				t.Fatalf("no incident time from %q", tt.ago)
			}
			d := casefile.ClinicalDeadlines(*st.IncidentAt)
			if d.PEPOpen(t0) != tt.pepOpen || d.ECOpen(t0) != tt.ecOpen {
				t.Errorf("PEP open %v EC open %v, want %v %v", d.PEPOpen(t0), d.ECOpen(t0), tt.pepOpen, tt.ecOpen)
			}
			first := out.Replies[0].Key
			if tt.notice == "" && first != templates.KeyCommunity || tt.notice != "" && first != tt.notice {
				t.Errorf("first reply %s, want %q", first, tt.notice)
			}
		})
	}
}

// Band answers start at midnight Peru time, so the minute around midnight
// decides which day "today" is.
func TestWhenBandsAroundMidnight(t *testing.T) {
	before := time.Date(2026, time.March, 10, 4, 59, 0, 0, time.UTC) // 23:59 Lima, 9 March
	after := before.Add(time.Minute)                                 // 00:00 Lima, 10 March
	got, _ := parseWhen("1", before, trujillo.Zone)
	if want := time.Date(2026, time.March, 9, 5, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("today at 23:59 = %v, want %v", got, want)
	}
	got, _ = parseWhen("1", after, trujillo.Zone)
	if want := time.Date(2026, time.March, 10, 5, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("today at 00:00 = %v, want %v", got, want)
	}
	// "Anteayer" at 23:59: PEP runs to the end of today, midnight included.
	got, _ = parseWhen("3", before, trujillo.Zone)
	if d := casefile.ClinicalDeadlines(*got); !d.PEPOpen(after) || d.PEPOpen(after.Add(time.Minute)) {
		t.Errorf("anteayer: PEP deadline %v", d.PEP)
	}
}
