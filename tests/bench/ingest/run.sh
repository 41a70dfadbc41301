#!/usr/bin/env bash
# Ingest benchmark, run by hand (never by ctest):
#   tests/bench/ingest/run.sh
# Octohub harvests 200,000 issue-like records of about 1 KB from a loopback API in pages of
# 1,000 (once into an empty database, once more with nothing changed), and PostgreSQL's COPY
# loads the same rows into a JSONB table with a primary key: the ceiling. Everything runs in
# one throwaway cluster, removed on exit. The last number on the last line is
# records/s ours ÷ records/s COPY for the first run.
# The formats are then compared: three rounds of a first run as JSON, NDJSON and CSV, each
# into an empty database of its own, the median per format.
# Goals: first run >= 0.5 x COPY, unchanged re-run >= 2 x COPY, peak RSS < 200 MB; NDJSON and
# CSV first runs within 20% of the JSON one.
# BENCH_RECORDS=N changes the record count (for a quick try; figures are for 200,000).
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source-path=SCRIPTDIR/../../..
source tests/bench/common/bench.sh

readonly RECORDS="${BENCH_RECORDS:-200000}"
readonly PAGE_SIZE=1000
readonly BENCH_API=build/tests/bench/octohub-bench-api

api_pids=()

cleanup() {
  stop_processes "${api_pids[@]}"
  stop_cluster
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on Ctrl-C too

build() {
  scripts/setup octohub >/dev/null
  cmake --build build --target octohub-test-pg octohub-bench-api -j2 >/dev/null
  [ -x /usr/bin/time ] || die "GNU time is missing (Debian package 'time', in docker/packages.txt)"
  command -v psql >/dev/null || die "psql is missing (Debian package postgresql-client)"
}

# The COPY ceiling gets a database of its own on the cluster (start_cluster, bench.sh).
prepare_cluster() {
  copy_conninfo="${conninfo/dbname=octohub/dbname=bench_copy}"
  server_log="$work/pg/server.log"
  # Every statement's duration goes to the server log, so a slow run can be taken apart
  # (one short line per statement; the COPY data itself is not logged).
  psql "$conninfo" -X -q -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET log_min_duration_statement = 0" \
    -c "SELECT pg_reload_conf()" >/dev/null
}

# Starts the API serving FORMAT (json, ndjson, csv); sets api_url.
start_api() {
  local format="${1:-json}"
  "$BENCH_API" --records "$RECORDS" --page-size "$PAGE_SIZE" --sentences "$work/sentences.txt" \
    serve --format "$format" >"$work/api-$format.out" 2>"$work/api-$format.log" &
  local pid=$!
  api_pids+=("$pid")
  for _ in $(seq 600); do
    grep -q '^port ' "$work/api-$format.out" && break
    kill -0 "$pid" 2>/dev/null || die "the API did not start: $(tail -3 "$work/api-$format.log")"
    sleep 0.1
  done
  api_port="$(awk '/^port / {print $2}' "$work/api-$format.out")"
  [ -n "$api_port" ] || die "the API did not print its port"
  api_url="http://127.0.0.1:$api_port/items"
}

# How long fetching every page takes with nothing else to do: the API's share of a run.
time_api_alone() {
  local urls=() start
  for page in $(seq 1 $(((RECORDS + PAGE_SIZE - 1) / PAGE_SIZE + 1))); do urls+=("$api_url?page=$page"); done
  start="$(now)"
  curl -sf "${urls[@]}" >/dev/null || die "fetching the pages with curl failed"
  api_seconds="$(elapsed "$start" "$(now)")"
}

# Time spent writing pages out of earlier phases (200 MB) should not land in the next one.
checkpoint() { sql "$conninfo" "CHECKPOINT"; }

# The ceiling: the same rows as CSV (id, data), COPY'd into an empty JSONB table with a
# primary key, in a database of its own on the same cluster. Only the COPY is timed (psql
# \timing: the statement's round trip, not psql's start).
run_copy() {
  local stats
  stats="$("$BENCH_API" --records "$RECORDS" --sentences "$work/sentences.txt" \
    csv "$work/records.csv")"
  average_bytes="$(awk '{print $4}' <<<"$stats")"
  sql "$conninfo" "CREATE DATABASE bench_copy"
  sql "$copy_conninfo" "CREATE TABLE bench_copy (id text PRIMARY KEY, data jsonb NOT NULL)"
  checkpoint
  local out
  out="$(psql "$copy_conninfo" -X -v ON_ERROR_STOP=1 <<SQL
\timing on
\copy bench_copy (id, data) from '$work/records.csv' with (format csv)
SQL
  )"
  copy_seconds="$(awk '/^Time: / {printf "%.3f", $2 / 1000}' <<<"$out")"
  [ -n "$copy_seconds" ] || die "COPY printed no timing: $out"
  local rows
  rows="$(sql "$copy_conninfo" "SELECT count(*) FROM bench_copy")"
  [ "$rows" = "$RECORDS" ] || die "COPY loaded $rows rows, not $RECORDS"
  rm -f "$work/records.csv"
}

