package crypto

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// DataKeySize is the length of a data key (DEK) in bytes.
const DataKeySize = chacha20poly1305.KeySize

var errNoDataKey = errors.New("crypto: data key not initialised")

// DataKey is the per-case or per-contact key that seals fields. It formats as
// "DataKey(redacted)" under every fmt verb so it cannot leak through a log
// line or an error built with %v.
type DataKey struct {
	key  []byte
	aead cipher.AEAD // built once: NewX copies the key, no need to redo it per call
}

// NewDataKey returns a fresh random data key.
func NewDataKey() (*DataKey, error) {
	b := make([]byte, DataKeySize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("crypto: reading random data key: %w", err)
	}
	return DataKeyFromBytes(b)
}

// DataKeyFromBytes builds a DataKey from raw bytes (an unwrapped DEK). The
// bytes are copied so the caller may clear its slice.
func DataKeyFromBytes(b []byte) (*DataKey, error) {
	if len(b) != DataKeySize {
		return nil, fmt.Errorf("crypto: data key must be %d bytes, got %d", DataKeySize, len(b))
	}
	k := append([]byte(nil), b...)
	aead, err := chacha20poly1305.NewX(k)
	if err != nil {
		return nil, fmt.Errorf("crypto: data key: %w", err)
	}
	return &DataKey{key: k, aead: aead}, nil
}

// Bytes returns a copy of the raw key. It exists only so the key can be
// wrapped; nothing else should need it.
func (d *DataKey) Bytes() []byte {
	if d == nil {
		return nil
	}
	return append([]byte(nil), d.key...)
}

// Seal encrypts plaintext bound to b. Sealing the same plaintext twice gives
// different bytes (random nonce).
func (d *DataKey) Seal(plaintext []byte, b Binding) ([]byte, error) {
	if d == nil || d.aead == nil {
		return nil, errNoDataKey
	}
	if !b.valid() {
		return nil, ErrInvalidBinding
	}
	return seal(d.aead, plaintext, b.ad())
}

// Open authenticates and decrypts a value sealed with Seal under the same
// key and binding. On any error the plaintext is nil.
func (d *DataKey) Open(sealed []byte, b Binding) ([]byte, error) {
	if d == nil || d.aead == nil {
		return nil, errNoDataKey
	}
	if !b.valid() {
		return nil, ErrInvalidBinding
	}
	return open(d.aead, sealed, b.ad())
}

const redactedDataKey = "DataKey(redacted)"

// String, GoString and Format use value receivers so that printing either a
// DataKey or a *DataKey is redacted.
func (DataKey) String() string   { return redactedDataKey }
func (DataKey) GoString() string { return redactedDataKey }

// Format covers every verb (%v, %+v, %#v, %s, %x, %q, ...), which String
// alone would not: %x of a struct would otherwise print its bytes.
func (DataKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redactedDataKey) }

// dekAD is the associated data that ties a wrapped DEK to its owner row.
func dekAD(owner string) []byte { return []byte("dek|" + owner) }

// WrapDataKey wraps dek with the wrapper's newest KEK, bound to owner (for
// example "case_file|<uuid>"). Store kekID and wrapped next to the owner row.
func WrapDataKey(w KeyWrapper, dek *DataKey, owner string) (kekID string, wrapped []byte, err error) {
	if dek == nil || dek.aead == nil {
		return "", nil, errNoDataKey
	}
	if owner == "" {
		return "", nil, errors.New("crypto: wrapping a data key needs an owner")
	}
	return w.WrapKey(dek.key, dekAD(owner))
}

// UnwrapDataKey reverses WrapDataKey. A wrapped key copied to another owner
// fails with ErrDecrypt; an unknown KEK id fails with ErrUnknownKEK.
func UnwrapDataKey(w KeyWrapper, kekID string, wrapped []byte, owner string) (*DataKey, error) {
	if owner == "" {
		return nil, errors.New("crypto: unwrapping a data key needs an owner")
	}
	raw, err := w.UnwrapKey(kekID, wrapped, dekAD(owner))
	if err != nil {
		return nil, err
	}
	dk, err := DataKeyFromBytes(raw)
	clear(raw)
	if err != nil {
		return nil, err
	}
	return dk, nil
}
