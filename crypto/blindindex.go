package crypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
)

// PurposePhone is the Token purpose used by Current and Candidates.
const PurposePhone = "phone.e164"

// BlindIndex computes keyed, deterministic lookup tokens. The first key is
// current; the others are still accepted for lookups during a rotation.
type BlindIndex struct {
	keys []namedKey
}

// Current is the phone index to store, under the current key. e164 must
// come from phone.Normalize: a differently formatted number gives a
// different index.
func (b *BlindIndex) Current(e164 string) []byte { return b.Token(PurposePhone, e164) }

// Candidates returns the phone index under every accepted key, current
// first; look up with all of them (e.g. WHERE idx = ANY($1)).
func (b *BlindIndex) Candidates(e164 string) [][]byte { return b.TokenCandidates(PurposePhone, e164) }

// Token is a keyed index of value for a purpose. Different purposes never
// give equal tokens for the same value, so, say, a code-word index can never
// be matched against a phone index.
func (b *BlindIndex) Token(purpose, value string) []byte {
	return token(b.keys[0].key, purpose, value)
}

// TokenCandidates is Token under every accepted key, current first.
func (b *BlindIndex) TokenCandidates(purpose, value string) [][]byte {
	out := make([][]byte, len(b.keys))
	for i, k := range b.keys {
		out[i] = token(k.key, purpose, value)
	}
	return out
}

// CurrentKeyID is the id of the key Current and Token use, so a re-index
// job can record which rows are done.
func (b *BlindIndex) CurrentKeyID() string { return b.keys[0].id }

// KeyIDs lists accepted index-key ids, current first.
func (b *BlindIndex) KeyIDs() []string { return ids(b.keys) }

// String prints only ids.
func (b *BlindIndex) String() string {
	if b == nil {
		return "BlindIndex(nil)"
	}
	return fmt.Sprintf("BlindIndex(keys=%v)", ids(b.keys))
}

// Format routes every verb through String so keys never print.
func (b *BlindIndex) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, b.String()) }

func token(key []byte, purpose, value string) []byte {
	m := hmac.New(sha256.New, key)
	msg := make([]byte, 0, 12+len(domainIndex)+len(purpose)+len(value))
	msg = appendLP(msg, domainIndex)
	msg = appendLP(msg, purpose)
	msg = appendLP(msg, value)
	m.Write(msg)
	return m.Sum(nil)
}
