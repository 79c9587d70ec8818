// Package phone turns a phone number as people and carriers write it into
// the one E.164 form Amparo stores, indexes and texts. Every number that
// arrives (a survivor's caller ID, a provider's duty phone, an on-call
// shift, a number typed at the console) passes through Normalize, so one
// person always has one spelling and so one blind index (crypto.BlindIndex).
// It imports nothing of ours.
package phone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is used when a number has no country code: Amparo's
// first deployment is in Peru.
const DefaultRegion = "PE"

// maxInput bounds work on hostile input; no real number written with
// any punctuation comes close.
const maxInput = 64

// ErrInvalid: the input is not a valid phone number. The number itself
// is never part of the error, since error text ends up in logs.
var ErrInvalid = errors.New("phone: invalid phone number")

// Normalize returns the E.164 form of raw (e.g. "+51987654321"),
// reading numbers without a country code as belonging to defaultRegion
// (DefaultRegion if empty). It accepts international ("+51 987 654
// 321", "0051987654321") and national ("987654321", "(044) 123456") forms
// and rejects anything the numbering plan does not allow, so that one person
// always gets one index value.
func Normalize(raw string, defaultRegion string) (e164 string, err error) {
	if defaultRegion == "" {
		defaultRegion = DefaultRegion
	}
	if strings.TrimSpace(raw) == "" || len(raw) > maxInput {
		return "", fmt.Errorf("%w: empty or too long", ErrInvalid)
	}
	// The library is large third-party parsing code fed by anyone who can
	// send an SMS; a bug in it must become a rejected number, not a crash.
	defer func() {
		if r := recover(); r != nil {
			e164, err = "", fmt.Errorf("%w: unparseable", ErrInvalid)
		}
	}()
	num, perr := phonenumbers.Parse(raw, strings.ToUpper(defaultRegion))
	if perr != nil {
		return "", fmt.Errorf("%w: unparseable", ErrInvalid)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%w: not a valid number", ErrInvalid)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
