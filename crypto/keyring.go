package crypto

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeyWrapper is KEK custody. The keyring implements it today; a cloud KMS can
// implement it later without callers changing.
type KeyWrapper interface {
	// CurrentKEKID is the id WrapKey will use.
	CurrentKEKID() string
	// WrapKey wraps dek with the newest KEK, bound to aad.
	WrapKey(dek []byte, aad []byte) (kekID string, wrapped []byte, err error)
	// UnwrapKey reverses WrapKey; unknown kekID gives ErrUnknownKEK.
	UnwrapKey(kekID string, wrapped []byte, aad []byte) ([]byte, error)
}

// Environment variables read by LoadKeyring.
const (
	EnvKeyringFile = "AMPARO_KEYRING_FILE"
	EnvKeyring     = "AMPARO_KEYRING"
)

const (
	keyringVersion = 1
	keySize        = 32
	kekPrefix      = "kek-"
	idxPrefix      = "idx-"
	maxKeyIDLen    = 64
	// A keyring is a few hundred bytes; refusing huge input keeps a
	// mistaken path (a log file, a disk image) from being slurped into JSON.
	maxKeyringBytes = 1 << 20
)

type keyringJSON struct {
	Version   int            `json:"version"`
	KEKs      []keyEntryJSON `json:"keks"`
	IndexKeys []keyEntryJSON `json:"index_keys"`
}

type keyEntryJSON struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

type namedKey struct {
	id  string
	key []byte
}

// Keyring holds KEKs (first = newest, the one that wraps) and blind-index
// keys (first = current). It is safe for concurrent use: it is immutable
// after parsing. It prints only key ids.
type Keyring struct {
	keks  []namedKey
	aeads map[string]cipher.AEAD
	index *BlindIndex
}

var _ KeyWrapper = (*Keyring)(nil)

// ParseKeyring parses and validates keyring JSON:
//
//	{"version":1,
//	 "keks":[{"id":"kek-20261127-ab12","key":"<base64, 32 bytes>"}, ...],
//	 "index_keys":[{"id":"idx-20261127-cd34","key":"<base64, 32 bytes>"}, ...]}
//
// KEK ids must start with "kek-" and index-key ids with "idx-": besides
// catching a KEK pasted into the index list, it stops a file with id and key
// swapped from passing, in which case an error naming the "id" would print a
// key.
func ParseKeyring(data []byte) (*Keyring, error) {
	kj, err := decodeKeyring(data)
	if err != nil {
		return nil, err
	}
	return kj.build()
}

func decodeKeyring(data []byte) (*keyringJSON, error) {
	if len(data) > maxKeyringBytes {
		return nil, fmt.Errorf("keyring: %d bytes is too large for a keyring (max %d)", len(data), maxKeyringBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("keyring: empty input (create a keyring with `amparo keys generate`)")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var kj keyringJSON
	if err := dec.Decode(&kj); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("keyring: malformed JSON: trailing data after the keyring object")
	}
	if err := checkFieldNames(data); err != nil {
		return nil, err
	}
	return &kj, nil
}

var errUnknownField = errors.New(`keyring: malformed JSON: unknown field (allowed: "version", "keks", "index_keys", and "id", "key" in entries)`)

// checkFieldNames runs after a successful decode. encoding/json matches
// field names case-insensitively and lets a repeated field overwrite the
// earlier one; in the file that decides which keys exist, a "KEKS" list
// shadowing "keks" would hide a mistake, so names must match exactly, once.
func checkFieldNames(data []byte) error {
	top, err := objectFields(data, "version", "keks", "index_keys")
	if err != nil {
		return err
	}
	for _, list := range []string{"keks", "index_keys"} {
		var entries []json.RawMessage
		if json.Unmarshal(top[list], &entries) != nil {
			continue // null or absent: reported by validation later
		}
		for _, e := range entries {
			if _, err := objectFields(e, "id", "key"); err != nil {
				return err
			}
		}
	}
	return nil
}

func objectFields(raw []byte, allowed ...string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil // null: the typed decode already accepted it
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonError(err)
		}
		name, _ := tok.(string)
		if !slices.Contains(allowed, name) {
			return nil, errUnknownField
		}
		if _, dup := fields[name]; dup {
			return nil, fmt.Errorf("keyring: malformed JSON: field %q appears more than once", name)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, jsonError(err)
		}
		fields[name] = v
	}
	return fields, nil
}

// jsonError rewrites encoding/json errors so they cannot echo input: a
// syntax error quotes the offending character and an unknown-field error
// quotes the field name, either of which could be part of a key in a
// mangled file.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("keyring: malformed JSON (syntax error at byte offset %d)", syn.Offset)
	case errors.As(err, &typ):
		// Field is the Go-side path (e.g. "keks.id"), never input text.
		return fmt.Errorf("keyring: malformed JSON: field %q has the wrong type", typ.Field)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errors.New("keyring: malformed JSON (unexpected end of input)")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return errUnknownField
	default:
		return errors.New("keyring: malformed JSON")
	}
}

