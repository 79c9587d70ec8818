package crypto

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Errors returned when sealed data cannot be opened. They are deliberately
// coarse: telling an attacker which check failed helps only the attacker.
var (
	// ErrTruncated: the value is shorter than version + nonce + tag, so it
	// cannot be a complete sealed value.
	ErrTruncated = errors.New("crypto: sealed value truncated")
	// ErrUnknownVersion: the first byte is not a format this code knows.
	ErrUnknownVersion = errors.New("crypto: unknown sealed format version")
	// ErrDecrypt: authentication failed (wrong key, tampered bytes, or a
	// value bound to another table, column, row or owner).
	ErrDecrypt = errors.New("crypto: cannot decrypt: wrong key, tampered data or wrong binding")
	// ErrUnknownKEK: a wrapped key names a KEK that is not in the keyring
	// (for example because it was retired too early).
	ErrUnknownKEK = errors.New("crypto: unknown KEK id")
	// ErrInvalidBinding: a Binding with an empty field. Sealing with an empty
	// row id would let the value be replayed into any row, so it is refused.
	ErrInvalidBinding = errors.New("crypto: binding needs table, column and row id")
)

const (
	formatV1  byte = 0x01
	nonceSize      = chacha20poly1305.NonceSizeX
	tagSize        = chacha20poly1305.Overhead
	// Overhead is how many bytes sealing adds to a plaintext (version byte,
	// nonce and tag); useful for sizing columns.
	Overhead = 1 + nonceSize + tagSize
)

// Domain labels keep associated data of one use from ever equalling that of
// another use, even if a key were (wrongly) shared between them.
const (
	domainField   = "amparo.field.v1"
	domainKEKWrap = "amparo.kek-wrap.v1"
	domainIndex   = "amparo.blind-index.v1"
)

// appendLP appends s with a 4-byte big-endian length prefix, which makes a
// sequence of fields injective: no two different sequences encode equally.
func appendLP(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// seal produces version || nonce || ciphertext+tag. The version byte is also
// the first byte of ad (callers build ad with it) so it is authenticated.
func seal(aead cipher.AEAD, plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, Overhead+len(plaintext))
	out[0] = formatV1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("crypto: reading random nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, ad), nil
}

func open(aead cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrTruncated
	}
	if sealed[0] != formatV1 {
		return nil, ErrUnknownVersion
	}
	pt, err := aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	if pt == nil {
		// An empty plaintext that authenticated is a success; keep it
		// distinguishable from the nil returned on every failure.
		pt = []byte{}
	}
	return pt, nil
}

// Binding names the place a sealed value belongs to. It is not stored with
// the value: the reader supplies it from where the value was found, so a
// value copied elsewhere fails to open.
type Binding struct{ Table, Column, RowID string }

func (b Binding) valid() bool { return b.Table != "" && b.Column != "" && b.RowID != "" }

func (b Binding) ad() []byte {
	ad := make([]byte, 0, 1+4*4+len(domainField)+len(b.Table)+len(b.Column)+len(b.RowID))
	ad = append(ad, formatV1)
	ad = appendLP(ad, domainField)
	ad = appendLP(ad, b.Table)
	ad = appendLP(ad, b.Column)
	return appendLP(ad, b.RowID)
}
