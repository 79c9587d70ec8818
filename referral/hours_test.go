package referral

import (
	"encoding/json"
	"testing"
	"time"
)

func TestHoursOpenAt(t *testing.T) {
	t.Parallel()
	var h Hours
	if err := json.Unmarshal([]byte(`{"mon": ["08:00-13:00", "14:00-24:00"], "fri": ["20:00-08:00"]}`), &h); err != nil {
		t.Fatal(err)
	}
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 3, day, hour, minute, 0, 0, lima) } // 9 March 2026 is a Monday
	for _, tc := range []struct {
		t    time.Time
		open bool
	}{
		{at(9, 7, 59), false}, {at(9, 8, 0), true}, {at(9, 12, 59), true}, {at(9, 13, 0), false},
		{at(9, 23, 59), true}, {at(10, 0, 0), false},
		{at(13, 19, 59), false}, {at(13, 20, 0), true}, {at(14, 7, 59), true}, {at(14, 8, 0), false},
		{at(9, 13, 30).UTC(), false}, // read in Lima whatever the input zone
	} {
		if got := h.OpenAt(tc.t, lima); got != tc.open {
			t.Errorf("%s: open = %v, want %v", tc.t.In(lima).Format("Mon 15:04"), got, tc.open)
		}
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back Hours
	if err := json.Unmarshal(b, &back); err != nil || back.OpenAt(at(14, 7, 0), lima) != true {
		t.Fatalf("round trip %s: %v", b, err)
	}
	for _, bad := range []string{`"sometimes"`, `{"lun": ["08:00-10:00"]}`, `{"mon": ["8-10"]}`, `{"mon": ["10:00-10:00"]}`, `{"mon": ["24:00-02:00"]}`, `{"mon": ["08:60-10:00"]}`} {
		if json.Unmarshal([]byte(bad), &h) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestNormalizeCommunity(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"Florencia de Mora", "florencia_de_mora", " FLORENCIA  DE MORÁ ", "Florencia-de-Mora"} {
		if got := normalizeCommunity(in); got != "florencia de mora" {
			t.Errorf("%q → %q", in, got)
		}
	}
}