func (kj *keyringJSON) build() (*Keyring, error) {
	if kj.Version != keyringVersion {
		return nil, fmt.Errorf("keyring: unsupported version %d (want %d)", kj.Version, keyringVersion)
	}
	if len(kj.KEKs) == 0 {
		return nil, errors.New(`keyring: no KEK ("keks" is empty or missing)`)
	}
	if len(kj.IndexKeys) == 0 {
		return nil, errors.New(`keyring: no index key ("index_keys" is empty or missing)`)
	}
	seen := map[string]bool{}
	keks, err := decodeEntries(kj.KEKs, "keks", kekPrefix, seen)
	if err != nil {
		return nil, err
	}
	idx, err := decodeEntries(kj.IndexKeys, "index_keys", idxPrefix, seen)
	if err != nil {
		return nil, err
	}
	// The same bytes used as KEK and HMAC key, or twice, defeats the point
	// of separate keys and usually means a copy-paste mistake.
	all := append(append([]namedKey(nil), keks...), idx...)
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if hmac.Equal(all[i].key, all[j].key) {
				return nil, fmt.Errorf("keyring: keys %q and %q have the same key material", all[i].id, all[j].id)
			}
		}
	}
	k := &Keyring{keks: keks, aeads: make(map[string]cipher.AEAD, len(keks)), index: &BlindIndex{keys: idx}}
	for _, e := range keks {
		a, err := chacha20poly1305.NewX(e.key)
		if err != nil {
			return nil, fmt.Errorf("keyring: kek %q: %w", e.id, err)
		}
		k.aeads[e.id] = a
	}
	return k, nil
}

