package crypto

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func b64key(fill byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, 32))
}

var (
	keyA   = b64key(0xa1)
	keyB   = b64key(0xb2)
	keyI   = b64key(0xc3)
	key16  = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xd4}, 16))
	keyURL = base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)) // has '-' and '_'
)

func TestParseKeyringValid(t *testing.T) {
	data := `{"version":1,
	  "keks":[{"id":"kek-20261127-ab12","key":"` + keyA + `"},{"id":"kek-20250101-0000","key":"` + keyB + `"}],
	  "index_keys":[{"id":"idx-20261127-cd34","key":"` + keyI + `"}]}`
	k, err := ParseKeyring([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.KEKIDs(); len(got) != 2 || got[0] != "kek-20261127-ab12" || got[1] != "kek-20250101-0000" {
		t.Fatalf("KEKIDs = %v", got)
	}
	if k.CurrentKEKID() != "kek-20261127-ab12" {
		t.Fatalf("CurrentKEKID = %q", k.CurrentKEKID())
	}
	if k.BlindIndex().CurrentKeyID() != "idx-20261127-cd34" {
		t.Fatalf("index key = %q", k.BlindIndex().CurrentKeyID())
	}
}

func TestParseKeyringErrors(t *testing.T) {
	kek := func(id, key string) string { return `{"id":"` + id + `","key":"` + key + `"}` }
	ring := func(keks, idx string) string {
		return `{"version":1,"keks":[` + keks + `],"index_keys":[` + idx + `]}`
	}
	okIdx := kek("idx-1", keyI)
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "empty input"},
		{"whitespace", "  \n", "empty input"},
		{"not json", "kek-1=" + keyA, "malformed JSON"},
		{"truncated", `{"version":1,"keks":[{"id":"kek-1","key":"` + keyA, "malformed JSON"},
		{"syntax error inside key", `{"version":1,"keks":[{"id":"kek-1","key":` + keyA + `}]}`, "malformed JSON"},
		{"trailing data", ring(kek("kek-1", keyA), okIdx) + `{}`, "trailing data"},
		{"unknown field", `{"version":1,"kekz":[]}`, "unknown field"},
		{"key as field name", `{"version":1,"` + keyA + `":1}`, "unknown field"},
		{"wrong type", `{"version":"1"}`, `field "version" has the wrong type`},
		{"wrong type key", `{"version":1,"keks":[{"id":"kek-1","key":5}]}`, `has the wrong type`},
		{"null", `null`, "unsupported version 0"},
		{"version 2", `{"version":2,"keks":[` + kek("kek-1", keyA) + `],"index_keys":[` + okIdx + `]}`, "unsupported version 2"},
		{"no version", `{"keks":[` + kek("kek-1", keyA) + `],"index_keys":[` + okIdx + `]}`, "unsupported version 0"},
		{"no keks field", `{"version":1,"index_keys":[` + okIdx + `]}`, "no KEK"},
		{"empty keks", ring("", okIdx), "no KEK"},
		{"no index key", `{"version":1,"keks":[` + kek("kek-1", keyA) + `]}`, "no index key"},
		{"empty index keys", ring(kek("kek-1", keyA), ""), "no index key"},
		{"short key", ring(kek("kek-1", key16), okIdx), `keks "kek-1": key must be 32 bytes, got 16`},
		{"short index key", ring(kek("kek-1", keyA), kek("idx-1", key16)), `index_keys "idx-1": key must be 32 bytes, got 16`},
		{"long key", ring(kek("kek-1", base64.StdEncoding.EncodeToString(make([]byte, 33))), okIdx), "got 33"},
		{"not base64", ring(kek("kek-1", "not base64!!"), okIdx), `keks "kek-1": key is not valid standard base64`},
		{"url base64", ring(kek("kek-1", keyURL), okIdx), "not valid standard base64"},
		{"missing key", ring(`{"id":"kek-1"}`, okIdx), `keks "kek-1": key is missing`},
		{"zero key", ring(kek("kek-1", b64key(0)), okIdx), "all zeros"},
		{"duplicate kek", ring(kek("kek-1", keyA)+","+kek("kek-1", keyB), okIdx), `duplicate key id "kek-1"`},
		{"duplicate index", ring(kek("kek-1", keyA), okIdx+","+kek("idx-1", keyB)), `duplicate key id "idx-1"`},
		{"missing id", ring(`{"key":"`+keyA+`"}`, okIdx), "keks[0]: id must start with"},
		{"index key in kek list", ring(kek("idx-9", keyA), okIdx), `keks[0]: id must start with "kek-"`},
		{"bad id chars", ring(kek("kek-1 2", keyA), okIdx), "keks[0]: id must"},
		{"id and key swapped", ring(kek(keyA, "kek-1"), okIdx), "keks[0]: id must"},
		{"swapped, plain alnum key", ring(kek("kek-"+strings.Repeat("Q", 70), keyA), okIdx), "keks[0]: id must"},
		{"kek reused as index key", ring(kek("kek-1", keyA), kek("idx-1", keyA)), "same key material"},
		{"kek reused", ring(kek("kek-1", keyA)+","+kek("kek-2", keyA), okIdx), "same key material"},
		{"field name case", `{"version":1,"KEKS":[` + kek("kek-1", keyA) + `],"index_keys":[` + okIdx + `]}`, "unknown field"},
		{"entry field case", ring(`{"ID":"kek-1","key":"`+keyA+`"}`, okIdx), "unknown field"},
		{"repeated field", `{"version":1,"keks":[` + kek("kek-1", keyA) + `],"keks":[` + kek("kek-2", keyB) + `],"index_keys":[` + okIdx + `]}`, `field "keks" appears more than once`},
		{"repeated entry field", ring(`{"id":"kek-1","key":"`+keyA+`","key":"`+keyB+`"}`, okIdx), `field "key" appears more than once`},
		{"huge", strings.Repeat(" ", 2<<20), "too large"},
	}
	secrets := []string{keyA, keyB, keyI, key16, keyURL, strings.TrimRight(keyA, "="), "Q" + strings.Repeat("Q", 69)}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKeyring([]byte(c.in))
			if err == nil || k != nil {
				t.Fatalf("accepted: %v", k)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not contain %q", msg, c.want)
			}
			for _, s := range secrets {
				if strings.Contains(msg, s) {
					t.Errorf("error %q contains key material", msg)
				}
			}
			// Even a fragment of a key must not show up.
			if strings.Contains(msg, keyA[:12]) {
				t.Errorf("error %q contains a key fragment", msg)
			}
		})
	}
}

