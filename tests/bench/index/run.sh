#!/usr/bin/env bash
# Index benchmark, run by hand (never by ctest):
#   tests/bench/index/run.sh
# 500,000 issue-like records of about 1 KB (real package synopses from apt-cache dumpavail)
# are copied into PostgreSQL, then indexed three ways in one run:
#  (a) the ceiling: a bare loop putting the same records into one Xapian database with one
#      writer (octohub-bench-search bare-index);
#  (b) `octohub reindex --index-shards 1`: from PostgreSQL, one shard;
#  (c) `octohub reindex --index-shards $(nproc)`: one shard per core, written in parallel.
# Goal: (c) >= 1.7 x (a) on 2 cores. BENCH_SHARDS="1 2 4" adds a row per shard count, to see
# how it scales and where the cores run out.
# Then freshness: `octohub serve --roles index` follows the database while ingest's record
# store writes 2,000 new records a second for BENCH_SECONDS (default 30); each batch's time
# from commit to searchable (a reader of the index sees it). Goal: p99 < 1 s. BENCH_RATE=N
# changes the rate.
# Everything runs in one throwaway cluster, removed on exit. The last number of the last line
# is the ratio (c)/(a) in documents per second.
# BENCH_RECORDS=N changes the record count (for a quick try; figures are for 500,000).
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source-path=SCRIPTDIR/../../..
source tests/bench/common/bench.sh

readonly RECORDS="${BENCH_RECORDS:-500000}"
readonly CORES="$(nproc)"
readonly SHARD_SERIES="${BENCH_SHARDS:-}"
readonly FRESH_SECONDS="${BENCH_SECONDS:-30}"
readonly FRESH_RATE="${BENCH_RATE:-2000}"
readonly BENCH_SEARCH=build/tests/bench/octohub-bench-search
readonly BENCH_FRESHNESS=build/tests/bench/octohub-bench-freshness

serve_pid=""

cleanup() {
  stop_processes "$serve_pid"
  stop_cluster
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on Ctrl-C too

build() {
  scripts/setup octohub >/dev/null
  cmake --build build --target octohub-test-pg octohub-bench-search octohub-bench-freshness \
    -j2 >/dev/null
  local tool
  for tool in /usr/bin/time psql jq curl; do
    command -v "$tool" >/dev/null || die "$tool is missing (docker/packages.txt; run scripts/setup)"
  done
}

# reindex SHARDS: rebuilds the index from PostgreSQL into a fresh data directory; prints
# "seconds docs/s MB peak-RSS-MB CPU-s".
reindex() {
  local shards="$1" data="$work/data-$1"
  rm -rf "$data"
  sync
  /usr/bin/time -v -o "$work/reindex-$shards.time" \
    "$OCTOHUB" reindex --database-url "$conninfo" --data-dir "$data" --index-shards "$shards" \
    >"$work/reindex-$shards.out" 2>"$work/reindex-$shards.log" ||
    die "reindex with $shards shards failed: $(tail -5 "$work/reindex-$shards.log")"
  local indexed seconds
  indexed="$(awk '/^indexed / {print $2}' "$work/reindex-$shards.out")"
  [ "$indexed" = "$RECORDS" ] || die "reindex indexed '$indexed' records, not $RECORDS"
  seconds="$(awk '/^indexed / {print $5}' "$work/reindex-$shards.out")"
  log "$shards shards: $(cat "$work/reindex-$shards.out")"
  echo "$seconds" \
    "$(awk -v n="$RECORDS" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')" \
    "$(du -sm "$data/index" | cut -f1)" \
    "$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' \
      "$work/reindex-$shards.time")" \
    "$(awk -F': ' '/(User|System) time/ {s += $2} END {printf "%.1f", s}' \
      "$work/reindex-$shards.time")"
}

# Freshness on the index (c) built: an index writer follows, ingest writes a steady load.
freshness() {
  "$OCTOHUB" serve --database-url "$conninfo" --data-dir "$work/data-$CORES" \
    --listen 127.0.0.1:0 --roles index,api --index-shards "$CORES" 2>"$work/serve.log" &
  serve_pid=$!
  await_serve "$serve_pid" "$work/serve.log"
  "$BENCH_FRESHNESS" --database-url "$conninfo" --sentences "$work/sentences.txt" \
    --rate "$FRESH_RATE" --seconds "$FRESH_SECONDS" --first $((RECORDS + 1)) \
    "$work/data-$CORES/index" 2>"$work/freshness.log" ||
    die "the freshness load failed: $(tail -5 "$work/freshness.log")"
  stop_processes "$serve_pid"
  serve_pid=""
}

main() {
  local load_before
  load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
  build
  start_cluster
  gather_sentences
  load_bench_records
  index_bare
  local shards rows=() one="" many=""
  local series="1 $CORES"
  [ -n "$SHARD_SERIES" ] && series="$SHARD_SERIES"
  for shards in $(printf '%s\n' $series 1 "$CORES" | sort -nu); do
    local row
    row="$(reindex "$shards")"
    rows+=("$shards $row")
    [ "$shards" = 1 ] && one="$row"
    [ "$shards" = "$CORES" ] && many="$row"
    [ "$shards" = "$CORES" ] || rm -rf "$work/data-$shards"
  done
  local fresh
  fresh="$(freshness)"
  log "$fresh"

  local bare_rate
  bare_rate="$(awk -v n="$RECORDS" -v s="$bare_seconds" 'BEGIN {printf "%.0f", n / s}')"
  echo
  echo "index: $RECORDS records of $average_bytes bytes on average, $CORES cores;" \
    "load average at the start $load_before, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  printf '%-44s %8s %8s %8s %9s %8s %8s\n' "" "s" "docs/s" "x bare" "index MB" "RSS MB" "CPU s"
  printf '%-44s %8s %8s %8s %9s %8s %8s\n' "(a) bare Xapian loop, one writer (ceiling)" \
    "$bare_seconds" "$bare_rate" "1.00" "$bare_mb" "-" "-"
  local entry
  for entry in "${rows[@]}"; do
    local n seconds rate mb rss cpu label
    read -r n seconds rate mb rss cpu <<<"$entry"
    label="octohub reindex --index-shards $n"
    [ "$n" = 1 ] && label="(b) $label"
    [ "$n" = "$CORES" ] && label="(c) $label"
    printf '%-44s %8s %8s %8s %9s %8s %8s\n' "$label" "$seconds" "$rate" \
      "$(awk -v a="$rate" -v b="$bare_rate" 'BEGIN {printf "%.2f", a / b}')" "$mb" "$rss" "$cpu"
  done
  echo "(reindex reads every record from PostgreSQL, maps it and writes it; the bare loop is"
  echo " given its records in memory)"
  echo
  local p99
  p99="$(awk '{print $10}' <<<"$fresh")"
  echo "freshness, $FRESH_RATE records/s for $FRESH_SECONDS s on (c): $fresh"
  local ratio
  ratio="$(awk -v a="$(cut -d' ' -f2 <<<"$many")" -v b="$bare_rate" 'BEGIN {printf "%.2f", a / b}')"
  echo
  echo "goals: (c) >= 1.7 x bare $(verdict "$ratio" 1.7 ">="), freshness p99 < 1000 ms" \
    "$(verdict "$p99" 1000 "<"); (b) ran at $(awk -v a="$(cut -d' ' -f2 <<<"$one")" \
      -v b="$bare_rate" 'BEGIN {printf "%.2f", a / b}') x bare"
  echo "indexing ratio (c) $CORES shards / bare single writer (docs/s): $ratio"
}

main "$@"
