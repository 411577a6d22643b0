#!/usr/bin/env bash
# Calls per second through sluice's thrift_proxy against plain tcp_proxy and
# the direct path, in one run, interleaved, printing medians and ratios. A
# second thrift_proxy shares upstream connections (16 clients' calls over 2
# connections, matched by sequence id) to show what that does.
#   bench/thrift.sh [rounds] [seconds-per-run] [clients]
# Needs: go. The server and clients are apache/thrift's Go library
# (bench/thriftload), framed transport, binary protocol, a 64-byte echo.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
CLIENTS=${3:-16}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/thriftload" ./bench/thriftload

UP=127.0.0.1:19090 TH=127.0.0.1:19091 TCP=127.0.0.1:19092 MUX=127.0.0.1:19093 ADMIN=127.0.0.1:19099
"$TMP/thriftload" -mode server -addr $UP &
cat > "$TMP/sluice.yaml" <<YAML
admin: {address: $ADMIN}
listeners:
  - name: thrift
    address: $TH
    filters:
      - thrift_proxy:
          stat_prefix: bench
          transport: FRAMED
          protocol: BINARY
          route_config: {routes: [{match: {method_name: ""}, route: {cluster: up}}]}
  - name: shared
    address: $MUX
    filters:
      - thrift_proxy:
          stat_prefix: shared
          transport: FRAMED
          protocol: BINARY
          max_upstream_connections_per_host: 2
          max_requests_per_upstream_connection: 64
          route_config: {routes: [{match: {method_name: ""}, route: {cluster: up_shared}}]}
  - name: tcp
    address: $TCP
    filters: [{tcp_proxy: {stat_prefix: bench, cluster: up_tcp}}]
clusters:
  - {name: up, endpoints: ["$UP"]}
  - {name: up_shared, endpoints: ["$UP"]}
  - {name: up_tcp, endpoints: ["$UP"]}
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn &
for i in $(seq 50); do
  curl -fs "http://$ADMIN/ready" >/dev/null 2>&1 && break
  sleep 0.1
done

source bench/lib.sh # the script runs from the repository root
declare -A R
for ((i = 1; i <= ROUNDS; i++)); do
  for target in direct tcp_proxy thrift_proxy thrift_shared; do
    case $target in direct) a=$UP ;; tcp_proxy) a=$TCP ;; thrift_proxy) a=$TH ;; thrift_shared) a=$MUX ;; esac
    R[$target]+="$("$TMP/thriftload" -mode calls -addr $a -c "$CLIENTS" -d "${SECS}s")"$'\n'
  done
done
d=$(printf '%s' "${R[direct]}" | median)
t=$(printf '%s' "${R[tcp_proxy]}" | median)
h=$(printf '%s' "${R[thrift_proxy]}" | median)
m=$(printf '%s' "${R[thrift_shared]}" | median)
cx() { curl -fs "http://$ADMIN/stats?filter=cluster\\.$1\\.upstream_cx_total" | awk '{print $2}'; }
printf '%-14s %10s %10s %10s %10s %10s %10s\n' 'calls/s' direct tcp_proxy thrift thr_shared thr/tcp shared/tcp
printf '%-14s %10s %10s %10s %10s %10.2f %10.2f\n' "echo(64B)" "$d" "$t" "$h" "$m" \
  "$(echo "$h / $t" | bc -l)" "$(echo "$m / $t" | bc -l)"
echo "upstream connections opened over all rounds: tcp_proxy $(cx up_tcp), thrift_proxy $(cx up), thrift_proxy shared $(cx up_shared)"
echo "rounds=$ROUNDS seconds=$SECS clients=$CLIENTS cores=$(nproc)"
