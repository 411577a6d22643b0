#!/usr/bin/env bash
# gRPC unary speed: grpc-go clients (bench/grpcload, CONNS connections x
# STREAMS concurrent calls, each calling again as soon as it is answered)
# to a grpc-go echo server (bench/grpcload -serve), in one run per round:
# direct, through sluice (http_connection_manager from an Envoy config, the
# HTTP/2 pool upstream) and through haproxy 2.6 (h2 both sides, http-reuse
# always). Prints calls/s and the p50/p99 latency of each path per round,
# then the median calls/s and p99 over the rounds.
#   bench/grpc_unary.sh [rounds] [seconds]     (env: CONNS=4 STREAMS=16 SIZE=)
# Needs: go, haproxy (apt-get install haproxy).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROUNDS=${1:-3}
SECS=${2:-5}
CONNS=${CONNS:-4} STREAMS=${STREAMS:-16}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
command -v haproxy >/dev/null || { echo "haproxy missing: apt-get install haproxy" >&2; exit 1; }

go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/grpcload" ./bench/grpcload

UP=127.0.0.1:19120 SL=127.0.0.1:19121 HA=127.0.0.1:19122

"$TMP/grpcload" -serve $UP >"$TMP/echo.log" 2>&1 &
cat > "$TMP/haproxy.cfg" <<CFG
global
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend f
  bind $HA proto h2
  default_backend b
backend b
  http-reuse always
  server s1 $UP proto h2
CFG
haproxy -f "$TMP/haproxy.cfg" -q &

cat > "$TMP/sluice.yaml" <<YAML
static_resources:
  listeners:
  - address: {socket_address: {address: 127.0.0.1, port_value: ${SL##*:}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: echo, timeout: 0s}}]}]
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: echo
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    circuit_breakers: {thresholds: [{max_pending_requests: 100000, max_requests: 100000}]}
    load_assignment:
      cluster_name: echo
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${UP##*:}}}}}]}]
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn &

# wait_port waits until something listens on host:port.
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null && return; sleep 0.1; done; echo "nothing on $1" >&2; exit 1; }
wait_port $UP; wait_port $SL; wait_port $HA

echo "gRPC unary, $CONNS connections x $STREAMS streams, ${SECS}s per path, $ROUNDS rounds"
printf '%-8s %-6s %10s %9s %9s %s\n' path round calls/s p50_ms p99_ms errors
for ((r = 1; r <= ROUNDS; r++)); do
  for path in direct sluice haproxy; do
    case $path in direct) addr=$UP ;; sluice) addr=$SL ;; haproxy) addr=$HA ;; esac
    out=$("$TMP/grpcload" -addr $addr -conns $CONNS -streams $STREAMS -d "${SECS}s" 2>"$TMP/err") || { cat "$TMP/err" >&2; exit 1; }
    rps=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$out")
    p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")
    p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")
    errs=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")
    printf '%-8s %-6s %10s %9s %9s %s\n' $path $r "$rps" "$p50" "$p99" "$errs"
    echo "$rps" >>"$TMP/$path.rps"
    echo "$p99" | awk '{printf "%d\n", $1*1000}' >>"$TMP/$path.p99"
  done
done
echo "median over $ROUNDS rounds:"
for path in direct sluice haproxy; do
  printf '%-8s %10s calls/s  p99 %s ms\n' $path "$(median <"$TMP/$path.rps")" "$(median <"$TMP/$path.p99" | awk '{printf "%.2f", $1/1000}')"
done
