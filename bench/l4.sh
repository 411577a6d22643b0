#!/usr/bin/env bash
# New-connection rate through sluice's L4 policy path against the direct path
# and haproxy, in one run, interleaved, printing medians and ratios:
#   plain      sluice, one chain, no listener filters (the baseline)
#   policy     sluice with tls_inspector, 12 chains picked by Envoy's
#              most-specific match (SNI, source prefixes), connection_limit
#              and local_ratelimit (limits far above the load)
#   pp-sluice  haproxy (send-proxy-v2) -> sluice (proxy_protocol listener filter)
#   pp-haproxy haproxy (send-proxy-v2) -> haproxy (accept-proxy): the peer
#              doing the same hop
#   bench/l4.sh [rounds] [seconds-per-run]
# Each connection: connect, 1-byte echo, close (bench/tcpload -mode connrate).
# BASE=N sets the first of the seven ports used. Not run in CI.
# Needs: go, haproxy (apt-get install haproxy).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "logs in $TMP" >&2 || rm -rf "$TMP"' EXIT
command -v haproxy >/dev/null || { echo "haproxy missing: apt-get install haproxy" >&2; exit 1; }

go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/tcpload" ./bench/tcpload

# Seven ports from BASE (default: random in 20000-28999, as other benches may
# be running on this machine).
B=${BASE:-$((20000 + RANDOM % 9000))}
UP=127.0.0.1:$B PLAIN=127.0.0.1:$((B + 1)) POLICY=127.0.0.1:$((B + 2)) PPS=127.0.0.1:$((B + 3))
HA1=127.0.0.1:$((B + 4)) HA2=127.0.0.1:$((B + 5)) HAPP=127.0.0.1:$((B + 6))
"$TMP/tcpload" -mode server -addr $UP &
{
  echo "listeners:"
  echo "  - {name: plain, address: \"$PLAIN\", filters: [{tcp_proxy: {stat_prefix: plain, cluster: up}}]}"
  echo "  - name: policy"
  echo "    address: \"$POLICY\""
  echo "    listener_filters: [{name: envoy.filters.listener.tls_inspector}]"
  echo "    filter_chains:"
  for i in $(seq 10); do
    echo "      - {match: {server_names: [s$i.example.com]}, filters: [{tcp_proxy: {stat_prefix: s$i, cluster: up}}]}"
  done
  echo "      - {match: {source_prefixes: [10.0.0.0/8]}, filters: [{tcp_proxy: {stat_prefix: ten, cluster: up}}]}"
  echo "      - match: {source_prefixes: [127.0.0.0/8]}"
  echo "        filters:"
  echo "          - connection_limit: {stat_prefix: cl, max_connections: 100000}"
  echo "          - local_ratelimit: {stat_prefix: rl, token_bucket: {max_tokens: 1000000000, tokens_per_fill: 1000000000, fill_interval: 1s}}"
  echo "          - tcp_proxy: {stat_prefix: lo, cluster: up}"
  echo "  - name: pp"
  echo "    address: \"$PPS\""
  echo "    listener_filters: [{name: envoy.filters.listener.proxy_protocol}]"
  echo "    filters: [{tcp_proxy: {stat_prefix: pp, cluster: up}}]"
  echo "clusters:"
  echo "  - {name: up, endpoints: [\"$UP\"]}"
} > "$TMP/sluice.yaml"
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn &
cat > "$TMP/haproxy.cfg" <<CFG
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
listen to_sluice
  bind $HA1
  server s $PPS send-proxy-v2
listen to_haproxy
  bind $HA2
  server s $HAPP send-proxy-v2
listen accept
  bind $HAPP accept-proxy
  server s $UP
CFG
haproxy -f "$TMP/haproxy.cfg" -q &
for a in $UP $PLAIN $POLICY $PPS $HA1 $HA2 $HAPP; do
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/${a%:*}/${a#*:}") 2>/dev/null && break; sleep 0.1; done
done

source bench/lib.sh # the script runs from the repository root
declare -A R
TARGETS=(direct plain policy pp-sluice pp-haproxy)
for ((i = 1; i <= ROUNDS; i++)); do
  for target in "${TARGETS[@]}"; do
    case $target in direct) a=$UP ;; plain) a=$PLAIN ;; policy) a=$POLICY ;; pp-sluice) a=$HA1 ;; pp-haproxy) a=$HA2 ;; esac
    R[$target]+="$("$TMP/tcpload" -mode connrate -addr $a -c 16 -d ${SECS}s)"$'\n'
  done
done

printf '%-11s %12s %9s\n' path conn/s vs-direct
d=$(printf '%s' "${R[direct]}" | median)
for target in "${TARGETS[@]}"; do
  v=$(printf '%s' "${R[$target]}" | median)
  printf '%-11s %12s %9.2f\n' "$target" "$v" "$(echo "$v / $d" | bc -l)"
done
echo "rounds=$ROUNDS seconds=$SECS cores=$(nproc); policy/plain is the cost of listener filters, matching and the policy filters"
