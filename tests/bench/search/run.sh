#!/usr/bin/env bash
# Search benchmark, run by hand (never by ctest):
#   tests/bench/search/run.sh
# 500,000 issue-like records of about 1 KB (real package synopses from apt-cache dumpavail)
# are copied into PostgreSQL, then:
#  (a) indexing: `octohub reindex` rebuilds the Xapian index from PostgreSQL; the ceiling is
#      a bare loop that puts the same records into Xapian directly (octohub-bench-search
#      bare-index). Goal: docs/s ours >= 0.8 x bare.
#  (b) queries: a fixed mix (single words, two words, phrases, facet + filter, prefix) through
#      `octohub serve` under wrk, and the same questions answered by PostgreSQL full-text
#      search (stored tsvector + GIN, websearch_to_tsquery, ts_rank) under pgbench with the
#      same concurrency, at two loads: one request in flight per core (2 connections: the
#      latency of a search on a machine that keeps up) and 16 connections (saturation: the
#      throughput; latency there is mostly waiting for a core). Goals: >= 5 x PostgreSQL's
#      throughput, p99 < 20 ms, with typo tolerance on (the default); the same mix with
#      typos=0 is run too, to show what typo tolerance costs.
# Everything runs in one throwaway cluster, removed on exit. The last line ends with the
# ratios: throughput ours/PostgreSQL, and p50 PostgreSQL/ours (both: bigger is better).
# BENCH_RECORDS=N changes the record count (for a quick try; figures are for 500,000);
# BENCH_SECONDS=N the length of each load run (default 20).
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source-path=SCRIPTDIR/../../..
source tests/bench/common/bench.sh

readonly RECORDS="${BENCH_RECORDS:-500000}"
readonly SECONDS_PER_RUN="${BENCH_SECONDS:-20}"
readonly CLIENTS=16      # concurrent connections, the same for wrk and pgbench
readonly LIGHT_CLIENTS=2 # one request in flight per core, the same for both
readonly THREADS=2  # client threads, the same for wrk and pgbench
readonly BENCH_SEARCH=build/tests/bench/octohub-bench-search
readonly MIX_LUA=tests/bench/search/mix.lua

# The query mix, "kind|query". Both sides get the same text: Xapian's query parser gets it as
# q (words are ANDed, as websearch_to_tsquery does), PostgreSQL gets
# websearch_to_tsquery('english', query); a prefix query is q=...&prefix=true for us and
# to_tsquery('english', 'query:*') for PostgreSQL; facet + filter adds filter.author=AUTHOR
# (the author with the most records) and counts the matches by state on both sides.
# The words match from about 1% to 17% of the records: common enough to have work to rank,
# not so common that PostgreSQL ranks most of the table.
readonly QUERIES=(
  "word|chess"
  "word|kernel"
  "word|font"
  "two words|image viewer"
  "two words|backup encryption"
  "phrase|\"command line\""
  "phrase|\"web server\""
  "facet + filter|documentation"
  "prefix|astro"
  "prefix|encr"
)

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
  local tool
  for tool in /usr/bin/time psql pgbench wrk jq curl; do
    command -v "$tool" >/dev/null || die "$tool is missing (docker/packages.txt; run scripts/setup)"
  done
}

# JIT compiles the plans of PostgreSQL's costlier searches, adding tens of milliseconds to
# each, and buys nothing for a handful of index lookups: off, as OLTP setups do.
tune_cluster() {
  sql "$conninfo" "ALTER SYSTEM SET jit = off" >/dev/null
  sql "$conninfo" "SELECT pg_reload_conf()" >/dev/null
}

