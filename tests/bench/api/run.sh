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
# The three targets take turns, ROUNDS times (BENCH_ROUNDS, default 3), and each figure is the
# median of its rounds: the machine is shared, and its load drifts between runs.
# BENCH_SECONDS=N changes the length of each load run (default 8).
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source-path=SCRIPTDIR/../../..
source tests/bench/common/bench.sh

readonly SECONDS_PER_RUN="${BENCH_SECONDS:-8}"
readonly ROUNDS="${BENCH_ROUNDS:-3}"
readonly CONNECTIONS=64
readonly THREADS=2
readonly CEILING=build/tests/bench/octohub-bench-ceiling

serve_pid=""
ceiling_pid=""

cleanup() {
  stop_processes "$serve_pid" "$ceiling_pid"
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
  await_serve "$serve_pid" "$work/serve.log"
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

# load NAME URL: a short warm-up, then the measured run; appends to rps[NAME] and p99[NAME] (ms).
declare -A rps p99
load() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d1s "$2" >/dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$2" >"$work/wrk.out"
  if grep -q 'Non-2xx\|Socket errors' "$work/wrk.out"; then
    die "$1: wrk saw errors: $(grep 'Non-2xx\|Socket errors' "$work/wrk.out")"
  fi
  local r p
  r="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/wrk.out")"
  p="$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
    printf "%.2f", u == "us" ? v / 1000 : u == "s" ? v * 1000 : v}' "$work/wrk.out")"
  rps[$1]+="$r "
  p99[$1]+="$p "
  log "$1: $r req/s, p99 $p ms"
}

# median "N N N": the middle value.
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

main() {
  local load_before
  load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
  build
  start_cluster
  load_record
  start_serve
  start_ceiling
  # Interleaved, so that a change in the machine's load hits every target alike.
  local round
  for round in $(seq "$ROUNDS"); do
    log "round $round of $ROUNDS"
    load ceiling "http://$ceiling/healthz"
    load healthz "http://$listen/healthz"
    load record "http://$listen/api/v1/records/bench/42"
  done
  local name
  declare -A mrps mp99
  for name in ceiling healthz record; do
    mrps[$name]="$(median "${rps[$name]}")"
    mp99[$name]="$(median "${p99[$name]}")"
  done
  local healthz_ratio record_ratio
  healthz_ratio="$(ratio "${mrps[healthz]}" "${mrps[ceiling]}")"
  record_ratio="$(ratio "${mrps[record]}" "${mrps[ceiling]}")"
  echo
  echo "api: wrk $CONNECTIONS connections, $THREADS threads, $ROUNDS rounds of ${SECONDS_PER_RUN} s" \
    "per target (medians), $(nproc) cores; load average at the start $load_before, at the end" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-46s %9s %9s   %s\n' "" "req/s" "p99 ms" "req/s of each round"
  printf '%-46s %9s %9s   %s\n' "ceiling: fixed body, minimal Pistache handler" "${mrps[ceiling]}" \
    "${mp99[ceiling]}" "${rps[ceiling]}"
  printf '%-46s %9s %9s   %s\n' "octohub GET /healthz" "${mrps[healthz]}" "${mp99[healthz]}" \
    "${rps[healthz]}"
  printf '%-46s %9s %9s   %s\n' "octohub GET /api/v1/records/{source}/{id}" "${mrps[record]}" \
    "${mp99[record]}" "${rps[record]}"
  echo
  echo "goals: /healthz >= 0.8 x ceiling $(verdict "$healthz_ratio" 0.8 ">=")," \
    "record >= 0.6 x ceiling $(verdict "$record_ratio" 0.6 ">=")"
  echo "ratio ours/ceiling (req/s): healthz $healthz_ratio record $record_ratio"
}

main "$@"