var idRE = regexp.MustCompile(`^(kek|idx)-(\d{8})-[0-9a-f]{4}$`)

func TestGenerateKeyring(t *testing.T) {
	lima := time.FixedZone("PET", -5*3600)
	now := time.Date(2026, 11, 27, 21, 30, 0, 0, lima) // 2026-11-28 in UTC
	data, err := GenerateKeyring(now)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKeyring(data)
	if err != nil {
		t.Fatalf("generated keyring does not parse: %v\n%s", err, data)
	}
	ids := append(k.KEKIDs(), k.BlindIndex().KeyIDs()...)
	if len(ids) != 2 {
		t.Fatalf("ids = %v", ids)
	}
	for _, id := range ids {
		m := idRE.FindStringSubmatch(id)
		if m == nil || m[2] != "20261128" {
			t.Errorf("id %q does not match prefix-YYYYMMDD(UTC)-xxxx", id)
		}
	}
	other, _ := GenerateKeyring(now)
	if bytes.Equal(data, other) {
		t.Fatal("two generated keyrings are identical")
	}
}

func TestRotateKeyring(t *testing.T) {
	kA, dataA := newTestKeyring(t)
	idA := kA.CurrentKEKID()
	dk := newTestDataKey(t)
	owner := "case_file|c1"
	kekA, wrappedA, err := WrapDataKey(kA, dk, owner)
	if err != nil || kekA != idA {
		t.Fatalf("wrap under A: %q %v", kekA, err)
	}

	dataB, err := RotateKeyring(dataA, testNow.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	kB, err := ParseKeyring(dataB)
	if err != nil {
		t.Fatal(err)
	}
	ids := kB.KEKIDs()
	if len(ids) != 2 || ids[1] != idA || ids[0] == idA || !strings.HasPrefix(ids[0], "kek-20261128-") {
		t.Fatalf("after rotation KEKIDs = %v, want [new, %s]", ids, idA)
	}
	// Old data still opens.
	back, err := UnwrapDataKey(kB, kekA, wrappedA, owner)
	if err != nil || !bytes.Equal(back.Bytes(), dk.Bytes()) {
		t.Fatalf("data wrapped under A does not unwrap after rotation: %v", err)
	}
	// New wraps use B.
	kekB, wrappedB, err := WrapDataKey(kB, dk, owner)
	if err != nil || kekB != ids[0] {
		t.Fatalf("new wrap used %q, want %q (%v)", kekB, ids[0], err)
	}
	// The pre-rotation keyring does not know B.
	if _, err := UnwrapDataKey(kA, kekB, wrappedB, owner); !errors.Is(err, ErrUnknownKEK) {
		t.Fatalf("old keyring unwrapping B: %v", err)
	}
	// KEK rotation leaves the blind index alone.
	if !bytes.Equal(kA.BlindIndex().Current("+51987654321"), kB.BlindIndex().Current("+51987654321")) {
		t.Fatal("KEK rotation changed the blind index")
	}
	// Same-day rotations still get distinct ids.
	data := dataB
	for range 5 {
		if data, err = RotateKeyring(data, testNow.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	k, err := ParseKeyring(data)
	if err != nil || len(k.KEKIDs()) != 7 {
		t.Fatalf("after 7 KEKs: %v %v", k, err)
	}
}

func TestRotateRefusesBrokenKeyring(t *testing.T) {
	for _, in := range []string{"", "{", `{"version":1,"keks":[],"index_keys":[]}`} {
		if _, err := RotateKeyring([]byte(in), testNow); err == nil {
			t.Errorf("RotateKeyring(%q) succeeded", in)
		}
		if _, err := RotateIndexKey([]byte(in), testNow); err == nil {
			t.Errorf("RotateIndexKey(%q) succeeded", in)
		}
	}
}

func TestKeyringFormatHidesKeys(t *testing.T) {
	k, data := newTestKeyring(t)
	var kj keyringJSON
	if err := json.Unmarshal(data, &kj); err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, e := range append(kj.KEKs, kj.IndexKeys...) {
		raw, _ := base64.StdEncoding.DecodeString(e.Key)
		secrets = append(secrets, e.Key, hex.EncodeToString(raw), string(raw), fmt.Sprint(raw[:4]))
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
		for _, v := range []any{k, k.BlindIndex()} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Fatalf("%s of %T leaked key material: %q", verb, v, out)
				}
			}
		}
	}
	if out := fmt.Sprint(k); !strings.Contains(out, k.CurrentKEKID()) {
		t.Errorf("Keyring prints %q, want its ids", out)
	}
}

