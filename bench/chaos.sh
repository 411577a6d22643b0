#!/usr/bin/env bash
# Upstream failures under load, per filter: a real load tool runs through
# sluice in a loop (each run restarted when it ends or fails) and a probe
# sends one request through sluice every PROBE seconds, while the upstream
# server's process group is
#   kill: killed with SIGKILL, left down DOWN seconds, started again on the
#         same port and data directory (crash recovery included);
#   stop: frozen with SIGSTOP for DOWN seconds, then SIGCONT.
# For each filter and fault it prints: probes failed, the outage seen by the
# probe (its longest streak of failures, from the last good probe before it
# to the first good one after it), the recovery time (from the restart or
# SIGCONT to the end of that streak), load runs that failed, whether a run
# succeeded after the restart, and sluice's failure counters that moved.
# Not run in CI.
#   bench/chaos.sh [filter...]   filters: tcp redis postgres mysql kafka (default: all)
# DOWN=3 PROBE=0.1 set the fault's length and the probe interval; KEEP=1
# keeps the temporary directory (server, sluice and tool logs, and per
# scenario the probe's and the load's "time status" lines).
# Needs: go, redis-server, redis-tools, postgresql, mariadb-server,
# mariadb-client, sysbench (apt-get install redis-server redis-tools
# postgresql mariadb-server mariadb-client sysbench).
set -euo pipefail
cd "$(dirname "$0")/.."
FILTERS=("${@:-tcp redis postgres mysql kafka}")
read -ra FILTERS <<<"${FILTERS[*]}"
DOWN=${DOWN:-3}
PROBE=${PROBE:-0.1}
TMP=$(mktemp -d)
chmod 755 "$TMP"
cleanup() {
  for f in "$TMP"/*.pgid; do [ -e "$f" ] && { kill -CONT -- -"$(cat "$f")" 2>/dev/null; kill -9 -- -"$(cat "$f")" 2>/dev/null; }; done
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "logs in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
for b in redis-server redis-benchmark redis-cli psql pgbench mariadbd mariadb-install-db mariadb sysbench; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install redis-server redis-tools postgresql mariadb-server mariadb-client sysbench" >&2; exit 1; }
done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
AS=() USERARG=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); USERARG=(--user=root); fi

go build -tags pgquery_cgo -o "$TMP/sluice" ./cmd/sluice # the release build (cgo Postgres parser)
go build -o "$TMP/kafkaload" ./bench/kafkaload

UP=19400 SL=19401 ADM=19402
now() { date +%s.%N; }

# start NAME CMD...: runs CMD in a process group of its own (setsid), so that
# a fault hits the server and every process it forked.
start() {
  local name=$1
  shift
  setsid "$@" >>"$TMP/$name.log" 2>&1 &
  echo $! >"$TMP/$name.pgid"
}
# signal SIG NAME: sends SIG to NAME's process group.
signal() { kill -"$1" -- -"$(cat "$TMP/$2.pgid")"; }
# wait_for CMD...: polls CMD until it succeeds (30 s at most).
wait_for() {
  for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for: $*" >&2
  return 1
}

# Per filter: up_<f> starts (or restarts) the upstream, ready_<f> checks it
# directly, probe_<f> sends one request through sluice, load_<f> is one run
# of the load tool through sluice, conf_<f> is sluice's filter chain.
up_redis() { start up redis-server --port $UP --save '' --appendonly no; }
ready_redis() { [ "$(redis-cli -p $UP ping)" = PONG ]; }
# Not PING: redis_proxy answers it itself, as Envoy does.
probe_redis() { [ "$(timeout 2 redis-cli -p $SL set chaos:probe 1 2>/dev/null)" = OK ]; }
load_redis() { redis-benchmark -p $SL -t get,set -n 50000 -c 16 -P 4 -q; }
conf_redis() {
  echo "      - redis_proxy: {stat_prefix: chaos, settings: {op_timeout: 1s}, prefix_routes: {catch_all_route: {cluster: up}}}"
}
up_tcp() { up_redis; }
ready_tcp() { ready_redis; }
probe_tcp() { probe_redis; }
load_tcp() { redis-benchmark -p $SL -t get,set -n 50000 -c 16 -q; }
conf_tcp() { :; }

up_postgres() {
  if [ ! -d "$TMP/pg/data" ]; then
    mkdir -p "$TMP/pg"
    [ ${#AS[@]} -gt 0 ] && chown postgres "$TMP/pg"
    "${AS[@]}" "$PGBIN/initdb" -D "$TMP/pg/data" -U postgres --auth=trust >"$TMP/initdb.log" 2>&1
  fi
  start up "${AS[@]}" "$PGBIN/postgres" -D "$TMP/pg/data" -p $UP -k "$TMP/pg" -c listen_addresses=127.0.0.1
}
ready_postgres() { psql -h 127.0.0.1 -p $UP -U postgres -Atc 'select 1' postgres; }
probe_postgres() { [ "$(timeout 2 psql -h 127.0.0.1 -p $SL -U postgres -Atc 'select 1' postgres 2>/dev/null)" = 1 ]; }
load_postgres() { pgbench -n -S -T 2 -c 8 -j 2 -h 127.0.0.1 -p $SL -U postgres postgres; }
conf_postgres() { echo "      - postgres_proxy: {stat_prefix: chaos}"; }
init_postgres() { pgbench -i -q -s 2 -h 127.0.0.1 -p $UP -U postgres postgres; }

up_mysql() {
  if [ ! -d "$TMP/my" ]; then
    mariadb-install-db --no-defaults --datadir="$TMP/my" --auth-root-authentication-method=normal \
      --skip-test-db "${USERARG[@]}" >"$TMP/install.log" 2>&1
  fi
  start up mariadbd --no-defaults --datadir="$TMP/my" --port=$UP --bind-address=127.0.0.1 \
    --socket="$TMP/mysqld.sock" --skip-name-resolve "${USERARG[@]}"
}
ready_mysql() { mariadb --no-defaults -S "$TMP/mysqld.sock" -u root -e 'select 1'; }
probe_mysql() { timeout 2 mariadb --no-defaults -h 127.0.0.1 -P $SL -u sb -psb -e 'select 1' >/dev/null 2>&1; }
SB=(sysbench oltp_point_select --db-driver=mysql --mysql-host=127.0.0.1 --mysql-user=sb --mysql-password=sb
  --mysql-db=sbtest --tables=1 --table-size=10000 --threads=8 --report-interval=0)
load_mysql() { "${SB[@]}" --mysql-port=$SL --time=2 run; }
conf_mysql() { echo "      - mysql_proxy: {stat_prefix: chaos}"; }
init_mysql() {
  mariadb --no-defaults -S "$TMP/mysqld.sock" -u root -e \
    "CREATE DATABASE sbtest; CREATE USER 'sb'@'%' IDENTIFIED BY 'sb'; GRANT ALL ON *.* TO 'sb'@'%';"
  "${SB[@]}" --mysql-port=$UP prepare
}

# kfake in bench/kafkaload: in memory, so a restarted broker starts empty
# (with its "bench" topic seeded again).
up_kafka() { start up "$TMP/kafkaload" serve -port $UP; }
ready_kafka() { timeout 5 "$TMP/kafkaload" produce -brokers 127.0.0.1:$UP -secs 0.1; }
# kafkaload exits 0 when its first record (ProduceSync) was acknowledged;
# records still buffered when -secs ends fail by design, so its "failed"
# count is no signal.
probe_kafka() { timeout 2 "$TMP/kafkaload" produce -brokers 127.0.0.1:$SL -secs 0.01 >/dev/null 2>&1; }
load_kafka() { timeout 10 "$TMP/kafkaload" produce -brokers 127.0.0.1:$SL -secs 2 -size 256; }
conf_kafka() { echo "      - kafka_broker: {stat_prefix: chaos, broker_address_rewrite: {auto: {bind_host: 127.0.0.1, port_range_start: 19450}}}"; }

# loop NAME PACE CMD: runs CMD until $TMP/stop exists, logging "end-time
# status" per run to $TMP/NAME.runs; sleeps PACE after each run, or after a
# failed one only when PACE is "fail" (a failing tool retries at the probe's
# pace instead of spinning).
loop() {
  local name=$1 pace=$2
  shift 2
  while [ ! -e "$TMP/stop" ]; do
    local rc=0
    "$@" >>"$TMP/$name.out" 2>&1 || rc=$?
    echo "$(now) $rc" >>"$TMP/$name.runs"
    if [ "$pace" != fail ]; then sleep "$pace"; elif [ $rc -ne 0 ]; then sleep "$PROBE"; fi
  done
}

# counters prints sluice's non-zero counters about failures.
counters() {
  curl -s "http://127.0.0.1:$ADM/stats?usedonly" |
    grep -E '(fail|error|timeout|destroy_remote|none_healthy|overflow|refused)[a-z_]*: [1-9]' | grep -v '^server\.' |
    tr '\n' ' ' || true
}

# scenario F FAULT: one fault under load against a fresh sluice.
scenario() {
  local f=$1 fault=$2
  rm -f "$TMP/stop" "$TMP"/{probe,load}.runs
  cat >"$TMP/sluice.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM}
listeners:
  - name: chaos
    address: 127.0.0.1:$SL
    filters:
$(conf_$f)
      - tcp_proxy: {stat_prefix: chaos, cluster: up}
clusters:
  - {name: up, connect_timeout: 1s, endpoints: ["127.0.0.1:$UP"]}
YAML
  if [ "$f" = redis ]; then # redis_proxy is the terminal
    sed -i '/tcp_proxy/d' "$TMP/sluice.yaml"
  fi
  start sluice "$TMP/sluice" -c "$TMP/sluice.yaml" -log-level error
  wait_for probe_$f
  loop load fail load_$f &
  local lp=$!
  loop probe "$PROBE" probe_$f &
  local pp=$!
  sleep 3
  local t_fault t_back
  t_fault=$(now)
  if [ "$fault" = kill ]; then
    signal KILL up
    sleep "$DOWN"
    t_back=$(now)
    up_$f
  else
    signal STOP up
    sleep "$DOWN"
    t_back=$(now)
    signal CONT up
  fi
  # Run on until the probe has passed for 2 s in a row, 30 s at most.
  for _ in $(seq 300); do
    sleep 0.1
    awk -v t="$t_back" '$1 > t' "$TMP/probe.runs" | tail -n 20 | awk 'END {exit !(NR == 20)} $2 != 0 {exit 1}' && break
  done
  touch "$TMP/stop"
  wait $lp $pp || true
  local c
  c=$(counters)
  signal TERM sluice
  wait_gone sluice
  # Probe lines are "end-time status". The outage is the longest streak of
  # failed probes, from the end of the good probe before it to the end of
  # the good one after it; recovery is that last end minus the restart.
  awk -v f="$f" -v fault="$fault" -v tf="$t_fault" -v tb="$t_back" -v c="$c" '
    FILENAME ~ /probe/ { if ($1 < tf) { pre += ($2 != 0); last_ok = $1; next }
                         if ($2 != 0) { fail++; if (!in_streak) { in_streak = 1; s0 = last_ok } ; next }
                         if (in_streak) { in_streak = 0; if ($1 - s0 > out) { out = $1 - s0; back = $1 } }
                         last_ok = $1 }
    FILENAME ~ /load/  { if ($1 >= tf) { runs++; lfail += ($2 != 0); if ($1 > tb && $2 == 0) lok++ } }
    END {
      rec = in_streak ? "never" : (out ? sprintf("%.1fs", back > tb ? back - tb : 0) : "-")
      printf "%-9s %-5s %6d %9.1fs %9s %6d/%-6d %-4s %s\n", f, fault, fail, out, rec, lfail, runs,
        (lok ? "yes" : "NO"), (pre ? "(" pre " probes failed before the fault) " : "") c
    }' "$TMP/probe.runs" "$TMP/load.runs"
  for r in probe load; do mv "$TMP/$r.runs" "$TMP/$f.$fault.$r.runs"; done
}

# wait_gone NAME: waits until NAME's process group has exited.
wait_gone() {
  local g
  g=$(cat "$TMP/$1.pgid")
  for _ in $(seq 100); do kill -0 -- -"$g" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 -- -"$g" 2>/dev/null || true
}

printf 'DOWN=%ss PROBE=%ss; outage: the longest streak of failed probes; recovered: from the restart/SIGCONT to the end of that streak\n' "$DOWN" "$PROBE"
printf '%-9s %-5s %6s %10s %9s %13s %-4s %s\n' filter fault failed outage recovered "load failed" "ok after" "sluice counters"
for f in "${FILTERS[@]}"; do
  up_$f
  wait_for ready_$f
  if declare -F init_$f >/dev/null; then init_$f >"$TMP/init.log" 2>&1; fi
  for fault in kill stop; do
    scenario "$f" "$fault"
    wait_for ready_$f
  done
  signal KILL up
  wait_gone up
done
