package crypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A RowKey writes what the separate steps wrote, so rows sealed before it
// existed still open, and what it seals opens with the separate steps.
func TestRowKeyIsTheWrapAndBindSequence(t *testing.T) {
	k, _ := newTestKeyring(t)
	const id = "0b6f7c1e-3c1a-4f7e-9b0a-5f1f2d3c4b5a"
	rk, err := NewRowKey(k, "case_file", id)
	if err != nil {
		t.Fatal(err)
	}
	if rk.KEKID != k.CurrentKEKID() {
		t.Fatalf("wrapped with %q, want current %q", rk.KEKID, k.CurrentKEKID())
	}
	sealed, err := rk.Seal("narrative", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	dek, err := UnwrapDataKey(k, rk.KEKID, rk.Wrapped, "case_file|"+id)
	if err != nil {
		t.Fatalf("the old unwrap does not read a RowKey's wrapped key: %v", err)
	}
	if pt, err := dek.Open(sealed, caseBinding); err != nil || string(pt) != "x" {
		t.Fatalf("the old open does not read a RowKey's seal: %q, %v", pt, err)
	}
	old, err := dek.Seal([]byte("y"), caseBinding)
	if err != nil {
		t.Fatal(err)
	}
	back, err := OpenRowKey(k, "case_file", id, rk.KEKID, rk.Wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := back.Open("narrative", old); err != nil || string(pt) != "y" {
		t.Fatalf("OpenRowKey does not read the old seal: %q, %v", pt, err)
	}
	if back.DataKey() == nil || !bytes.Equal(back.DataKey().Bytes(), dek.Bytes()) {
		t.Fatal("DataKey is not the row's key")
	}
}

// After a rotation Rewrap moves a row's key to the new KEK: what it sealed
// under the old one still opens, and the new wrapping is bound to the same
// row as the old was.
func TestRowKeyRewrapKeepsTheRowsSeals(t *testing.T) {
	_, data := newTestKeyring(t)
	old, err := ParseKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := NewRowKey(old, "contact", "c1")
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := rk.Seal("phone_sealed", []byte("+51987654321"))
	rotated, err := RotateKeyring(data, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKeyring(rotated)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := rk.Rewrap(k)
	if err != nil {
		t.Fatal(err)
	}
	if moved.KEKID != k.CurrentKEKID() || moved.KEKID == rk.KEKID {
		t.Fatalf("re-wrapped under %q, want the new current %q (was %q)", moved.KEKID, k.CurrentKEKID(), rk.KEKID)
	}
	back, err := OpenRowKey(k, "contact", "c1", moved.KEKID, moved.Wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := back.Open("phone_sealed", sealed); err != nil || string(pt) != "+51987654321" {
		t.Fatalf("a seal made before the re-wrap does not open after it: %q, %v", pt, err)
	}
	if _, err := OpenRowKey(k, "contact", "c2", moved.KEKID, moved.Wrapped); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("the re-wrapped key opens for another row: %v", err)
	}
}

func TestRowKeyRefusesAnotherPlace(t *testing.T) {
	k, _ := newTestKeyring(t)
	rk, err := NewRowKey(k, "conversation", "a")
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := rk.Seal("state", []byte("x"))
	if _, err := rk.Open("body", sealed); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("opened under another column: %v", err)
	}
	for _, place := range [][2]string{{"conversation", "b"}, {"inbound_message", "a"}} {
		if got, err := OpenRowKey(k, place[0], place[1], rk.KEKID, rk.Wrapped); got != nil || !errors.Is(err, ErrDecrypt) {
			t.Fatalf("wrapped key moved to %s|%s: %v", place[0], place[1], err)
		}
	}
	if _, err := NewRowKey(k, "conversation", ""); err == nil {
		t.Fatal("a row key without a row id")
	}
	if _, err := OpenRowKey(k, "", "a", rk.KEKID, rk.Wrapped); err == nil {
		t.Fatal("a row key without a table")
	}
	if s := fmt.Sprintf("%v %+v %#v %x %s", rk, rk, *rk, *rk, rk); strings.Contains(s, hex.EncodeToString(rk.dek.key[:4])) || strings.Count(s, redactedRowKey) != 5 {
		t.Fatalf("a printed row key shows its key: %s", s)
	}
}
