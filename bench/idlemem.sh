#!/usr/bin/env bash
# Memory per idle proxied connection: RSS of the proxy before and after N
# connections that each made one exchange and then sit idle, for tcp_proxy
# (sluice with its default event loops, sluice --io-loops 0, haproxy mode tcp)
# and redis_proxy (sluice in front of redis-server).
#   bench/idlemem.sh [connections]
# The default is 9000: each proxied TCP connection takes two descriptors in
# the proxy, and this machine's hard limit is 20000 per process.
# Needs: go, haproxy, redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-9000}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
ulimit -n "$(ulimit -Hn)"

go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/tcpload" ./bench/tcpload

UP=127.0.0.1:19100 SL=127.0.0.1:19101 SLG=127.0.0.1:19102 HA=127.0.0.1:19103 RS=127.0.0.1:19104 SR=127.0.0.1:19105
"$TMP/tcpload" -mode server -addr $UP &
redis-server --port 19104 --bind 127.0.0.1 --save '' --appendonly no --maxclients 15000 --daemonize no >/dev/null &
cat > "$TMP/tcp.yaml" <<YAML
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
  maxconn 9600
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend f
  bind $HA
  maxconn 9600
  default_backend b
backend b
  server s $UP
CFG

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

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
  exec 9>&-
  wait $client || true
  awk -v n="$name" -v b="$before" -v a="$after" -v c="$N" \
    'BEGIN {printf "%-22s RSS %7.1f MiB -> %7.1f MiB  %5.1f KiB per idle connection\n", n, b/1024, a/1024, (a-b)/c}'
}

"$TMP/sluice" -c "$TMP/tcp.yaml" -log-level warn & P=$!
measure "sluice tcp_proxy" $P $SL tcp; kill $P
"$TMP/sluice" -c "$TMP/tcp-g.yaml" -log-level warn --io-loops 0 & P=$!
measure "sluice tcp --io-loops 0" $P $SLG tcp; kill $P
haproxy -f "$TMP/haproxy.cfg" -db & P=$!
measure "haproxy 2.6 tcp" $P $HA tcp; kill $P
"$TMP/sluice" -c "$TMP/redis.yaml" -log-level warn & P=$!
measure "sluice redis_proxy" $P $SR redis; kill $P
