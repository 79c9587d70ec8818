package referral

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // routing needs America/Lima even on hosts without a zoneinfo database
)

// Hours is a weekly opening schedule in the provider's local time. A span
// whose end is not after its start runs past midnight into the next day
// (a night shift "20:00-08:00").
type Hours struct {
	Always bool
	Week   [7][]Span // indexed by time.Weekday
}

// Span is an opening interval in minutes after local midnight; End may be
// 1440 ("24:00").
type Span struct{ Start, End int }

var dayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// UnmarshalJSON reads "always" or {"mon": ["08:00-20:00"], ...}.
func (h *Hours) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "always" {
			return fmt.Errorf("referral: hours: %q is neither \"always\" nor a weekly schedule", s)
		}
		*h = Hours{Always: true}
		return nil
	}
	var days map[string][]string
	if err := json.Unmarshal(b, &days); err != nil {
		return fmt.Errorf("referral: hours: %w", err)
	}
	var out Hours
	for key, spans := range days {
		d := -1
		for i, k := range dayKeys {
			if k == strings.ToLower(key) {
				d = i
			}
		}
		if d < 0 {
			return fmt.Errorf("referral: hours: unknown day %q (use sun..sat)", key)
		}
		for _, raw := range spans {
			sp, err := parseSpan(raw)
			if err != nil {
				return err
			}
			out.Week[d] = append(out.Week[d], sp)
		}
	}
	*h = out
	return nil
}

// MarshalJSON writes the form UnmarshalJSON reads, so the schedule can live
// in a jsonb column.
func (h Hours) MarshalJSON() ([]byte, error) {
	if h.Always {
		return json.Marshal("always")
	}
	days := map[string][]string{}
	for d, spans := range h.Week {
		for _, sp := range spans {
			days[dayKeys[d]] = append(days[dayKeys[d]], fmt.Sprintf("%s-%s", hhmm(sp.Start), hhmm(sp.End)))
		}
	}
	return json.Marshal(days)
}

// OpenAt reports whether the provider is open at t, read in loc.
func (h Hours) OpenAt(t time.Time, loc *time.Location) bool {
	if h.Always {
		return true
	}
	t = t.In(loc)
	minute := t.Hour()*60 + t.Minute()
	today := t.Weekday()
	for _, sp := range h.Week[today] {
		if sp.End > sp.Start && minute >= sp.Start && minute < sp.End {
			return true
		}
		if sp.End <= sp.Start && minute >= sp.Start {
			return true
		}
	}
	for _, sp := range h.Week[(today+6)%7] {
		if sp.End <= sp.Start && minute < sp.End {
			return true
		}
	}
	return false
}

// closed reports a schedule with no opening at all, almost certainly a
// mistake in the directory file.
func (h Hours) closed() bool {
	for _, spans := range h.Week {
		if len(spans) > 0 {
			return false
		}
	}
	return !h.Always
}

var errSpan = errors.New("referral: hours: spans look like \"08:00-20:00\"")

func parseSpan(s string) (Span, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Span{}, errSpan
	}
	start, err1 := parseHHMM(a)
	end, err2 := parseHHMM(b)
	if err1 != nil || err2 != nil || start == 1440 || start == end {
		return Span{}, errSpan
	}
	return Span{start, end}, nil
}

func parseHHMM(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, errSpan
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, errSpan
	}
	return hh*60 + mm, nil
}

func hhmm(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// String is the schedule as the directory file writes it, Monday first:
// "always", or "mon 07:00-19:00, sat 07:00-13:00".
func (h Hours) String() string {
	if h.Always {
		return "always"
	}
	var days []string
	for i := range 7 {
		d := (i + 1) % 7
		for _, sp := range h.Week[d] {
			days = append(days, dayKeys[d]+" "+hhmm(sp.Start)+"-"+hhmm(sp.End))
		}
	}
	return strings.Join(days, ", ")
}