# Ours: `octohub reindex` reads every record from PostgreSQL and builds a new generation.
# Its own "indexed N records in S s" is the figure; GNU time adds peak RSS and CPU.
index_ours() {
  /usr/bin/time -v -o "$work/reindex.time" \
    "$OCTOHUB" reindex --database-url "$conninfo" --data-dir "$work/data" \
    >"$work/reindex.out" 2>"$work/reindex.log" ||
    die "reindex failed: $(tail -5 "$work/reindex.log")"
  local indexed
  indexed="$(awk '/^indexed / {print $2}' "$work/reindex.out")"
  [ "$indexed" = "$RECORDS" ] || die "reindex indexed '$indexed' records, not $RECORDS"
  ours_seconds="$(awk '/^indexed / {print $5}' "$work/reindex.out")"
  ours_mb="$(du -sm "$work/data/index" | cut -f1)"
  ours_rss="$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' \
    "$work/reindex.time")"
  ours_cpu="$(awk -F': ' '/(User|System) time/ {s += $2} END {printf "%.1f", s}' \
    "$work/reindex.time")"
  log "ours: $(cat "$work/reindex.out")"
}

# PostgreSQL's side: the same text in a table with a stored tsvector (title weighted A,
# body B), a GIN index on it and a B-tree on author for the filter.
build_fts() {
  local start
  start="$(now)"
  psql "$conninfo" -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SET maintenance_work_mem = '512MB';
CREATE TABLE bench_fts (
  id     bigint PRIMARY KEY,
  title  text NOT NULL,
  body   text NOT NULL,  -- body, author name and labels: the text Octohub indexes
  author text NOT NULL,
  state  text NOT NULL,
  tsv    tsvector GENERATED ALWAYS AS (
           setweight(to_tsvector('english', title), 'A') ||
           setweight(to_tsvector('english', body), 'B')) STORED
);
INSERT INTO bench_fts (id, title, body, author, state)
SELECT id::bigint, data->>'title',
       concat_ws(' ', data->>'body', data->'author'->>'name',
                 (SELECT string_agg(label->>'name', ' ')
                  FROM json_array_elements(data->'labels') AS label)),
       data->'author'->>'login', data->>'state'
FROM records WHERE source = 'bench';
CREATE INDEX bench_fts_tsv ON bench_fts USING gin (tsv);
CREATE INDEX bench_fts_author ON bench_fts (author);
VACUUM ANALYZE bench_fts;
CHECKPOINT;
SQL
  fts_seconds="$(elapsed "$start" "$(now)")"
  fts_mb="$(sql "$conninfo" "SELECT pg_total_relation_size('bench_fts') / 1048576")"
  author="$(sql "$conninfo" \
    "SELECT author FROM bench_fts GROUP BY author ORDER BY count(*) DESC, author LIMIT 1")"
  log "PostgreSQL full-text table and indexes built in $fts_seconds s"
}

uri() { jq -rn --arg s "$1" '$s | @uri'; }
sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }

# For query i of the mix: its kind, its text, the request path for us and the SQL for
# PostgreSQL (the top 20 by rank; facet + filter also counts every match by state).
describe_query() {
  kind="${QUERIES[$1]%%|*}"
  text="${QUERIES[$1]#*|}"
  local q tsquery
  q="$(uri "$text")"
  tsquery="websearch_to_tsquery('english', $(sql_literal "$text"))"
  path="/api/v1/search?q=$q"
  local where="tsv @@ query"
  case "$kind" in
    prefix)
      path+="&prefix=true"
      tsquery="to_tsquery('english', $(sql_literal "$text:*"))"
      ;;
    "facet + filter")
      path+="&facets=state&filter.author=$(uri "$author")"
      where+=" AND author = $(sql_literal "$author")"
      ;;
  esac
  if [ "$kind" = "facet + filter" ]; then
    search_sql="WITH matches AS MATERIALIZED (
  SELECT id, title, state, ts_rank(tsv, query) AS rank
  FROM bench_fts, $tsquery AS query WHERE $where)
SELECT (SELECT json_agg(hit) FROM (
          SELECT id, title, rank FROM matches ORDER BY rank DESC LIMIT 20) AS hit) AS hits,
       (SELECT json_object_agg(state, n) FROM (
          SELECT state, count(*) AS n FROM matches GROUP BY state) AS facet) AS facets;"
  else
    search_sql="SELECT id, title, ts_rank(tsv, query) AS rank
