// Package templates holds every text Amparo shows or sends: the SMS and
// voice catalogues in Spanish (default) and English, and the embedded HTML
// templates of the web pages.
//
// Survivor-facing texts use "tú", which is warmer and what Peruvian support
// lines use; texts to providers and staff use "usted". Messages that the
// system starts (provider notices, staff alerts, follow-ups) never name
// violence, the service's purpose or a survivor's details, because the phone
// that receives them may be read by someone else.
//
// A message is a key plus named arguments ({name} in the catalogue), so a
// conversation can be stored and rendered later in the reader's language.
// Both catalogues are checked when the package loads: the same keys, the
// same placeholders per key, and nothing malformed; a broken catalogue stops
// the program at start-up instead of sending a broken text to a survivor.
package templates

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Languages with a catalogue. Anything else falls back to Spanish, the
// language of the people the service is for.
const (
	ES = "es"
	EN = "en"
)

// FS holds the HTML templates under html/ (base.html is the shared layout).
//
//go:embed html
var FS embed.FS

//go:embed messages/*.json
var messageFS embed.FS

// Message is a catalogue entry to render later, in whatever language the
// reader has chosen by then. It is plain data so it can be stored in JSON.
type Message struct {
	Key  string            `json:"key"`
	Args map[string]string `json:"args,omitempty"`
}

// Render renders m in lang; see the package function Render.
func (m Message) Render(lang string) (string, error) {
	return Render(lang, m.Key, m.Args)
}

type entry struct {
	text   string
	params []string
}

var (
	catalogues  map[string]map[string]entry
	placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)
)

func init() {
	c, err := load()
	if err != nil {
		panic(err)
	}
	catalogues = c
}

func load() (map[string]map[string]entry, error) {
	out := map[string]map[string]entry{}
	for _, lang := range []string{ES, EN} {
		raw, err := messageFS.ReadFile("messages/" + lang + ".json")
		if err != nil {
			return nil, err
		}
		var texts map[string]string
		if err := json.Unmarshal(raw, &texts); err != nil {
			return nil, fmt.Errorf("templates: messages/%s.json: %w", lang, err)
		}
		cat := map[string]entry{}
		for key, text := range texts {
			params, err := parse(text)
			if err != nil {
				return nil, fmt.Errorf("templates: %s %s: %w", lang, key, err)
			}
			cat[key] = entry{text: text, params: params}
		}
		out[lang] = cat
	}
	return out, validate(out)
}

// parse returns the sorted, distinct placeholder names of text and rejects
// braces that are not a well-formed placeholder, which would otherwise reach
// a phone verbatim.
func parse(text string) ([]string, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("empty text")
	}
	var params []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		params = append(params, m[1])
	}
	if rest := placeholder.ReplaceAllString(text, ""); strings.ContainsAny(rest, "{}") {
		return nil, fmt.Errorf("stray brace in %q", text)
	}
	slices.Sort(params)
	return slices.Compact(params), nil
}

func validate(cats map[string]map[string]entry) error {
	es, en := cats[ES], cats[EN]
	for _, key := range slices.Sorted(maps.Keys(es)) {
		other, ok := en[key]
		if !ok {
			return fmt.Errorf("templates: key %q missing in %s", key, EN)
		}
		if !slices.Equal(es[key].params, other.params) {
			return fmt.Errorf("templates: key %q has placeholders %v in %s but %v in %s",
				key, es[key].params, ES, other.params, EN)
		}
	}
	for key := range en {
		if _, ok := es[key]; !ok {
			return fmt.Errorf("templates: key %q missing in %s", key, ES)
		}
	}
	return nil
}

// Lang maps any language tag to one with a catalogue: "en", "en-GB" and
// "EN" give English, everything else Spanish.
func Lang(lang string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	if _, ok := catalogues[base]; ok {
		return base
	}
	return ES
}

// Render returns the text for key in lang (falling back to Spanish for an
// unknown lang) with each {name} replaced by args[name]. An unknown key, a
// missing argument or an argument the text does not use is an error: each is
// a programming mistake that must not reach a phone as a half-filled text.
func Render(lang, key string, args map[string]string) (string, error) {
	return render(catalogues, lang, key, args)
}

func render(cats map[string]map[string]entry, lang, key string, args map[string]string) (string, error) {
	e, ok := cats[Lang(lang)][key]
	if !ok {
		return "", fmt.Errorf("templates: unknown key %q", key)
	}
	for name := range args {
		if !slices.Contains(e.params, name) {
			return "", fmt.Errorf("templates: key %q does not use argument %q", key, name)
		}
	}
	for _, name := range e.params {
		if _, ok := args[name]; !ok {
			return "", fmt.Errorf("templates: key %q needs argument %q", key, name)
		}
	}
	if len(e.params) == 0 {
		return e.text, nil
	}
	return placeholder.ReplaceAllStringFunc(e.text, func(p string) string {
		return args[p[1:len(p)-1]]
	}), nil
}
