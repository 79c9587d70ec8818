// Package pglocal owns starting a private, throw-away PostgreSQL cluster from
// the machine's own binaries, so that `make demo` and `make test` need no
// set-up. It runs the server as an unprivileged user when invoked as root,
// because PostgreSQL refuses to run as root.
package pglocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// ErrNoBinaries means no initdb/pg_ctl was found; the message says what to install.
var ErrNoBinaries = errors.New("pglocal: PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin; install them, e.g. `apt-get install postgresql` on Debian")

// Options configures a cluster.
type Options struct {
	// Dir holds the data directory. Empty means a fresh temporary directory
	// that Stop removes. An existing initialised Dir is reused as it is.
	Dir string
	// Durable keeps fsync on. Tests turn it off: their data is thrown away.
	Durable bool
	// Port to listen on; 0 picks a free one. A restart that must keep its
	// URL passes the port of the first start.
	Port int
	// Settings are extra server settings, "name=value" each (for example
	// synchronous_standby_names for a primary with a synchronous standby).
	Settings []string
}

// Cluster is a running private PostgreSQL.
type Cluster struct {
	// URL connects as the superuser "postgres" to database "postgres" over TCP.
	URL     string
	Port    int
	dataDir string
	bin     string
	cred    *syscall.Credential
	temp    string
}

// FindBinaries returns the directory holding initdb and pg_ctl.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			resolved, err := filepath.EvalSymlinks(p)
			if err != nil {
				resolved = p
			}
			return filepath.Dir(resolved), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first.
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises (if needed) and starts a cluster listening on 127.0.0.1
// at a free port, with its socket inside the data directory.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if c.cred, err = unprivileged(); err != nil {
			return nil, err
		}
	}
	root, err := c.prepare(opts.Dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.run(ctx, "initdb", "-D", c.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
			c.cleanup()
			return nil, err
		}
	}
	if err := c.start(ctx, root, opts); err != nil {
		return nil, err
	}
	return c, nil
}

// prepare makes the cluster's directory (a temporary one when dir is empty),
// owned by whoever runs the server, and returns its absolute path.
func (c *Cluster) prepare(dir string) (string, error) {
	root := dir
	if root == "" {
		var err error
		if root, err = os.MkdirTemp("", "amparo-pg-"); err != nil {
			return "", fmt.Errorf("pglocal: %w", err)
		}
		c.temp = root
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	c.dataDir = filepath.Join(root, "data")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("pglocal: %w", err)
	}
	if err := c.chown(root); err != nil {
		return "", err
	}
	return root, nil
}

// StartStandby starts a streaming replica of primary, named name (the
// application_name that synchronous_standby_names refers to), in its own
// directory as opts.Dir says. Its URL answers read-only until Promote.
func StartStandby(ctx context.Context, primary *Cluster, name string, opts Options) (*Cluster, error) {
	c := &Cluster{bin: primary.bin, cred: primary.cred}
	root, err := c.prepare(opts.Dir)
	if err != nil {
		return nil, err
	}
	// -R writes primary_conninfo from this connection string, so the
	// standby introduces itself under name.
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres application_name=%s", primary.Port, name)
	if err := c.run(ctx, "pg_basebackup", "-D", c.dataDir, "-R", "-X", "stream", "-c", "fast", "--no-sync", "-d", conninfo); err != nil {
		c.cleanup()
		return nil, err
	}
	if err := c.start(ctx, root, opts); err != nil {
		return nil, err
	}
	return c, nil
}

// Promote turns a standby into a primary and waits until it accepts writes.
func (c *Cluster) Promote(ctx context.Context) error {
	return c.run(ctx, "pg_ctl", "-D", c.dataDir, "-w", "-t", "60", "promote")
}

// Crash stops the server the way a power cut would: no checkpoint, no
// goodbye to clients or standbys. Its directory stays for inspection.
func (c *Cluster) Crash() error {
	return c.run(context.Background(), "pg_ctl", "-D", c.dataDir, "-m", "immediate", "-w", "stop")
}

// start runs the server of an initialised data directory.
func (c *Cluster) start(ctx context.Context, root string, opts Options) error {
	port := opts.Port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			c.cleanup()
			return err
		}
	}
	serverOpts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", port, root)
	if !opts.Durable {
		serverOpts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	for _, s := range opts.Settings {
		serverOpts += " -c " + s
	}
	if err := c.run(ctx, "pg_ctl", "-D", c.dataDir, "-l", filepath.Join(root, "server.log"), "-o", serverOpts, "-w", "-t", "60", "start"); err != nil {
		c.cleanup()
		return err
	}
	c.Port = port
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return nil
}

// Stop shuts the server down (fast mode) and removes a temporary directory.
func (c *Cluster) Stop() error {
	err := c.run(context.Background(), "pg_ctl", "-D", c.dataDir, "-m", "fast", "-w", "stop")
	c.cleanup()
	return err
}

func (c *Cluster) cleanup() {
	if c.temp != "" {
		os.RemoveAll(c.temp)
	}
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The server must outlive a Ctrl-C aimed at our process group, so that
	// Stop can shut it down cleanly instead of leaving a half-dead postmaster.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.cred}
	cmd.Dir = os.TempDir()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pglocal: %s: %w: %s", name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

func (c *Cluster) chown(dir string) error {
	if c.cred == nil {
		return nil
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(c.cred.Uid), int(c.cred.Gid))
	})
}

// unprivileged picks the account that runs the server when we are root.
func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pglocal: running as root and no unprivileged user (postgres or nobody) exists to run PostgreSQL")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pglocal: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
