# Shell functions shared by the benchmarks (tests/bench/*/run.sh), sourced from the
# repository root after `set -euo pipefail`. A benchmark calls start_cluster, keeps its files
# in $work, and calls stop_cluster from its EXIT trap.
# shellcheck shell=bash disable=SC2034 # variables here are used by the scripts that source it

readonly OCTOHUB=build/hub/octohub
readonly TEST_PG=build/tests/octohub-test-pg

work=""       # the benchmark's temporary directory; the cluster lives in $work/pg
pg_started="" # set once the cluster runs, so that cleanup stops it
conninfo=""   # how to reach the cluster's octohub database

log() { echo "bench: $*" >&2; }
# set -e stops a benchmark without a word: name the command that failed.
set -o errtrace
trap 'log "failed (status $?): line $LINENO: $BASH_COMMAND"' ERR
die() {
  log "$*"
  exit 1
}

# A fresh cluster with fsync off, as the tests use. The server runs as user postgres under
# root, so the directory must be traversable; mktemp makes it 0700.
start_cluster() {
  work="$(mktemp -d /tmp/ohbench-XXXX)"
  chmod 755 "$work"
  local out
  out="$("$TEST_PG" start "$work/pg" 2>"$work/pg-start.log")" ||
    die "the cluster did not start: $(tail -5 "$work/pg-start.log")"
  pg_started=1
  conninfo="${out#PostgreSQL for tests: }"
}

# stop_processes PID…: ends each background process (empty PIDs are skipped) and reaps it.
stop_processes() {
  local pid
  for pid in "$@"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# await_serve PID LOG: waits until `octohub serve` (PID, logging to LOG) logs serve.ready and
# sets $listen to the address it serves on.
await_serve() {
  listen=""
  for _ in $(seq 300); do
    # The log is JSON lines, apart from the line with the first admin key.
    listen="$(grep -h '"serve.ready"' "$2" | jq -r .listen | head -1)" || true
    [ -n "$listen" ] && return 0
    kill -0 "$1" 2>/dev/null || die "serve did not start: $(tail -3 "$2")"
    sleep 0.1
  done
  die "serve did not log serve.ready: $(tail -3 "$2")"
}

# Stops the cluster and removes $work (octohub-test-pg stop removes the cluster's parent).
stop_cluster() {
  if [ -n "$pg_started" ]; then
    "$TEST_PG" stop "$work/pg" >/dev/null 2>&1 || log "could not stop the cluster in $work/pg"
    pg_started=""
  fi
  if [ -n "$work" ]; then rm -rf "$work"; fi
}

# sql CONNINFO STATEMENT: runs it, prints rows unaligned without headers.
sql() { psql "$1" -X -q -v ON_ERROR_STOP=1 -At -c "$2"; }

# Real prose from this machine when apt has an index: one package synopsis a line, into
# $work/sentences.txt. Without it the generator falls back to its own small vocabulary.
# Never committed.
gather_sentences() {
  apt-cache dumpavail 2>/dev/null | sed -n 's/^Description: //p' >"$work/sentences.txt" || true
  log "$(wc -l <"$work/sentences.txt") sentences of real text from apt-cache dumpavail"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

# verdict VALUE GOAL OP: "met" or "missed", for OP ">=" or "<".
verdict() { awk -v v="$1" -v goal="$2" -v op="$3" \
  'BEGIN {print ((op == ">=" ? v >= goal : v < goal) ? "met" : "missed")}'; }

# load_bench_records: registers the source "bench" (this also migrates the database) and
# copies $RECORDS issue-like records straight into the records table, as ingest does with
# pages of new records; the change sequence and the times come from the table's defaults.
# Needs $BENCH_SEARCH (octohub-bench-search) and $work/sentences.txt (gather_sentences).
load_bench_records() {
  cat >"$work/bench.yaml" <<YAML
name: bench
url: http://127.0.0.1:9/never-fetched   # the records are copied in, never harvested
records: /items
id: /id
index:
  title: /title
  text: [/body, /author/name, /labels/*/name]
  facets: {state: /state, author: /author/login}
  dates: {created: /created_at}
YAML
  "$OCTOHUB" sources apply "$work/bench.yaml" --database-url "$conninfo" >/dev/null \
    2>"$work/apply.log" || die "sources apply failed: $(tail -5 "$work/apply.log")"
  local start
  start="$(now)"
  "$BENCH_SEARCH" --records "$RECORDS" --sentences "$work/sentences.txt" records \
    2>"$work/records.txt" |
    psql "$conninfo" -X -q -v ON_ERROR_STOP=1 \
      -c '\copy records (source, id, data, content_hash) from pstdin'
  average_bytes="$(awk '{print $4}' "$work/records.txt")"
  sql "$conninfo" "VACUUM ANALYZE records"
  sql "$conninfo" "CHECKPOINT" # so the load's writes do not land in the timed phases
  log "$RECORDS records of $average_bytes bytes loaded in $(elapsed "$start" "$(now)") s"
}

# index_bare: the ceiling of indexing, the same records put into one Xapian database by a
# bare single-writer loop (the record generation is not timed; JSON parsing is). Sets
# $bare_seconds and $bare_mb. Needs $BENCH_SEARCH, $RECORDS and $work/sentences.txt.
index_bare() {
  local out
  out="$("$BENCH_SEARCH" --records "$RECORDS" --sentences "$work/sentences.txt" \
    bare-index "$work/bare-index")" || die "the bare indexing loop failed"
  bare_seconds="$(awk '/^indexed / {printf "%.1f", $5}' <<<"$out")"
  bare_mb="$(du -sm "$work/bare-index" | cut -f1)"
  rm -rf "$work/bare-index"
  sync
  log "bare Xapian: $out"
}
