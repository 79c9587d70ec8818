package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/hotline"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/portal"
	"github.com/amparo/amparo/sms"
)

var keysCommands = map[string]command{
	"generate": {"print a new keyring (or write it, mode 0600, with -o)", runKeysGenerate},
	"rotate":   {"add a new KEK (or, with --index, a new blind-index key) to a keyring file", runKeysRotate},
	"status":   {"show which keys stored rows still use, and which can be retired", runKeysStatus},
	"rewrap":   {"start the job that moves every data key to the newest KEK", runKeysRewrap},
	"verify":   {"open every data key, case and note with the keyring (the restore drill); exit 1 on any failure", runKeysVerify},
}

func runKeys(ctx context.Context, args []string, env Env) int {
	return group{name: "keys", subs: keysCommands, footer: "The procedures (rotation, retirement, erasure) are in SECURITY.md."}.run(ctx, args, env)
}

func runKeysGenerate(_ context.Context, args []string, env Env) int {
	fs := newFlagSet("keys generate", "Print a new keyring: one KEK and one blind-index key, as JSON. Keep it\n"+
		"outside the database and its backups, readable only by the service user.", env)
	out := fs.String("o", "", "write the keyring to this `file` (mode 0600) instead of standard output; refuses to overwrite a non-empty file")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	data, err := crypto.GenerateKeyring(time.Now())
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys generate:", err)
		return exitFail
	}
	if *out == "" {
		env.Stdout.Write(data)
		return exitOK
	}
	if fi, err := os.Stat(*out); err == nil && fi.Size() > 0 {
		fmt.Fprintf(env.Stderr, "amparo keys generate: %s already holds data; refusing to overwrite a keyring "+
			"(losing its keys loses every case they protect). Use `amparo keys rotate -f %s` to add a key.\n", *out, *out)
		return exitFail
	}
	if err := writeKeyring(env, *out, data); err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys generate:", err)
		return exitFail
	}
	fmt.Fprintf(env.Stdout, "wrote a new keyring to %s (mode 0600); point %s at it\n", *out, crypto.EnvKeyringFile)
	return exitOK
}

func runKeysRotate(_ context.Context, args []string, env Env) int {
	fs := newFlagSet("keys rotate", "Add a new KEK to a keyring file; it becomes the one that wraps new data keys.\n"+
		"Older KEKs stay until `amparo keys status` says they can be retired.", env)
	file := fs.String("f", env.Getenv(crypto.EnvKeyringFile), "keyring `file` to rewrite (default $"+crypto.EnvKeyringFile+")")
	index := fs.Bool("index", false, "add a blind-index key instead of a KEK")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *file == "" {
		fmt.Fprintf(env.Stderr, "amparo keys rotate: no keyring file: pass -f FILE or set %s\n", crypto.EnvKeyringFile)
		fs.Usage()
		return exitUsage
	}
	data, err := env.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys rotate:", err)
		return exitFail
	}
	rotate, kind := crypto.RotateKeyring, "KEK"
	if *index {
		rotate, kind = crypto.RotateIndexKey, "blind-index key"
	}
	rotated, err := rotate(data, time.Now())
	if err != nil {
		fmt.Fprintf(env.Stderr, "amparo keys rotate: %s: %v\n", *file, err)
		return exitFail
	}
	k, err := crypto.ParseKeyring(rotated)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys rotate:", err)
		return exitFail
	}
	if err := writeKeyring(env, *file, rotated); err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys rotate:", err)
		return exitFail
	}
	newID := k.CurrentKEKID()
	if *index {
		newID = k.BlindIndex().CurrentKeyID()
	}
	fmt.Fprintf(env.Stdout, "added %s %s to %s; it is now current.\n"+
		"next: restart every amparo process with this keyring, then run `amparo keys rewrap`;\n"+
		"retire the old key only when `amparo keys status` says it is retirable.\n", kind, newID, *file)
	return exitOK
}

// writeKeyring replaces path with data atomically (a crash leaves the old
// file or the new one, never half of either), mode 0600, keeping the owner
// of a file it replaces so the service user can still read it.
func writeKeyring(env Env, path string, data []byte) (err error) {
	old, statErr := os.Stat(path)
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return statErr
	}
	if statErr == nil && old.Mode().Perm() != 0o600 {
		fmt.Fprintf(env.Stderr, "warning: %s had mode %#o; a keyring must be readable by its owner only. It is now 0600.\n",
			path, old.Mode().Perm())
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keyring-*") // created 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if statErr == nil {
		if st, ok := old.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != os.Getuid() || int(st.Gid) != os.Getgid()) {
			if err := tmp.Chown(int(st.Uid), int(st.Gid)); err != nil {
				fmt.Fprintf(env.Stderr, "warning: cannot keep the owner of %s (%v); check the service user can read it\n", path, err)
			}
		}
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		dir.Sync() // best effort: makes the rename itself durable
		dir.Close()
	}
	return nil
}

