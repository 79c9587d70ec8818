package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSensitiveValuesNeverReachTheLog(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelDebug)

	const phone = "+51 987 654 321"
	log.Info("inbound sms",
		"from", "+51987654321",
		"body", "me pegó anoche",
		"case_id", "7f9c2b1e-3a44-4c1e-9d6f-0b8e2f1a5c3d",
		slog.Group("twilio", "to", "+51944111222", "status", "delivered"),
		"err", errors.New("lookup of "+phone+" failed"),
		"note", "call 987654321 back",
		"caller_id", Secret("+51 911 222 333"),
		"when", "2026-11-27 14:20",
		"numbers", []string{"+51 912 345 678"},
		"packet", struct{ Phone string }{"+51913000111"},
	)
	out := buf.String()
	for _, leaked := range []string{"987654321", "987 654 321", "pegó", "944111222", "911 222 333", "912 345 678", "913000111"} {
		if strings.Contains(out, leaked) {
			t.Errorf("log line leaks %q: %s", leaked, out)
		}
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not JSON: %v: %s", err, out)
	}
	if rec["case_id"] != "7f9c2b1e-3a44-4c1e-9d6f-0b8e2f1a5c3d" {
		t.Errorf("case id must stay legible, got %v", rec["case_id"])
	}
	if rec["when"] != "2026-11-27 14:20" {
		t.Errorf("dates must stay legible, got %v", rec["when"])
	}
	if rec["msg"] != "inbound sms" {
		t.Errorf("message lost: %v", rec["msg"])
	}
	if rec["from"] != Mask || rec["body"] != Mask || rec["caller_id"] != Mask {
		t.Errorf("sensitive keys not masked: %s", out)
	}
}

func TestSecretIsMaskedByFmt(t *testing.T) {
	s := Secret("+51987654321")
	for _, got := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v %+v", s, s, s, s), fmt.Errorf("x: %v", s).Error()} {
		if strings.Contains(got, "987654321") {
			t.Errorf("fmt leaks secret: %q", got)
		}
	}
}

func TestIDsThatLookLikeNumbersStayLegible(t *testing.T) {
	cases := []struct{ in, want string }{
		{"84629173-413c-47e8-aac4-c8a5a251da09", "84629173-413c-47e8-aac4-c8a5a251da09"},
		{"case 12345678-1234-4123-8123-123456789012 opened", "case 12345678-1234-4123-8123-123456789012 opened"},
		{"+51 987654321 12345678-1234-4123-8123-123456789012", Mask + " 12345678-1234-4123-8123-123456789012"},
		{"12345678-1234-4123-8123-123456789012 987654321", "12345678-1234-4123-8123-123456789012 " + Mask},
	}
	for _, c := range cases {
		if got := Scrub(c.in); got != c.want {
			t.Errorf("Scrub(%q) = %q, want %q", c.in, got, c.want)
		}
		var buf bytes.Buffer
		New(&buf, slog.LevelInfo).Info("x", "case_id", c.in)
		var rec map[string]any
		if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["case_id"] != c.want {
			t.Errorf("logged %q as %v, want %q", c.in, rec["case_id"], c.want)
		}
	}
}
