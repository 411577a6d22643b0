#!/usr/bin/env bash
# Hot restarts under load: real load tools run through sluice, started by
# `sluice hot-restarter`, while it is hot restarted RESTARTS times (SIGHUP,
# one every GAP seconds): redis-benchmark with -k 0 (a new connection per
# request, so every request goes through an accept) and pgbench -C (a new
# connection per transaction) against a local redis-server and PostgreSQL,
# and the same tools against the servers directly for comparison. Prints,
# per tool, requests or transactions done and failed; any failed one means
# a refused or cut connection. Not run in CI.
#   bench/hotrestart.sh
# RESTARTS=3 GAP=2 set the restarts; KEEP=1 keeps the logs.
# Needs: go, redis-server, redis-tools, postgresql, postgresql-client.
set -euo pipefail
cd "$(dirname "$0")/.."
RESTARTS=${RESTARTS:-3}
GAP=${GAP:-2}
TMP=$(mktemp -d)
chmod 755 "$TMP"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "logs in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
for b in redis-server redis-benchmark redis-cli psql pgbench; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install redis-server redis-tools postgresql postgresql-client" >&2; exit 1; }
done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); fi
wait_for() {
  for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for: $*" >&2
  return 1
}

RD=19500 PG=19501 SRD=19502 SPG=19503 ADM=19504
go build -o "$TMP/sluice" ./cmd/sluice
redis-server --port $RD --save '' --appendonly no >"$TMP/redis.log" 2>&1 &
mkdir -p "$TMP/pg"
[ ${#AS[@]} -gt 0 ] && chown postgres "$TMP/pg"
"${AS[@]}" "$PGBIN/initdb" -D "$TMP/pg/data" -U postgres --auth=trust >"$TMP/initdb.log" 2>&1
"${AS[@]}" "$PGBIN/postgres" -D "$TMP/pg/data" -p $PG -k "$TMP/pg" -c listen_addresses=127.0.0.1 -c max_connections=200 >"$TMP/pg.log" 2>&1 &
wait_for redis-cli -p $RD ping
wait_for psql -h 127.0.0.1 -p $PG -U postgres -Atc 'select 1' postgres
pgbench -i -q -s 1 -h 127.0.0.1 -p $PG -U postgres postgres >"$TMP/init.log" 2>&1

cat >"$TMP/sluice.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM}
drain_timeout: 30s
listeners:
  - name: redis
    address: 127.0.0.1:$SRD
    filters: [{redis_proxy: {stat_prefix: rds, settings: {op_timeout: 5s}, prefix_routes: {catch_all_route: {cluster: redis}}}}]
  - name: pg
    address: 127.0.0.1:$SPG
    filters: [{postgres_proxy: {stat_prefix: pg}}, {tcp_proxy: {stat_prefix: pg, cluster: pg}}]
clusters:
  - {name: redis, endpoints: ["127.0.0.1:$RD"]}
  - {name: pg, endpoints: ["127.0.0.1:$PG"]}
YAML
"$TMP/sluice" hot-restarter -base-id 9 -- -c "$TMP/sluice.yaml" -socket-path "$TMP/hr" >"$TMP/sluice.log" 2>&1 &
SLUICE=$!
wait_for curl -sf http://127.0.0.1:$ADM/ready

SECS=$(( (RESTARTS + 1) * GAP + 2 ))
# run_load NAME REDIS_PORT PG_PORT: redis-benchmark (no duration flag) runs
# in a loop for SECS, each run's exit status kept; pgbench runs SECS.
run_load() {
  (end=$((SECONDS + SECS)); while [ $SECONDS -lt $end ]; do
    rc=0; redis-benchmark -p "$2" -k 0 -c 8 -n 4000 -t set,get -q >>"$TMP/redis-$1.out" 2>&1 || rc=$?
    echo $rc >>"$TMP/redis-$1.rc"
  done) &
  R=$!
  pgbench -n -S -C -c 8 -j 2 -T $SECS -h 127.0.0.1 -p "$3" -U postgres postgres >"$TMP/pg-$1.out" 2>&1 &
  P=$!
}
report() { # NAME PGBENCH_EXIT
  local runs bad errs
  runs=$(wc -l <"$TMP/redis-$1.rc"); bad=$(grep -cv '^0$' "$TMP/redis-$1.rc" || true)
  # (redis_proxy does not answer CONFIG: redis-benchmark's warning about it is no failure)
  errs=$(grep -iE 'error|could not|reset|refused' "$TMP/redis-$1.out" | grep -vc 'Could not fetch server CONFIG' || true)
  printf '%-7s redis-benchmark -k 0 -c 8: %s runs of 4000 SET + 4000 GET, %s failed, %s error lines; last: %s\n' "$1" "$runs" "$bad" "$errs" \
    "$(grep -oE '(SET|GET): [0-9.]+ requests per second' "$TMP/redis-$1.out" | tail -2 | tr '\n' ' ')"
  printf '%-7s pgbench -S -C -c 8: exit %s; %s; %s; %s\n' "$1" "$2" \
    "$(grep -E 'number of transactions actually processed' "$TMP/pg-$1.out" | sed 's/^ *//')" \
    "$(grep -E 'number of failed transactions' "$TMP/pg-$1.out" | sed 's/^ *//')" \
    "$(grep -E '^tps' "$TMP/pg-$1.out" | head -1)"
}

run_load direct $RD $PG
rp=0; wait "$P" || rp=$?; wait "$R"
report direct $rp

run_load sluice $SRD $SPG
for i in $(seq "$RESTARTS"); do
  sleep "$GAP"
  kill -HUP $SLUICE
  wait_for grep -q "started epoch $i" "$TMP/sluice.log"
done
rp=0; wait "$P" || rp=$?; wait "$R"
report sluice $rp
echo "hot restarts done: $(grep -c 'hot restart: took the parent' "$TMP/sluice.log"); old epochs exited 0: $(grep -c 'exited: status 0' "$TMP/sluice.log")"
grep -E 'level=(WARN|ERROR)' "$TMP/sluice.log" | head -5 || true
