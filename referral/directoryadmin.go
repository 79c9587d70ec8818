package referral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral/internal/referraldb"
)

// ErrDemoMix refuses to put real and demo providers in one database: a
// demo duty phone is fictional, so a real survivor routed to it reaches
// nobody, and a demo run must never text a real provider.
var ErrDemoMix = errors.New("referral: directory: real and demo providers never share a database")

// InvalidDirectoryError is an import refused for what the file says (or
// for mixing it with demo data), not for a database failure. Its message
// names every problem, one a line, and holds nothing but the file's own
// keys and fields, so it may be shown to whoever supplied the file.
type InvalidDirectoryError struct{ Err error }

func (e *InvalidDirectoryError) Error() string { return e.Err.Error() }
func (e *InvalidDirectoryError) Unwrap() error { return e.Err }

// Problems lists the file's problems, one each.
func (e *InvalidDirectoryError) Problems() []string {
	return strings.Split(e.Err.Error(), "\n")
}

// ExportDirectory returns the directory as the file that, imported,
// changes nothing: every organisation and service, retired ones included.
func ExportDirectory(ctx context.Context, db DB) (Directory, error) {
	d := Directory{Timezone: defaultZone, Organizations: []Organization{}}
	q := referraldb.New(db)
	orgRows, err := q.ExportOrganizations(ctx)
	if err != nil {
		return d, fmt.Errorf("referral: export: %w", err)
	}
	demos := map[bool]bool{}
	orgs := map[string]int{}
	for _, o := range orgRows {
		orgs[o.Key] = len(d.Organizations)
		d.Organizations = append(d.Organizations, Organization{Key: o.Key, Name: o.Name, Services: []ServiceEntry{}})
		demos[o.Demo] = true
	}
	if len(demos) > 1 {
		return d, ErrDemoMix
	}
	d.Demo = demos[true]
	if d.Communities, err = exportCommunities(ctx, db); err != nil {
		return d, err
	}
	services, err := q.ExportServices(ctx)
	if err != nil {
		return d, fmt.Errorf("referral: export: %w", err)
	}
	zones := map[string]bool{}
	for _, s := range services {
		e, err := exportedService(s)
		if err != nil {
			return d, fmt.Errorf("referral: export: %w", err)
		}
		zones[s.Timezone] = true
		d.Timezone = s.Timezone
		i := orgs[s.OrganizationKey]
		d.Organizations[i].Services = append(d.Organizations[i].Services, e)
	}
	if len(zones) > 1 {
		return d, fmt.Errorf("referral: export: services are in %d time zones; the file holds one", len(zones))
	}
	return d, nil
}

// exportedService is a service row as the directory file writes it.
func exportedService(s referraldb.ExportServicesRow) (ServiceEntry, error) {
	e := ServiceEntry{
		Key: s.Key, Name: s.Name, Address: s.Address, Kind: Kind(s.Kind), Needs: make([]casefile.Need, len(s.Needs)),
		Communities: s.Communities, Capacity: int(s.Capacity), DutyPhone: s.DutyPhone, Lang: s.Lang,
		Priority: int(s.Priority), Next: s.NextKey, Active: &s.Active,
	}
	e.AckMinutes.Urgent, e.AckMinutes.Routine = int(s.AckUrgentMin), int(s.AckRoutineMin)
	for i, n := range s.Needs {
		e.Needs[i] = casefile.Need(n)
	}
	if err := json.Unmarshal(s.Hours, &e.Hours); err != nil {
		return e, fmt.Errorf("service %s: %w", e.Key, err)
	}
	return e, nil
}

// Change is one line of an import's difference from the database.
type Change struct {
	Op     string // "add", "change", "deactivate", or "absent" (in the database, not in the file: left as it is)
	What   string // "community", "organization" or "service"
	Key    string
	Fields []string // for "change": the fields that differ
}

func (c Change) String() string {
	switch c.Op {
	case "add":
		return fmt.Sprintf("+ %s %s", c.What, c.Key)
	case "change":
		return fmt.Sprintf("~ %s %s: %s", c.What, c.Key, strings.Join(c.Fields, ", "))
	case "deactivate":
		f := ""
		if len(c.Fields) > 0 {
			f = " (also " + strings.Join(c.Fields, ", ") + ")"
		}
		return fmt.Sprintf("- %s %s: deactivated%s", c.What, c.Key, f)
	default:
		return fmt.Sprintf("? %s %s: not in the file, left as it is (set \"active\": false to retire it)", c.What, c.Key)
	}
}

