#!/usr/bin/env bash
# Memory per idle proxied connection: RSS of the proxy before and after N
# connections that each made one exchange and then sit idle, for tcp_proxy
# (sluice with its default event loops, sluice --io-loops 0, haproxy mode tcp),
# redis_proxy (sluice in front of redis-server) and postgres_proxy (sluice
# in front of PgBouncer in transaction mode, which holds the N clients on a
# few postgres backends; PgBouncer's own growth is printed too).
#   bench/idlemem.sh [connections]
# The default is 10,000, or as many as the descriptor limit allows: each
# proxied TCP connection takes two descriptors in the proxy (this machine's
# hard limit is 20,000 per process: 9,950).
# TARGETS="tcp tcp-g haproxy redis postgres" (the default) picks what is
# measured. Needs: go, haproxy, redis-server, and for postgres postgresql and
# pgbouncer.
# SLUICE_PPROF=1 gives each sluice an admin listener and, with the
# connections open, writes its heap profile to bench/idlemem-<target>.heap
# and prints the profile's top (in-use bytes), the goroutine count and the
# Go runtime's stack and heap figures.
set -euo pipefail
cd "$(dirname "$0")/.."
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
N=${1:-$((HARD >= 20200 ? 10000 : (HARD - 100) / 2))}
TARGETS=${TARGETS:-tcp tcp-g haproxy redis postgres}
TMP=$(mktemp -d)
chmod 755 "$TMP"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
ulimit -n "$HARD"

go build -tags pgquery_cgo -o "$TMP/sluice" ./cmd/sluice # the release build (cgo Postgres parser)
go build -o "$TMP/tcpload" ./bench/tcpload

UP=127.0.0.1:19100 SL=127.0.0.1:19101 SLG=127.0.0.1:19102 HA=127.0.0.1:19103 RS=127.0.0.1:19104 SR=127.0.0.1:19105
ADM=127.0.0.1:19109
ADMIN=
[ "${SLUICE_PPROF:-}" = 1 ] && ADMIN="admin: {address: $ADM}"
"$TMP/tcpload" -mode server -addr $UP &
redis-server --port 19104 --bind 127.0.0.1 --save '' --appendonly no --maxclients $((N + 100)) --daemonize no >/dev/null &
cat > "$TMP/tcp.yaml" <<YAML
$ADMIN
listeners:
  - name: idle
    address: $SL
    filters: [{tcp_proxy: {stat_prefix: idle, cluster: up}}]
clusters:
  # Envoy's default max_connections breaker (1024) would refuse the rest.
  - {name: up, endpoints: ["$UP"], circuit_breakers: {thresholds: [{max_connections: 100000}]}}
YAML
sed "s/$SL/$SLG/" "$TMP/tcp.yaml" > "$TMP/tcp-g.yaml"
cat > "$TMP/redis.yaml" <<YAML
$ADMIN
listeners:
  - name: idle
    address: $SR
    filters:
      - redis_proxy: {stat_prefix: idle, settings: {op_timeout: 5s}, prefix_routes: {catch_all_route: {cluster: r}}}
clusters:
  - {name: r, endpoints: ["$RS"]}
YAML
cat > "$TMP/haproxy.cfg" <<CFG
global
  maxconn $N
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend f
  bind $HA
  maxconn $N
  default_backend b
backend b
  server s $UP
CFG

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# profile NAME: with SLUICE_PPROF=1, the heap profile and goroutine count of
# the sluice whose admin is $ADM (the connections are open).
profile() {
  [ "${SLUICE_PPROF:-}" = 1 ] || return 0
  local f="bench/idlemem-${1// /-}.heap"
  curl -s -o "$f" "http://$ADM/debug/pprof/heap?gc=1"
  echo "  goroutines: $(curl -s "http://$ADM/debug/pprof/goroutine?debug=1" | head -1)"
  curl -s "http://$ADM/debug/pprof/heap?debug=1" | grep -E '^# (HeapInuse|HeapSys|Stack|Sys) ' | sed 's/^#/ /'
  go tool pprof -sample_index=inuse_space -top -nodecount=15 "$f" 2>/dev/null | sed -n '4,21p'
}

