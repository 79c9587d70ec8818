package triage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"unicode"

	"github.com/amparo/amparo/internal/fold"
	"github.com/amparo/amparo/templates"
)

// Her own words about danger. Testers found that only "1" or "sí" reached
// the danger branch; "auxilio", "me quiere pegar" or "estoy encerrada" got a
// re-prompt and alerted nobody. ReadDanger reads a message against the
// lexicon in templates/lexicon (Spanish and English, both always) so that a
// danger statement anywhere in the conversation, or in a call's speech, is
// heard. It is a word matcher, not a model: every verdict names the lexicon
// entry that decided it, so a miss or a false alarm is fixed by editing one
// line, and the corpus test (testdata/danger_corpus.tsv) measures the change.

// Said is what a message says about danger now.
type Said int

const (
	SaidNothing Said = iota // no statement about danger either way: unclear
	SaidDanger              // she is in danger now, or violence is happening
	SaidSafe                // she says she is safe ("no estoy en peligro", "estoy bien")
)

// Verdict is ReadDanger's reading of one message. Entry names the lexicon
// line that decided it ("danger.es.txt:57 me .. pega/pegar"), prefixed with
// "not " when that entry was negated; it is lexicon text only, never her
// words, yet it is for tests and debugging and is not logged either: which
// entry fired says what she wrote.
type Verdict struct {
	Said  Said
	Entry string
}

// ReadDanger reads a message (an SMS body or a call's SpeechResult) for a
// statement about danger now. Case, accents, punctuation, repeated letters
// and the SMS spellings the lexicon lists do not matter; a negation just
// before a statement ("no", "ya no", "not") turns it around, and a sentence
// break (punctuation) ends a negation's reach, so "no, me está pegando" is
// danger. A danger statement wins over a safe one elsewhere in the message
// ("estoy bien pero me quiere pegar") unless the two overlap.
func ReadDanger(input string) Verdict { return danger.read(input) }

// maxGap is how many words ".." may skip in a lexicon pattern.
const maxGap = 3

// negReach is how many words before a statement a negation reaches: "no
// estoy en peligro", "ya no me pega". Further back it belongs to something
// else ("no estoy bien, me está pegando" without the comma).
const negReach = 2

// boundary marks a sentence break in the words of a message.
const boundary = "|"

type alt struct {
	word          string
	prefix, fuzzy bool
}

// term is one position of a pattern: a choice of words, a gap, or a
// sentence boundary.
type term struct {
	alts     []alt
	gap      bool
	boundary bool
}

type lexEntry struct {
	where string // file:line and the pattern, for Verdict.Entry
	terms []term
}

type lexicon struct {
	alias  map[string][]string
	neg    map[string]bool
	danger []lexEntry
	safe   []lexEntry
}

var danger = mustLoadLexicon(templates.Lexicons, "lexicon/danger.es.txt", "lexicon/danger.en.txt")

func mustLoadLexicon(fsys fs.FS, files ...string) *lexicon {
	lx, err := loadLexicon(fsys, files...)
	if err != nil {
		panic(err) // embedded data: a broken lexicon must stop start-up, not go deaf
	}
	return lx
}

