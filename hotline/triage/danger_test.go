package triage

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// TestDangerCorpus reads every phrasing of testdata/danger_corpus.tsv and
// holds the matcher to its recall on danger and its false alarms on the
// rest: a matcher that flagged everything would pass the first and fail the
// second.
func TestDangerCorpus(t *testing.T) {
	f, err := os.Open("testdata/danger_corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type tally struct{ n, flagged, safe int }
	counts := map[string]*tally{"danger": {}, "safe": {}, "unclear": {}}
	langs := map[string]int{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) != 3 || counts[cols[0]] == nil || (cols[1] != "es" && cols[1] != "en") {
			t.Fatalf("line %d: want label, es|en and the message, tab-separated: %q", line, text)
		}
		label, msg := cols[0], cols[2]
		langs[cols[1]]++
		v := ReadDanger(msg)
		c := counts[label]
		c.n++
		switch v.Said {
		case SaidDanger:
			c.flagged++
			if label != "danger" {
				t.Logf("false alarm, line %d %s %q: %s", line, label, msg, v.Entry)
			}
		case SaidSafe:
			c.safe++
		}
		if label == "danger" && v.Said != SaidDanger {
			t.Logf("missed, line %d %q: %v %s", line, msg, v.Said, v.Entry)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		total += c.n
	}
	if total < 150 || langs["es"] < 50 || langs["en"] < 50 {
		t.Fatalf("corpus has %d phrasings (%v); want at least 150, both languages", total, langs)
	}
	rate := func(k, n int) float64 { return float64(k) / float64(n) }
	d, s, u := counts["danger"], counts["safe"], counts["unclear"]
	recall, falseAlarms := rate(d.flagged, d.n), rate(s.flagged, s.n)
	t.Logf("danger recall %d/%d = %.1f%%; false alarms on safe %d/%d = %.1f%%; safe read as safe %d/%d; unclear flagged %d/%d",
		d.flagged, d.n, 100*recall, s.flagged, s.n, 100*falseAlarms, s.safe, s.n, u.flagged, u.n)
	if recall < 0.95 {
		t.Errorf("recall on danger %.1f%%, below 95%%", 100*recall)
	}
	if falseAlarms > 0.05 {
		t.Errorf("false alarms on safe %.1f%%, above 5%%", 100*falseAlarms)
	}
}

// The matcher's rules one by one, each with the entry that must decide it.
func TestReadDanger(t *testing.T) {
	tests := []struct {
		in    string
		said  Said
		entry string // a fragment of Verdict.Entry
	}{
		{"AUXILIOOOO", SaidDanger, "auxilio~"},
		{"auxlio", SaidDanger, "auxilio~"},               // an alias
		{"PELOGRO", SaidDanger, "peligro~"},              // one letter changed
		{"estoy en peliigro", SaidDanger, "en peligro~"}, // a letter repeated
		{"estoy en peligr", SaidDanger, "en peligro~"},   // one letter missing
		{"estoy en pelgiro", SaidNothing, ""},            // two typos are too far
		{"toy encerrada", SaidDanger, "encerrada~"},
		{"me ta pegando", SaidDanger, "me .. pega"},
		{"no estoy en peligro", SaidSafe, "not danger.es.txt"},
		{"no, me está pegando", SaidDanger, "me .. pega"},
		{"ya no me pega", SaidSafe, "not "},
		{"me dijo que no le pega", SaidSafe, "not "}, // the negation inside the gap
		{"estoy bien", SaidSafe, "estoy bien"},
		{"no estoy bien", SaidNothing, ""},
		{"estoy bien pero me quiere pegar", SaidDanger, "me .. pega"},
		{"no creo estar en peligro", SaidSafe, "no creo .. peligro"},
		{"no, ahora no", SaidSafe, "ahora no"},
		{"Por ahora no.", SaidSafe, "por ahora no"},
		{"ahora no puedo salir", SaidDanger, "no puedo salir"}, // not the answer "ahora no"
		{"ahora no sé", SaidNothing, ""},
		{"ahora no, me va a pegar", SaidDanger, "me .. pega"},
		{"not right now", SaidSafe, "not right now"},
		{"he's hitting me", SaidDanger, "hitting"},
		{"he is not hitting me", SaidSafe, "not danger.en.txt"},
		{"nobody is hurting me", SaidSafe, "not "},
		{"locked me in", SaidDanger, "locked~"},
		{"no sé", SaidNothing, ""},
		{"", SaidNothing, ""},
		{"1", SaidNothing, ""},
		{strings.Repeat("me ", 5000) + "pega", SaidNothing, ""}, // past maxInput
	}
	for _, tt := range tests {
		v := ReadDanger(tt.in)
		if v.Said != tt.said || !strings.Contains(v.Entry, tt.entry) || (tt.said == SaidNothing) != (v.Entry == "") {
			t.Errorf("ReadDanger(%.40q) = %+v; want %v by an entry containing %q", tt.in, v, tt.said, tt.entry)
		}
	}
}

func TestLexiconRejectsMalformedEntries(t *testing.T) {
	for _, line := range []string{
		"danger", "danger ..", "danger .. pega", "danger me ..", "danger ^ $", "alias q", "neg no nunca",
		"danger pega~", "warn me pega", "danger me / pega",
	} {
		fsys := fstest.MapFS{"x.txt": {Data: []byte(line + "\ndanger auxilio\n")}}
		if _, err := loadLexicon(fsys, "x.txt"); err == nil {
			t.Errorf("%q accepted", line)
		}
	}
	if _, err := loadLexicon(fstest.MapFS{"x.txt": {Data: []byte("# only\nneg no\n")}}, "x.txt"); err == nil {
		t.Error("a lexicon without danger entries accepted")
	}
}