# measure NAME PID ADDR PROTO: RSS growth per connection, in KiB.
measure() {
  local name=$1 pid=$2 addr=$3 proto=$4
  sleep 1 # let the proxy settle after start (not a measurement wait)
  local before; before=$(rss "$pid")
  mkfifo "$TMP/hold.$name"
  "$TMP/tcpload" -mode idle -addr "$addr" -c "$N" -proto "$proto" < "$TMP/hold.$name" > "$TMP/out.$name" &
  local client=$!
  exec 9>"$TMP/hold.$name"
  until grep -q ready "$TMP/out.$name" 2>/dev/null; do
    kill -0 $client 2>/dev/null || { echo "$name: client failed" >&2; exec 9>&-; return 1; }
    sleep 0.2
  done
  local after; after=$(rss "$pid")
  [[ $name == sluice* ]] && profile "$name"
  exec 9>&-
  wait $client || true
  awk -v n="$name" -v b="$before" -v a="$after" -v c="$N" \
    'BEGIN {printf "%-22s RSS %7.1f MiB -> %7.1f MiB  %5.1f KiB per idle connection\n", n, b/1024, a/1024, (a-b)/c}'
}

on() { [[ " $TARGETS " == *" $1 "* ]]; }
if on tcp; then
  "$TMP/sluice" -c "$TMP/tcp.yaml" -log-level warn & P=$!
  measure "sluice tcp_proxy" $P $SL tcp; kill $P; wait $P 2>/dev/null || true
fi
if on tcp-g; then
  "$TMP/sluice" -c "$TMP/tcp-g.yaml" -log-level warn --io-loops 0 & P=$!
  measure "sluice tcp --io-loops 0" $P $SLG tcp; kill $P; wait $P 2>/dev/null || true
fi
if on haproxy; then
  haproxy -f "$TMP/haproxy.cfg" -db & P=$!
  measure "haproxy 2.6 tcp" $P $HA tcp; kill $P; wait $P 2>/dev/null || true
fi
if on redis; then
  "$TMP/sluice" -c "$TMP/redis.yaml" -log-level warn & P=$!
  measure "sluice redis_proxy" $P $SR redis; kill $P; wait $P 2>/dev/null || true
fi

on postgres || exit 0
# postgres_proxy: sluice -> PgBouncer (transaction mode) -> postgres.
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
AS=()
[ "$(id -u)" = 0 ] && AS=(runuser -u postgres --) # postgres and pgbouncer refuse root
PGP=19106 PB=19107 SP=19108
mkdir "$TMP/pg"
[ ${#AS[@]} -gt 0 ] && chown postgres "$TMP/pg"
"${AS[@]}" "$BIN/initdb" -D "$TMP/pg/data" -U postgres --auth=trust >"$TMP/initdb.log" 2>&1
"${AS[@]}" "$BIN/postgres" -D "$TMP/pg/data" -p $PGP -k "$TMP/pg" -c listen_addresses=127.0.0.1 >"$TMP/pg/postgres.log" 2>&1 &
for _ in $(seq 150); do psql -h 127.0.0.1 -p $PGP -U postgres -Atc 'select 1' postgres >/dev/null 2>&1 && break; sleep 0.2; done
echo '"postgres" ""' > "$TMP/userlist.txt"
cat > "$TMP/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$PGP
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PB
unix_socket_dir =
auth_type = trust
auth_file = $TMP/userlist.txt
pool_mode = transaction
max_client_conn = $((N + 100))
default_pool_size = 8
logfile = $TMP/pg/pgbouncer.log
INI
chmod 644 "$TMP"/*.ini "$TMP"/*.txt
# runuser resets the soft descriptor limit to 1024: raise it again inside.
"${AS[@]}" sh -c "ulimit -n $HARD; exec pgbouncer $TMP/pgbouncer.ini" >"$TMP/pgbouncer.out" 2>&1 & B=$!
for _ in $(seq 100); do psql -h 127.0.0.1 -p $PB -U postgres -Atc 'select 1' postgres >/dev/null 2>&1 && break; sleep 0.2; done
BP=$(pgrep -P $B pgbouncer || echo $B) # runuser forks pgbouncer
measure "pgbouncer (tx mode)" "$BP" 127.0.0.1:$PB postgres
cat > "$TMP/pg.yaml" <<YAML
$ADMIN
listeners:
  - name: idle
    address: 127.0.0.1:$SP
    filters:
      - postgres_proxy: {stat_prefix: idle}
      - tcp_proxy: {stat_prefix: idle, cluster: pgb}
clusters:
  - {name: pgb, endpoints: ["127.0.0.1:$PB"], circuit_breakers: {thresholds: [{max_connections: 100000}]}}
YAML
"$TMP/sluice" -c "$TMP/pg.yaml" -log-level warn & P=$!
measure "sluice postgres_proxy" $P 127.0.0.1:$SP postgres; kill $P; wait $P 2>/dev/null || true