func decodeEntries(entries []keyEntryJSON, list, prefix string, seen map[string]bool) ([]namedKey, error) {
	out := make([]namedKey, 0, len(entries))
	for i, e := range entries {
		if !validKeyID(e.ID, prefix) {
			// The id is not echoed: if it is malformed it may be anything.
			return nil, fmt.Errorf("keyring: %s[%d]: id must start with %q and use only letters, digits, '.', '_' or '-' (max %d chars)", list, i, prefix, maxKeyIDLen)
		}
		if seen[e.ID] {
			return nil, fmt.Errorf("keyring: duplicate key id %q", e.ID)
		}
		seen[e.ID] = true
		if e.Key == "" {
			return nil, fmt.Errorf("keyring: %s %q: key is missing", list, e.ID)
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(e.Key)
		if err != nil {
			return nil, fmt.Errorf("keyring: %s %q: key is not valid standard base64", list, e.ID)
		}
		if len(raw) != keySize {
			return nil, fmt.Errorf("keyring: %s %q: key must be %d bytes, got %d", list, e.ID, keySize, len(raw))
		}
		if isZero(raw) {
			return nil, fmt.Errorf("keyring: %s %q: key is all zeros (placeholder?)", list, e.ID)
		}
		out = append(out, namedKey{id: e.ID, key: raw})
	}
	return out, nil
}

func validKeyID(id, prefix string) bool {
	if len(id) <= len(prefix) || len(id) > maxKeyIDLen || !strings.HasPrefix(id, prefix) {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

func isZero(b []byte) bool {
	var acc byte
	for _, c := range b {
		acc |= c
	}
	return acc == 0
}

// LoadKeyring reads the keyring from AMPARO_KEYRING_FILE (a path) or
// AMPARO_KEYRING (the JSON itself). getenv and readFile are injected (use
// os.Getenv and os.ReadFile) so tests and the CLI need no real environment.
// Setting both is an error: silently preferring one could hide that the
// other, perhaps newer, keyring is being ignored.
func LoadKeyring(getenv func(string) string, readFile func(string) ([]byte, error)) (*Keyring, error) {
	path, inline := getenv(EnvKeyringFile), getenv(EnvKeyring)
	switch {
	case path != "" && inline != "":
		return nil, fmt.Errorf("keyring: both %s and %s are set; set only one", EnvKeyringFile, EnvKeyring)
	case path != "":
		data, err := readFile(path)
		if err != nil {
			// Read errors name the path and the OS reason, never contents.
			return nil, fmt.Errorf("%s: %w", EnvKeyringFile, err)
		}
		k, err := ParseKeyring(data)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", EnvKeyringFile, path, err)
		}
		return k, nil
	case inline != "":
		k, err := ParseKeyring([]byte(inline))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKeyring, err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("keyring: no keyring configured: set %s to the path of a keyring file "+
			"(create one with `amparo keys generate > keyring.json`, readable only by the service user) "+
			"or %s to its JSON", EnvKeyringFile, EnvKeyring)
	}
}

// GenerateKeyring returns a fresh keyring (one KEK, one index key) as JSON.
func GenerateKeyring(now time.Time) ([]byte, error) {
	kj := &keyringJSON{Version: keyringVersion}
	var err error
	if kj.KEKs, err = prependNewKey(nil, kekPrefix, now, nil); err != nil {
		return nil, err
	}
	if kj.IndexKeys, err = prependNewKey(nil, idxPrefix, now, kj.KEKs); err != nil {
		return nil, err
	}
	return encodeKeyring(kj)
}

// RotateKeyring returns data with a new KEK prepended; existing KEKs are kept
// so everything they wrapped still unwraps until it is re-wrapped.
func RotateKeyring(data []byte, now time.Time) ([]byte, error) {
	return rotate(data, now, func(kj *keyringJSON) (*[]keyEntryJSON, string, []keyEntryJSON) {
		return &kj.KEKs, kekPrefix, kj.IndexKeys
	})
}

// RotateIndexKey returns data with a new index key prepended; old index keys
// stay accepted for lookups until rows are re-indexed.
func RotateIndexKey(data []byte, now time.Time) ([]byte, error) {
	return rotate(data, now, func(kj *keyringJSON) (*[]keyEntryJSON, string, []keyEntryJSON) {
		return &kj.IndexKeys, idxPrefix, kj.KEKs
	})
}

// rotate prepends a new key to the list pick chooses (with its id prefix and
// the other list, whose ids the new one must not repeat) of a valid keyring.
func rotate(data []byte, now time.Time, pick func(*keyringJSON) (list *[]keyEntryJSON, prefix string, other []keyEntryJSON)) ([]byte, error) {
	kj, err := validated(data)
	if err != nil {
		return nil, err
	}
	list, prefix, other := pick(kj)
	if *list, err = prependNewKey(*list, prefix, now, other); err != nil {
		return nil, err
	}
	return encodeKeyring(kj)
}

// validated refuses to rotate a keyring that would not load: writing a new
// key into a broken file would only move the failure to startup.
func validated(data []byte) (*keyringJSON, error) {
	kj, err := decodeKeyring(data)
	if err != nil {
		return nil, err
	}
	if _, err := kj.build(); err != nil {
		return nil, err
	}
	return kj, nil
}

// prependNewKey adds a random key with id prefix-YYYYMMDD-xxxx. The date
// tells an operator how old a key is; the random suffix keeps two rotations
// on one day apart.
func prependNewKey(list []keyEntryJSON, prefix string, now time.Time, other []keyEntryJSON) ([]keyEntryJSON, error) {
	taken := map[string]bool{}
	for _, e := range list {
		taken[e.ID] = true
	}
	for _, e := range other {
		taken[e.ID] = true
	}
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("keyring: reading random key: %w", err)
	}
	for range 32 {
		var suffix [2]byte
		if _, err := rand.Read(suffix[:]); err != nil {
			return nil, fmt.Errorf("keyring: reading random id: %w", err)
		}
		id := prefix + now.UTC().Format("20060102") + "-" + hex.EncodeToString(suffix[:])
		if !taken[id] {
			e := keyEntryJSON{ID: id, Key: base64.StdEncoding.EncodeToString(key)}
			return append([]keyEntryJSON{e}, list...), nil
		}
	}
	return nil, errors.New("keyring: could not find a free key id for today")
}

func encodeKeyring(kj *keyringJSON) ([]byte, error) {
	out, err := json.MarshalIndent(kj, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("keyring: encoding: %w", err)
	}
	return append(out, '\n'), nil
}

// CurrentKEKID is the id of the newest KEK, the one WrapKey uses.
func (k *Keyring) CurrentKEKID() string { return k.keks[0].id }

// KEKIDs lists the KEK ids, newest first.
func (k *Keyring) KEKIDs() []string { return ids(k.keks) }

// BlindIndex returns the blind index built from the keyring's index keys.
func (k *Keyring) BlindIndex() *BlindIndex { return k.index }

// wrapAD binds the KEK id as well as the caller's aad, so a wrapped key
// cannot be relabelled with another KEK id, and the domain label keeps KEK
// wraps apart from field seals.
func wrapAD(kekID string, aad []byte) []byte {
	ad := make([]byte, 0, 1+12+len(domainKEKWrap)+len(kekID)+len(aad))
	ad = append(ad, formatV1)
	ad = appendLP(ad, domainKEKWrap)
	ad = appendLP(ad, kekID)
	return appendLP(ad, string(aad))
}

// WrapKey wraps dek under the newest KEK.
func (k *Keyring) WrapKey(dek []byte, aad []byte) (kekID string, wrapped []byte, err error) {
	if len(dek) == 0 {
		return "", nil, errors.New("crypto: nothing to wrap")
	}
	id := k.keks[0].id
	w, err := seal(k.aeads[id], dek, wrapAD(id, aad))
	if err != nil {
		return "", nil, err
	}
	return id, w, nil
}

// UnwrapKey unwraps with the KEK named by kekID.
func (k *Keyring) UnwrapKey(kekID string, wrapped []byte, aad []byte) ([]byte, error) {
	a, ok := k.aeads[kekID]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKEK, kekID)
	}
	return open(a, wrapped, wrapAD(kekID, aad))
}

// String prints only ids, so a Keyring in a log line or panic is harmless.
func (k *Keyring) String() string {
	if k == nil {
		return "Keyring(nil)"
	}
	return fmt.Sprintf("Keyring(keks=%v, index_keys=%v)", ids(k.keks), k.index.KeyIDs())
}

// Format routes every verb (including %#v and %x) through String.
func (k *Keyring) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

func ids(keys []namedKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.id
	}
	return out
}
