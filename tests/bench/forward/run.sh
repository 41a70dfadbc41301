#!/usr/bin/env bash
# Forwarding benchmark, run by hand (never by ctest):
#   tests/bench/forward/run.sh
# Octohub's forwarder sends 50,000 deliveries of one record (batch 1) and then the same
# records in deliveries of 100 (batch 100) to a local keep-alive target that answers at once;
# wrk posts the same bodies, with the same headers and as many connections, to the same
# target: the ceiling. Then recovery: 10,000 deliveries wait for a target that answers 503
# (failing: probed once a second by its retry schedule), it recovers, and the time until its
# backlog is drained is set against wrk posting the same 10,000 bodies.
# Everything runs in one throwaway cluster, removed on exit. The last number on the last line
# is deliveries/s ours ÷ requests/s wrk for batch 1 (goal >= 0.5).
# BENCH_RECORDS=N changes the record count (for a quick try; figures are for 50,000).
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source-path=SCRIPTDIR/../../..
source tests/bench/common/bench.sh

readonly RECORDS="${BENCH_RECORDS:-50000}"
readonly CONNECTIONS=8 # the target's concurrency, and wrk's connections
readonly WRK_SECONDS=5
readonly BACKLOG=10000 # deliveries waiting for the target to recover
readonly BENCH_TARGET=build/tests/bench/octohub-bench-target
readonly POST_LUA=tests/bench/forward/post.lua

target_pid=""
serve_pid=""

