#!/usr/bin/env bash
# Benchmarks the inbound SMS webhook on the real binary (DESIGN.md §8):
#
#   1. a PostgreSQL server: the one AMPARO_TEST_DATABASE_URL names, or else a
#      private cluster started by internal/pglocal/withpg (stopped at the end);
#   2. a fresh database on it, `amparo migrate`, a keyring from
#      `amparo keys generate`, and `amparo serve` with TWILIO_API_URL pointing
#      at bench/twiliosink (a local fake of Twilio's REST API);
#   3. pgbench with a one-row INSERT per transaction for DURATION seconds on
#      the same server, the single-commit rate the webhook is compared with;
#   4. bench/webhookload against the server for DURATION seconds, with the
#      server's pid for its resident memory;
#   5. a summary; then it stops everything it started and drops the database.
#
# Knobs (environment): DURATION (s, default 10), CLIENTS (default 8),
# APP_PORT (default 18080), SINK_PORT (default 18081), AMPARO_SRC (a source
# tree to build amparo from instead of this one, for before/after runs),
# SERVE_DB_PARAMS (extra URL parameters for the server's connections only,
# e.g. plan_cache_mode=force_generic_plan), KEEP_LOGS=1 (keep the work directory
# with the server, sink and pgbench output).
#
#   bench/run-webhook.sh
#   AMPARO_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' bench/run-webhook.sh
#
# withpg's private cluster runs with fsync=off and synchronous_commit=off (it
# is built for tests); the summary prints the settings of whichever server was
# used. For the durable figure DESIGN §8 means, name a server with fsync on.
set -euo pipefail

SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

if [ -z "${BENCH_WEBHOOK_INNER:-}" ]; then
	export BENCH_WEBHOOK_INNER=1
	exec go run ./internal/pglocal/withpg "$SELF" "$@"
fi

DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-8}
APP_PORT=${APP_PORT:-18080}
SINK_PORT=${SINK_PORT:-18081}
BASE_URL=${AMPARO_TEST_DATABASE_URL:?withpg should have set AMPARO_TEST_DATABASE_URL}

pgbin=""
candidates=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn || true)
if command -v pgbench >/dev/null 2>&1; then candidates="$(dirname "$(command -v pgbench)") $candidates"; fi
for d in $candidates; do
	if [ -x "$d/pgbench" ]; then pgbin=$d; break; fi
done
[ -n "$pgbin" ] || { echo "run-webhook: pgbench not found" >&2; exit 1; }

for p in "$APP_PORT" "$SINK_PORT"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "run-webhook: port $p is in use; set APP_PORT/SINK_PORT" >&2
		exit 1
	fi
done

WORK=$(mktemp -d -t amparo-bench-XXXXXX)
DB="amparo_bench_$$"
DB_URL=$(printf '%s' "$BASE_URL" | sed -E "s#^(postgres(ql)?://[^/]+)/[^?]*#\1/$DB#")
SERVE_PID="" SINK_PID="" DB_CREATED=""

