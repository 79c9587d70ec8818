package referral

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/fold"
	"github.com/amparo/amparo/phone"
	"github.com/amparo/amparo/referral/internal/referraldb"
)

// DB is a pool or a transaction: casefile's, so one value serves both.
type DB = casefile.DB

// Kind is what sort of provider a service is.
type Kind string

// Provider kinds.
const (
	HealthPost   Kind = "health_post"
	Police       Kind = "police"
	Shelter      Kind = "shelter"
	CEM          Kind = "cem" // Centro Emergencia Mujer
	LegalAid     Kind = "legal_aid"
	Psychosocial Kind = "psychosocial"
)

var kinds = []Kind{HealthPost, Police, Shelter, CEM, LegalAid, Psychosocial}

// maxPlace bounds a service's name and address together: with the rest
// of the "where to go" text they fit two SMS segments.
const maxPlace = 140

// AnyCommunity in a provider's communities covers every community.
const AnyCommunity = "*"

//go:embed demo/directory.json
var demoDirectory []byte

// DemoDirectory is the fictional directory for El Porvenir, La Esperanza and
// Florencia de Mora that `amparo demo` loads. Every entry is marked demo.
func DemoDirectory() io.Reader { return strings.NewReader(string(demoDirectory)) }

// HasRealProviders reports whether the directory holds an organisation not
// marked demo: `amparo demo` refuses such a database, since its fictional
// duty phones must never receive a real survivor's referral.
func HasRealProviders(ctx context.Context, db DB) (bool, error) {
	real, err := referraldb.New(db).HasRealProviders(ctx)
	if err != nil {
		return false, fmt.Errorf("referral: directory: %w", err)
	}
	return real, nil
}

//go:embed demo/roster.json
var demoRoster []byte

// DemoRoster is who is on duty in `amparo demo`, on fictional phones: the
// on-call staff, and the fallback duty phones (AMPARO_FALLBACK_DUTY_NUMBERS).
type DemoRoster struct {
	OnCall []struct {
		Role  string `json:"role"`
		Phone string `json:"phone"`
	} `json:"on_call"`
	FallbackDuty []string `json:"fallback_duty"`
}

// LoadDemoRoster returns the demo roster embedded beside the demo directory.
func LoadDemoRoster() (DemoRoster, error) {
	var r DemoRoster
	dec := json.NewDecoder(strings.NewReader(string(demoRoster)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("referral: demo roster: %w", err)
	}
	return r, nil
}

// Directory is the file format LoadDirectory reads. Keys are stable
// identifiers chosen by whoever maintains the file: loading again updates
// rows in place, so referrals keep pointing at the same provider.
type Directory struct {
	Demo     bool   `json:"demo"`
	Timezone string `json:"timezone"`
	// Communities are what a survivor picks from, in this order, before
	// "other". A file without them leaves the database's list as it is.
	Communities   []CommunityEntry `json:"communities,omitempty"`
	Organizations []Organization   `json:"organizations"`
}

// CommunityEntry is one community offered to survivors.
type CommunityEntry struct {
	Key  string `json:"key"`  // as cases store it, e.g. "el-porvenir"; services' communities match it
	Name string `json:"name"` // as she reads it in the question, e.g. "El Porvenir"
}

// Organization groups the services of one institution.
type Organization struct {
	Key      string         `json:"key"`
	Name     string         `json:"name"`
	Services []ServiceEntry `json:"services"`
}

// ServiceEntry is one provider as written in the directory file.
type ServiceEntry struct {
	Key         string          `json:"key"`
	Name        string          `json:"name"`
	Address     string          `json:"address"` // a health post's name and address are texted to her (SurvivorNotice)
	Kind        Kind            `json:"kind"`
	Needs       []casefile.Need `json:"needs"`
	Communities []string        `json:"communities"`
	Hours       Hours           `json:"hours"`
	Capacity    int             `json:"capacity"`
	DutyPhone   string          `json:"duty_phone"`
	Lang        string          `json:"lang"`
	AckMinutes  struct {
		Urgent  int `json:"urgent"`
		Routine int `json:"routine"`
	} `json:"ack_minutes"`
	Priority int `json:"priority"`
	// Next is the key of the service to escalate to.
	Next   string `json:"next"`
	Active *bool  `json:"active"`
}

// LoadDirectory upserts the organisations and services in r, by key, all or
// nothing. Keys absent from r are left alone: retiring a provider is a
// deliberate act (set "active": false), not a side effect of a shorter file.
func LoadDirectory(ctx context.Context, db DB, r io.Reader) error {
	d, err := parseDirectory(r)
	if err != nil {
		return err
	}
	// One transaction (a savepoint when db is already one): a file that
	// fails half-way, e.g. on an escalation link to a service that does not
	// exist, leaves the directory as it was rather than half-loaded.
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return d.apply(ctx, tx) })
}

