package main

import (
	"context"
	"strings"
	"testing"
)

func TestVersionNamesReleaseAndCommit(t *testing.T) {
	version, commit = "v9.9.9", "0123abcd"
	t.Cleanup(func() { version, commit = "dev", "" })
	env, stdout, _ := testEnv(nil, nil)
	if code := run(context.Background(), []string{"version"}, env); code != exitOK {
		t.Fatalf("amparo version: exit %d", code)
	}
	for _, want := range []string{"amparo v9.9.9", "commit 0123abcd", "go1."} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("amparo version printed %q, want %q in it", stdout, want)
		}
	}
}