// ImportDirectory makes the database's directory what r says, all or
// nothing, and returns what differed. With dryRun it only returns the
// difference. A file equal to the database writes nothing at all, so
// importing twice changes nothing the second time. Services absent from
// the file are reported but left alone: retiring a provider is a
// deliberate "active": false, not a side effect of a shorter file.
func ImportDirectory(ctx context.Context, db DB, r io.Reader, dryRun bool, actor string, now time.Time) ([]Change, error) {
	d, err := parseDirectory(r)
	if err != nil {
		return nil, &InvalidDirectoryError{err}
	}
	var changes []Change
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		// Two imports at once would each diff against the other's
		// starting point.
		q := referraldb.New(tx)
		if err := q.LockDirectory(ctx); err != nil {
			return err
		}
		mixed, err := q.DirectoryHoldsOtherKind(ctx, d.Demo)
		if err != nil {
			return err
		}
		if mixed {
			if d.Demo {
				return &InvalidDirectoryError{fmt.Errorf("%w: the file is demo data and the database holds real providers", ErrDemoMix)}
			}
			return &InvalidDirectoryError{fmt.Errorf("%w: the database holds demo data (amparo demo); import the real directory into a database of its own", ErrDemoMix)}
		}
		cur, err := ExportDirectory(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkChains(cur, d); err != nil {
			return &InvalidDirectoryError{err}
		}
		changes = append(diffCommunities(cur.Communities, d.Communities), diffDirectory(cur, d)...)
		writes := slices.ContainsFunc(changes, func(c Change) bool { return c.Op != "absent" })
		if dryRun || !writes {
			return nil
		}
		if err := d.apply(ctx, tx); err != nil {
			return err
		}
		counts := map[string]int{}
		for _, c := range changes {
			counts[c.Op]++
		}
		return audit.Append(ctx, tx, now, audit.Entry{Actor: actor, Action: "directory.import",
			Detail: fmt.Sprintf("added %d, changed %d, deactivated %d", counts["add"], counts["change"], counts["deactivate"])})
	})
	return changes, err
}

// checkChains refuses an escalation link to a service neither in the file
// nor in the database. A chain that comes back round (two CEMs backing
// each other up, as in the demo directory) is allowed: escalation never
// offers a survivor's need to a service twice, so the loop just ends the
// chain; only a service escalating to itself is refused, in validate.
func checkChains(cur, d Directory) error {
	known := map[string]bool{}
	for _, dir := range []Directory{cur, d} {
		for _, o := range dir.Organizations {
			for _, s := range o.Services {
				known[s.Key] = true
			}
		}
	}
	var errs []error
	for _, o := range d.Organizations {
		for _, s := range o.Services {
			if s.Next != "" && !known[s.Next] {
				errs = append(errs, fmt.Errorf("referral: directory: organization %q, service %q: next: unknown service %q", o.Key, s.Key, s.Next))
			}
		}
	}
	return errors.Join(errs...)
}

func diffDirectory(cur, d Directory) []Change {
	type placed struct {
		org string
		s   ServiceEntry
	}
	curOrgs, curSvcs := map[string]Organization{}, map[string]placed{}
	for _, o := range cur.Organizations {
		curOrgs[o.Key] = o
		for _, s := range o.Services {
			curSvcs[s.Key] = placed{o.Key, s}
		}
	}
	var out []Change
	inFile := map[string]bool{}
	for _, o := range d.Organizations {
		inFile[o.Key] = true
		if old, ok := curOrgs[o.Key]; !ok {
			out = append(out, Change{Op: "add", What: "organization", Key: o.Key})
		} else if old.Name != o.Name {
			out = append(out, Change{Op: "change", What: "organization", Key: o.Key, Fields: []string{"name"}})
		}
		for _, s := range o.Services {
			inFile[s.Key] = true
			old, ok := curSvcs[s.Key]
			if !ok {
				out = append(out, Change{Op: "add", What: "service", Key: s.Key})
				continue
			}
			fields := serviceFields(old.s, s)
			if old.org != o.Key {
				fields = append(fields, "organization")
			}
			if cur.Timezone != d.Timezone {
				fields = append(fields, "timezone")
			}
			wasActive, isActive := *old.s.Active, s.Active == nil || *s.Active
			switch {
			case wasActive && !isActive:
				out = append(out, Change{Op: "deactivate", What: "service", Key: s.Key, Fields: fields})
			case wasActive != isActive:
				out = append(out, Change{Op: "change", What: "service", Key: s.Key, Fields: append(fields, "active")})
			case len(fields) > 0:
				out = append(out, Change{Op: "change", What: "service", Key: s.Key, Fields: fields})
			}
		}
	}
	for _, o := range cur.Organizations {
		if !inFile[o.Key] {
			out = append(out, Change{Op: "absent", What: "organization", Key: o.Key})
		}
		for _, s := range o.Services {
			if !inFile[s.Key] && *s.Active {
				out = append(out, Change{Op: "absent", What: "service", Key: s.Key})
			}
		}
	}
	return out
}

// serviceFields names the file fields in which a and b differ.
func serviceFields(a, b ServiceEntry) []string {
	var f []string
	diff := func(name string, differ bool) {
		if differ {
			f = append(f, name)
		}
	}
	ha, _ := json.Marshal(a.Hours)
	hb, _ := json.Marshal(b.Hours)
	diff("name", a.Name != b.Name)
	diff("address", a.Address != b.Address)
	diff("kind", a.Kind != b.Kind)
	diff("needs", !slices.Equal(a.Needs, b.Needs))
	diff("communities", !slices.Equal(a.Communities, b.Communities))
	diff("hours", string(ha) != string(hb))
	diff("capacity", a.Capacity != b.Capacity)
	diff("duty_phone", a.DutyPhone != b.DutyPhone)
	diff("lang", a.Lang != b.Lang)
	diff("ack_minutes", a.AckMinutes != b.AckMinutes)
	diff("priority", a.Priority != b.Priority)
	diff("next", a.Next != b.Next)
	return f
}
