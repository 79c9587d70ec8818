package casefile_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/logging"
	"github.com/amparo/amparo/internal/pgtest"
)

func randomDigits(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// Store a contact and case whose every sensitive field carries a unique
// string, run the re-wrap job so River's tables hold rows too, then dump the
// whole database and read every log line: none of the strings, nor the
// number in any common format, may appear.
func TestCanaryNeverInDumpOrLogs(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	logs := &pgtest.LogBuffer{}
	log := logging.New(logs, slog.LevelDebug)
	f := &fixture{ctx: context.Background(), pool: pool, clk: clock.NewFake(t0), ring: generate(t)}
	f.store = f.storeWith(t, f.ring, casefile.WithLogger(log))

	tag := rand.Text()[:12] // base32: letters and digits
	name := "Yolanda Quispe" + tag
	narrative := "NARRATIVA-" + tag + " mi expareja " + name + " me amenazó en su casa"
	codeWord := "Clave" + tag
	note := "NOTA-" + tag + " habló con " + name
	followNote := "SEGUIMIENTO-" + tag
	national := "9" + randomDigits(t, 8)
	phones := []string{
		"+51" + national, "51" + national, "0051" + national, national,
		national[:3] + " " + national[3:6] + " " + national[6:],
		national[:3] + "-" + national[3:6] + "-" + national[6:],
		"+51 " + national[:3] + " " + national[3:6] + " " + national[6:],
	}

	ct := f.contact(t, f.store, phones[4])
	in := input()
	in.Narrative, in.CodeWord = narrative, codeWord
	c := f.openCase(t, f.store, ct.ID, in)
	if _, err := f.store.AddNote(f.ctx, pool, c.ID, "u-1", note); err != nil {
		t.Fatal(err)
	}
	if err := f.store.AddFollowUp(f.ctx, pool, c.ID, casefile.FollowUp{Kind: "callback", DueAt: t0.Add(time.Hour), Note: followNote}); err != nil {
		t.Fatal(err)
	}
	for range 6 { // wrong guesses, up to the lock, log too
		f.store.CheckCodeWord(f.ctx, pool, ct.ID, "Clave"+tag+"x")
	}
	if _, found, err := f.store.FindContact(f.ctx, pool, phones[0]); !found || err != nil {
		t.Fatalf("FindContact: %v, %v", found, err)
	}
	f.runRewrap(t, f.store, log)

	dump := pgtest.Dump(t, url)
	for _, table := range []string{"public.case_file", "public.contact", "public.case_note", "public.follow_up", "public.river_job", "casefile.rewrap"} {
		if !strings.Contains(dump, table) {
			t.Fatalf("dump lacks %q: it would prove nothing", table)
		}
	}
	if !strings.Contains(dump, c.Reference) {
		t.Fatal("dump lacks the case's rows")
	}

	var canaries []string
	for _, s := range append([]string{tag, name, narrative, codeWord, casefile.NormalizeCodeWord(codeWord), note, followNote}, phones...) {
		// bytea is dumped as hex: plaintext stored in a bytea would show so.
		canaries = append(canaries, s, strings.ToLower(s), hex.EncodeToString([]byte(s)))
	}
	logged := logs.String()
	if !strings.Contains(logged, c.ID.String()) {
		t.Fatalf("no log line names the case; the log check would prove nothing:\n%s", logged)
	}
	for _, s := range canaries {
		if strings.Contains(dump, s) {
			t.Errorf("database dump contains %q", s)
		}
		if strings.Contains(logged, s) {
			t.Errorf("logs contain %q", s)
		}
	}
	t.Logf("dump %d bytes, logs %d bytes, %d canaries checked", len(dump), len(logged), len(canaries))
}
