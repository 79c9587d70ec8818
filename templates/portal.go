package templates

import (
	"embed"
	"encoding/json"
	"fmt"
)

// The portal's texts: a catalogue of their own, so that staff pages and
// survivor texts cannot borrow each other's words, checked like the SMS ones.
//
//go:embed portal/*.json
var portalFS embed.FS

// Static holds the portal's stylesheet and other assets under static/,
// served from the binary.
//
//go:embed static
var Static embed.FS

var portalTexts map[string]map[string]entry

func init() {
	out := map[string]map[string]entry{}
	for _, lang := range []string{ES, EN} {
		raw, err := portalFS.ReadFile("portal/" + lang + ".json")
		if err != nil {
			panic(err)
		}
		var texts map[string]string
		if err := json.Unmarshal(raw, &texts); err != nil {
			panic(fmt.Errorf("templates: portal/%s.json: %w", lang, err))
		}
		cat := map[string]entry{}
		for key, text := range texts {
			params, err := parse(text)
			if err != nil {
				panic(fmt.Errorf("templates: portal %s %s: %w", lang, key, err))
			}
			cat[key] = entry{text: text, params: params}
		}
		out[lang] = cat
	}
	if err := validate(out); err != nil {
		panic(err)
	}
	portalTexts = out
}

// PortalText renders a portal text as Render does an SMS one.
func PortalText(lang, key string, args map[string]string) (string, error) {
	return render(portalTexts, lang, key, args)
}

// PortalHas reports whether the portal catalogue has key.
func PortalHas(key string) bool {
	_, ok := portalTexts[ES][key]
	return ok
}