FROM bench_fts, $tsquery AS query WHERE $where
ORDER BY rank DESC LIMIT 20;"
  fi
  count_sql="SELECT count(*) FROM bench_fts, $tsquery AS query WHERE $where"
}

# Writes the mix for both tools ($work/paths.txt for wrk, one pgbench script per query) and
# checks every query once, alone: both sides answer, with how many matches and how fast
# (median of 5 for us, average of 5 for PostgreSQL). Sets the rows of the per-query table.
prepare_queries() {
  mkdir -p "$work/pgbench"
  : >"$work/paths.txt"
  query_rows=()
  local i base="http://$listen"
  for i in "${!QUERIES[@]}"; do
    describe_query "$i"
    echo "$path" >>"$work/paths.txt"
    echo "$search_sql" >"$work/pgbench/q$i.sql"
    local ours_total ours_ms pg_count pg_ms
    curl -sf "$base$path&exact_total=true" >"$work/check.json" ||
      die "$kind query failed: $(curl -s "$base$path")"
    ours_total="$(jq -r .total "$work/check.json")"
    # Five times over one connection; the median.
    ours_ms="$(curl -sf -w '%{time_total}\n' -o /dev/null "$base$path" -o /dev/null "$base$path" \
      -o /dev/null "$base$path" -o /dev/null "$base$path" -o /dev/null "$base$path" |
      sort -n | awk 'NR == 3 {printf "%.1f", $1 * 1000}')"
    pg_count="$(sql "$conninfo" "$count_sql")"
    pg_ms="$(pgbench -n -c1 -t5 -f "$work/pgbench/q$i.sql" "$conninfo" 2>&1 |
      awk '/^latency average/ {printf "%.1f", $4}')"
    query_rows+=("$(printf '%-15s %-22s %9s %9s %9s %9s' "$kind" "$text" "$ours_total" \
      "$pg_count" "$ours_ms" "$pg_ms")")
  done
}

start_serve() {
  "$OCTOHUB" serve --database-url "$conninfo" --data-dir "$work/data" \
    --listen 127.0.0.1:0 --public-read --roles api 2>"$work/serve.log" &
  serve_pid=$!
  await_serve "$serve_pid" "$work/serve.log"
  curl -sf "http://$listen/readyz" >/dev/null || die "serve is not ready"
}

stop_serve() {
  kill "$serve_pid"
  wait "$serve_pid" || true
  serve_pid=""
}

# wrk over the mix with CONNECTIONS (PATHS: the mix's file, $work/paths.txt by default): a few
# seconds to warm caches and readers, then the measured run; prints "requests req/s p50 p99".
load_ours() {
  local connections="$1" paths="${2:-$work/paths.txt}" result errors non2xx requests rps p50 p99
  wrk -t"$THREADS" -c"$connections" -d3s -s "$MIX_LUA" "http://$listen" -- "$paths" >/dev/null
  wrk -t"$THREADS" -c"$connections" -d"${SECONDS_PER_RUN}s" -s "$MIX_LUA" "http://$listen" \
    -- "$paths" >"$work/wrk.out"
  result="$(grep '^mix: ' "$work/wrk.out")" || die "wrk printed no result: $(cat "$work/wrk.out")"
  read -r _ _ requests _ _ _ rps _ p50 _ p99 _ errors _ non2xx <<<"$result"
  if [ "$errors" != 0 ] || [ "$non2xx" != 0 ]; then
    die "wrk saw $errors socket errors and $non2xx non-2xx answers"
  fi
  echo "$requests $rps $p50 $p99"
}

