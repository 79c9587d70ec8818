package crypto

import (
	"errors"
	"fmt"
	"io"
)

// RowKey is the data key of one row, together with its wrapped form: the
// one way a row's fields are sealed. Its key is wrapped bound to the owner
// "<table>|<id>" (see [WrapDataKey]) and each column is sealed bound to
// (table, column, id) (see [Binding]), so the bytes are exactly those the
// two-step sequence produced before RowKey existed, and a wrapped key or a
// sealed column copied to another row fails to open.
type RowKey struct {
	dek       *DataKey
	table, id string
	// KEKID and Wrapped are what the row stores beside its sealed columns.
	KEKID   string
	Wrapped []byte
}

var errNoRow = errors.New("crypto: a row key needs a table and a row id")

// NewRowKey returns a fresh data key for row id of table, wrapped with w's
// newest KEK.
func NewRowKey(w KeyWrapper, table, id string) (*RowKey, error) {
	if table == "" || id == "" {
		return nil, errNoRow
	}
	dek, err := NewDataKey()
	if err != nil {
		return nil, err
	}
	kekID, wrapped, err := WrapDataKey(w, dek, table+"|"+id)
	if err != nil {
		return nil, err
	}
	return &RowKey{dek: dek, table: table, id: id, KEKID: kekID, Wrapped: wrapped}, nil
}

// OpenRowKey unwraps the data key stored with row id of table. A wrapped
// key copied from another row fails with [ErrDecrypt]; an unknown KEK id
// with [ErrUnknownKEK].
func OpenRowKey(w KeyWrapper, table, id, kekID string, wrapped []byte) (*RowKey, error) {
	if table == "" || id == "" {
		return nil, errNoRow
	}
	dek, err := UnwrapDataKey(w, kekID, wrapped, table+"|"+id)
	if err != nil {
		return nil, err
	}
	return &RowKey{dek: dek, table: table, id: id, KEKID: kekID, Wrapped: wrapped}, nil
}

// Rewrap returns the same data key wrapped anew with w's newest KEK, for
// the re-wrap after a key rotation: the row's sealed columns stay as they
// are, and the result stores KEKID and Wrapped in place of k's.
func (k *RowKey) Rewrap(w KeyWrapper) (*RowKey, error) {
	kekID, wrapped, err := WrapDataKey(w, k.dek, k.table+"|"+k.id)
	if err != nil {
		return nil, err
	}
	return &RowKey{dek: k.dek, table: k.table, id: k.id, KEKID: kekID, Wrapped: wrapped}, nil
}

// Seal seals plaintext for column of the key's own row.
func (k *RowKey) Seal(column string, plaintext []byte) ([]byte, error) {
	return k.dek.Seal(plaintext, Binding{Table: k.table, Column: column, RowID: k.id})
}

// Open opens what Seal sealed for column of the key's own row.
func (k *RowKey) Open(column string, sealed []byte) ([]byte, error) {
	return k.dek.Open(sealed, Binding{Table: k.table, Column: column, RowID: k.id})
}

// DataKey returns the key itself, for a row whose key also seals other
// rows' fields (a case's key seals its notes), each with its own [Binding].
func (k *RowKey) DataKey() *DataKey { return k.dek }

const redactedRowKey = "RowKey(redacted)"

// A RowKey prints as DataKey does, under every verb, so a log line built
// with %v shows neither key nor row.
func (RowKey) String() string             { return redactedRowKey }
func (RowKey) GoString() string           { return redactedRowKey }
func (RowKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redactedRowKey) }
