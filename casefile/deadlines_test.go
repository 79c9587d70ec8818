package casefile_test

import (
	"testing"
	"time"

	"github.com/amparo/amparo/casefile"
)

// The boundaries of both clinical windows, to the minute: hour 72 (PEP) and
// hour 120 (EC) are still inside, the minute after is not.
func TestClinicalWindowsOpenThroughTheirLastMinute(t *testing.T) {
	incident := time.Date(2026, time.March, 10, 20, 17, 0, 0, time.UTC)
	d := casefile.ClinicalDeadlines(incident)
	if want := time.Date(2026, time.March, 13, 20, 17, 0, 0, time.UTC); !d.PEP.Equal(want) {
		t.Errorf("PEP deadline %v, want %v", d.PEP, want)
	}
	if want := time.Date(2026, time.March, 15, 20, 17, 0, 0, time.UTC); !d.EC.Equal(want) {
		t.Errorf("EC deadline %v, want %v", d.EC, want)
	}
	hm := func(h, m int) time.Time {
		return incident.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	for _, tt := range []struct {
		name    string
		at      time.Time
		pep, ec bool
	}{
		{"71:59", hm(71, 59), true, true},
		{"72:00", hm(72, 0), true, true},
		{"72:01", hm(72, 1), false, true},
		{"119:59", hm(119, 59), false, true},
		{"120:00", hm(120, 0), false, true},
		{"120:01", hm(120, 1), false, false},
	} {
		if got := casefile.WindowOpen(d.PEP, tt.at); got != tt.pep || d.PEPOpen(tt.at) != tt.pep {
			t.Errorf("%s: PEP open %v, want %v", tt.name, got, tt.pep)
		}
		if got := casefile.WindowOpen(d.EC, tt.at); got != tt.ec || d.ECOpen(tt.at) != tt.ec {
			t.Errorf("%s: EC open %v, want %v", tt.name, got, tt.ec)
		}
	}
	// The instant after the deadline is already outside.
	if casefile.WindowOpen(d.PEP, d.PEP.Add(time.Nanosecond)) {
		t.Error("PEP open a nanosecond after its deadline")
	}
}