# pgbench over the same mix with CONNECTIONS: one script per query, equal weights, so each
# transaction is one query picked at random; per-transaction logs give the percentiles.
# Prints "requests tps p50 p99".
load_postgres() {
  local connections="$1" scripts=() i tps failed requests
  for i in "${!QUERIES[@]}"; do scripts+=(-f "$work/pgbench/q$i.sql@1"); done
  pgbench -n -c"$connections" -j"$THREADS" -T3 "${scripts[@]}" "$conninfo" \
    >"$work/pgbench.out" 2>&1 || die "pgbench failed: $(tail -5 "$work/pgbench.out")"
  rm -f "$work/pgbench/log".*
  pgbench -n -c"$connections" -j"$THREADS" -T"$SECONDS_PER_RUN" "${scripts[@]}" \
    --log --log-prefix="$work/pgbench/log" "$conninfo" >"$work/pgbench.out" 2>&1 ||
    die "pgbench failed: $(tail -5 "$work/pgbench.out")"
  tps="$(awk '/^tps = / {printf "%.1f", $3}' "$work/pgbench.out")"
  failed="$(awk '/^number of failed transactions/ {print $5}' "$work/pgbench.out")"
  [ "${failed:-0}" = 0 ] || die "pgbench: $failed failed transactions"
  # Log lines: client transaction latency_us script epoch epoch_us.
  cat "$work/pgbench/log".* | awk '{print $3}' | sort -n >"$work/pgbench/latencies"
  requests="$(wc -l <"$work/pgbench/latencies")"
  echo "$requests $tps $(percentile 50 "$requests") $(percentile 99 "$requests")"
}

# percentile P of N sorted latencies in $work/pgbench/latencies (microseconds), in ms.
percentile() {
  awk -v p="$1" -v n="$2" \
    'NR == (int(n * p / 100) > 0 ? int(n * p / 100) : 1) {printf "%.2f", $1 / 1000; exit}' \
    "$work/pgbench/latencies"
}