func loadLexicon(fsys fs.FS, files ...string) (*lexicon, error) {
	lx := &lexicon{alias: map[string][]string{}, neg: map[string]bool{}}
	for _, name := range files {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		base := name[strings.LastIndexByte(name, '/')+1:]
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if err := lx.add(line, fmt.Sprintf("%s:%d", base, n)); err != nil {
				return nil, fmt.Errorf("triage: %s:%d: %w", base, n, err)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	if len(lx.danger) == 0 {
		return nil, fmt.Errorf("triage: the danger lexicon has no danger entries")
	}
	return lx, nil
}

// add reads one entry; where is its file and line.
func (lx *lexicon) add(line, where string) error {
	f := strings.Fields(line)
	if len(f) < 2 {
		return fmt.Errorf("%q: a kind and at least one word", line)
	}
	switch f[0] {
	case "alias":
		if len(f) < 3 {
			return fmt.Errorf("alias %s: to what?", f[1])
		}
		var to []string
		for _, w := range f[2:] {
			to = append(to, plainWord(w))
		}
		lx.alias[plainWord(f[1])] = to
	case "neg":
		if len(f) != 2 {
			return fmt.Errorf("neg takes one word")
		}
		lx.neg[plainWord(f[1])] = true
	case "danger", "safe":
		terms, err := parsePattern(f[1:])
		if err != nil {
			return err
		}
		e := lexEntry{where: where + " " + strings.Join(f[1:], " "), terms: terms}
		if f[0] == "danger" {
			lx.danger = append(lx.danger, e)
		} else {
			lx.safe = append(lx.safe, e)
		}
	default:
		return fmt.Errorf("unknown kind %q", f[0])
	}
	return nil
}

func parsePattern(words []string) ([]term, error) {
	var terms []term
	for i, w := range words {
		switch w {
		case "..":
			if i == 0 || i == len(words)-1 {
				return nil, errors.New(`a pattern cannot begin or end with a gap ("..")`)
			}
			terms = append(terms, term{gap: true})
			continue
		case "^", "$":
			terms = append(terms, term{boundary: true})
			continue
		}
		var t term
		for _, a := range strings.Split(w, "/") {
			x := alt{}
			switch {
			case strings.HasSuffix(a, "*"):
				x.prefix, a = true, strings.TrimSuffix(a, "*")
			case strings.HasSuffix(a, "~"):
				x.fuzzy, a = true, strings.TrimSuffix(a, "~")
			}
			if x.word = plainWord(a); x.word == "" {
				return nil, fmt.Errorf("empty word in %q", w)
			}
			if x.fuzzy && len([]rune(x.word)) < 5 {
				return nil, fmt.Errorf("%q: a typo in a word under five letters is another word", a)
			}
			t.alts = append(t.alts, x)
		}
		terms = append(terms, t)
	}
	if !slices.ContainsFunc(terms, func(t term) bool { return t.alts != nil }) {
		return nil, fmt.Errorf("a pattern needs a word")
	}
	return terms, nil
}

// plainWord spells a lexicon word as messages' words are spelt.
func plainWord(w string) string {
	var b []rune
	for _, r := range fold.Plain(w) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b = append(b, r)
		}
	}
	return squeeze(b)
}

// squeeze collapses repeated letters, "auxiliooo" to "auxilio". The
// lexicon is squeezed too, so "encerrada" is written as usual and still
// matches "encerada" and "encerradaaa".
func squeeze(rs []rune) string {
	out := rs[:0]
	for i, r := range rs {
		if i == 0 || r != rs[i-1] {
			out = append(out, r)
		}
	}
	return string(out)
}

// words splits a message into squeezed, aliased words, with a boundary at
// its start, its end and each sentence break.
func (lx *lexicon) words(input string) []string {
	if len(input) > maxInput {
		input = input[:maxInput]
	}
	toks := []string{boundary}
	var cur []rune
	flush := func() {
		if len(cur) == 0 {
			return
		}
		w := squeeze(cur)
		cur = cur[:0]
		if to, ok := lx.alias[w]; ok {
			toks = append(toks, to...)
		} else {
			toks = append(toks, w)
		}
	}
	brk := func() {
		flush()
		if toks[len(toks)-1] != boundary {
			toks = append(toks, boundary)
		}
	}
	for _, r := range fold.Plain(strings.ToValidUTF8(input, " ")) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, r)
		case r == '\'' || r == '’' || r == '`' || r == '´':
			// "he's" is "hes", "can't" is "cant": the aliases spell them out.
		case strings.ContainsRune(".,;:!?¡¿\n", r):
			brk()
		default:
			flush()
		}
	}
	brk()
	return toks
}

