package casefile

import "time"

// Clinical windows counted from the incident: post-exposure prophylaxis must
// start within 72 hours, emergency contraception within 120.
const (
	PEPWindow = 72 * time.Hour
	ECWindow  = 120 * time.Hour
)

// Deadlines are the last moments care can start.
type Deadlines struct {
	PEP time.Time
	EC  time.Time
}

// ClinicalDeadlines returns the deadlines for an incident at incidentAt.
func ClinicalDeadlines(incidentAt time.Time) Deadlines {
	return Deadlines{PEP: incidentAt.Add(PEPWindow), EC: incidentAt.Add(ECWindow)}
}

// WindowOpen reports whether care whose window ends at deadline can still
// start at now. It is the one definition of "open" for the triage, routing
// and everything else. Clinical guidance words the PEP window as "as soon as
// possible and no later than 72 hours after exposure": hour 72 itself is
// inside, so a window is open while the time elapsed is at most its length
// (now <= deadline) and closed from the first instant after.
func WindowOpen(deadline, now time.Time) bool { return !now.After(deadline) }

// PEPOpen reports whether prophylaxis can still start at now.
func (d Deadlines) PEPOpen(now time.Time) bool { return WindowOpen(d.PEP, now) }

// ECOpen reports whether emergency contraception can still start at now.
func (d Deadlines) ECOpen(now time.Time) bool { return WindowOpen(d.EC, now) }
