// Package logging owns amparo's structured logger: JSON through log/slog, with
// a handler that refuses to write a phone number or message content even when
// a caller passes one by mistake.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime"
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

// uuidLike finds the ids every log line is meant to carry. About one random
// UUID in forty starts with eight decimal digits, which phoneLike alone would
// mask, leaving a case id nobody can follow.
var uuidLike = regexp.MustCompile(`\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`)

// Redact applies the masking rules to one attribute; it has the signature of
// slog.HandlerOptions.ReplaceAttr.
func Redact(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
		return a
	}
	if sensitiveKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, Mask)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); phoneLike.MatchString(s) {
			return slog.String(a.Key, Scrub(s))
		}
	case slog.KindAny:
		// Errors, structs, slices and Stringers are all written as text in
		// the end; scrub that text rather than trusting their types.
		if s := fmt.Sprint(a.Value.Any()); phoneLike.MatchString(s) {
			return slog.String(a.Key, Scrub(s))
		}
	}
	return a
}

// PanicSite names where a panic happened (function and line of each frame,
// skipping skip frames), without the panic's value or the frames' arguments,
// which may hold whatever data the failing code was handling.
func PanicSite(skip int) string {
	pc := make([]uintptr, 16)
	frames := runtime.CallersFrames(pc[:runtime.Callers(skip+1, pc)])
	var b strings.Builder
	for {
		f, more := frames.Next()
		fmt.Fprintf(&b, "%s:%d;", f.Function, f.Line)
		if !more {
			return b.String()
		}
	}
}

// Scrub masks anything phone-like in free text, for text that leaves the
// process by another road than a log line (River's stored job errors).
func Scrub(s string) string {
	// Phone-like runs are searched for in a copy whose UUIDs are blanked out
	// (same length, so offsets carry over): a UUID is never masked, and a
	// number written next to one cannot hide inside it either.
	probe := []byte(s)
	for _, span := range uuidLike.FindAllStringIndex(s, -1) {
		for i := span[0]; i < span[1]; i++ {
			probe[i] = 'x'
		}
	}
	var b strings.Builder
	last := 0
	for _, span := range phoneLike.FindAllIndex(probe, -1) {
		b.WriteString(s[last:span[0]])
		b.WriteString(Mask)
		last = span[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// New returns a JSON logger writing to w at the given level, with Redact in
// place.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: Redact}))
}