cleanup() {
  stop_processes "$serve_pid" "$target_pid"
  stop_cluster
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on Ctrl-C too

build() {
  scripts/setup octohub >/dev/null
  cmake --build build --target octohub octohub-test-pg octohub-bench-target -j2 >/dev/null
  for tool in psql wrk jq curl; do
    command -v "$tool" >/dev/null || die "$tool is missing (see docker/packages.txt)"
  done
}

start_target() {
  "$BENCH_TARGET" >"$work/target.out" 2>"$work/target.log" &
  target_pid=$!
  for _ in $(seq 100); do
    grep -q '^port ' "$work/target.out" && break
    sleep 0.1
  done
  target_port="$(awk '/^port / {print $2}' "$work/target.out")"
  [ -n "$target_port" ] || die "the target did not start: $(cat "$work/target.log")"
  target_url="http://127.0.0.1:$target_port/in"
}

octohub() { "$OCTOHUB" "$@" --database-url "$conninfo"; }

# Records of about 400 bytes, stored as ingest would store them, and two targets.
prepare() {
  octohub migrate >/dev/null 2>"$work/migrate.log" || die "migrate failed: $(tail -3 "$work/migrate.log")"
  sql "$conninfo" "INSERT INTO records (source, id, data, content_hash)
    SELECT 'bench', i::text, json_build_object('id', i::text, 'title', 'record ' || i,
      'state', CASE WHEN i % 3 = 0 THEN 'closed' ELSE 'open' END,
      'body', repeat('lorem ipsum dolor sit amet ', 12))::json, md5(i::text)::uuid
    FROM generate_series(1, $RECORDS) i"
  key="$(octohub keys create --role write 2>/dev/null)"
  for batch in 1 100; do
    echo "{\"name\": \"t$batch\", \"url\": \"$target_url\", \"batch\": $batch," \
      "\"secret\": \"bench-secret\", \"concurrency\": $CONNECTIONS}" >"$work/t$batch.json"
  done
  echo "{\"name\": \"tr\", \"url\": \"$target_url\", \"secret\": \"bench-secret\"," \
    "\"concurrency\": $CONNECTIONS, \"retry_schedule\": [\"1s\"], \"max_attempts\": 100}" \
    >"$work/tr.json"
  octohub targets apply "$work/t1.json" "$work/t100.json" "$work/tr.json" >/dev/null \
    2>"$work/apply.log" ||
    die "targets apply failed: $(tail -3 "$work/apply.log")"
}

# serve with ROLES in the background; sets serve_pid and listen (empty without the api role).
start_serve() {
  "$OCTOHUB" serve --roles "$1" --database-url "$conninfo" --data-dir "$work/data" \
    --listen 127.0.0.1:0 2>"$work/serve-$1.log" &
  serve_pid=$!
  for _ in $(seq 300); do
    grep -q '"serve.ready".*}$' "$work/serve-$1.log" && break # the whole line
    kill -0 "$serve_pid" 2>/dev/null || die "serve failed: $(tail -3 "$work/serve-$1.log")"
    sleep 0.1
  done
  listen="$(grep -m1 '"serve.ready".*}$' "$work/serve-$1.log" | jq -r .listen)"
}

stop_serve() {
  kill "$serve_pid"
  wait "$serve_pid" || true
  serve_pid=""
}

# The first COUNT records (default all) forwarded to TARGET over the API, 10,000 a request;
# sets enqueue_seconds.
enqueue() {
  local target="$1" count="${2:-$RECORDS}" start
  start="$(now)"
  for first in $(seq 1 10000 "$count"); do
    local last=$((first + 9999 > count ? count : first + 9999))
    seq "$first" "$last" | jq -R '{source: "bench", id: .}' | jq -s "{target: \"$target\", records: .}" \
      >"$work/forward.json"
    local code
    code="$(curl -s -o "$work/forward.out" -w '%{http_code}' -H "Authorization: Bearer $key" \
      -H 'Content-Type: application/json' --data-binary @"$work/forward.json" \
      "http://$listen/api/v1/forwards")"
    [ "$code" = 202 ] || die "forward answered $code: $(cat "$work/forward.out")"
  done
  enqueue_seconds="$(elapsed "$start" "$(now)")"
}

# The forwarder alone until TARGET's deliveries are all sent; sets send_seconds (from the
# process logging that it is ready to the last delivery's sent_at) and deliveries. The
# polling is a cheap index probe, twice a second: each probe starts a psql, and probing ten
# times a second took a tenth of the cores from the run it watches. It only decides when to
# stop; the time measured ends at the last sent_at.
send() {
  local target="$1" ready last
  deliveries="$(sql "$conninfo" "SELECT count(*) FROM deliveries WHERE target = '$target'")"
  # The enqueue phase's writes and the autovacuum they call for should not land in this one.
  sql "$conninfo" "VACUUM ANALYZE deliveries, delivery_heads"
  sql "$conninfo" "CHECKPOINT"
  start_serve forward
  ready="$(grep -m1 '"serve.ready".*}$' "$work/serve-forward.log" | jq -r .ts)"
  for _ in $(seq 1200); do
    # Only this target has deliveries due; the partial index answers without a scan.
    [ "$(sql "$conninfo" "SELECT EXISTS (SELECT 1 FROM deliveries
      WHERE status IN ('pending', 'failed'))")" = f ] && break
    sleep 0.5
  done
  stop_serve
  local left
  left="$(sql "$conninfo" "SELECT count(*) FROM deliveries WHERE target = '$target' AND status <> 'sent'")"
  [ "$left" = 0 ] || die "$left deliveries to $target were not sent"
  last="$(sql "$conninfo" "SELECT extract(epoch FROM max(sent_at)) FROM deliveries
    WHERE target = '$target'")"
  send_seconds="$(elapsed "$(date -d "$ready" +%s.%N)" "$last")"
  sql "$conninfo" "SELECT body FROM deliveries WHERE target = '$target' ORDER BY id" >"$work/bodies-$target.txt"
}

# wrk posting the same bodies to the same target: sets wrk_rps.
ceiling() {
  local target="$1" result
  wrk -t2 -c"$CONNECTIONS" -d1s -s "$POST_LUA" "$target_url" -- "$work/bodies-$target.txt" >/dev/null
  wrk -t2 -c"$CONNECTIONS" -d"${WRK_SECONDS}s" -s "$POST_LUA" "$target_url" \
    -- "$work/bodies-$target.txt" >"$work/wrk-$target.out"
  result="$(grep '^result: ' "$work/wrk-$target.out")" || die "wrk printed no result: $(cat "$work/wrk-$target.out")"
  wrk_rps="$(awk '{print $7}' <<<"$result")"
  local bad
  bad="$(awk '{print $9 + $11}' <<<"$result")"
  [ "$bad" = 0 ] || die "wrk saw errors: $result"
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n / s}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

measure() {
  local target="$1"
  start_serve api
  enqueue "$target"
  stop_serve
  send "$target"
  ceiling "$target"
  ours_rps="$(rate "$deliveries" "$send_seconds")"
  enqueue_rps="$(rate "$RECORDS" "$enqueue_seconds")"
  log "$target: $deliveries deliveries sent in $send_seconds s ($ours_rps/s); wrk $wrk_rps req/s"
}

# A backlog of BACKLOG deliveries to `tr` piles up while the target answers 503; the target
# recovers; sets drain_seconds (from the recovery to the last sent_at) and drain_wrk_seconds
# (wrk posting the same bodies at its rate).
recovery() {
  curl -s -X POST "http://127.0.0.1:$target_port/down" >/dev/null
  start_serve api,forward
  enqueue tr "$BACKLOG"
  for _ in $(seq 600); do
    [ "$(sql "$conninfo" "SELECT count(*) FROM target_states WHERE target = 'tr'
      AND failing_since IS NOT NULL")" = 1 ] && break
    sleep 0.1
  done
  sleep 3 # failing for a while: the backlog waits for the probes
  local recovered
  recovered="$(now)"
  curl -s -X POST "http://127.0.0.1:$target_port/up" >/dev/null
  for _ in $(seq 1200); do
    [ "$(sql "$conninfo" "SELECT EXISTS (SELECT 1 FROM deliveries WHERE target = 'tr'
      AND status IN ('pending', 'failed'))")" = f ] && break
    sleep 0.25
  done
  stop_serve
  local left
  left="$(sql "$conninfo" "SELECT count(*) FROM deliveries WHERE target = 'tr' AND status <> 'sent'")"
  [ "$left" = 0 ] || die "$left deliveries to tr were not sent after the recovery"
  drain_seconds="$(elapsed "$recovered" "$(sql "$conninfo" "SELECT extract(epoch FROM max(sent_at))
    FROM deliveries WHERE target = 'tr'")")"
  probe_seconds="$(elapsed "$recovered" "$(sql "$conninfo" "SELECT extract(epoch FROM min(sent_at))
    FROM deliveries WHERE target = 'tr'")")"
  sql "$conninfo" "SELECT body FROM deliveries WHERE target = 'tr' ORDER BY id" >"$work/bodies-tr.txt"
  ceiling tr
  drain_wrk_seconds="$(awk -v n="$BACKLOG" -v r="$wrk_rps" 'BEGIN {printf "%.2f", n / r}')"
  log "recovery: $BACKLOG waiting deliveries drained in $drain_seconds s; wrk $drain_wrk_seconds s"
}

main() {
  build
  start_cluster
  start_target
  prepare
  measure t1
  b1_deliveries="$deliveries" b1_seconds="$send_seconds" b1_rps="$ours_rps" b1_wrk="$wrk_rps"
  b1_enqueue="$enqueue_rps"
  measure t100
  b100_deliveries="$deliveries" b100_seconds="$send_seconds" b100_rps="$ours_rps"
  b100_wrk="$wrk_rps" b100_enqueue="$enqueue_rps"
  recovery
  local b1_ratio b100_ratio
  b1_ratio="$(ratio "$b1_rps" "$b1_wrk")"
  b100_ratio="$(ratio "$b100_rps" "$b100_wrk")"
  echo
  echo "forward: $RECORDS records of $(sql "$conninfo" "SELECT avg(length(data::text))::int FROM records") bytes," \
    "$CONNECTIONS connections, $(nproc) cores"
  printf '%-10s %11s %8s %13s %10s %14s %12s\n' "" deliveries "send s" "deliveries/s" \
    "records/s" "wrk requests/s" "enqueue rec/s"
  printf '%-10s %11s %8s %13s %10s %14s %12s\n' "batch 1" "$b1_deliveries" "$b1_seconds" \
    "$b1_rps" "$b1_rps" "$b1_wrk" "$b1_enqueue"
  printf '%-10s %11s %8s %13s %10s %14s %12s\n' "batch 100" "$b100_deliveries" "$b100_seconds" \
    "$b100_rps" "$(rate "$RECORDS" "$b100_seconds")" "$b100_wrk" "$b100_enqueue"
  echo "(send s: from the forwarder being ready to the last delivery's sent_at; enqueue rec/s:"
  echo " POST /api/v1/forwards until 202)"
  echo "recovery: $BACKLOG deliveries waiting for a failing target drained $drain_seconds s after"
  echo " it recovered: the first probe got through after $probe_seconds s (the schedule's 1 s)," \
    "the backlog $(elapsed "$probe_seconds" "$drain_seconds") s later; wrk posts the same bodies in" \
    "$drain_wrk_seconds s: ratio ours/wrk time $(ratio "$drain_seconds" "$drain_wrk_seconds")"
  echo "goal: batch 1 >= 0.5 x wrk $(verdict "$b1_ratio" 0.5 ">=")"
  echo "ratio ours/wrk: batch 100 $b100_ratio batch 1 => $b1_ratio"
}

main "$@"
