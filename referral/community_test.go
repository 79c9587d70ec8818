package referral

import (
	"slices"
	"strings"
	"testing"
)

// withCommunities is testDirectory with a list of communities.
func withCommunities(list string) string {
	return strings.Replace(testDirectory, `"timezone": "America/Lima",`, `"timezone": "America/Lima", "communities": [`+list+`],`, 1)
}

func communityKeys(t *testing.T, h *harness) []string {
	t.Helper()
	cs, err := Communities(h.ctx, h.pool)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Key+"="+c.Name)
	}
	return out
}

func TestCommunitiesComeFromTheDirectoryInItsOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	// A directory without a list offers what its services cover, by name.
	if got := communityKeys(t, h); !slices.Equal(got, []string{"el-porvenir=El Porvenir"}) {
		t.Fatalf("derived communities: %v", got)
	}
	file := withCommunities(`{"key": "La Esperanza", "name": "La Esperanza"}, {"key": "el-porvenir", "name": "El  Porvenir"}`)
	lines, err := h.importDir(file, false)
	if err != nil || !slices.Equal(lines, []string{"+ community la-esperanza", "+ community el-porvenir"}) {
		t.Fatalf("import: %v %v", lines, err)
	}
	if got := communityKeys(t, h); !slices.Equal(got, []string{"la-esperanza=La Esperanza", "el-porvenir=El Porvenir"}) {
		t.Fatalf("communities: %v", got)
	}
	// The export carries the list; importing it again changes nothing.
	before, exported := h.written(), h.exportJSON()
	if !strings.Contains(exported, `"communities"`) {
		t.Fatalf("export lacks the communities:\n%s", exported)
	}
	if lines, err := h.importDir(exported, false); err != nil || len(lines) != 0 || h.written() != before {
		t.Fatalf("re-import: %v %v", lines, err)
	}
	// Reordered, renamed, one dropped and one added: each said, then applied whole.
	file = withCommunities(`{"key": "el-porvenir", "name": "Porvenir"}, {"key": "florencia-de-mora", "name": "Florencia de Mora"}`)
	want := []string{"~ community el-porvenir: name", "+ community florencia-de-mora", "- community la-esperanza: deactivated"}
	if lines, err := h.importDir(file, true); err != nil || !slices.Equal(lines, want) {
		t.Fatalf("dry run: %v %v", lines, err)
	}
	if _, err := h.importDir(file, false); err != nil {
		t.Fatal(err)
	}
	if got := communityKeys(t, h); !slices.Equal(got, []string{"el-porvenir=Porvenir", "florencia-de-mora=Florencia de Mora"}) {
		t.Fatalf("communities: %v", got)
	}
	file = withCommunities(`{"key": "florencia-de-mora", "name": "Florencia de Mora"}, {"key": "el-porvenir", "name": "Porvenir"}`)
	if lines, err := h.importDir(file, true); err != nil || !slices.Equal(lines, []string{"~ community florencia-de-mora,el-porvenir: order"}) {
		t.Fatalf("reorder: %v %v", lines, err)
	}
	// A file without the list leaves it as it is.
	if _, err := h.importDir(testDirectory, false); err != nil || len(communityKeys(t, h)) != 2 {
		t.Fatalf("a file without communities changed them: %v %v", communityKeys(t, h), err)
	}
}

func TestDirectoryImportRefusesCommunitiesSheCouldNotPick(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	long := make([]string, 12)
	for i := range long {
		long[i] = `{"key": "c` + strings.Repeat("x", i+1) + `", "name": "Comunidad de nombre largo"}`
	}
	for name, tc := range map[string]struct{ list, want string }{
		"empty name": {`{"key": "usera", "name": " "}`, `community #1 "usera": needs a key and a name`},
		"duplicate":  {`{"key": "usera", "name": "Usera"}, {"key": "Usera", "name": "Usera 2"}`, `community #2 "usera": key: duplicate`},
		"reserved":   {`{"key": "other", "name": "Otra"}`, `community #1 "other": key: reserved`},
		"too long":   {strings.Join(long, ","), "exceeds two SMS"},
	} {
		before := h.written()
		if _, err := h.importDir(withCommunities(tc.list), false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want it to say %q", name, err, tc.want)
		}
		if h.written() != before || len(communityKeys(t, h)) != 1 {
			t.Errorf("%s: a refused file wrote", name)
		}
	}
}