// parseDirectory reads and validates a directory file. A decoding error
// names the line it stopped at, since it cannot name the entry.
func parseDirectory(r io.Reader) (Directory, error) {
	var d Directory
	var buf strings.Builder
	dec := json.NewDecoder(io.TeeReader(io.LimitReader(r, 4<<20), &buf))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		line := 1 + strings.Count(buf.String()[:min(int(dec.InputOffset()), buf.Len())], "\n")
		return d, fmt.Errorf("referral: directory: line %d: %w", line, err)
	}
	// A second value, or a stray brace, means the file is not what its
	// author thinks: refuse it rather than load the first half.
	if _, err := dec.Token(); err != io.EOF {
		return d, errors.New("referral: directory: invalid character after the directory's closing brace")
	}
	return d, d.validate()
}

func (d *Directory) apply(ctx context.Context, tx pgx.Tx) error {
	q := referraldb.New(tx)
	if len(d.Communities) > 0 {
		// The list is replaced whole: its order is part of what it says.
		if err := q.DeleteCommunities(ctx); err != nil {
			return fmt.Errorf("referral: directory: communities: %w", err)
		}
		for i, c := range d.Communities {
			if err := q.InsertCommunity(ctx, referraldb.InsertCommunityParams{
				Key: c.Key, Name: c.Name, Position: int32(i + 1), Demo: d.Demo}); err != nil {
				return fmt.Errorf("referral: directory: community %s: %w", c.Key, err)
			}
		}
	}
	for _, o := range d.Organizations {
		orgID, err := q.UpsertOrganization(ctx, o.Key, o.Name, d.Demo)
		if err != nil {
			return fmt.Errorf("referral: directory: upsert organization: %w", err)
		}
		for _, s := range o.Services {
			hours, err := json.Marshal(s.Hours)
			if err != nil {
				return err
			}
			needs := make([]string, len(s.Needs))
			for i, n := range s.Needs {
				needs[i] = string(n)
			}
			// The integers fit int4: validate refused any that does not.
			err = q.UpsertService(ctx, referraldb.UpsertServiceParams{
				Key: s.Key, OrganizationID: orgID, Name: s.Name, Kind: string(s.Kind), Needs: needs,
				Communities: s.Communities, Hours: hours, Timezone: d.Timezone, Capacity: int32(s.Capacity),
				DutyPhone: s.DutyPhone, Lang: s.Lang, AckUrgentMin: int32(s.AckMinutes.Urgent),
				AckRoutineMin: int32(s.AckMinutes.Routine), Priority: int32(s.Priority),
				Active: s.Active == nil || *s.Active, Demo: d.Demo, Address: s.Address})
			if err != nil {
				return fmt.Errorf("referral: directory: upsert service %s: %w", s.Key, err)
			}
		}
	}
	// Links are set in a second pass because a chain may point forward in
	// the file; an escalation target may also live in an earlier load.
	for _, o := range d.Organizations {
		for _, s := range o.Services {
			next, err := q.LinkService(ctx, s.Next, s.Key)
			if err != nil {
				return fmt.Errorf("referral: directory: link %s: %w", s.Key, err)
			}
			if s.Next != "" && next == nil {
				return fmt.Errorf("referral: directory: service %s escalates to unknown service %q", s.Key, s.Next)
			}
		}
	}
	return nil
}

// defaultZone is the time zone of a directory that names none.
const defaultZone = "America/Lima"