cleanup() {
	set +e
	for pid in $SERVE_PID $SINK_PID; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $SERVE_PID $SINK_PID; do
		wait "$pid" 2>/dev/null
	done
	if [ -n "$DB_CREATED" ]; then
		"$pgbin/psql" -q "$BASE_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
	fi
	if [ -n "${KEEP_LOGS:-}" ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "run-webhook: failed at line $LINENO" >&2' ERR

echo "== building"
(cd "${AMPARO_SRC:-$ROOT}" && go build -o "$WORK/amparo" ./cmd/amparo)
go build -o "$WORK/webhookload" ./bench/webhookload
go build -o "$WORK/twiliosink" ./bench/twiliosink

echo "== database $DB"
"$pgbin/psql" -q -v ON_ERROR_STOP=1 "$BASE_URL" -c "CREATE DATABASE $DB" >/dev/null
DB_CREATED=1
settings=$("$pgbin/psql" -At "$DB_URL" -c "SELECT current_setting('server_version') || ', fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', full_page_writes=' || current_setting('full_page_writes') || ', max_connections=' || current_setting('max_connections')")

export DATABASE_URL="$DB_URL"
export AMPARO_KEYRING_FILE="$WORK/keyring.json"
export AMPARO_ADDR="127.0.0.1:$APP_PORT"
export AMPARO_PUBLIC_URL="http://127.0.0.1:$APP_PORT"
export TWILIO_ACCOUNT_SID="AC$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export TWILIO_AUTH_TOKEN="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export TWILIO_FROM_NUMBER="+51044000100"
export TWILIO_API_URL="http://127.0.0.1:$SINK_PORT"
export AMPARO_LOG_LEVEL="${AMPARO_LOG_LEVEL:-info}"

"$WORK/amparo" keys generate -o "$AMPARO_KEYRING_FILE" >/dev/null
"$WORK/amparo" migrate >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log" >&2; exit 1; }

"$WORK/twiliosink" -addr "127.0.0.1:$SINK_PORT" -max 30m >"$WORK/sink.log" 2>&1 &
SINK_PID=$!
sep='?'; case "$DB_URL" in *\?*) sep='&' ;; esac
DATABASE_URL="$DB_URL${SERVE_DB_PARAMS:+$sep$SERVE_DB_PARAMS}" "$WORK/amparo" serve >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do
	curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/readyz" 2>/dev/null && break
	kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
	sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/readyz" || { echo "run-webhook: server not ready" >&2; tail "$WORK/serve.log" >&2; exit 1; }

# CPU time, in clock ticks, of the PostgreSQL server: its postmaster (with
# the children it has reaped, such as pgbench's finished backends) and its
# live children. Empty when the data directory is not readable here. cat,
# not awk, opens the files: a process that exits between the glob and the
# read (common on a busy machine) would be fatal to awk and end the run.
pgdata=$("$pgbin/psql" -At "$DB_URL" -c "SHOW data_directory" 2>/dev/null || true)
pg_ticks() {
	local pm
	pm=$(head -1 "$pgdata/postmaster.pid" 2>/dev/null) || return 0
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" '{
		i = index($0, ") "); n = split(substr($0, i + 2), f, " ")
		if ($1 == pm) t += f[12] + f[13] + f[14] + f[15]
		else if (f[2] == pm) t += f[12] + f[13]
	} END { print t + 0 }'
}

