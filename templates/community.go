package templates

import (
	"slices"
	"strconv"
	"strings"
)

// CommunityOptions numbers the communities a survivor picks from, in the
// directory's order, with "other" last: "1 El Porvenir 2 La Esperanza
// 3 Otra", or as a list for a re-prompt ("1 El Porvenir, 2 La Esperanza o
// 3 Otra"). Names are folded to GSM-7, so a directory's accents do not
// turn the question into UCS-2 and halve its room.
func CommunityOptions(lang string, names []string, list bool) (string, error) {
	other, err := Render(lang, KeyCommunityOther, nil)
	if err != nil {
		return "", err
	}
	opts := make([]string, 0, len(names)+1)
	for i, n := range append(slices.Clip(names), other) {
		opts = append(opts, strconv.Itoa(i+1)+" "+FoldGSM7(n))
	}
	if !list {
		return strings.Join(opts, " "), nil
	}
	or, err := Render(lang, KeyCommunityOr, nil)
	if err != nil {
		return "", err
	}
	last := len(opts) - 1
	if last == 0 {
		return opts[0], nil
	}
	return strings.Join(opts[:last], ", ") + " " + or + " " + opts[last], nil
}

// CommunityPromptFits reports whether the community question and its
// re-prompt, with names, stay within two GSM-7 segments in every language:
// the directory import refuses a list of communities that would not.
func CommunityPromptFits(names []string) (bool, error) {
	for _, lang := range []string{ES, EN} {
		for _, q := range []struct {
			key  string
			list bool
		}{{KeyCommunity, false}, {KeyCommunityRetry, true}} {
			opts, err := CommunityOptions(lang, names, q.list)
			if err != nil {
				return false, err
			}
			text, err := Render(lang, q.key, map[string]string{"options": opts})
			if err != nil {
				return false, err
			}
			if enc, n := Segments(text); enc != GSM7 || n > 2 {
				return false, nil
			}
		}
	}
	return true, nil
}