// keyStore connects to DATABASE_URL with the configured keyring.
func keyStore(ctx context.Context, env Env) (*casefile.Store, *pgxpool.Pool, error) {
	cfg, err := loadConfig(env, needs{})
	if err != nil {
		return nil, nil, err
	}
	ring, err := crypto.LoadKeyring(env.Getenv, env.ReadFile)
	if err != nil {
		return nil, nil, err
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return casefile.New(pool, ring, ring.BlindIndex(), clock.Real{}, casefile.WithLogger(newLogger(env, cfg)), keyHolders(ring)), pool, nil
}

// keyHolders are the tables outside casefile that hold wrapped data keys or
// phone indexes: the re-wrap job moves them and `keys status` counts them,
// in the server and in the CLI alike.
func keyHolders(ring *crypto.Keyring) casefile.Option {
	return casefile.WithKeyHolders(hotline.NewKeyTables(ring, ring.BlindIndex()), sms.NewKeyTables(ring, ring.BlindIndex()), portal.NewKeyTables(ring))
}

func runKeysStatus(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("keys status", "For each KEK and blind-index key: how many stored rows depend on it, whether\n"+
		"the keyring has it, and whether it can be retired (removed from the keyring).\n"+
		"Exits 1 if rows depend on a key the keyring lacks. Needs DATABASE_URL and the keyring.", env)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	store, pool, err := keyStore(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys status:", err)
		return exitFail
	}
	defer pool.Close()
	usage, err := store.KeyStatus(ctx)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys status:", err)
		return exitFail
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tROWS\tIN KEYRING\tCURRENT\tRETIRABLE")
	missing := 0
	for _, u := range usage {
		kind := "kek"
		if u.Index {
			kind = "index"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", kind, u.ID, u.Rows, yesNo(u.InKeyring), yesNo(u.Current), yesNo(u.Retirable))
		if !u.InKeyring && !u.Unrecorded && u.Rows > 0 {
			missing++
		}
	}
	tw.Flush()
	if missing > 0 {
		fmt.Fprintf(env.Stderr, "amparo keys status: %d key(s) used by stored rows are missing from the keyring: "+
			"those rows cannot be opened or found. Restore the key from custody.\n", missing)
		return exitFail
	}
	return exitOK
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func runKeysRewrap(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("keys rewrap", "Queue the re-wrap job: running amparo processes move every data key to the\n"+
		"newest KEK, and every phone number stored beside its index to the newest\n"+
		"index key, in batches.\n"+
		"Queuing it twice is harmless. Follow progress with `amparo keys status`.", env)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	store, pool, err := keyStore(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys rewrap:", err)
		return exitFail
	}
	defer pool.Close()
	// An insert-only client: the serving processes' workers do the work.
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys rewrap:", err)
		return exitFail
	}
	actor := "cli"
	if u := env.Getenv("USER"); u != "" {
		actor += ":" + u
	}
	if err := store.EnqueueRewrap(ctx, client, actor); err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys rewrap:", err)
		return exitFail
	}
	fmt.Fprintln(env.Stdout, "re-wrap job queued; `amparo keys status` shows progress")
	return exitOK
}

func runKeysVerify(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("keys verify", "Unwrap every stored data key with the keyring, and open every case that is\n"+
		"not erased (its facts and notes): the proof that a restored database and the\n"+
		"keyring belong together. Prints rows opened per table and the ids of those\n"+
		"that failed (never content). Exits 1 on any failure. Needs DATABASE_URL and the keyring.", env)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	store, pool, err := keyStore(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys verify:", err)
		return exitFail
	}
	defer pool.Close()
	checks, err := store.VerifyKeys(ctx)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo keys verify:", err)
		return exitFail
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tOPENED\tFAILED")
	failed := 0
	for _, c := range checks {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", c.Table, c.OK, len(c.Failed))
		failed += len(c.Failed)
	}
	tw.Flush()
	for _, c := range checks {
		for _, id := range c.Failed {
			fmt.Fprintf(env.Stderr, "cannot open %s %s\n", c.Table, id)
		}
	}
	if failed > 0 {
		fmt.Fprintf(env.Stderr, "amparo keys verify: %d row(s) cannot be opened with this keyring: "+
			"a KEK is missing or the rows were altered. Restore the key from custody before relying on this copy.\n", failed)
		return exitFail
	}
	return exitOK
}
