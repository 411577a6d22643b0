#!/usr/bin/env bash
# Issue 15's story: N Python gRPC processes (bench/grpc/server.py) share one
# port with SO_REUSEPORT, each serving one call at a time (a lock held
# HOLD_MS per call) and counting the calls it served. Load from
# bench/grpcload (CONNS connections x STREAMS streams, SECS seconds) goes
# through each path in turn; fresh processes per run. Printed per path:
# per-process counts, max/mean of the counts (1.00 is even, 2.00 means half
# the processes starved), upstream connections open to the processes, and
# calls per second.
#   bench/grpc.sh [rounds] [seconds]        (env: PROCS=4 CONNS=8 STREAMS=8 HOLD_MS=2, PATHS="direct-8 pool")
# Paths: direct-1 (1 connection x CONNS*STREAMS streams), direct-8 (CONNS x
# STREAMS), haproxy 2.6 with http-reuse always (h2 both sides), nghttpx with
# 2 workers, pool and pool-1conn (cluster/httppool behind bench/poolproxy,
# a minimal h2c proxy: the pool without sluice's HTTP path), sluice
# (http_connection_manager from an Envoy config file; skipped with a message
# should the file not validate) and sluice-1conn (one client connection x
# all streams: the case only a pool like sluice's fixes).
# Needs: go, python3-grpcio, haproxy, nghttp2-proxy (apt-get install ...).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-1}
SECS=${2:-10}
PROCS=${PROCS:-4} CONNS=${CONNS:-8} STREAMS=${STREAMS:-8} HOLD_MS=${HOLD_MS:-2}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
/usr/bin/python3 -c 'import grpc' 2>/dev/null || { echo "python3-grpcio missing: apt-get install python3-grpcio" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "haproxy missing: apt-get install haproxy" >&2; exit 1; }
command -v nghttpx >/dev/null || { echo "nghttpx missing: apt-get install nghttp2-proxy" >&2; exit 1; }

go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/grpcload" ./bench/grpcload
go build -o "$TMP/poolproxy" ./bench/poolproxy

UP_PORT=19100 SL=127.0.0.1:19101 HA=127.0.0.1:19102 NX_PORT=19103 PP=127.0.0.1:19104
UP=127.0.0.1:$UP_PORT

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
nghttpx --frontend="127.0.0.1,$NX_PORT;no-tls" --backend="127.0.0.1,$UP_PORT;;proto=h2" \
  --workers=2 --no-ocsp --log-level=WARN --errorlog-file="$TMP/nghttpx.log" --pid-file="$TMP/nghttpx.pid" &

# The pool alone (cluster/httppool behind a minimal h2c proxy), until
# sluice's http_connection_manager runs the sluice paths.
"$TMP/poolproxy" -listen $PP -upstream $UP &

# sluice in Envoy's own config format: the same file would run Envoy.
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
          codec_type: AUTO
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: py, timeout: 0s}}]}]
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: py
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    circuit_breakers: {thresholds: [{max_pending_requests: 100000, max_requests: 100000}]}
    load_assignment:
      cluster_name: py
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $UP_PORT}}}}]}]
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 19109}}}
YAML
SLUICE=1
if ! "$TMP/sluice" validate -c "$TMP/sluice.yaml" >"$TMP/validate.log" 2>&1; then
  SLUICE=0
  echo "sluice: skipped, this sluice cannot load the http_connection_manager config yet:" >&2
  head -3 "$TMP/validate.log" >&2
else
  "$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn &
fi

# start_procs starts PROCS servers on UP_PORT and waits until each is ready.
start_procs() {
  PIDS=()
  for ((p = 0; p < PROCS; p++)); do
    rm -f "$TMP/count$p" "$TMP/py$p.log"
    /usr/bin/python3 bench/grpc/server.py --port $UP_PORT --hold-ms "$HOLD_MS" --count-file "$TMP/count$p" >"$TMP/py$p.log" 2>&1 &
    PIDS+=($!)
  done
  for ((p = 0; p < PROCS; p++)); do
    for _ in $(seq 100); do grep -q ready "$TMP/py$p.log" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$TMP/py$p.log" || { echo "python server $p did not start:"; cat "$TMP/py$p.log"; exit 1; } >&2
  done
}

# stop_procs stops the servers and sets COUNTS to their counts (not run in
# a $(...) subshell: wait only waits for the shell's own children).
stop_procs() {
  local i
  for ((i = 0; i < PROCS; i++)); do
    kill -TERM "${PIDS[$i]}" 2>/dev/null || { echo "python server $i died before the end of the run:"; tail -5 "$TMP/py$i.log"; } >&2
  done
  wait "${PIDS[@]}" 2>/dev/null || true
  COUNTS=""
  for ((p = 0; p < PROCS; p++)); do COUNTS+="$(cat "$TMP/count$p" 2>/dev/null || echo missing) "; done
}

# upstream_conns counts established connections to the processes' port.
upstream_conns() { ss -Htn state established "( dport = :$UP_PORT )" | wc -l; }

printf '%-13s %-40s %8s %9s %10s\n' path per-process max/mean upstr-cx calls/s
for ((r = 1; r <= ROUNDS; r++)); do
  for path in ${PATHS:-direct-1 direct-8 haproxy nghttpx pool pool-1conn sluice sluice-1conn}; do
    case $path in
      direct-1) addr=$UP c=1 s=$((CONNS * STREAMS)) ;;
      direct-8) addr=$UP c=$CONNS s=$STREAMS ;;
      haproxy) addr=$HA c=$CONNS s=$STREAMS ;;
      nghttpx) addr=127.0.0.1:$NX_PORT c=$CONNS s=$STREAMS ;;
      pool) addr=$PP c=$CONNS s=$STREAMS ;;
      pool-1conn) addr=$PP c=1 s=$((CONNS * STREAMS)) ;;
      sluice) addr=$SL c=$CONNS s=$STREAMS ;;
      sluice-1conn) addr=$SL c=1 s=$((CONNS * STREAMS)) ;;
    esac
    if [[ $path == sluice* && $SLUICE == 0 ]]; then
      printf '%-13s %s\n' $path "skipped (no http_connection_manager in this sluice)"
      continue
    fi
    start_procs
    "$TMP/grpcload" -addr "$addr" -conns $c -streams $s -d "${SECS}s" >"$TMP/load.out" 2>"$TMP/load.err" &
    LOAD=$!
    sleep "$(echo "$SECS / 2" | bc -l)" # sample the connections mid-run
    cx=$(upstream_conns)
    wait $LOAD || { echo "grpcload failed on $path:"; cat "$TMP/load.err"; } >&2
    stop_procs
    counts=$COUNTS
    ratio=$(echo "$counts" | awk '{s=0; m=0; for (i=1;i<=NF;i++) {s+=$i; if ($i>m) m=$i}; if (s==0) print "n/a"; else printf "%.2f", m/(s/NF)}')
    rps=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' "$TMP/load.out")
    errs=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$TMP/load.out")
    printf '%-13s %-40s %8s %9s %10s%s\n' $path "$counts" "$ratio" "$cx" "$rps" "$([ "${errs:-0}" != 0 ] && echo "  ($errs errors)")"
  done
done
