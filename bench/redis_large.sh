#!/usr/bin/env bash
# Memory of redis_proxy under large values: N clients at once each SET a
# value of M MiB through sluice to one redis-server (redis-cli -x), then GET
# it back and compare it byte for byte; prints sluice's VmRSS before, the
# peak during the SETs and during the GETs (sampled every 50 ms from
# /proc/<pid>/status), and 1 s and 30 s after the clients left.
#   bench/redis_large.sh [clients] [MiB] [sluice binary] [buffer limit]
# The binary defaults to a build of this tree; pass another (say, a build of
# an older commit) to compare. The limit is the listener's and the cluster's
# per_connection_buffer_limit_bytes (default 1 MiB, Envoy's).
# Needs: go, redis-server, redis-cli.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-3}
MIB=${2:-150}
BIN=${3:-}
LIMIT=${4:-1048576}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$TMP"' EXIT
if [ -z "$BIN" ]; then
  go build -o "$TMP/sluice" ./cmd/sluice
  BIN=$TMP/sluice
fi

UP=19110 SL=19111 ADM=19112
redis-server --port $UP --save '' --appendonly no --daemonize no --logfile "$TMP/redis.log" &
cat > "$TMP/sluice.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM}
listeners:
  - name: bench
    address: 127.0.0.1:$SL
    per_connection_buffer_limit_bytes: $LIMIT
    filters:
      - redis_proxy:
          stat_prefix: bench
          settings: {op_timeout: 5s}
          prefix_routes: {catch_all_route: {cluster: up}}
clusters:
  - {name: up, per_connection_buffer_limit_bytes: $LIMIT, endpoints: ["127.0.0.1:$UP"]}
YAML
# An older sluice does not know the limits or request_timeout: drop them.
if ! "$BIN" validate -c "$TMP/sluice.yaml" >/dev/null 2>&1; then
  sed -i -e '/^    per_connection_buffer_limit_bytes: /d' -e 's/, per_connection_buffer_limit_bytes: [0-9]*//' \
    "$TMP/sluice.yaml"
fi
"$BIN" -c "$TMP/sluice.yaml" -log-level info 2> "$TMP/sluice.log" &
SPID=$!
for p in $UP $SL; do
  for _ in $(seq 50); do redis-cli -p $p ping >/dev/null 2>&1 && break; sleep 0.1; done
done

rss() { awk '/^VmRSS/ {print $2}' "/proc/$SPID/status"; }
# peak samples sluice's RSS until the file $1 exists, then prints the max.
peak() {
  local max=0 r
  while [ ! -e "$1" ]; do
    r=$(rss)
    ((r > max)) && max=$r
    sleep 0.05
  done
  echo "$max"
}
head -c $((MIB << 20)) /dev/urandom > "$TMP/value"
BEFORE=$(rss)

peak "$TMP/set.done" > "$TMP/set.peak" &
START=$(date +%s.%N)
pids=()
for i in $(seq "$CLIENTS"); do
  redis-cli -p $SL -x SET "big:$i" < "$TMP/value" > "$TMP/set.$i" &
  pids+=($!)
done
wait "${pids[@]}"
SET_S=$(echo "$(date +%s.%N) - $START" | bc)
touch "$TMP/set.done"
sleep 0.2

peak "$TMP/get.done" > "$TMP/get.peak" &
pids=()
for i in $(seq "$CLIENTS"); do
  # redis-cli may die of SIGPIPE writing its final newline after head has
  # exited: its status must not count (pipefail).
  ({ redis-cli -p $SL GET "big:$i" || true; } | head -c $((MIB << 20)) | cmp -s - "$TMP/value" && echo same || echo DIFFERENT) > "$TMP/get.$i" &
  pids+=($!)
done
wait "${pids[@]}"
touch "$TMP/get.done"
sleep 0.2
AFTER1=$(sleep 1; rss)
AFTER30=$(sleep 29; rss)

for i in $(seq "$CLIENTS"); do
  echo "client $i: SET $(cat "$TMP/set.$i"), GET back: $(cat "$TMP/get.$i")"
done
echo "sluice VmRSS (KiB): before $BEFORE, peak during SETs $(cat "$TMP/set.peak"), peak during GETs $(cat "$TMP/get.peak"), 1s after $AFTER1, 30s after $AFTER30"
echo "$CLIENTS clients x $MIB MiB, SETs took ${SET_S}s; per_connection_buffer_limit_bytes $LIMIT; binary $BIN"
grep redis_proxy "$TMP/sluice.log" || true # closes and refusals, if any
curl -s "http://127.0.0.1:$ADM/stats" 2>/dev/null | grep -E 'redis\.bench\.(downstream_cx_(rx|tx)_bytes_buffered|downstream_rq_too_large|downstream_rq_total)' || true
