#!/usr/bin/env bash
# HTTP proxying, in one run against the same upstream (nginx returning a
# 5-byte body over keep-alive): direct, sluice (http_connection_manager),
# haproxy 2.6, nginx 1.22 and Caddy v2 as reverse proxies.
#   wrk    HTTP/1.1 keep-alive, small responses: req/s and p99
#   h2load HTTP/2 (h2c prior knowledge), many streams per connection: req/s and p99
# Prints medians over the rounds and each proxy's ratio to sluice, then the
# memory per idle HTTP/2 downstream connection of sluice (RSS growth over N
# idle connections, each after one request).
#   bench/http.sh [rounds] [seconds-per-run]      CADDY=/path/to/caddy skips its build,
#   CADDY=none leaves Caddy out; IDLE=2000 idle HTTP/2 connections for the memory figure;
#   AUTHZ=0 and TRACING=0 skip the HTTP filter and tracing rows
# Needs: go, wrk, nghttp2-client (h2load), haproxy, nginx (apt-get install
# wrk nghttp2-client haproxy nginx); Caddy is built from the module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
IDLE=${IDLE:-2000}
TMP=$(mktemp -d)
chmod 755 "$TMP"
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$TMP/nginx-up.pid" ] && kill "$(cat "$TMP/nginx-up.pid")" 2>/dev/null; [ -f "$TMP/nginx-px.pid" ] && kill "$(cat "$TMP/nginx-px.pid")" 2>/dev/null; rm -rf "$TMP"' EXIT
for b in wrk h2load haproxy nginx; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install wrk nghttp2-client haproxy nginx" >&2; exit 1; }
done
ulimit -n "$(ulimit -Hn)"
CADDY=${CADDY:-}
if [ -z "$CADDY" ]; then
  echo "building caddy v2.11.9 (minutes)..." >&2
  GOBIN="$TMP" GOFLAGS=-mod=mod go install github.com/caddyserver/caddy/v2/cmd/caddy@v2.11.9
  CADDY=$TMP/caddy
fi
go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/h2idle" ./bench/h2idle

# Ports: upstream (h1 and h2c), then per proxy an HTTP/1.1 and an h2c port.
UP=19500 UP2=19501 SL=19510 IDLEP=19511 HA=19520 HA2=19521 NG=19530 NG2=19531 CA=19540 ADM=19549
nginx_conf() { # nginx_conf NAME BODY
  cat > "$TMP/$1.conf" <<CONF
worker_processes 1;
pid $TMP/$1.pid;
error_log $TMP/$1.err warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $TMP/$1-body;
  proxy_temp_path $TMP/$1-proxy;
  fastcgi_temp_path $TMP/$1-fcgi;
  uwsgi_temp_path $TMP/$1-uwsgi;
  scgi_temp_path $TMP/$1-scgi;
  keepalive_requests 1000000;
  http2_max_requests 1000000;
  $2
}
CONF
}
nginx_conf nginx-up "server { listen 127.0.0.1:$UP; listen 127.0.0.1:$UP2 http2; location / { return 200 'hello'; } }"
nginx_conf nginx-px "upstream up { server 127.0.0.1:$UP; keepalive 128; }
  server { listen 127.0.0.1:$NG; listen 127.0.0.1:$NG2 http2;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
nginx -c "$TMP/nginx-up.conf" -e "$TMP/nginx-up.err"
nginx -c "$TMP/nginx-px.conf" -e "$TMP/nginx-px.err"
cat > "$TMP/sluice.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM}
listeners:
  - name: http
    address: 127.0.0.1:$SL
    filters:
      - http_connection_manager:
          stat_prefix: bench
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
clusters:
  - {name: up, endpoints: ["127.0.0.1:$UP"], circuit_breakers: {thresholds: [{max_connections: 100000}]}}
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn &
SLPID=$!
cat > "$TMP/haproxy.cfg" <<CFG
global
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 1h
  timeout server 1h
  http-reuse always
frontend f
  bind 127.0.0.1:$HA
  bind 127.0.0.1:$HA2 proto h2
  default_backend b
backend b
  server s1 127.0.0.1:$UP
CFG
haproxy -f "$TMP/haproxy.cfg" -q &
cat > "$TMP/Caddyfile" <<CADDY
{
  admin off
  auto_https off
  servers {
    protocols h1 h2 h2c
  }
}
http://127.0.0.1:$CA {
  reverse_proxy 127.0.0.1:$UP
}
CADDY
NAMES=(direct sluice haproxy nginx caddy)
PORTS="$UP $SL $HA $HA2 $NG $NG2 $CA"
if [ "$CADDY" = none ]; then
  NAMES=(direct sluice haproxy nginx)
  PORTS=${PORTS% *}
