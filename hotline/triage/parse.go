package triage

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/amparo/amparo/internal/fold"
)

// maxInput bounds the work done on one message; a real answer is a few
// words, and a concatenated SMS is at most about 1,600 characters.
const maxInput = 2048

// normalize lowers case, folds accents, turns punctuation into spaces and
// collapses spaces, so every parser below works on plain words.
func normalize(input string) string {
	if len(input) > maxInput {
		input = input[:maxInput]
	}
	var b strings.Builder
	b.Grow(len(input))
	space := true
	for _, r := range fold.Plain(strings.ToValidUTF8(input, " ")) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

// fields splits normalised text into words, also where digits meet
// letters, so "10h" and "9am" read as "10 h" and "9 am". Code words keep
// their digits: they are read from the normalised text directly.
func fields(norm string) []string {
	var out []string
	for _, w := range strings.Fields(norm) {
		start, prev := 0, rune(0)
		for i, r := range w {
			if i > 0 && isDigit(r) != isDigit(prev) {
				out = append(out, w[start:i])
				start = i
			}
			prev = r
		}
		out = append(out, w[start:])
	}
	return out
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

type keyword int

const (
	kwNone keyword = iota
	kwStop
	kwHelp
	kwErase
	kwEraseYes
	kwRestart
	kwEnglish
	kwSpanish
)

// keywords match a whole message only, so an answer that merely contains
// one of these words ("no quiero salir") is never taken for a command. The
// English stop words are those Twilio itself honours.
var keywords = map[string]keyword{
	"salir": kwStop, "stop": kwStop, "stopall": kwStop, "unsubscribe": kwStop, "cancel": kwStop,
	"end": kwStop, "quit": kwStop, "cancelar": kwStop, "parar": kwStop, "fin": kwStop,
	// "Auxilio" and "socorro" are not here: they are cries for help now,
	// which ReadDanger hears (danger.es.txt).
	"ayuda": kwHelp, "help": kwHelp, "info": kwHelp,
	// Her own words for the same, still whole messages: SALIR only stops
	// what we start, and BORRAR asks for her code word before anything goes.
	"no me escriban mas": kwStop, "no me escribas mas": kwStop, "dejen de escribirme": kwStop,
	"no mas mensajes": kwStop, "stop texting me": kwStop, "dont text me": kwStop, "don t text me": kwStop,
	"borrar": kwErase, "erase": kwErase, "delete": kwErase, "eliminar": kwErase,
	"borra": kwErase, "borrar todo": kwErase, "borra todo": kwErase, "borrar mis mensajes": kwErase,
	"borra mis mensajes": kwErase, "delete all": kwErase, "delete everything": kwErase, "erase everything": kwErase,
	"borrar si": kwEraseYes, "borrar 1": kwEraseYes, "eliminar si": kwEraseYes,
	"erase yes": kwEraseYes, "erase 1": kwEraseYes, "delete yes": kwEraseYes, "delete 1": kwEraseYes,
	"inicio": kwRestart, "reiniciar": kwRestart, "empezar": kwRestart, "restart": kwRestart,
	"english": kwEnglish, "ingles": kwEnglish, "en ingles": kwEnglish, "in english": kwEnglish, "en": kwEnglish,
	"espanol": kwSpanish, "spanish": kwSpanish, "castellano": kwSpanish, "en espanol": kwSpanish, "es": kwSpanish,
}

func parseKeyword(norm string) keyword { return keywords[norm] }

// englishWords and spanishWords tell the language of a first message: one
// with more English words than Spanish ("hi", "help", "I need help")
// starts the conversation in English; a tie stays in Spanish, the default.
var englishWords, spanishWords = wordSet("hi hello hey help i im need needs please danger am my the is are you " +
	"can someone somebody anyone good morning afternoon evening want to talk scared afraid hurt english emergency what how"),
	wordSet("hola buenas buenos dias tardes noches ayuda ayudame necesito estoy peligro por favor quiero tengo miedo " +
		"que el la los las mi es de y con un una para hablar alguien gracias auxilio socorro emergencia")

func wordSet(words string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

func english(norm string) bool {
	score := 0
	for _, w := range strings.Fields(norm) {
		switch {
		case englishWords[w]:
			score++
		case spanishWords[w]:
			score--
		}
	}
	return score > 0
}

type answer int

const (
	unclear answer = iota
	yes
	no
)

// yesNo holds whole answers only. Beside the options it has the short
// ways a yes or a no is said in Trujillo and in English ("ya", "dale",
// "no quiero", "not now"); nothing longer, so a sentence is asked again
// rather than guessed.
var yesNo = map[string]answer{
	"1": yes, "si": yes, "s": yes, "yes": yes, "y": yes, "ok": yes, "claro": yes, "acepto": yes,
	"si acepto": yes, "si por favor": yes, "yes please": yes, "1 si": yes, "1 yes": yes, "sip": yes,
	"ya": yes, "ya pues": yes, "dale": yes, "bueno": yes, "si claro": yes, "claro que si": yes,
	"de acuerdo": yes, "okey": yes, "okay": yes, "si quiero": yes, "si gracias": yes,
	"sure": yes, "yeah": yes, "yep": yes, "yes thanks": yes, "yes thank you": yes,
	"2": no, "no": no, "n": no, "no gracias": no, "no thanks": no, "2 no": no, "nope": no,
	"no quiero": no, "todavia no": no, "aun no": no, "por ahora no": no, "ahora no": no,
	"no thank you": no, "not now": no, "not yet": no,
}

// parseYesNo accepts only whole answers: "no se" ("I don't know") must not
// read as no, nor "si pero..." as yes.
func parseYesNo(norm string) answer { return yesNo[norm] }

// option returns the number n when the whole answer is a number 1..max.
func option(norm string, max int) (int, bool) {
	n, err := strconv.Atoi(norm)
	if err != nil || n < 1 || n > max {
		return 0, false
	}
	return n, true
}

// needOrder is also the numbering in the needs prompt (1 = health, …).
var needOrder = []string{"health", "police", "shelter", "legal", "psychosocial"}

var needWords = map[string]string{
	"salud": "health", "health": "health", "medico": "health", "medica": "health", "doctor": "health",
	"doctora": "health", "hospital": "health", "posta": "health", "clinica": "health",
	"policia": "police", "police": "police", "denuncia": "police", "denunciar": "police", "comisaria": "police",
	"pastilla": "health", "embarazo": "health", "herida": "health", "heridas": "health", "lesiones": "health",
	"denunciarlo": "police",
	"refugio":     "shelter", "albergue": "shelter", "shelter": "shelter", "quedarme": "shelter", "alojamiento": "shelter",
	"legal": "legal", "abogado": "legal", "abogada": "legal", "lawyer": "legal", "juridica": "legal", "juridico": "legal",
	"divorcio": "legal", "demanda": "legal", "pension": "legal",
	"psicologico": "psychosocial", "psicologica": "psychosocial", "psicologo": "psychosocial",
	"psicologa": "psychosocial", "psicosocial": "psychosocial", "emocional": "psychosocial",
	"apoyo": "psychosocial", "emotional": "psychosocial", "support": "psychosocial",
	"psychological": "psychosocial", "psychosocial": "psychosocial", "counselling": "psychosocial", "terapia": "psychosocial",
	"counseling": "psychosocial",
}

// negations make a list answer ambiguous ("salud, no policía"): rather than
// guess which item was refused, ask again.
var negations = map[string]bool{
	"no": true, "sin": true, "not": true, "without": true, "except": true, "excepto": true,
	"menos": true, "ninguno": true, "ninguna": true, "none": true, "nada": true, "nothing": true,
	"nunca": true, "never": true, "ni": true, "dont": true, "don": true,
}

// parseNeedList reads "1 3", "1,3", "13", "salud y policía" into needs in
// canonical order. Numbers must be 1..5 (a typo such as "6" is asked
// again); words it does not know are ignored as long as one need is found.
func parseNeedList(norm string) ([]string, bool) {
	return parseChoices(norm, needOrder)
}

// parseChoices reads needs from among options, numbered from 1 as listed,
// or named by word; a need named that is not an option makes the answer
// unclear. The result keeps the options' order.
func parseChoices(norm string, options []string) ([]string, bool) {
	found := map[string]bool{}
	for _, tok := range fields(norm) {
		switch {
		case negations[tok]:
			return nil, false
		case isDigits(tok):
			if len(tok) > len(options) {
				return nil, false
			}
			for _, d := range tok {
				n := int(d - '0')
				if n < 1 || n > len(options) {
					return nil, false
				}
				found[options[n-1]] = true
			}
		case needWords[tok] != "":
			if !slices.Contains(options, needWords[tok]) {
				return nil, false
			}
			found[needWords[tok]] = true
		}
	}
	var chosen []string
	for _, n := range options {
		if found[n] {
			chosen = append(chosen, n)
		}
	}
	return chosen, len(chosen) > 0
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// allWords and noneWords answer the referrals question as a whole, alone
// or in a short sentence of hers ("si a todo", "yes to all", "a ninguno");
// fillerWords may stand beside them.
var (
	allWords    = []string{"todos", "todas", "todo", "all", "si", "yes", "ambos", "both"}
	noneWords   = []string{"ninguno", "ninguna", "none", "no", "nada", "nothing"}
	fillerWords = []string{"a", "to", "of", "them", "de", "ellos", "ellas", "los", "las", "por", "favor", "please"}
)

// answersWhole: every word of the answer is one of words or filler, and at
// least one is of words, so "si a ninguno" is neither all nor none.
func answersWhole(norm string, words []string) bool {
	found := false
	for _, tok := range fields(norm) {
		switch {
		case slices.Contains(words, tok):
			found = true
		case !slices.Contains(fillerWords, tok):
			return false
		}
	}
	return found
}

// parseReferrals reads which of her needs she consents to refer: numbers
// as listed in the referrals question (her needs, from 1), the words of the
// needs question, or all / none.
func parseReferrals(norm string, needs []string) (map[string]bool, bool) {
	consent := map[string]bool{}
	for _, whole := range []struct {
		words []string
		yes   bool
	}{{allWords, true}, {noneWords, false}} {
		if answersWhole(norm, whole.words) {
			for _, n := range needs {
				consent[n] = whole.yes
			}
			return consent, true
		}
	}
	chosen, ok := parseChoices(norm, needs)
	if !ok {
		return nil, false
	}
	for _, n := range needs {
		consent[n] = slices.Contains(chosen, n)
	}
	return consent, true
}

// contactOptions are the answers to the contact question, in prompt order.
var contactOptions = []struct{ text, call bool }{
	{true, false}, {true, true}, {false, true}, {false, false},
}

// Words of her own for the contact question ("solo mensajes", "llamame",
// "no contactarme"), matched by prefix after folding.
var (
	textWords    = []string{"mensaje", "sms", "texto", "text", "message", "escrib", "write"}
	callWords    = []string{"llamad", "llamar", "llamen", "llama", "call", "phone"}
	contactWords = []string{"contact"}
)

// parseContact reads an option or her own words. Words that negate anything
// ("solo mensajes, llamadas no") are taken only as "do not contact me", and
// only when they name no way at all: a misread here could mean a call she
// refused, so anything unclear is asked again.
func parseContact(norm string) (mayText, mayCall, ok bool) {
	if n, ok := option(norm, len(contactOptions)); ok {
		return contactOptions[n-1].text, contactOptions[n-1].call, true
	}
	var negated, contact bool
	for _, tok := range fields(norm) {
		switch {
		case negations[tok]:
			negated = true
		case hasPrefix(tok, textWords):
			mayText = true
		case hasPrefix(tok, callWords):
			mayCall = true
		case hasPrefix(tok, contactWords):
			contact = true
		}
	}
	switch {
	case negated:
		return false, false, contact && !mayText && !mayCall
	case mayText || mayCall:
		return mayText, mayCall, true
	}
	return false, false, false
}

func hasPrefix(tok string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(tok, p) })
}

var hourOptions = [][2]int{{8, 12}, {12, 18}, {18, 21}, {8, 21}}

// parseHours reads an option, two hours ("9-13", "de 9 a 13", "9am-1pm")
// or the options' own words ("en las mañanas", "tarde o noche").
func parseHours(norm string) (from, to int, ok bool) {
	if n, ok := option(norm, len(hourOptions)); ok {
		return hourOptions[n-1][0], hourOptions[n-1][1], true
	}
	toks := fields(norm)
	if !slices.ContainsFunc(toks, isDigits) {
		return hoursFromDayParts(toks)
	}
	var hours []int
	for _, tok := range toks {
		switch {
		case isDigits(tok):
			h, err := strconv.Atoi(tok)
			if err != nil || h > 24 {
				return 0, 0, false
			}
			hours = append(hours, h)
		case (tok == "pm" || tok == "p") && len(hours) > 0:
			if last := &hours[len(hours)-1]; *last >= 1 && *last <= 11 {
				*last += 12
			}
		}
	}
	if len(hours) != 2 || hours[0] == 24 || hours[0] == hours[1] {
		return 0, 0, false
	}
	return hours[0], hours[1], true
}

// dayParts are the first three hour options by their words. "mañana" is
// also "tomorrow": followed by "en", "por" or "a" ("mañana en la tarde")
// it is the day, not the morning.
var dayParts = [3]struct {
	words  []string
	hours  [2]int
	isPart func(toks []string, i int) bool
}{
	{words: []string{"mananas", "morning", "mornings"}, hours: hourOptions[0], isPart: func(toks []string, i int) bool {
		return toks[i] == "manana" && (i+1 == len(toks) || !slices.Contains([]string{"en", "por", "a", "al"}, toks[i+1]))
	}},
	{words: []string{"tarde", "tardes", "afternoon", "afternoons"}, hours: hourOptions[1]},
	{words: []string{"noche", "noches", "evening", "evenings", "night", "nights"}, hours: hourOptions[2]},
}

// anyTimeWords answer "any time", the last option ("a cualquier hora",
// "todo el día", "anytime", "all day").
var anyTimeWords = [][]string{{"cualquier"}, {"cualquiera"}, {"todo", "el", "dia"}, {"anytime"}, {"any", "time"}, {"all", "day"}, {"whenever"}}

// hoursFromDayParts reads the parts of the day she named as one span: two
// neighbouring parts join ("mañana y tarde" is 8-18); parts with a gap
// between them, or any negation ("no en la noche"), are asked again rather
// than guessed, as is "más tarde" ("later"), which names no hour.
func hoursFromDayParts(toks []string) (from, to int, ok bool) {
	var named [len(dayParts)]bool
	anyTime := false
	for i, tok := range toks {
		if negations[tok] || tok == "mas" || tok == "more" || tok == "later" {
			return 0, 0, false
		}
		for p, part := range dayParts {
			if slices.Contains(part.words, tok) || part.isPart != nil && part.isPart(toks, i) {
				named[p] = true
			}
		}
		for _, phrase := range anyTimeWords {
			if len(toks[i:]) >= len(phrase) && slices.Equal(toks[i:i+len(phrase)], phrase) {
				anyTime = true
			}
		}
	}
	first := slices.Index(named[:], true)
	switch {
	case anyTime && first < 0:
		return hourOptions[3][0], hourOptions[3][1], true
	case anyTime || first < 0:
		return 0, 0, false
	}
	last := first
	for last+1 < len(named) && named[last+1] {
		last++
	}
	if slices.Contains(named[last+1:], true) {
		return 0, 0, false
	}
	return dayParts[first].hours[0], dayParts[last].hours[1], true
}

// refusesCodeWord is "no" or "no quiero" to the code word question, as
// against "no sé" (which word?), which gets the rules again.
func refusesCodeWord(norm string) bool {
	return parseYesNo(norm) == no || slices.ContainsFunc([]string{"no quiero", "dont want", "don t want", "i dont want", "i don t want"},
		func(p string) bool { return norm == p || strings.HasPrefix(norm, p+" ") })
}

// Code words are compared after normalisation, so "Mango", "MANGO" and
// "mangó" are the same word however she types it.
const (
	minCodeWord = 3
	maxCodeWord = 20
)

// reservedWords are answers elsewhere (NUEVO at the returning menu). The
// common words of a greeting ("hola", "hello", "gracias") are no code
// words either: the welcome checks a one-word answer as a code word, and a
// returning survivor who greets twice must not spend her tries on it.
var reservedWords = map[string]bool{"nuevo": true, "new": true}

func parseCodeWord(norm string) (string, bool) {
	// Count what the case file will keep: it compares letters and digits
	// only, so "a.b" is a one-character word there and must be one here.
	n := 0
	for _, r := range norm {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	if n < minCodeWord || utf8.RuneCountInString(norm) > maxCodeWord || n > maxCodeWord || strings.Contains(norm, " ") || reservedWords[norm] ||
		englishWords[norm] || spanishWords[norm] ||
		parseKeyword(norm) != kwNone ||
		// A word that reads as danger ("socorro") raises the alarm whenever
		// she sends it, so as a code word it could never be checked.
		ReadDanger(norm).Said == SaidDanger {
		return "", false
	}
	return norm, true
}

// whenBands are the options of the "when did it happen" question, as the
// number of calendar days back to the earliest day the option covers; the
// last band ("5 days or more") is open-ended and its windows have passed.
var whenBands = []int{0, 1, 2, 4, 5}

// whenOptions counts the bands plus "rather not say".
var whenOptions = len(whenBands) + 1

var numberWords = map[string]int{
	"un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
	"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
}

type unit int

const (
	minutes unit = iota + 1
	hours
	days
	weeks
)

var unitWords = map[string]unit{
	"min": minutes, "mins": minutes, "minuto": minutes, "minutos": minutes, "minute": minutes, "minutes": minutes,
	"h": hours, "hr": hours, "hrs": hours, "hora": hours, "horas": hours, "hour": hours, "hours": hours,
	"d": days, "dia": days, "dias": days, "day": days, "days": days,
	"semana": weeks, "semanas": weeks, "week": weeks, "weeks": weeks,
}

// dayWords name a day relative to today (days back, hour of the earliest
// moment the word covers).
var dayWords = map[string][2]int{
	"hoy": {0, 0}, "today": {0, 0}, "ayer": {1, 0}, "yesterday": {1, 0},
	"anteayer": {2, 0}, "antier": {2, 0}, "anoche": {1, 18}, "last night": {1, 18},
	"day before yesterday": {2, 0}, "the day before yesterday": {2, 0},
	"esta manana": {0, 0}, "esta tarde": {0, 0}, "hace un rato": {0, 0}, "hace rato": {0, 0},
	"this morning": {0, 0}, "this afternoon": {0, 0}, "just now": {0, 0},
}

// weekdayWords name a day of the week: she means the last one before
// today ("el sábado"); today's own name means a week ago, as today is "hoy".
var weekdayWords = map[string]time.Weekday{
	"domingo": time.Sunday, "lunes": time.Monday, "martes": time.Tuesday, "miercoles": time.Wednesday,
	"jueves": time.Thursday, "viernes": time.Friday, "sabado": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// lastWeekWords start at last week's Monday, the earliest day they cover.
var lastWeekWords = []string{"semana pasada", "last week"}

// notSaying are whole answers that leave the time unknown, as option 6
// does: the option's own words. "No sé" is asked again instead, with the
// options: a rough day still gives the clinic its deadlines.
var notSaying = map[string]bool{
	"prefiero no decir": true, "prefiero no decirlo": true, "no quiero decir": true, "no quiero decirlo": true,
	"rather not say": true, "id rather not say": true, "i d rather not say": true, "prefer not to say": true,
}

// dayWordIn finds the day she named inside a sentence ("ayer en la
// noche", "fue anoche"): she answers in her own words, not ours. It takes
// the day only when the sentence names one day and negates nothing, and the
// earliest moment of that day, so a deadline is never overstated.
func dayWordIn(norm string, today time.Weekday) ([2]int, bool) {
	padded := " " + strings.Join(fields(norm), " ") + " "
	if strings.Contains(padded, " no ") || strings.Contains(padded, " not ") {
		return [2]int{}, false
	}
	var found [][2]int
	for w, wd := range weekdayWords {
		if strings.Contains(padded, " "+w+" ") {
			back := (int(today) - int(wd) + 7) % 7
			if back == 0 {
				back = 7
			}
			found = append(found, [2]int{back, 0})
		}
	}
	for _, w := range lastWeekWords {
		if strings.Contains(padded, " "+w+" ") {
			found = append(found, [2]int{7 + (int(today)+6)%7, 0})
		}
	}
	words := make([]string, 0, len(dayWords))
	for w := range dayWords {
		words = append(words, w)
	}
	// Longest first, so "day before yesterday" is not also read as "yesterday".
	slices.SortFunc(words, func(a, b string) int { return len(b) - len(a) })
	for _, w := range words {
		if strings.Contains(padded, " "+w+" ") {
			padded = strings.ReplaceAll(padded, " "+w+" ", " | ")
			if !slices.Contains(found, dayWords[w]) {
				found = append(found, dayWords[w])
			}
		}
	}
	if len(found) != 1 {
		return [2]int{}, false
	}
	return found[0], true
}

// maxAgo bounds a free-text answer; anything older is simply past every
// clinical window.
const maxAgo = 366 * 24 * time.Hour

// parseWhen returns the earliest incident time consistent with the answer
// (nil when she prefers not to say). Exact durations ("hace 10 horas") are
// taken literally; calendar answers ("ayer", "hace 2 días", options) start
// at midnight Peru time of that day, so a deadline is never overstated.
func parseWhen(norm string, now time.Time, zone *time.Location) (*time.Time, bool) {
	if n, ok := option(norm, whenOptions); ok {
		if n == whenOptions {
			return nil, true
		}
		t := startOfDay(now, whenBands[n-1], zone)
		return &t, true
	}
	if notSaying[norm] {
		return nil, true
	}
	if d, ok := dayWords[norm]; ok {
		t := startOfDay(now, d[0], zone).Add(time.Duration(d[1]) * time.Hour)
		return &t, true
	}
	// A duration ("hace 10 horas") or, failing that, a day named in her
	// sentence ("la semana pasada" has a unit but no number).
	qty, u := -1, unit(0)
duration:
	for _, tok := range fields(norm) {
		switch {
		case isDigits(tok) || numberWords[tok] > 0:
			if qty >= 0 {
				qty = -1
				break duration
			}
			if qty = numberWords[tok]; qty == 0 {
				n, err := strconv.Atoi(tok)
				if err != nil || n > int(maxAgo/time.Minute) {
					qty = -1
					break duration
				}
				qty = n
			}
		case unitWords[tok] != 0:
			if u != 0 || qty < 0 {
				qty = -1
				break duration
			}
			u = unitWords[tok]
		}
	}
	if qty < 0 || u == 0 {
		d, ok := dayWordIn(norm, now.In(zone).Weekday())
		if !ok {
			return nil, false
		}
		t := startOfDay(now, d[0], zone).Add(time.Duration(d[1]) * time.Hour)
		return &t, true
	}
	var t time.Time
	switch u {
	case minutes:
		t = now.Add(-time.Duration(qty) * time.Minute)
	case hours:
		t = now.Add(-time.Duration(qty) * time.Hour)
	case days:
		t = startOfDay(now, qty, zone)
	case weeks:
		t = startOfDay(now, 7*qty, zone)
	}
	if now.Sub(t) > maxAgo {
		return nil, false
	}
	t = t.UTC()
	return &t, true
}
