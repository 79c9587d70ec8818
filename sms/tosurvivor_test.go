package sms

import (
	"testing"
	"time"
)

// lima is where the test survivor's hours are read.
var lima = func() *time.Location {
	l, err := time.LoadLocation("America/Lima")
	if err != nil {
		panic(err)
	}
	return l
}()

func TestContactAtFollowsHerProfile(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, lima) }
	morning := ContactProfile{MayText: true, FromHour: 9, ToHour: 12, Zone: lima}
	night := ContactProfile{MayText: true, FromHour: 20, ToHour: 8, Zone: lima}
	for _, c := range []struct {
		name string
		p    ContactProfile
		now  time.Time
		want time.Time // zero: never
	}{
		{"inside her hours", morning, at(10, 10, 0), at(10, 10, 0)},
		{"at the opening hour", morning, at(10, 9, 0), at(10, 9, 0)},
		{"a minute before it", morning, at(10, 8, 59), at(10, 9, 0)},
		{"at the closing hour: tomorrow", morning, at(10, 12, 0), at(11, 9, 0)},
		{"evening: tomorrow morning", morning, at(10, 20, 30), at(11, 9, 0)},
		{"wrapping hours, late", night, at(10, 23, 0), at(10, 23, 0)},
		{"wrapping hours, early", night, at(10, 7, 59), at(10, 7, 59)},
		{"wrapping hours, day", night, at(10, 8, 0), at(10, 20, 0)},
		{"any hour", ContactProfile{MayText: true, FromHour: 0, ToHour: 24, Zone: lima}, at(10, 3, 0), at(10, 3, 0)},
		{"equal hours are any hour", ContactProfile{MayText: true, FromHour: 7, ToHour: 7, Zone: lima}, at(10, 3, 0), at(10, 3, 0)},
		{"until midnight", ContactProfile{MayText: true, FromHour: 18, ToHour: 24, Zone: lima}, at(10, 23, 59), at(10, 23, 59)},
		{"calls only", ContactProfile{MayText: false, FromHour: 9, ToHour: 12, Zone: lima}, at(10, 10, 0), time.Time{}},
		{"she said SALIR", ContactProfile{MayText: true, Stopped: true, Zone: lima}, at(10, 10, 0), time.Time{}},
		{"erased", ContactProfile{MayText: true, Gone: true, Zone: lima}, at(10, 10, 0), time.Time{}},
		// Her hours are read in the deployment's zone, not the server's.
		{"another zone", ContactProfile{MayText: true, FromHour: 9, ToHour: 12, Zone: time.UTC}, at(10, 10, 0), time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)},
	} {
		got, ok := ContactAt(c.p, c.now)
		if ok != !c.want.IsZero() || (ok && !got.Equal(c.want)) {
			t.Errorf("%s: ContactAt = %v, %v; want %v", c.name, got.In(lima), ok, c.want.In(lima))
		}
	}
}