// DirectoryZone returns the deployment's time zone: the directory's (the
// zone most of its services are in), or defaultZone before any is loaded.
// Survivors' contact hours are read in it.
func DirectoryZone(ctx context.Context, db DB) (*time.Location, error) {
	name, err := referraldb.New(db).DirectoryZone(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		name, err = defaultZone, nil
	}
	if err != nil {
		return nil, fmt.Errorf("referral: directory zone: %w", err)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("referral: directory zone: %w", err)
	}
	return loc, nil
}

// validate checks the file and normalises it in place (phones to E.164,
// community names to their matching form, defaults filled in). It reports
// every problem, each naming the organisation, the service and the field,
// so whoever keeps the file can fix it in one pass.
func (d *Directory) validate() error {
	var errs []error
	if d.Timezone == "" {
		d.Timezone = defaultZone
	}
	if _, err := time.LoadLocation(d.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("referral: directory: timezone: %w", err))
	}
	errs = append(errs, d.validateCommunities()...)
	seen, seenOrg := map[string]bool{}, map[string]bool{}
	for oi := range d.Organizations {
		o := &d.Organizations[oi]
		if o.Key == "" || o.Name == "" {
			errs = append(errs, fmt.Errorf("referral: directory: organization #%d %q: needs a key and a name", oi+1, o.Key))
		}
		if seenOrg[o.Key] && o.Key != "" {
			errs = append(errs, fmt.Errorf("referral: directory: organization %q: key: duplicate", o.Key))
		}
		seenOrg[o.Key] = true
		for si := range o.Services {
			s := &o.Services[si]
			bad := func(field, what string) {
				errs = append(errs, fmt.Errorf("referral: directory: organization %q, service %q: %s: %s", o.Key, s.Key, field, what))
			}
			if s.Key == "" || s.Name == "" {
				bad("key, name", "needs a key and a name")
			}
			// Name and address travel in one text to her, which must stay
			// within two SMS segments.
			if len(s.Name)+len(s.Address) > maxPlace {
				bad("name, address", fmt.Sprintf("together exceed %d bytes", maxPlace))
			}
			if seen[s.Key] && s.Key != "" {
				bad("key", "duplicate")
			}
			seen[s.Key] = true
			if !slices.Contains(kinds, s.Kind) {
				bad("kind", fmt.Sprintf("unknown kind %q (want one of %v)", s.Kind, kinds))
			}
			if len(s.Needs) == 0 {
				bad("needs", "serves no need")
			}
			for _, n := range s.Needs {
				if !slices.Contains(casefile.Needs, n) {
					bad("needs", fmt.Sprintf("unknown need %q (want one of %v)", n, casefile.Needs))
				}
			}
			if len(s.Communities) == 0 {
				bad("communities", "covers no community")
			}
			for i, c := range s.Communities {
				s.Communities[i] = normalizeCommunity(c)
			}
			if s.Capacity < 0 {
				bad("capacity", "negative")
			}
			// The columns are int4.
			for _, n := range []struct {
				field string
				v     int
			}{{"capacity", s.Capacity}, {"ack_minutes", s.AckMinutes.Urgent}, {"ack_minutes", s.AckMinutes.Routine}, {"priority", s.Priority}} {
				if n.v > math.MaxInt32 || n.v < math.MinInt32 {
					bad(n.field, "too large")
				}
			}
			if s.AckMinutes.Urgent <= 0 || s.AckMinutes.Routine <= 0 {
				bad("ack_minutes", ".urgent and .routine must be positive")
			}
			if s.Hours.closed() {
				bad("hours", "no opening hours")
			}
			duty, err := phone.Normalize(s.DutyPhone, "")
			if err != nil {
				bad("duty_phone", "not a valid phone number")
			}
			s.DutyPhone = duty
			if s.Lang == "" {
				s.Lang = "es"
			}
			if s.Next == s.Key && s.Key != "" {
				bad("next", "escalates to itself")
			}
		}
	}
	return errors.Join(errs...)
}

// normalizeCommunity makes "Florencia de Mora", "florencia_de_mora" and
// "FLORENCIA DE MORÁ" the same, since case and directory are typed by
// different people.
func normalizeCommunity(s string) string {
	if strings.TrimSpace(s) == AnyCommunity {
		return AnyCommunity
	}
	var b strings.Builder
	space := false
	for _, r := range fold.Plain(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}