else
  "$CADDY" run --config "$TMP/Caddyfile" --adapter caddyfile >"$TMP/caddy.log" 2>&1 &
fi
for p in $PORTS; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done

source bench/lib.sh
declare -A H1 H1P H2 H2P
# wrk_run URL: prints "req/s p99_ms".
wrk_run() {
  wrk -t2 -c64 -d"${SECS}s" --latency "$1" | awk '
    /Requests\/sec/ {r=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p=v}
    END {printf "%.0f %.2f\n", r, p}'
}
# h2_run URL: prints "req/s p99_ms" (p99 from h2load's per-request log).
h2_run() {
  rm -f "$TMP/h2.log"
  h2load -c16 -m32 -t2 -D "$SECS" --log-file="$TMP/h2.log" "$1" > "$TMP/h2.out"
  local r p
  r=$(awk '/^finished in/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /req\/s/) {gsub(/,/,"",$i); print $i}}' "$TMP/h2.out")
  p=$(awk '{print $3}' "$TMP/h2.log" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int(NR*0.99)]/1000}')
  echo "${r%.*} $p"
}
declare -A URL1=([direct]=http://127.0.0.1:$UP/ [sluice]=http://127.0.0.1:$SL/ [haproxy]=http://127.0.0.1:$HA/ [nginx]=http://127.0.0.1:$NG/ [caddy]=http://127.0.0.1:$CA/)
declare -A URL2=([direct]=http://127.0.0.1:$UP2/ [sluice]=http://127.0.0.1:$SL/ [haproxy]=http://127.0.0.1:$HA2/ [nginx]=http://127.0.0.1:$NG2/ [caddy]=http://127.0.0.1:$CA/)
for round in $(seq "$ROUNDS"); do
  for n in "${NAMES[@]}"; do
    read -r r p <<<"$(wrk_run "${URL1[$n]}")"
    H1[$n]+="$r"$'\n'; H1P[$n]+="$p"$'\n'
    read -r r p <<<"$(h2_run "${URL2[$n]}")"
    H2[$n]+="$r"$'\n'; H2P[$n]+="$p"$'\n'
  done
done
med() { printf '%s' "$1" | grep . | median; }
medf() { printf '%s' "$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
S1=$(med "${H1[sluice]}") S2=$(med "${H2[sluice]}")
printf '%-8s %12s %10s %8s   %12s %10s %8s\n' proxy "h1 req/s" "h1 p99ms" "sluice/x" "h2 req/s" "h2 p99ms" "sluice/x"
for n in "${NAMES[@]}"; do
  a=$(med "${H1[$n]}") b=$(med "${H2[$n]}")
  printf '%-8s %12s %10s %8s   %12s %10s %8s\n' "$n" "$a" "$(medf "${H1P[$n]}")" \
    "$(awk -v s="$S1" -v x="$a" 'BEGIN {printf "%.2f", x ? s/x : 0}')" "$b" "$(medf "${H2P[$n]}")" \
    "$(awk -v s="$S2" -v x="$b" 'BEGIN {printf "%.2f", x ? s/x : 0}')"
done

# A fresh sluice: after the load runs, the first one's heap has free memory
# that idle connections would reuse unseen.
kill $SLPID
sed "s/127.0.0.1:$SL/127.0.0.1:$IDLEP/; s/127.0.0.1:$ADM/127.0.0.1:$((ADM - 1))/" "$TMP/sluice.yaml" > "$TMP/idle.yaml"
"$TMP/sluice" -c "$TMP/idle.yaml" -log-level warn &
SLPID=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$IDLEP) 2>/dev/null && break; sleep 0.1; done
curl -s -o /dev/null "http://127.0.0.1:$IDLEP/" # warm: the first request's allocations are not per connection
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
before=$(rss $SLPID)
mkfifo "$TMP/idle.fifo"
"$TMP/h2idle" -addr 127.0.0.1:$IDLEP -n "$IDLE" > "$TMP/idle.fifo" &
IDPID=$!
read -r _ < "$TMP/idle.fifo"
sleep 1
after=$(rss $SLPID)
echo "sluice idle HTTP/2 connections: $IDLE, RSS $before KiB -> $after KiB, $(( (after - before) * 1024 / IDLE )) bytes per connection"
kill -INT $IDPID 2>/dev/null || true

# HTTP filters' cost (AUTHZ=0 skips): one sluice, one listener per filter
# set on the same upstream, HTTP/1.1 wrk with a bearer token on every
# request: none, jwt_authn (ES256, local JWKS), rbac (path and header
# policy), jwt_authn + rbac deciding by the JWT's sub claim.
if [ "${AUTHZ:-1}" != 0 ]; then
  kill $SLPID 2>/dev/null || true
  go build -o "$TMP/jwtgen" ./bench/jwtgen
  TOKEN=$("$TMP/jwtgen" -jwks "$TMP/jwks.json")
  JWT="{jwt_authn: {providers: {p: {issuer: https://bench.test, audiences: [api], local_jwks: {filename: $TMP/jwks.json}, payload_in_metadata: jwt}}, rules: [{match: {prefix: /}, requires: {provider_name: p}}]}}"
  RBAC="{rbac: {rules: {policies: {p: {permissions: [{url_path: {path: {prefix: /}}}], principals: [{header: {name: authorization, prefix_match: Bearer}}]}}}}}"
  RBACJ="{rbac: {rules: {policies: {p: {permissions: [{url_path: {path: {prefix: /}}}], principals: [{metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: jwt}, {key: sub}], value: {string_match: {exact: alice}}}}]}}}}}"
  listener() { # listener NAME PORT FILTERS
    printf '  - name: %s\n    address: 127.0.0.1:%s\n    filters:\n      - http_connection_manager:\n          stat_prefix: %s\n          route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]}\n          http_filters: [%s{router: {}}]\n' "$1" "$2" "$1" "$3"
  }
  AZ=19560
  {
    echo "listeners:"
    listener none $AZ ""
    listener jwt $((AZ + 1)) "$JWT, "
    listener rbac $((AZ + 2)) "$RBAC, "
    listener jwtrbac $((AZ + 3)) "$JWT, $RBACJ, "
    echo "clusters:"
    echo "  - {name: up, endpoints: [\"127.0.0.1:$UP\"], circuit_breakers: {thresholds: [{max_connections: 100000}]}}"
  } > "$TMP/authz.yaml"
  "$TMP/sluice" -c "$TMP/authz.yaml" -log-level warn &
  SLPID=$!
  for p in $AZ $((AZ + 1)) $((AZ + 2)) $((AZ + 3)); do
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
  done
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$((AZ + 3))/")
  [ "$code" = 200 ] || { echo "jwt_authn+rbac listener answered $code" >&2; exit 1; }
  declare -A AZR
  AZN=(none jwt rbac jwtrbac)
  for round in $(seq "$ROUNDS"); do
    for i in 0 1 2 3; do
      read -r r _ <<<"$(wrk -t2 -c64 -d"${SECS}s" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$((AZ + i))/" | awk '/Requests\/sec/ {print $2, 0}')"
      AZR[${AZN[$i]}]+="${r%.*}"$'\n'
    done
  done
  base=$(med "${AZR[none]}")
  printf '%-22s %12s %14s\n' "sluice HTTP filters" "h1 req/s" "us/request+"
  for n in "${AZN[@]}"; do
    x=$(med "${AZR[$n]}")
    printf '%-22s %12s %14s\n' "$n" "$x" "$(awk -v b="$base" -v x="$x" 'BEGIN {printf "%.1f", (x && b) ? 1e6/x - 1e6/b : 0}')"
  done
  echo "(us/request+: time added per request at saturation, 1e6/req_s minus the same for none)"
fi


# Tracing's cost (TRACING=0 skips): one sluice, three listeners on the same
# upstream, HTTP/1.1 wrk: no tracing, tracing at 1% and at 100% random
# sampling, exporting OTLP/gRPC to a real OpenTelemetry Collector (the
# tests' build, internal/testenv/testdata/otelcol, cached in the user cache
# dir; OTELCOL=/path skips the build) writing to a file.
if [ "${TRACING:-1}" != 0 ]; then
  kill $SLPID 2>/dev/null || true
  OTELCOL=${OTELCOL:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice-testenv/otelcol-v0.165.0-1dee670a/otelcol-test}
  if [ ! -x "$OTELCOL" ]; then
    echo "building the OpenTelemetry Collector (minutes)..." >&2
    mkdir -p "$TMP/otelcol-src" "$(dirname "$OTELCOL")"
    cp internal/testenv/testdata/otelcol/main.go "$TMP/otelcol-src/"
    cp internal/testenv/testdata/otelcol/go.mod.txt "$TMP/otelcol-src/go.mod"
    cp internal/testenv/testdata/otelcol/go.sum.txt "$TMP/otelcol-src/go.sum"
    (cd "$TMP/otelcol-src" && GOWORK=off GOFLAGS=-mod=mod go build -o "$OTELCOL" .)
  fi
  TR=19570 OTG=19575
  cat > "$TMP/otelcol.yaml" <<CONF
receivers: {otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$OTG"}}}}
exporters: {file: {path: "$TMP/spans.json", format: json}}
service:
  telemetry: {metrics: {level: none}}
  pipelines: {traces: {receivers: [otlp], exporters: [file]}}
CONF
  "$OTELCOL" --config "file:$TMP/otelcol.yaml" > "$TMP/otelcol.log" 2>&1 &
  OCPID=$!
  tlistener() { # tlistener NAME PORT TRACING
    printf '  - name: %s\n    address: 127.0.0.1:%s\n    filters:\n      - http_connection_manager:\n          stat_prefix: %s\n          route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]}\n%s\n' "$1" "$2" "$1" "$3"
  }
  trc() { printf '          tracing: {random_sampling: %s, provider: {opentelemetry: {service_name: bench, grpc_service: {envoy_grpc: {cluster_name: otel}}}}}' "$1"; }
  {
    echo "listeners:"
    tlistener none $TR ""
    tlistener trace1 $((TR + 1)) "$(trc 1)"
    tlistener trace100 $((TR + 2)) "$(trc 100)"
    echo "clusters:"
    echo "  - {name: up, endpoints: [\"127.0.0.1:$UP\"], circuit_breakers: {thresholds: [{max_connections: 100000}]}}"
    echo "  - {name: otel, endpoints: [\"127.0.0.1:$OTG\"]}"
  } > "$TMP/tracing.yaml"
  "$TMP/sluice" -c "$TMP/tracing.yaml" -log-level warn &
  SLPID=$!
  for p in $TR $((TR + 1)) $((TR + 2)) $OTG; do
    for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
  done
  declare -A TRR
  TRN=(none trace1 trace100)
  for round in $(seq "$ROUNDS"); do
    for i in 0 1 2; do
      read -r r _ <<<"$(wrk -t2 -c64 -d"${SECS}s" "http://127.0.0.1:$((TR + i))/" | awk '/Requests\/sec/ {print $2, 0}')"
      TRR[${TRN[$i]}]+="${r%.*}"$'\n'
    done
  done
  base=$(med "${TRR[none]}")
  printf '%-22s %12s %14s\n' "sluice tracing" "h1 req/s" "us/request+"
  for n in "${TRN[@]}"; do
    x=$(med "${TRR[$n]}")
    printf '%-22s %12s %14s\n' "$n" "$x" "$(awk -v b="$base" -v x="$x" 'BEGIN {printf "%.1f", (x && b) ? 1e6/x - 1e6/b : 0}')"
  done
  sleep 6 # the exporters' 5 s batch timeout
  echo "spans written by the collector: $(grep -o '"spanId"' "$TMP/spans.json" 2>/dev/null | wc -l)"
  kill $SLPID $OCPID 2>/dev/null || true
fi