func TestLoadKeyring(t *testing.T) {
	_, data := newTestKeyring(t)
	files := map[string][]byte{"/etc/amparo/keyring.json": data, "/etc/amparo/broken.json": []byte(`{"version":1,"keks":[{"id":"kek-1","key":"` + key16 + `"}],"index_keys":[{"id":"idx-1","key":"` + keyI + `"}]}`)}
	readFile := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return b, nil
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	k, err := LoadKeyring(env(map[string]string{"AMPARO_KEYRING_FILE": "/etc/amparo/keyring.json"}), readFile)
	if err != nil || k == nil {
		t.Fatalf("from file: %v", err)
	}
	k2, err := LoadKeyring(env(map[string]string{"AMPARO_KEYRING": string(data)}), readFile)
	if err != nil || k2.CurrentKEKID() != k.CurrentKEKID() {
		t.Fatalf("inline: %v", err)
	}

	errCases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"neither", nil, []string{"AMPARO_KEYRING_FILE", "AMPARO_KEYRING", "amparo keys generate"}},
		{"both", map[string]string{"AMPARO_KEYRING_FILE": "/etc/amparo/keyring.json", "AMPARO_KEYRING": string(data)}, []string{"both", "only one"}},
		{"missing file", map[string]string{"AMPARO_KEYRING_FILE": "/nope.json"}, []string{"AMPARO_KEYRING_FILE", "/nope.json", "not exist"}},
		{"broken file", map[string]string{"AMPARO_KEYRING_FILE": "/etc/amparo/broken.json"}, []string{"AMPARO_KEYRING_FILE", "broken.json", "must be 32 bytes"}},
		{"broken inline", map[string]string{"AMPARO_KEYRING": `{"version":1,"keks":[{"id":"kek-1","key":"` + key16 + `"}],"index_keys":[{"id":"idx-1","key":"` + keyI + `"}]}`}, []string{"AMPARO_KEYRING:", "must be 32 bytes"}},
	}
	for _, c := range errCases {
		k, err := LoadKeyring(env(c.env), readFile)
		if err == nil || k != nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), key16) {
			t.Errorf("%s: error contains key", c.name)
		}
	}
}

// RotateIndexKey prepends an index key and leaves the KEKs alone, as
// RotateKeyring does the other way round (the two share one helper).
func TestRotateIndexKey(t *testing.T) {
	kA, dataA := newTestKeyring(t)
	dataB, err := RotateIndexKey(dataA, testNow.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	kB, err := ParseKeyring(dataB)
	if err != nil {
		t.Fatal(err)
	}
	old, ids := kA.BlindIndex().KeyIDs(), kB.BlindIndex().KeyIDs()
	if len(ids) != 2 || ids[1] != old[0] || !strings.HasPrefix(ids[0], "idx-20261128-") {
		t.Fatalf("after rotation index key ids = %v, want [new, %s]", ids, old[0])
	}
	if !slices.Equal(kA.KEKIDs(), kB.KEKIDs()) {
		t.Fatalf("index-key rotation changed the KEKs: %v → %v", kA.KEKIDs(), kB.KEKIDs())
	}
	if bytes.Equal(kA.BlindIndex().Current("+51987654321"), kB.BlindIndex().Current("+51987654321")) {
		t.Fatal("index-key rotation did not change the current index")
	}
}
