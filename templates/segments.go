package templates

import "unicode/utf16"

// Encodings reported by Segments.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Per-segment capacities from 3GPP TS 23.040: a concatenated message spends
// part of each segment on the user-data header, hence 153 and 67.
const (
	gsmSingle  = 160
	gsmMulti   = 153
	ucs2Single = 70
	ucs2Multi  = 67
)

// gsmBasic is the GSM 03.38 default alphabet. Spanish loses it on á í ó ú
// (and their capitals), which is why a single accent halves the room.
var gsmBasic = map[rune]bool{}

// gsmExtension characters travel as ESC + code, two septets each.
var gsmExtension = map[rune]bool{
	'\f': true, '^': true, '{': true, '}': true, '\\': true,
	'[': true, '~': true, ']': true, '|': true, '€': true,
}

func init() {
	for _, r := range "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà" {
		gsmBasic[r] = true
	}
}

// Segments reports how a carrier will encode text and how many SMS segments
// it costs. Units that must stay together (an escape pair in GSM-7, a
// surrogate pair in UCS-2) are never split across segments, as handsets and
// carriers do, so a message can need one more segment than a plain division
// would suggest.
func Segments(text string) (encoding string, segments int) {
	units, ok := gsmUnits(text)
	single, multi := gsmSingle, gsmMulti
	encoding = GSM7
	if !ok {
		units = ucs2Units(text)
		single, multi = ucs2Single, ucs2Multi
		encoding = UCS2
	}
	total := 0
	for _, u := range units {
		total += u
	}
	if total <= single {
		return encoding, 1
	}
	segments, used := 1, 0
	for _, u := range units {
		if used+u > multi {
			segments++
			used = 0
		}
		used += u
	}
	return encoding, segments
}

// gsmUnits returns the septet cost of each character, or false when some
// character has no GSM-7 encoding.
func gsmUnits(text string) ([]int, bool) {
	units := make([]int, 0, len(text))
	for _, r := range text {
		switch {
		case gsmBasic[r]:
			units = append(units, 1)
		case gsmExtension[r]:
			units = append(units, 2)
		default:
			return nil, false
		}
	}
	return units, true
}

// ucs2Units returns the UTF-16 code-unit cost of each character; carriers
// send "UCS-2" as UTF-16, so characters beyond the BMP cost two.
func ucs2Units(text string) []int {
	units := make([]int, 0, len(text))
	for _, r := range text {
		units = append(units, utf16.RuneLen(r))
	}
	return units
}