# That total also counts every other database's backends, so on a shared
# server (another engineer's tests) it says more about them than about us.
# These count only the backends serving this run's database: the pids of
# its client backends whose application_name matches $1 (a LIKE pattern);
# "PID TICKS" lines for the pids given; and ticks used between two such
# snapshots.
db_backends() {
	"$pgbin/psql" -At "$DB_URL" -c "SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND backend_type = 'client backend'
		AND pid <> pg_backend_pid() AND application_name LIKE '$1'"
}
backend_ticks() {
	[ $# -gt 0 ] || return 0
	{ cat $(printf '/proc/%s/stat ' "$@") 2>/dev/null || true; } |
		awk '{ i = index($0, ") "); split(substr($0, i + 2), f, " "); print $1, f[12] + f[13] }'
}
# Ticks used between snapshot $1 and $2; a backend absent from $1 began after it.
ticks_between() {
	awk 'NR == FNR { before[$1] = $2; next } { t += $2 - before[$1] } END { print t + 0 }' "$1" "$2"
}

echo "== pgbench: one-row INSERT per transaction, -c $CLIENTS -j 2 -T $DURATION"
"$pgbin/psql" -q -v ON_ERROR_STOP=1 "$DB_URL" -c "CREATE TABLE bench_commit (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)"
echo "INSERT INTO bench_commit (payload) VALUES ('x');" >"$WORK/insert.sql"
t0=$(pg_ticks)
"$pgbin/pgbench" -n -c "$CLIENTS" -j 2 -T "$DURATION" -f "$WORK/insert.sql" "$DB_URL" >"$WORK/pgbench.out" &
bench_pid=$!
# pgbench's backends end with it, so their ticks are polled while they
# live (from /proc: a psql per poll would compete with pgbench); the last
# poll misses at most its interval (0.2 s) of their work.
bench_backends=""
while kill -0 "$bench_pid" 2>/dev/null && [ "$(echo $bench_backends | wc -w)" -lt "$CLIENTS" ]; do
	sleep 0.1
	bench_backends=$(db_backends pgbench)
done
: >"$WORK/pgbench.ticks"
while kill -0 "$bench_pid" 2>/dev/null; do
	backend_ticks $bench_backends | cat - "$WORK/pgbench.ticks" |
		awk '$2 > t[$1] { t[$1] = $2 } END { for (p in t) print p, t[p] }' >"$WORK/pgbench.ticks.new"
	mv "$WORK/pgbench.ticks.new" "$WORK/pgbench.ticks"
	sleep 0.2
done
wait "$bench_pid"
cat "$WORK/pgbench.out"
sleep 0.5 # let the postmaster reap the finished backends
t1=$(pg_ticks)
tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$WORK/pgbench.out" | head -1)

echo "== webhookload: $CLIENTS callers for ${DURATION}s against amparo serve (pid $SERVE_PID)"
backend_ticks $(db_backends %) >"$WORK/serve.ticks.0"
"$WORK/webhookload" -url "$AMPARO_PUBLIC_URL" -c "$CLIENTS" -d "${DURATION}s" -pid "$SERVE_PID" | tee "$WORK/load.out"
reqs=$(sed -nE 's/^RESULT req_s=([0-9.]+).*/\1/p' "$WORK/load.out")
t2=$(pg_ticks)
backend_ticks $(db_backends %) >"$WORK/serve.ticks.1"

errors=$(grep -c '"level":"ERROR"' "$WORK/serve.log" || true)
echo
echo "== summary"
echo "machine:     nproc=$(nproc), $(lscpu | sed -nE 's/^Model name: *//p' | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "postgres:    $settings"
echo "pgbench:     $tps tps (one-row INSERT, $CLIENTS clients)"
echo "webhook:     $reqs req/s"
awk -v w="$reqs" -v p="$tps" 'BEGIN { if (p > 0) printf "ratio:       %.1f %% of pgbench (target >= 40 %%)\n", 100 * w / p }'
echo "server log:  $errors error lines"
# A backend that goes idle within a second of its last report of table
# statistics reports again only after 10 s (PGSTAT_IDLE_INTERVAL).
sleep 11
echo "table writes during the run (inserts, updates, of which HOT):"
"$pgbin/psql" -At -F ' ' "$DB_URL" -c "SELECT '  ' || rpad(relname, 18), n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
	WHERE relname IN ('inbound_message', 'conversation', 'caller_rate', 'contact') ORDER BY relname"
ntx=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$WORK/pgbench.out")
nreq=$(sed -nE 's/^requests: +([0-9]+).*/\1/p' "$WORK/load.out")
hz=$(getconf CLK_TCK)
awk -v a="${t0:-}" -v b="${t1:-}" -v c="${t2:-}" -v n="${ntx:-0}" -v r="${nreq:-0}" -v hz="$hz" 'BEGIN {
	if (a == "" || b <= a) { print "pg cpu:      not measured (data directory not readable)"; exit }
	printf "pg cpu:      %.0f µs per pgbench transaction, %.0f µs per webhook request (whole server)\n", (b - a) * 1e6 / hz / n, (c - b) * 1e6 / hz / r
}'
awk -v a="$(awk '{ t += $2 } END { print t + 0 }' "$WORK/pgbench.ticks")" -v b="$(ticks_between "$WORK/serve.ticks.0" "$WORK/serve.ticks.1")" \
	-v n="${ntx:-0}" -v r="${nreq:-0}" -v hz="$hz" 'BEGIN {
	if (n == 0 || r == 0) exit
	printf "db backends: %.0f µs per pgbench transaction, %.0f µs per webhook request (this database only)\n", a * 1e6 / hz / n, b * 1e6 / hz / r
}'
