// Package logging owns amparo's structured logger: JSON through log/slog, with
// a handler that refuses to write a phone number or message content even when
// a caller passes one by mistake.
package logging

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
)

// Mask is what a redacted value is written as.
const Mask = "[redacted]"

// Secret wraps a value that must never reach a log line (a phone number, a
// message body). It logs as Mask, whatever handler writes it, and prints as
// Mask through fmt too.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(Mask) }

// String keeps fmt-based formatting (errors, %v) from leaking the value.
func (Secret) String() string { return Mask }

// GoString covers %#v, which would otherwise print the raw string.
func (Secret) GoString() string { return Mask }

// sensitiveKeys are attribute names whose values are content or contact
// details by their nature; whatever a caller puts under them is masked.
var sensitiveKeys = map[string]bool{
	"body": true, "from": true, "to": true, "phone": true, "number": true,
	"text": true, "narrative": true, "name": true, "message": true,
	"content": true, "code_word": true, "password": true, "token": true,
	"caller": true, "called": true, "digits": true, "speech": true,
}

// phoneLike catches numbers written into free text (error strings): an
// international prefix, an unbroken run of eight or more digits, or the
// common Peruvian mobile grouping "987 654 321". Dates and ports stay legible.
var phoneLike = regexp.MustCompile(`\+\s?\d[\d \-().]{5,}\d|\b\d{8,}\b|\b\d{3}[ \-]\d{3}[ \-]\d{3}\b`)

// Redact applies the masking rules to one attribute; it has the signature of
// slog.HandlerOptions.ReplaceAttr.
func Redact(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
		return a
	}
	if sensitiveKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, Mask)
	}
	if a.Value.Kind() == slog.KindString {
		if s := a.Value.String(); phoneLike.MatchString(s) {
			return slog.String(a.Key, phoneLike.ReplaceAllString(s, Mask))
		}
	}
	if a.Value.Kind() == slog.KindAny {
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, phoneLike.ReplaceAllString(err.Error(), Mask))
		}
	}
	return a
}

// New returns a JSON logger writing to w at the given level, with Redact in
// place.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: Redact}))
}
