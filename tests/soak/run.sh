#!/usr/bin/env bash
# Soak test of a multi-process deployment, run by hand (10 minutes) or by ctest (short):
#   tests/soak/run.sh                      SOAK_SECONDS=600, a process killed every 60 s
#   SOAK_SECONDS=60 KILL_EVERY=15 tests/soak/run.sh
# One PostgreSQL; an API that keeps changing (tests/soak/changing_api.py) harvested every 5 s
# by two ingest workers; one index writer serving copies of its index; two API replicas.
# Search load (wrk) runs against replica a for the whole time while a process is SIGKILLed
# and restarted on every tick, in turn: worker a, the writer, worker b, replica b. At the end
# the workers stop, and PostgreSQL, the writer's index and both replicas must hold the same
# documents; no search request may have failed; replica a's memory must stay flat.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source-path=SCRIPTDIR/../..
source tests/bench/common/bench.sh

readonly SOAK_SECONDS="${SOAK_SECONDS:-600}"
readonly KILL_EVERY="${KILL_EVERY:-60}"
readonly SOURCES=(s1 s2 s3 s4)

declare -A pids=() args=()
api_pid=""
wrk_pid=""

cleanup() {
  for pid in "${pids[@]}" $api_pid $wrk_pid; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_cluster
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME ARGS…: octohub serve with NAME's own data dir; remembered for restarts.
start() {
  local name="$1"
  shift
  args[$name]="$*"
  # shellcheck disable=SC2086 # the remembered arguments are words
  "$OCTOHUB" serve --database-url "$conninfo" --data-dir "$work/$name" "$@" \
    2>>"$work/$name.log" &
  pids[$name]=$!
}
restart() {
  local name="$1"
  # shellcheck disable=SC2086
  start "$name" ${args[$name]}
}
rss_kb() { ps -o rss= -p "$1" | tr -d ' '; }

wait_until() { # SECONDS COMMAND…: polls the command until it succeeds
  local limit="$1"
  shift
  for _ in $(seq $((limit * 5))); do
    "$@" && return 0
    sleep 0.2
  done
  "$@"
}
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$1/readyz")" = 200 ]; }

# The documents of an index as sorted "source:id" lines, from its unique-id terms.
index_documents() { xapian-delve -1 -A Q "$1" 2>/dev/null | sed -n 's/^Q//p' | sort; }
database_documents() {
  sql "$conninfo" "SELECT source || ':' || id FROM records WHERE NOT deleted" | sort
}
agree() { cmp -s <(database_documents) <(index_documents "$1"); }

for tool in "$OCTOHUB" "$TEST_PG" wrk xapian-delve python3 curl psql; do
  command -v "$tool" >/dev/null || die "$tool is missing (build, or docker/packages.txt)"
done

start_cluster
python3 tests/soak/changing_api.py >"$work/api.out" 2>"$work/api.log" &
api_pid=$!
wait_until 10 grep -q '^port ' "$work/api.out" || die "the changing API did not start"
api_port="$(awk '/^port / {print $2}' "$work/api.out")"

for source in "${SOURCES[@]}"; do
  cat >"$work/$source.yaml" <<YAML
name: $source
url: http://127.0.0.1:$api_port/$source
records: /items
id: /id
pagination: {type: page}
schedule: every 5s
index: {title: /title, text: [/body], numbers: {n: /n}}
YAML
  "$OCTOHUB" sources apply "$work/$source.yaml" --database-url "$conninfo" >/dev/null
done

replication="127.0.0.1:$(free_port)"
replica_a="127.0.0.1:$(free_port)"
replica_b="127.0.0.1:$(free_port)"
start writer --roles index --replication-listen "$replication"
start replica-a --roles api --public-read --listen "$replica_a" --index-replica-of "$replication"
start replica-b --roles api --public-read --listen "$replica_b" --index-replica-of "$replication"
start worker-a --roles ingest --ingest-workers 2 --lease-seconds 5
start worker-b --roles ingest --ingest-workers 2 --lease-seconds 5
wait_until 60 ready "$replica_a" || die "replica a never became ready: $(tail -3 "$work/replica-a.log")"
wait_until 60 ready "$replica_b" || die "replica b never became ready: $(tail -3 "$work/replica-b.log")"
log "running: writer, replicas a ($replica_a) and b, workers a and b; soak ${SOAK_SECONDS}s, a kill every ${KILL_EVERY}s"

# A request unanswered for 10 s counts as failed (wrk's default of 2 s would count a slow
# answer on a loaded machine as a failure).
wrk -t1 -c4 -d"${SOAK_SECONDS}s" --timeout 10s --latency \
  "http://$replica_a/api/v1/search?q=harbor+lantern&per_page=10" >"$work/wrk.out" 2>&1 &
wrk_pid=$!
sleep 5
rss_start="$(rss_kb "${pids[replica-a]}")"

victims=(worker-a writer worker-b replica-b)
kills=0
started_at="$(date +%s)"
while [ $(($(date +%s) - started_at)) -lt $((SOAK_SECONDS - KILL_EVERY / 2)) ]; do
  sleep "$KILL_EVERY"
  victim="${victims[$((kills % ${#victims[@]}))]}"
  kill -9 "${pids[$victim]}" 2>/dev/null || true
  wait "${pids[$victim]}" 2>/dev/null || true
  kills=$((kills + 1))
  log "killed $victim (kill $kills), restarting it"
  restart "$victim"
done
wait "$wrk_pid" || die "wrk failed: $(cat "$work/wrk.out")"
wrk_pid=""
rss_end="$(rss_kb "${pids[replica-a]}")"

# Quiesce: no more harvesting; the index and the replicas catch up with PostgreSQL.
for worker in worker-a worker-b; do kill -TERM "${pids[$worker]}"; done
for worker in worker-a worker-b; do wait "${pids[$worker]}" || true; unset "pids[$worker]"; done
wait_until 60 agree "$work/writer/index" ||
  die "the writer's index disagrees with PostgreSQL: $(diff <(database_documents) <(index_documents "$work/writer/index") | head -5 || true)"
for replica in replica-a replica-b; do
  wait_until 60 agree "$work/$replica/index" ||
    die "$replica disagrees with PostgreSQL: $(diff <(database_documents) <(index_documents "$work/$replica/index") | head -5 || true)"
done
documents="$(database_documents | wc -l)"

requests="$(awk '/requests in/ {print $1}' "$work/wrk.out")"
failures="$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) n += $i} END {print n + 0}' "$work/wrk.out")"
p99="$(awk '$1 == "99%" {print $2}' "$work/wrk.out")"
runs="$(sql "$conninfo" "SELECT count(*) FROM runs WHERE status = 'succeeded'")"
log "$runs runs succeeded; $documents documents in PostgreSQL, the index and both replicas"
log "search under load: $requests requests, $failures failed, p99 $p99"
grep -E 'Non-2xx|Socket errors' "$work/wrk.out" >&2 || true
if [ "$failures" != 0 ]; then
  grep -h '"http.request"' "$work"/replica-a.log | grep -v '"status":200' | tail -5 >&2 || true
fi
log "replica a RSS: start ${rss_start} kB, end ${rss_end} kB"
[ "$failures" = 0 ] || die "search requests failed during the soak"
[ "$rss_end" -lt $((rss_start * 2 + 20000)) ] || die "replica a's memory grew from $rss_start to $rss_end kB"
echo "soak: ${SOAK_SECONDS}s, $kills kills, $documents documents agree, $requests searches, 0 failed, RSS ${rss_start}->${rss_end} kB"
