package triage

import (
	"slices"
	"strings"
	"time"

	"github.com/amparo/amparo/templates"
)

// Place is where the hotline runs: the communities a survivor picks from,
// in the order she is offered them, and the time zone she speaks in when
// she says "ayer" or is told until when to seek care. Both come from the
// service directory and the configuration, never from this package, so
// that another city runs with no code change.
type Place struct {
	Communities []Community
	Zone        *time.Location // nil reads as UTC
}

// Community is one answer to the community question.
type Community struct {
	Key  string // as the case stores it and routing reads it, e.g. "el-porvenir"
	Name string // as she reads it, e.g. "El Porvenir"
}

// OtherCommunity is her community when she picks none of the place's.
const OtherCommunity = "other"

// otherWords are her words for "none of these".
var otherWords = []string{"otra", "otro", "other", "ninguna", "ninguno", "none"}

func (p *Place) zone() *time.Location {
	if p == nil || p.Zone == nil {
		return time.UTC
	}
	return p.Zone
}

func (p *Place) communities() []Community {
	if p == nil {
		return nil
	}
	return p.Communities
}

// options numbers the place's communities and "other" for the question
// (list false) or its re-prompt.
func (p *Place) options(lang string, list bool) map[string]string {
	names := make([]string, 0, len(p.communities()))
	for _, c := range p.communities() {
		names = append(names, c.Name)
	}
	s, err := templates.CommunityOptions(lang, names, list)
	if err != nil {
		panic(err) // the catalogue test guarantees the labels exist
	}
	return map[string]string{"options": s}
}

// parseCommunity reads an option number, or a word of one community's
// name or key that no other community shares ("porvenir", "mora"), or a
// word for "other". Articles and prepositions ("el", "de") name nothing;
// two communities named in one answer are not understood.
func (p *Place) parseCommunity(norm string) (string, bool) {
	cs := p.communities()
	if n, ok := option(norm, len(cs)+1); ok {
		if n == len(cs)+1 {
			return OtherCommunity, true
		}
		return cs[n-1].Key, true
	}
	owners := map[string][]string{} // a word, and the communities it names
	for _, c := range cs {
		for _, w := range fields(normalize(c.Name + " " + strings.ReplaceAll(c.Key, "-", " "))) {
			if !slices.Contains(placeFillers, w) && !slices.Contains(owners[w], c.Key) {
				owners[w] = append(owners[w], c.Key)
			}
		}
	}
	found := ""
	for _, tok := range fields(norm) {
		c := ""
		switch {
		case slices.Contains(otherWords, tok):
			c = OtherCommunity
		case len(owners[tok]) == 1:
			c = owners[tok][0]
		}
		if c == "" {
			continue
		}
		if found != "" && found != c {
			return "", false
		}
		found = c
	}
	return found, found != ""
}

// placeFillers are the words of place names that tell none apart.
var placeFillers = []string{"el", "la", "los", "las", "lo", "de", "del", "y", "e", "en", "the", "of", "and"}

// startOfDay returns midnight in zone, daysAgo calendar days before now.
func startOfDay(now time.Time, daysAgo int, zone *time.Location) time.Time {
	y, m, d := now.In(zone).Date()
	return time.Date(y, m, d-daysAgo, 0, 0, 0, 0, zone).UTC()
}
