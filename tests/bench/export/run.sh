#!/usr/bin/env bash
# Export benchmark, run by hand (never by ctest):
#   tests/bench/export/run.sh
# 1,000,000 issue-like records of about 1 KB (real package synopses from apt-cache
# dumpavail) are copied into PostgreSQL; then `octohub serve --roles api` exports them all as
# NDJSON over HTTP (GET /api/v1/export, read by curl into a file), and psql exports the same
# rows with `\copy (SELECT data FROM records) TO FILE`: the ceiling. Both in the same run, on
# the same cluster; each is timed on its own after a warm-up read of the table.
# Goals: records/s ours >= 0.7 x psql, peak RSS of octohub < 100 MB. The last number on the
# last line is records/s ours ÷ records/s psql.
# Everything runs in one throwaway cluster, removed on exit.
# BENCH_RECORDS=N changes the record count (for a quick try; figures are for 1,000,000).
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source-path=SCRIPTDIR/../../..
source tests/bench/common/bench.sh

readonly RECORDS="${BENCH_RECORDS:-1000000}"
readonly BENCH_SEARCH=build/tests/bench/octohub-bench-search

serve_pid=""

cleanup() {
  stop_processes "$serve_pid"
  stop_cluster
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on Ctrl-C too

build() {
  scripts/setup octohub >/dev/null
  cmake --build build --target octohub-test-pg octohub-bench-search -j2 >/dev/null
  command -v psql >/dev/null || die "psql is missing (Debian package postgresql-client)"
  command -v curl >/dev/null || die "curl is missing"
}

start_serve() {
  "$OCTOHUB" serve --database-url "$conninfo" --data-dir "$work/data" \
    --listen 127.0.0.1:0 --roles api 2>"$work/serve.log" &
  serve_pid=$!
  await_serve "$serve_pid" "$work/serve.log"
  admin_key="$(sed -n 's/^octohub: admin key (shown once): //p' "$work/serve.log")"
  [ -n "$admin_key" ] || die "serve printed no admin key"
}

# Reads the whole table once, so neither side pays for a cold cache.
warm_up() { sql "$conninfo" "SELECT count(*) FROM records WHERE data::text <> ''" >/dev/null; }

run_psql() {
  warm_up
  local start
  start="$(now)"
  psql "$conninfo" -X -q -v ON_ERROR_STOP=1 \
    -c "\\copy (SELECT data FROM records) TO '$work/psql.out'"
  psql_seconds="$(elapsed "$start" "$(now)")"
  local lines
  lines="$(wc -l <"$work/psql.out")"
  [ "$lines" = "$RECORDS" ] || die "psql exported $lines rows, not $RECORDS"
  psql_mb="$(du -m "$work/psql.out" | cut -f1)"
  rm -f "$work/psql.out"
}

run_ours() {
  warm_up
  local start
  start="$(now)"
  curl -sf -H "Authorization: Bearer $admin_key" -o "$work/ours.ndjson" \
    "http://$listen/api/v1/export?format=ndjson" || die "the export failed"
  ours_seconds="$(elapsed "$start" "$(now)")"
  rss_mb="$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$serve_pid/status")"
  local lines
  lines="$(wc -l <"$work/ours.ndjson")"
  [ "$lines" = "$RECORDS" ] || die "octohub exported $lines records, not $RECORDS"
  head -1 "$work/ours.ndjson" | jq -e '.source == "bench" and (.data | type == "object")' \
    >/dev/null || die "the first line is not a record: $(head -c 300 "$work/ours.ndjson")"
  ours_mb="$(du -m "$work/ours.ndjson" | cut -f1)"
  rm -f "$work/ours.ndjson"
}

rate() { awk -v n="$RECORDS" -v s="$1" 'BEGIN {printf "%.0f", n / s}'; }

report() {
  local ours_rate psql_rate ratio
  ours_rate="$(rate "$ours_seconds")"
  psql_rate="$(rate "$psql_seconds")"
  ratio="$(awk -v a="$ours_rate" -v b="$psql_rate" 'BEGIN {printf "%.2f", a / b}')"
  echo
  echo "export: $RECORDS records of $average_bytes bytes on average, $(nproc) cores"
  printf '%-44s %8s %10s %8s\n' "" "s" "records/s" "output"
  printf '%-44s %8s %10s %5s MB\n' "octohub GET /api/v1/export?format=ndjson" "$ours_seconds" \
    "$ours_rate" "$ours_mb"
  printf '%-44s %8s %10s %5s MB\n' "psql \\copy (SELECT data FROM records)" "$psql_seconds" \
    "$psql_rate" "$psql_mb"
  echo "peak RSS of octohub serve: $rss_mb MB"
  echo "(ours writes each record with source, id, updated_at and mapped fields around it)"
  echo "goals: >= 0.7 x psql $(verdict "$ratio" 0.7 ">="), peak RSS < 100 MB" \
    "$(verdict "$rss_mb" 100 "<")"
  echo "records/s ours $ours_rate psql $psql_rate, peak RSS $rss_mb MB, ratio ours/psql $ratio"
}

main() {
  build
  start_cluster
  gather_sentences
  load_bench_records
  start_serve
  run_psql
  log "psql: $psql_seconds s"
  run_ours
  log "octohub: $ours_seconds s"
  report
}

main "$@"
