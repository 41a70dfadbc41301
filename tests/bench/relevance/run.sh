#!/usr/bin/env bash
# Relevance benchmark, run by hand (never by ctest):
#   tests/bench/relevance/run.sh
# Search quality, not speed: how often Octohub puts the package a user is looking for where
# they look, against MiniSearch (npm, pinned in package.json) on the same records and the
# same queries, in one run.
# Records: this machine's Debian package index (apt-cache dumpavail), one record per package
# name: {id, name, summary (the first line of Description), description (the rest of it),
# section} (records.mjs; where apt fetched no Translation-en files, its index carries the
# short descriptions only and description stays empty). Octohub harvests them for real: a
# loopback API (api.mjs) serves them in numbered pages of 1,000, `octohub sources run --wait`
# stores them, and `octohub serve` (roles api and index) indexes them; the queries start once
# every record is searchable. MiniSearch indexes the same records in Node, set up for search
# as you type as its README shows (compare.mjs).
# Queries (queries.mjs, a fixed seed): four sets of 300, each query knowing its package:
#   exact        the name                                   success: the target first
#   typo         the name with one edit (5+ characters)     success: in the top 3
#   prefix       the first 60% of a name (10+ characters)   success: in the top 10
#   description  three words of the summary, in order       success: in the top 10
# Octohub gets each query as its web UI sends it (q, prefix=true, per_page=10).
# Goals: Octohub >= MiniSearch on every set, typo >= 0.9, exact = 1.0. The last number on
# the last line is Octohub's mean success over the four sets ÷ MiniSearch's.
# Everything runs in one throwaway cluster, removed on exit with the servers and files.
# BENCH_QUERIES=N asks N queries a set instead (for a quick try; figures are for 300).
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source-path=SCRIPTDIR/../../..
source tests/bench/common/bench.sh

readonly QUERIES="${BENCH_QUERIES:-300}"
readonly PAGE_SIZE=1000
readonly HERE=tests/bench/relevance
readonly INDEX_TIMEOUT=900 # seconds for serve to index every record, on a busy machine

api_pid=""
serve_pid=""

cleanup() {
  stop_processes "$serve_pid" "$api_pid"
  stop_cluster
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on Ctrl-C too

# Builds what it measures, as the other benchmarks do (nothing when it is current).
build() {
  [[ "$QUERIES" =~ ^[1-9][0-9]*$ ]] || die "BENCH_QUERIES must be a positive number"
  scripts/setup octohub >/dev/null
  cmake --build build --target octohub-test-pg -j2 >/dev/null
  local tool
  for tool in apt-cache node curl jq; do
    command -v "$tool" >/dev/null || die "$tool is missing (docker/packages.txt; run scripts/setup)"
  done
  node -e 'process.exit(typeof fetch === "function" ? 0 : 1)' ||
    die "node $(node --version) has no fetch: Node 18 or newer is needed"
  [ -f node_modules/minisearch/package.json ] ||
    die "node_modules/minisearch is missing: run npm ci"
}

# The records and the query sets, from apt's index of this machine.
prepare() {
  local counts
  counts="$(apt-cache dumpavail | node "$HERE/records.mjs" "$work/records.json")" ||
    die "could not read apt-cache dumpavail"
  read -r records long_descriptions <<<"$counts"
  [ "$records" -gt 1000 ] ||
    die "apt knows only $records packages: run apt-get update for a package index"
  node "$HERE/queries.mjs" "$work/records.json" "$QUERIES" >"$work/queries.json"
  log "$records packages ($long_descriptions with a long description)," \
    "$(jq '[.[] | length] | add' "$work/queries.json") queries"
}

start_api() {
  node "$HERE/api.mjs" "$work/records.json" >"$work/api.out" 2>"$work/api.log" &
  api_pid=$!
  local port=""
  for _ in $(seq 100); do
    port="$(awk '/^port / {print $2}' "$work/api.out")"
    [ -n "$port" ] && break
    kill -0 "$api_pid" 2>/dev/null || die "the API did not start: $(tail -3 "$work/api.log")"
    sleep 0.1
  done
  [ -n "$port" ] || die "the API did not print its port"
  api_url="http://127.0.0.1:$port/packages"
}

# Registers the source (this also migrates the database) and harvests it once.
harvest() {
  cat >"$work/debian.yaml" <<YAML
name: debian
url: $api_url
records: /items
id: /id
pagination: {type: page, param: page, size_param: per_page, size: $PAGE_SIZE}
index:
  title: /name
  text: [/summary, /description]
  facets: {section: /section}
YAML
  "$OCTOHUB" sources apply "$work/debian.yaml" --database-url "$conninfo" >/dev/null \
    2>"$work/apply.log" || die "sources apply failed: $(tail -5 "$work/apply.log")"
  local start
  start="$(now)"
  "$OCTOHUB" sources run debian --wait --json --database-url "$conninfo" >"$work/run.json" \
    2>"$work/run.log" || die "the harvest failed: $(cat "$work/run.json") $(tail -5 "$work/run.log")"
  local stored
  stored="$(jq -r .records_new "$work/run.json")"
  [ "$stored" = "$records" ] || die "the harvest stored $stored records, not $records"
  log "$records records harvested in $(elapsed "$start" "$(now)") s"
}

# serve with the api and index roles (no ingest: the source has run already); its indexer
# follows the records table from the start. Anonymous reads, as the UI's searches are.
start_serve() {
  "$OCTOHUB" serve --database-url "$conninfo" --data-dir "$work/data" \
    --listen 127.0.0.1:0 --public-read --roles api,index 2>"$work/serve.log" &
  serve_pid=$!
  await_serve "$serve_pid" "$work/serve.log"
}

# Waits until a search for everything counts every record.
await_index() {
  local start indexed=0
  start="$(now)"
  for _ in $(seq $((INDEX_TIMEOUT * 2))); do
    indexed="$(curl -sf "http://$listen/api/v1/search?per_page=1&exact_total=true" |
      jq -r .total)" || indexed=0
    [ "$indexed" = "$records" ] && break
    kill -0 "$serve_pid" 2>/dev/null || die "serve died: $(tail -3 "$work/serve.log")"
    sleep 0.5
  done
  [ "$indexed" = "$records" ] ||
    die "after $INDEX_TIMEOUT s the index holds $indexed of $records records"
  log "every record searchable $(elapsed "$start" "$(now)") s after serve was ready"
}

main() {
  local started
  started="$(now)"
  build
  start_cluster
  prepare
  start_api
  harvest
  stop_processes "$api_pid"
  api_pid=""
  start_serve
  await_index
  echo
  echo "relevance: $records Debian packages (apt-cache dumpavail), $QUERIES queries a set," \
    "octohub $("$OCTOHUB" --version | awk '{print $NF}') against minisearch" \
    "$(jq -r .version node_modules/minisearch/package.json); $(nproc) cores," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
  node "$HERE/compare.mjs" "$work/records.json" "$work/queries.json" "http://$listen" \
    >"$work/report.txt" || die "the comparison failed"
  log "done in $(elapsed "$started" "$(now)") s"
  cat "$work/report.txt"
}

main "$@"
