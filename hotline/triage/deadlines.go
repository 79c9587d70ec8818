package triage

import "time"

// peru is the zone survivors speak in when they say "ayer" or give hours.
// Peru has a single zone and has not observed daylight saving since 1994, so
// a fixed offset is exact and needs no tzdata on the server.
var peru = time.FixedZone("PET", -5*60*60)

// startOfDay returns midnight, Peru time, daysAgo calendar days before now.
func startOfDay(now time.Time, daysAgo int) time.Time {
	y, m, d := now.In(peru).Date()
	return time.Date(y, m, d-daysAgo, 0, 0, 0, 0, peru).UTC()
}