// hit is one match of an entry: words [from, to) of the message.
type hit struct {
	e        *lexEntry
	from, to int
	negated  bool
}

func (lx *lexicon) read(input string) Verdict {
	toks := lx.words(input)
	var dangers, negated, safes []hit
	for _, h := range lx.hits(lx.danger, toks) {
		if h.negated {
			negated = append(negated, h)
		} else {
			dangers = append(dangers, h)
		}
	}
	for _, h := range lx.hits(lx.safe, toks) {
		if !h.negated {
			safes = append(safes, h)
		}
	}
	for _, d := range dangers {
		if !slices.ContainsFunc(safes, func(s hit) bool { return s.from < d.to && d.from < s.to }) {
			return Verdict{Said: SaidDanger, Entry: d.e.where}
		}
	}
	switch {
	case len(safes) > 0:
		return Verdict{Said: SaidSafe, Entry: safes[0].e.where}
	case len(negated) > 0:
		return Verdict{Said: SaidSafe, Entry: "not " + negated[0].e.where}
	}
	return Verdict{}
}

// hits returns, for each entry, its first match that is not negated, or
// else its first negated one.
func (lx *lexicon) hits(entries []lexEntry, toks []string) []hit {
	var out []hit
	for i := range entries {
		e := &entries[i]
		var first *hit
		for from := range toks {
			to, gapNeg, ok := lx.match(e.terms, toks, from)
			if !ok {
				continue
			}
			h := hit{e: e, from: from, to: to, negated: gapNeg || toks[from] != boundary && lx.negatedBefore(toks, from)}
			if !h.negated {
				first = &h
				break
			}
			if first == nil {
				first = &h
			}
		}
		if first != nil {
			out = append(out, *first)
		}
	}
	return out
}

// negatedBefore reports a negation within negReach words before from, in
// the same sentence.
func (lx *lexicon) negatedBefore(toks []string, from int) bool {
	for i := from - 1; i >= 0 && i >= from-negReach; i-- {
		if toks[i] == boundary {
			return false
		}
		if lx.neg[toks[i]] {
			return true
		}
	}
	return false
}

// match matches terms at toks[at:], returning where the match ends and
// whether a gap skipped a negation ("me dijo que no le pega").
func (lx *lexicon) match(terms []term, toks []string, at int) (end int, gapNeg, ok bool) {
	if len(terms) == 0 {
		return at, false, true
	}
	t := terms[0]
	switch {
	case t.gap:
		neg := false
		for skip := 0; skip <= maxGap && at+skip <= len(toks); skip++ {
			if skip > 0 {
				w := toks[at+skip-1]
				if w == boundary {
					break
				}
				neg = neg || lx.neg[w]
			}
			if end, n, ok := lx.match(terms[1:], toks, at+skip); ok {
				return end, neg || n, true
			}
		}
		return 0, false, false
	case at >= len(toks):
		return 0, false, false
	case t.boundary:
		if toks[at] != boundary {
			return 0, false, false
		}
	default:
		if toks[at] == boundary || !slices.ContainsFunc(t.alts, func(a alt) bool { return a.matches(toks[at]) }) {
			return 0, false, false
		}
	}
	return lx.match(terms[1:], toks, at+1)
}

func (a alt) matches(w string) bool {
	switch {
	case w == a.word:
		return true
	case a.prefix:
		return strings.HasPrefix(w, a.word)
	case a.fuzzy:
		return oneEdit(w, a.word)
	}
	return false
}

// oneEdit reports whether a and b differ by one letter inserted, deleted or
// replaced.
func oneEdit(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > len(rb) {
		ra, rb = rb, ra
	}
	if len(rb)-len(ra) > 1 {
		return false
	}
	i := 0
	for i < len(ra) && ra[i] == rb[i] {
		i++
	}
	if len(ra) == len(rb) {
		return string(ra[i+1:]) == string(rb[i+1:]) && i < len(ra)
	}
	return string(ra[i:]) == string(rb[i+1:])
}
