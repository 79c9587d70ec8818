package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/amparo/amparo/internal/pgtest"
	"github.com/amparo/amparo/referral"
)

func TestDirectoryAndOncallCommands(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}
	raw, err := io.ReadAll(referral.DemoDirectory())
	if err != nil {
		t.Fatal(err)
	}
	demo := string(raw)
	real := strings.NewReplacer(`"demo": true`, `"demo": false`, "DEMO – ", "").Replace(demo)
	files := map[string]string{"real.json": real, "bad.json": strings.Replace(real, `"capacity": 6`, `"capacity": -6`, 1)}
	amparo := func(args ...string) (int, string, string) {
		env, out, stderr := testEnv(vars, files)
		code := run(context.Background(), args, env)
		return code, out.String(), stderr.String()
	}
	code, _, stderr := amparo("directory", "import", "bad.json")
	if code != exitFail || !strings.Contains(stderr, `organization "demo-minsa-trujillo", service "demo-cs-el-porvenir": capacity: negative`) {
		t.Fatalf("bad file: %d %q", code, stderr)
	}
	code, out, stderr := amparo("directory", "import", "-dry-run", "real.json")
	if code != exitOK || !strings.Contains(out, "+ service demo-hogar-refugio\n") || !strings.HasSuffix(out, "dry run: nothing written\n") {
		t.Fatalf("dry run: %d\n%s%s", code, out, stderr)
	}
	if _, out, _ := amparo("directory", "export"); !strings.Contains(out, `"organizations": []`) {
		t.Fatalf("the dry run wrote:\n%s", out)
	}
	if code, out, stderr := amparo("directory", "import", "real.json"); code != exitOK || !strings.Contains(out, "+ organization demo-pnp-trujillo\n") {
		t.Fatalf("import: %d\n%s%s", code, out, stderr)
	}
	_, exported, _ := amparo("directory", "export")
	files["exported.json"] = exported
	if code, out, _ := amparo("directory", "import", "exported.json"); code != exitOK || out != "no changes\n" {
		t.Fatalf("export → import: %d %q", code, out)
	}
	if code, _, _ := amparo("directory", "import"); code != exitUsage {
		t.Fatalf("import without a file: %d", code)
	}

	if code, _, stderr := amparo("oncall", "add", "-role", "counsellor", "-phone", "+51900000777", "-from", "2099-01-02 08:00", "-to", "2099-01-02 07:00"); code != exitUsage || !strings.Contains(stderr, "end after") {
		t.Fatalf("backwards shift: %d %q", code, stderr)
	}
	if code, _, stderr := amparo("oncall", "add", "-role", "cook", "-phone", "+51900000777", "-from", "2099-01-02 08:00", "-to", "2099-01-02 16:00"); code != exitUsage || !strings.Contains(stderr, "role") {
		t.Fatalf("bad role: %d %q", code, stderr)
	}
	code, out, stderr = amparo("oncall", "add", "-role", "supervisor", "-phone", "+51900000777", "-name", "Rosa", "-from", "2099-01-02 08:00", "-to", "2099-01-02 16:00")
	id := strings.TrimPrefix(strings.TrimSpace(out), "added shift ")
	if code != exitOK || id == "" {
		t.Fatalf("add: %d %q %q", code, out, stderr)
	}
	// Lima time as typed, the phone masked to its last three digits.
	_, out, _ = amparo("oncall", "list")
	if !regexp.MustCompile(`(?m)^`+id+`\s+supervisor\s+Rosa\s+\*{9}777\s+2099-01-02 08:00\s+2099-01-02 16:00\s*$`).MatchString(out) || strings.Contains(out, "900000777") || !strings.Contains(out, "America/Lima") {
		t.Fatalf("list:\n%s", out)
	}
	if code, out, _ := amparo("oncall", "remove", id); code != exitOK || out != "removed shift "+id+"\n" {
		t.Fatalf("remove: %d %q", code, out)
	}
	if code, _, stderr := amparo("oncall", "remove", id); code != exitFail || !strings.Contains(stderr, "no shift") {
		t.Fatalf("remove twice: %d %q", code, stderr)
	}
	if _, out, _ := amparo("oncall", "list"); strings.Contains(out, "Rosa") {
		t.Fatalf("list after remove:\n%s", out)
	}
}