report() {
  local bare_rate ours_rate index_ratio
  bare_rate="$(awk -v n="$RECORDS" -v s="$bare_seconds" 'BEGIN {printf "%.0f", n / s}')"
  ours_rate="$(awk -v n="$RECORDS" -v s="$ours_seconds" 'BEGIN {printf "%.0f", n / s}')"
  index_ratio="$(awk -v a="$ours_rate" -v b="$bare_rate" 'BEGIN {printf "%.2f", a / b}')"
  echo
  echo "search: $RECORDS records of $average_bytes bytes on average, $(nproc) cores;" \
    "load average at the start $load_before, at the end $(load_average) (the cores are shared)"
  echo
  echo "(a) indexing"
  printf '%-36s %8s %8s %9s\n' "" "s" "docs/s" "index MB"
  printf '%-36s %8s %8s %9s\n' "octohub reindex (from PostgreSQL)" "$ours_seconds" "$ours_rate" \
    "$ours_mb"
  printf '%-36s %8s %8s %9s\n' "bare Xapian loop (ceiling)" "$bare_seconds" "$bare_rate" \
    "$bare_mb"
  echo "(reindex: peak RSS $ours_rss MB, $ours_cpu CPU s; PostgreSQL's tsvector table, GIN and"
  echo " B-tree built in $fts_seconds s, $fts_mb MB)"
  echo
  echo "(b) queries, one client, each query alone: matches (our exact total, PostgreSQL's"
  echo "    count) and time (ours: median of 5 over HTTP; PostgreSQL: pgbench average of 5)"
  printf '%-15s %-22s %9s %9s %9s %9s\n' kind query "ours" "PG" "ours ms" "PG ms"
  printf '%s\n' "${query_rows[@]}"
  echo "(facet + filter: filter.author=$author)"
  echo
  echo "(b) queries, the mix under load: $THREADS client threads, ${SECONDS_PER_RUN} s a run"
  printf '%-40s %5s %9s %9s %9s %9s\n' "" conns requests "req/s" "p50 ms" "p99 ms"
  printf '%-40s %5s %9s %9s %9s %9s\n' "octohub serve, GET /api/v1/search (wrk)" \
    "$LIGHT_CLIENTS" "$ours_light_requests" "$ours_light_rps" "$ours_light_p50" "$ours_light_p99"
  printf '%-40s %5s %9s %9s %9s %9s\n' "PostgreSQL full-text search (pgbench)" \
    "$LIGHT_CLIENTS" "$pg_light_requests" "$pg_light_tps" "$pg_light_p50" "$pg_light_p99"
  printf '%-40s %5s %9s %9s %9s %9s\n' "octohub serve, GET /api/v1/search (wrk)" "$CLIENTS" \
    "$ours_requests" "$ours_rps" "$ours_p50" "$ours_p99"
  printf '%-40s %5s %9s %9s %9s %9s\n' "PostgreSQL full-text search (pgbench)" "$CLIENTS" \
    "$pg_requests" "$pg_tps" "$pg_p50" "$pg_p99"
  printf '%-40s %5s %9s %9s %9s %9s\n' "octohub serve, the mix with typos=0" \
    "$LIGHT_CLIENTS" "$off_light_requests" "$off_light_rps" "$off_light_p50" "$off_light_p99"
  printf '%-40s %5s %9s %9s %9s %9s\n' "octohub serve, the mix with typos=0" "$CLIENTS" \
    "$off_requests" "$off_rps" "$off_p50" "$off_p99"
  echo "(typo tolerance is on by default: the first two octohub rows; typos=0 shows its cost)"
  echo "(ours answers with snippets, and facet counts where asked; PostgreSQL with id, title"
  echo " and rank, no ts_headline)"
  local throughput_ratio p50_ratio
  throughput_ratio="$(awk -v a="$ours_rps" -v b="$pg_tps" 'BEGIN {printf "%.1f", a / b}')"
  p50_ratio="$(awk -v a="$ours_p50" -v b="$pg_p50" 'BEGIN {printf "%.1f", b / a}')"
  echo
  echo "goals: indexing >= 0.8 x bare $(verdict "$index_ratio" 0.8 ">=")," \
    "throughput >= 5 x PostgreSQL $(verdict "$throughput_ratio" 5 ">=")," \
    "p99 < 20 ms at $LIGHT_CLIENTS connections $(verdict "$ours_light_p99" 20 "<")," \
    "at $CLIENTS $(verdict "$ours_p99" 20 "<")"
  echo "indexing ratio ours/bare (docs/s): $index_ratio"
  echo "(throughput: req/s ours ÷ PostgreSQL; p50: PostgreSQL's p50 ÷ ours — bigger is better)"
  echo "ratio ours/PostgreSQL: throughput $throughput_ratio p50 $p50_ratio"
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

main() {
  load_before="$(load_average)"
  build
  start_cluster
  tune_cluster
  gather_sentences
  load_bench_records
  index_bare
  index_ours
  build_fts
  start_serve
  prepare_queries
  log "load on octohub serve at $listen"
  read -r ours_light_requests ours_light_rps ours_light_p50 ours_light_p99 \
    <<<"$(load_ours "$LIGHT_CLIENTS")"
  read -r ours_requests ours_rps ours_p50 ours_p99 <<<"$(load_ours "$CLIENTS")"
  sed 's/$/\&typos=0/' "$work/paths.txt" >"$work/paths-typos-off.txt"
  read -r off_light_requests off_light_rps off_light_p50 off_light_p99 \
    <<<"$(load_ours "$LIGHT_CLIENTS" "$work/paths-typos-off.txt")"
  read -r off_requests off_rps off_p50 off_p99 \
    <<<"$(load_ours "$CLIENTS" "$work/paths-typos-off.txt")"
  stop_serve
  log "load on PostgreSQL"
  read -r pg_light_requests pg_light_tps pg_light_p50 pg_light_p99 \
    <<<"$(load_postgres "$LIGHT_CLIENTS")"
  read -r pg_requests pg_tps pg_p50 pg_p99 <<<"$(load_postgres "$CLIENTS")"
  report
}

main "$@"
