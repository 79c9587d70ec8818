package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/pgtest"
	"github.com/amparo/amparo/referral"
)

// SECURITY.md's KEK rotation, step by step, against the real binary: rotate,
// restart, rewrap, wait for status, retire, restart. A survivor's open
// conversation and a provider notice queued before the rotation both go on
// afterwards, and the server logs no ERROR on the way.
func TestKEKRotationProcedure(t *testing.T) {
	pgtest.AdminURL(t)
	r := newRig(t, buildAmparo(t))
	keyring := filepath.Join(t.TempDir(), "keyring.json")
	for i, kv := range r.env {
		if strings.HasPrefix(kv, crypto.EnvKeyring+"=") {
			if err := os.WriteFile(keyring, []byte(strings.TrimPrefix(kv, crypto.EnvKeyring+"=")), 0o600); err != nil {
				t.Fatal(err)
			}
			r.env[i] = crypto.EnvKeyringFile + "=" + keyring
		}
	}
	r.start()
	ctx := context.Background()
	pool := r.db()
	if err := referral.LoadDirectory(ctx, pool, referral.DemoDirectory()); err != nil {
		t.Fatal(err)
	}
	oldKEK := parseRing(t, mustRead(t, keyring)).CurrentKEKID()

	// A notice queued before the rotation: Twilio does not answer, so the
	// sender waits for a callback that never comes.
	r.twilioDown.Store(true)
	const police = "+51900000201" // demo-comisaria-el-porvenir, open always
	c := newClient()
	defer c.CloseIdleConnections()
	text := func(w *webhook) []string {
		t.Helper()
		status, replies, err := r.deliver(c, w)
		if err != nil || status != http.StatusOK {
			t.Fatalf("%s %q: status %d, err %v", w.from, w.body, status, err)
		}
		return replies
	}
	for _, w := range newCallers(1, policeIntake, 600)[0] {
		text(w)
	}
	var notice string
	waitFor(t, r, 15*time.Second, "the police notice is tried and left pending", func() bool {
		return pool.QueryRow(ctx, `SELECT id::text FROM outbound_message
			WHERE purpose = 'provider_notice' AND status = 'pending' AND attempts > 0`).Scan(&notice) == nil
	})
	// And a conversation left open, waiting for her answer.
	open := newCallers(1, []string{"Hola", "2"}, 700)[0]
	welcome := text(open[0])

	// 1-3: rotate, distribute (one host here), restart.
	r.keys("rotate", "-f", keyring)
	newKEK := parseRing(t, mustRead(t, keyring)).CurrentKEKID()
	r.restart()
	// 4-5: rewrap; status until the old KEK has no rows and is retirable.
	r.keys("rewrap")
	waitFor(t, r, 30*time.Second, "keys status calls the old KEK retirable", func() bool {
		for _, line := range strings.Split(r.keys("status"), "\n") {
			if f := strings.Fields(line); len(f) == 6 && f[0] == "kek" && f[1] == oldKEK && f[2] == "0" && f[5] == "yes" {
				return true
			}
		}
		time.Sleep(500 * time.Millisecond) // as an operator repeats it: no need to spawn it 20 times a second
		return false
	})
	// 6: retire the old KEK, restart, status exits 0.
	var ring map[string]json.RawMessage
	if err := json.Unmarshal(mustRead(t, keyring), &ring); err != nil {
		t.Fatal(err)
	}
	var keks []json.RawMessage
	if err := json.Unmarshal(ring["keks"], &keks); err != nil {
		t.Fatal(err)
	}
	ring["keks"], _ = json.Marshal(keks[:1])
	retired, _ := json.Marshal(ring)
	if err := os.WriteFile(keyring, retired, 0o600); err != nil {
		t.Fatal(err)
	}
	if ids := parseRing(t, retired).KEKIDs(); len(ids) != 1 || ids[0] != newKEK {
		t.Fatalf("retired keyring holds %v, want only %s", ids, newKEK)
	}
	r.restart()
	r.keys("status")

	// Her conversation goes on where it was.
	if replies := text(open[1]); len(replies) == 0 || strings.Join(replies, "") == strings.Join(welcome, "") {
		t.Fatalf("open conversation after the rotation answered %q", replies)
	}
	// Twilio is back, and the notice's wait for a callback is over.
	r.twilioDown.Store(false)
	if _, err := pool.Exec(ctx, `WITH o AS (UPDATE outbound_message SET not_before = now() WHERE id = $1::uuid RETURNING id)
		UPDATE river_job SET scheduled_at = now() WHERE kind = 'sms.send' AND args->>'outbound_id' = $2
			AND state IN ('scheduled', 'retryable')`, notice, notice); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, 15*time.Second, "the queued notice reaches the police", func() bool {
		var status string
		err := pool.QueryRow(ctx, `SELECT status FROM outbound_message WHERE id = $1::uuid`, notice).Scan(&status)
		return err == nil && status == "delivered" && len(r.sim.Thread(police)) == 1
	})
	if errs := logLines(t, r.logPath, "ERROR"); len(errs) > 0 {
		t.Errorf("%d ERROR line(s) during the rotation:\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

// keys runs `amparo keys args...` with the rig's environment, fails the
// test unless it exits 0, and returns its standard output.
func (r *rig) keys(args ...string) string {
	r.t.Helper()
	cmd := exec.Command(r.bin, append([]string{"keys"}, args...)...)
	cmd.Env = r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("amparo keys %v: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// restart stops the server as an operator's service manager does (SIGTERM,
// drain) and starts it again.
func (r *rig) restart() {
	r.t.Helper()
	if err := r.srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		r.t.Fatal(err)
	}
	<-r.srv.done
	if r.srv.err != nil {
		r.t.Fatalf("amparo serve exited with %v on SIGTERM", r.srv.err)
	}
	r.start()
}

// logLines returns the JSON log lines of path at level.
func logLines(t *testing.T, path, level string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(string(mustRead(t, path)), "\n") {
		var rec struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == level {
			out = append(out, line)
		}
	}
	return out
}