# apply_source [NAME FORMAT]: the source harvesting api_url.
apply_source() {
  local name="${1:-bench}" format="${2:-json}"
  cat >"$work/$name.yaml" <<YAML
name: $name
url: $api_url
format: $format
records: /items
id: /id
pagination: {type: page}
index:
  title: /title
  text: [/body, /author/name, /labels/*/name]
YAML
  "$OCTOHUB" sources apply "$work/$name.yaml" --database-url "$conninfo" >/dev/null \
    2>"$work/apply.log" || die "sources apply failed: $(tail -5 "$work/apply.log")"
}

# Sums the statement durations PostgreSQL logged after byte OFFSET of its log, by kind:
# the lookup of stored hashes, the upsert, COPY (into records or the staging table), commits, and the
# rest; and the lookup's time on the first and the last page.
statement_breakdown() {
  tail -c +"$(($1 + 1))" "$server_log" | awk '
    function flush() {
      if (d == "") return
      kind = text ~ /unnest/ ? "lookup" : text ~ /INSERT INTO records/ ? "upsert" \
           : text ~ /COPY (ingest_staging|records)/ ? "copy" : text ~ /COMMIT/ ? "commit" \
           : text ~ /UPDATE runs/ ? "runs" : "other"
      sum[kind] += d
      if (kind == "lookup") { if (first == "") first = d; last = d }
      d = ""
    }
    /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { flush() }  # mawk has no {n}
    / LOG:  duration: [0-9.]+ ms/ {
      d = $0; sub(/.* duration: /, "", d); sub(/ ms.*/, "", d)
      text = $0; next
    }
    d != "" && length(text) < 400 { text = text " " $0 }
    END {
      flush()
      total = sum["lookup"] + sum["upsert"] + sum["copy"] + sum["commit"] + sum["runs"] + sum["other"]
      printf "PostgreSQL %.1f s: hash lookup %.1f s (%.0f ms on the first page, %.0f ms on the last),", \
        total / 1000, sum["lookup"] / 1000, first, last
      printf " upsert %.1f s, COPY %.1f s, commits %.1f s, run bookkeeping %.1f s, other %.1f s\n", \
        sum["upsert"] / 1000, sum["copy"] / 1000, sum["commit"] / 1000, sum["runs"] / 1000, sum["other"] / 1000
    }'
}

# One `sources run --wait` under GNU time. Sets run_seconds (the run's own started_at to
# finished_at), command_seconds (the whole process), rss_mb, cpu_seconds and breakdown;
# checks the counts.
octohub_run() {
  local name="$1" expect_field="$2" source="${3:-bench}"
  checkpoint
  local start log_offset
  log_offset="$(stat -c %s "$server_log")"
  start="$(now)"
  /usr/bin/time -v -o "$work/$name.time" \
    "$OCTOHUB" sources run "$source" --wait --json --database-url "$conninfo" \
    >"$work/$name.json" 2>"$work/$name.log" ||
    die "$name run failed: $(cat "$work/$name.json") $(tail -5 "$work/$name.log")"
  command_seconds="$(elapsed "$start" "$(now)")"
  local json="$work/$name.json" count
  count="$(jq -r ".$expect_field" "$json")"
  if [ "$(jq -r .status "$json")" != succeeded ] || [ "$count" != "$RECORDS" ]; then
    die "$name run: expected $RECORDS $expect_field, got: $(cat "$json")"
  fi
  run_seconds="$(elapsed "$(date -d "$(jq -r .started_at "$json")" +%s.%N)" \
    "$(date -d "$(jq -r .finished_at "$json")" +%s.%N)")"
  rss_mb="$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' \
    "$work/$name.time")"
  cpu_seconds="$(awk -F': ' '/(User|System) time/ {s += $2} END {printf "%.2f", s}' \
    "$work/$name.time")"
  breakdown="$(statement_breakdown "$log_offset")"
}

rate() { awk -v n="$RECORDS" -v s="$1" 'BEGIN {printf "%.0f", n / s}'; }
# records/s ours ÷ records/s COPY, from the seconds each took for the same rows.
ratio() { awk -v ours="$1" -v copy="$2" 'BEGIN {printf "%.2f", copy / ours}'; }

