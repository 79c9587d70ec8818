package templates

import "embed"

// Lexicons holds the word lists the hotline reads survivors' own words
// with (lexicon/*.txt: danger.es.txt, danger.en.txt). They are data beside
// the catalogues, not code, so a counsellor's "people also write it like
// this" is a one-line change that the corpus test then measures; the
// format is described at the top of each file.
//
//go:embed lexicon/*.txt
var Lexicons embed.FS
