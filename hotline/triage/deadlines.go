package triage

import "time"

// Clinical windows after sexual violence: post-exposure prophylaxis must
// start within 72 hours, emergency contraception within 120.
const (
	PEPWindow = 72 * time.Hour
	ECWindow  = 120 * time.Hour
)

// Deadlines are the last moments care can start; a window is open while
// the current time is strictly before its deadline.
type Deadlines struct {
	PEP time.Time
	EC  time.Time
}

// ClinicalDeadlines returns the deadlines for an incident at incidentAt.
func ClinicalDeadlines(incidentAt time.Time) Deadlines {
	return Deadlines{PEP: incidentAt.Add(PEPWindow), EC: incidentAt.Add(ECWindow)}
}

// PEPOpen reports whether prophylaxis can still start at now.
func (d Deadlines) PEPOpen(now time.Time) bool { return now.Before(d.PEP) }

// ECOpen reports whether emergency contraception can still start at now.
func (d Deadlines) ECOpen(now time.Time) bool { return now.Before(d.EC) }

// peru is the zone survivors speak in when they say "ayer" or give hours.
// Peru has a single zone and has not observed daylight saving since 1994, so
// a fixed offset is exact and needs no tzdata on the server.
var peru = time.FixedZone("PET", -5*60*60)

// startOfDay returns midnight, Peru time, daysAgo calendar days before now.
func startOfDay(now time.Time, daysAgo int) time.Time {
	y, m, d := now.In(peru).Date()
	return time.Date(y, m, d-daysAgo, 0, 0, 0, 0, peru).UTC()
}
