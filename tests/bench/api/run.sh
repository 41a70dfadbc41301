#!/usr/bin/env bash
# API benchmark, run by hand (never by ctest):
#   tests/bench/api/run.sh
# wrk (64 connections, 2 threads) against `octohub serve` (2 reactor threads, the default) on
#   GET /healthz                          (answered on the reactor thread)
#   GET /api/v1/records/{source}/{id}     (PostgreSQL on the worker pool, ETag)
# and, in the same run, against the ceiling: a minimal Pistache handler that returns a fixed
# body with keep-alive restored the same way (octohub-bench-ceiling, 2 reactor threads).
# Goals: req/s ours/ceiling >= 0.8 for /healthz and >= 0.6 for the record route.
# The last number of the last line is the record route's ratio ours/ceiling.
# BENCH_SECONDS=N changes the length of each load run (default 15).
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source-path=SCRIPTDIR/../../..
source tests/bench/common/bench.sh

readonly SECONDS_PER_RUN="${BENCH_SECONDS:-15}"
readonly CONNECTIONS=64
readonly THREADS=2
readonly CEILING=build/tests/bench/octohub-bench-ceiling

serve_pid=""
ceiling_pid=""

cleanup() {
  local pid
  for pid in "$serve_pid" "$ceiling_pid"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  stop_cluster
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build() {
  scripts/setup octohub >/dev/null
  cmake --build build --target octohub-test-pg octohub-bench-ceiling -j2 >/dev/null
  local tool
  for tool in psql wrk jq curl; do
    command -v "$tool" >/dev/null || die "$tool is missing (docker/packages.txt; run scripts/setup)"
  done
}

# One source and one record of about 1 KB, written straight into the records table.
load_record() {
  cat >"$work/bench.yaml" <<'YAML'
name: bench
url: http://127.0.0.1:9/never-fetched
records: /items
id: /id
index: {title: /title, text: [/body], facets: {state: /state}}
YAML
  "$OCTOHUB" sources apply "$work/bench.yaml" --database-url "$conninfo" >/dev/null \
    2>"$work/apply.log" || die "sources apply failed: $(tail -5 "$work/apply.log")"
  local body
  body="$(head -c 700 /dev/zero | tr '\0' 'x')"
  sql "$conninfo" "INSERT INTO records (source, id, data, content_hash) VALUES ('bench', '42',
    '{\"id\": 42, \"title\": \"A record\", \"state\": \"open\", \"body\": \"$body\"}', md5('bench 42')::uuid)"
}

start_serve() {
  "$OCTOHUB" serve --database-url "$conninfo" --data-dir "$work/data" --listen 127.0.0.1:0 \
    --public-read --roles api 2>"$work/serve.log" &
  serve_pid=$!
  listen=""
  for _ in $(seq 300); do
    listen="$(grep -h '"serve.ready"' "$work/serve.log" | jq -r .listen | head -1)" || true
    [ -n "$listen" ] && break
    kill -0 "$serve_pid" 2>/dev/null || die "serve did not start: $(tail -3 "$work/serve.log")"
    sleep 0.1
  done
  [ -n "$listen" ] || die "serve did not log serve.ready: $(tail -3 "$work/serve.log")"
  curl -sf "http://$listen/api/v1/records/bench/42" >/dev/null || die "the record is not served"
}

start_ceiling() {
  "$CEILING" --listen 127.0.0.1:0 --threads 2 >"$work/ceiling.out" 2>&1 &
  ceiling_pid=$!
  ceiling=""
  for _ in $(seq 100); do
    ceiling="$(awk '/^listening on / {print $3}' "$work/ceiling.out")"
    [ -n "$ceiling" ] && break
    sleep 0.05
  done
  [ -n "$ceiling" ] || die "the ceiling server did not start: $(cat "$work/ceiling.out")"
}

# load NAME URL: a short warm-up, then the measured run; sets rps[NAME] and p99[NAME] (ms).
declare -A rps p99
load() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$2" >/dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$2" >"$work/wrk.out"
  if grep -q 'Non-2xx\|Socket errors' "$work/wrk.out"; then
    die "$1: wrk saw errors: $(grep 'Non-2xx\|Socket errors' "$work/wrk.out")"
  fi
  rps[$1]="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/wrk.out")"
  p99[$1]="$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
    printf "%.2f", u == "us" ? v / 1000 : u == "s" ? v * 1000 : v}' "$work/wrk.out")"
  log "$1: ${rps[$1]} req/s, p99 ${p99[$1]} ms"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

main() {
  local load_before
  load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
  build
  start_cluster
  load_record
  start_serve
  start_ceiling
  # Interleaved, so that a change in the machine's load hits both sides alike.
  load ceiling "http://$ceiling/healthz"
  load healthz "http://$listen/healthz"
  load record "http://$listen/api/v1/records/bench/42"
  load ceiling2 "http://$ceiling/healthz"
  local ceiling_rps ceiling_p99
  ceiling_rps="$(awk -v a="${rps[ceiling]}" -v b="${rps[ceiling2]}" 'BEGIN {printf "%.0f", (a + b) / 2}')"
  ceiling_p99="$(awk -v a="${p99[ceiling]}" -v b="${p99[ceiling2]}" 'BEGIN {printf "%.2f", (a + b) / 2}')"
  local healthz_ratio record_ratio
  healthz_ratio="$(ratio "${rps[healthz]}" "$ceiling_rps")"
  record_ratio="$(ratio "${rps[record]}" "$ceiling_rps")"
  echo
  echo "api: wrk $CONNECTIONS connections, $THREADS threads, ${SECONDS_PER_RUN} s a run, $(nproc) cores;" \
    "load average at the start $load_before, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-46s %9s %9s\n' "" "req/s" "p99 ms"
  printf '%-46s %9s %9s\n' "ceiling: fixed body, Pistache (mean of 2 runs)" "$ceiling_rps" "$ceiling_p99"
  printf '%-46s %9s %9s\n' "octohub GET /healthz" "${rps[healthz]}" "${p99[healthz]}"
  printf '%-46s %9s %9s\n' "octohub GET /api/v1/records/{source}/{id}" "${rps[record]}" "${p99[record]}"
  echo
  echo "goals: /healthz >= 0.8 x ceiling $(verdict "$healthz_ratio" 0.8 ">=")," \
    "record >= 0.6 x ceiling $(verdict "$record_ratio" 0.6 ">=")"
  echo "ratio ours/ceiling (req/s): healthz $healthz_ratio record $record_ratio"
}

main "$@"