report() {
  local copy_rate first_rate unchanged_rate
  copy_rate="$(rate "$copy_seconds")"
  first_rate="$(rate "$first_seconds")"
  unchanged_rate="$(rate "$unchanged_seconds")"
  echo
  echo "ingest: $RECORDS records of $average_bytes bytes on average, pages of $PAGE_SIZE," \
    "$(nproc) cores"
  printf '%-32s %8s %10s %9s %9s %10s\n' "" "run s" "records/s" "command s" "client" \
    "peak RSS"
  printf '%-32s %8s %10s %9s %8ss %7s MB\n' "octohub, first run (all new)" "$first_seconds" \
    "$first_rate" "$first_command" "$first_cpu" "$first_rss"
  printf '%-32s %8s %10s %9s %8ss %7s MB\n' "octohub, unchanged re-run" "$unchanged_seconds" \
    "$unchanged_rate" "$unchanged_command" "$unchanged_cpu" "$unchanged_rss"
  printf '%-32s %8s %10s\n' "PostgreSQL COPY (ceiling)" "$copy_seconds" "$copy_rate"
  printf '%-32s %8s\n' "fetching every page alone (curl)" "$api_seconds"
  echo "(run s: the run's started_at to finished_at; command s: the whole process;"
  echo " client: CPU seconds of the octohub process, user + system)"
  echo "where the time goes, first run: $first_breakdown"
  echo "where the time goes, unchanged: $unchanged_breakdown"
  local format seconds
  local json_median="${variant_seconds[json]}"
  printf '%-32s %8s %10s   (median of 3: %s)\n' "octohub, first run, JSON" "$json_median" \
    "$(rate "$json_median")" "${variant_runs[json]% }"
  for format in ndjson csv; do
    seconds="${variant_seconds[$format]}"
    printf '%-32s %8s %10s   (median of 3: %s; %s x JSON, goal >= 0.8 %s)\n' \
      "octohub, first run, ${format^^}" "$seconds" "$(rate "$seconds")" \
      "${variant_runs[$format]% }" "$(ratio "$seconds" "$json_median")" \
      "$(verdict "$(ratio "$seconds" "$json_median")" 0.8 ">=")"
  done
  local first_ratio unchanged_ratio peak_rss
  first_ratio="$(ratio "$first_seconds" "$copy_seconds")"
  unchanged_ratio="$(ratio "$unchanged_seconds" "$copy_seconds")"
  peak_rss=$((first_rss > unchanged_rss ? first_rss : unchanged_rss))
  echo "goals: first run >= 0.5 x COPY $(verdict "$first_ratio" 0.5 ">=")," \
    "unchanged re-run >= 2 x COPY $(verdict "$unchanged_ratio" 2 ">=")," \
    "peak RSS < 200 MB $(verdict "$peak_rss" 200 "<")"
  echo "ratio ours/COPY: first $first_ratio unchanged $unchanged_ratio => $first_ratio"
}

main() {
  build
  start_cluster
  prepare_cluster
  gather_sentences
  start_api
  time_api_alone
  log "API on $api_url: every page fetched in $api_seconds s"
  run_copy
  log "COPY: $copy_seconds s"
  apply_source
  octohub_run first records_new
  first_seconds="$run_seconds" first_command="$command_seconds" first_rss="$rss_mb"
  first_cpu="$cpu_seconds" first_breakdown="$breakdown"
  log "first run: $first_seconds s"
  octohub_run unchanged records_unchanged
  unchanged_seconds="$run_seconds" unchanged_command="$command_seconds"
  unchanged_rss="$rss_mb" unchanged_cpu="$cpu_seconds" unchanged_breakdown="$breakdown"
  log "unchanged run: $unchanged_seconds s"
  declare -gA variant_seconds=() format_urls=()
  local format
  local json_conninfo="$conninfo"
  # The formats compared with each other: three rounds of a first run of each, every run into
  # an empty database of its own, the median per format. Runs on this machine vary by up to
  # 2x with what the cluster is writing back meanwhile; the rounds even that out.
  local round runs
  declare -gA variant_runs=()
  for round in 1 2 3; do
    for format in json ndjson csv; do
      sql "$json_conninfo" "CREATE DATABASE bench_${format}_$round"
      conninfo="${json_conninfo/dbname=octohub/dbname=bench_${format}_$round}"
      [ "$round" = 1 ] && start_api "$format"
      api_url="${format_urls[$format]:-$api_url}"
      format_urls[$format]="$api_url"
      apply_source "bench_$format" "$format"
      octohub_run "first_${format}_$round" records_new "bench_$format"
      variant_runs[$format]+="$run_seconds "
      log "first run, $format, round $round: $run_seconds s"
    done
  done
  for format in json ndjson csv; do
    runs="${variant_runs[$format]}"
    variant_seconds[$format]="$(tr ' ' '\n' <<<"$runs" | grep . | sort -n | sed -n 2p)"
  done
  conninfo="$json_conninfo"
  report
}

main "$@"
