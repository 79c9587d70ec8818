package referral

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/amparo/amparo/referral/internal/referraldb"
	"github.com/amparo/amparo/templates"
)

// otherCommunity is the hotline's answer for "none of these"; a directory
// cannot name a community so.
const otherCommunity = "other"

// Communities returns the communities offered to survivors, in order. A
// directory that lists none offers those its active services cover, by
// name: a smaller city's file then works without the list.
func Communities(ctx context.Context, db DB) ([]CommunityEntry, error) {
	q := referraldb.New(db)
	cs, err := storedCommunities(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("referral: communities: %w", err)
	}
	if len(cs) > 0 {
		return cs, nil
	}
	covered, err := q.CoveredCommunities(ctx, AnyCommunity)
	if err != nil {
		return nil, fmt.Errorf("referral: communities: %w", err)
	}
	for _, c := range covered {
		cs = append(cs, CommunityEntry{Key: strings.ReplaceAll(c, " ", "-"), Name: titleWords(c)})
	}
	return cs, nil
}

// titleWords capitalises each word of a normalised community name.
func titleWords(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// validateCommunities normalises the keys (as cases and services spell
// them) and refuses a list a survivor could not use: empty names, a key
// twice, the reserved "other", or a question too long for two GSM-7 SMS.
func (d *Directory) validateCommunities() []error {
	var errs []error
	bad := func(i int, key, what string) {
		errs = append(errs, fmt.Errorf("referral: directory: community #%d %q: %s", i+1, key, what))
	}
	seen := map[string]bool{}
	names := make([]string, 0, len(d.Communities))
	for i := range d.Communities {
		c := &d.Communities[i]
		c.Key = strings.ReplaceAll(normalizeCommunity(c.Key), " ", "-")
		c.Name = strings.Join(strings.Fields(c.Name), " ")
		switch {
		case c.Key == "" || c.Name == "":
			bad(i, c.Key, "needs a key and a name")
		case c.Key == otherCommunity || c.Key == AnyCommunity:
			bad(i, c.Key, "key: reserved")
		case seen[c.Key]:
			bad(i, c.Key, "key: duplicate")
		}
		seen[c.Key] = true
		names = append(names, c.Name)
	}
	if len(names) > 0 {
		fits, err := templates.CommunityPromptFits(names)
		if err != nil {
			return append(errs, err)
		}
		if !fits {
			errs = append(errs, fmt.Errorf("referral: directory: communities: the question listing them exceeds two SMS; use fewer or shorter names"))
		}
	}
	return errs
}

// exportCommunities reads the stored list, as the file writes it.
func exportCommunities(ctx context.Context, db DB) ([]CommunityEntry, error) {
	cs, err := storedCommunities(ctx, referraldb.New(db))
	if err != nil {
		return nil, fmt.Errorf("referral: export: %w", err)
	}
	return cs, nil
}

// storedCommunities reads the community table's list, in order.
func storedCommunities(ctx context.Context, q *referraldb.Queries) ([]CommunityEntry, error) {
	rows, err := q.Communities(ctx)
	if err != nil {
		return nil, err
	}
	cs := make([]CommunityEntry, len(rows))
	for i, row := range rows {
		cs[i] = CommunityEntry{Key: row.Key, Name: row.Name}
	}
	return cs, nil
}

// diffCommunities says how the file's list differs from the stored one:
// communities added or dropped, renamed, or offered in another order.
func diffCommunities(cur, next []CommunityEntry) []Change {
	if len(next) == 0 {
		return nil
	}
	var out []Change
	pos := map[string]int{}
	for i, c := range cur {
		pos[c.Key] = i
	}
	var kept []string
	for _, c := range next {
		i, ok := pos[c.Key]
		switch {
		case !ok:
			out = append(out, Change{Op: "add", What: "community", Key: c.Key})
			continue
		case cur[i].Name != c.Name:
			out = append(out, Change{Op: "change", What: "community", Key: c.Key, Fields: []string{"name"}})
		}
		kept = append(kept, c.Key)
	}
	var was []string
	for _, c := range cur {
		if slices.ContainsFunc(next, func(n CommunityEntry) bool { return n.Key == c.Key }) {
			was = append(was, c.Key)
		} else {
			out = append(out, Change{Op: "deactivate", What: "community", Key: c.Key})
		}
	}
	if !slices.Equal(was, kept) {
		out = append(out, Change{Op: "change", What: "community", Key: strings.Join(kept, ","), Fields: []string{"order"}})
	}
	return out
}
