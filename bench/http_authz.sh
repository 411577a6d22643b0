#!/usr/bin/env bash
# The cost of ext_authz and the global ratelimit filter, in one run against
# the same upstream (nginx, a 4 KiB text body over keep-alive): direct,
# sluice with the router only, ext_authz asking OPA over gRPC
# (bench/opaauthz: a Rego policy allowing the path) and over Envoy's HTTP
# protocol, and ratelimit asking the rate limit service (bench/rlserver,
# counting in redis-server) with a limit never reached. wrk HTTP/1.1
# keep-alive: median req/s and p99 over the rounds, and each case's ratio to
# the router-only sluice; the filters' counters prove the checks ran.
#   bench/http_authz.sh [rounds] [seconds-per-run]     BASE=27400 moves the ports (BASE..BASE+13)
# Needs: go, wrk, nginx, redis-server (apt-get install wrk nginx redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
TMP=$(mktemp -d)
chmod 755 "$TMP"

trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null; rm -rf "$TMP"' EXIT
for b in wrk nginx redis-server; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install wrk nginx redis-server" >&2; exit 1; }
done
source bench/lib.sh
go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/rlserver" ./bench/rlserver
(cd bench/opaauthz && GOWORK=off GOFLAGS=-mod=mod go build -o "$TMP/opaauthz" .)

B=${BASE:-27400}
UP=$B RD=$((B + 1)) RLS=$((B + 2)) OPAG=$((B + 3)) OPAH=$((B + 4)) ADM=$((B + 9))
ports_free $UP $RD $RLS $OPAG $OPAH $ADM $((B + 10)) $((B + 11)) $((B + 12)) $((B + 13))
nginx_body "$TMP" "$UP"
redis-server --port "$RD" --bind 127.0.0.1 --save '' --appendonly no --daemonize no > "$TMP/redis.log" 2>&1 &
"$TMP/rlserver" -addr "127.0.0.1:$RLS" -redis "127.0.0.1:$RD" > "$TMP/rls.log" 2>&1 &
cat > "$TMP/policy.rego" <<'REGO'
package envoy.authz

import rego.v1

default allow := false

allow if input.parsed_path[0] == "public"
REGO
"$TMP/opaauthz" -policy "$TMP/policy.rego" -grpc "127.0.0.1:$OPAG" -http "127.0.0.1:$OPAH" > "$TMP/opa.log" 2>&1 &

listener() { # listener NAME PORT FILTERS
  cat <<L
  - name: $1
    address: 127.0.0.1:$2
    filters:
      - http_connection_manager:
          stat_prefix: $1
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes:
                  - match: {prefix: "/"}
                    route: {cluster: up, rate_limits: [{actions: [{generic_key: {descriptor_value: bench}}]}]}
          http_filters: $3
L
}
{
  echo "admin: {address: 127.0.0.1:$ADM}"
  echo "listeners:"
  listener router $((B + 10)) '[{router: {}}]'
  listener ext_authz_grpc $((B + 11)) '[{ext_authz: {grpc_service: {envoy_grpc: {cluster_name: opa_grpc}, timeout: 1s}, stat_prefix: grpc}}, {router: {}}]'
  listener ext_authz_http $((B + 12)) '[{ext_authz: {http_service: {server_uri: {uri: "http://opa", cluster: opa_http, timeout: 1s}}, stat_prefix: http}}, {router: {}}]'
  listener ratelimit $((B + 13)) '[{ratelimit: {domain: bench, timeout: 1s, failure_mode_deny: true, rate_limit_service: {grpc_service: {envoy_grpc: {cluster_name: rls}}}}}, {router: {}}]'
  cat <<C
clusters:
  - {name: up, connect_timeout: 1s, endpoints: ["127.0.0.1:$UP"]}
  - {name: opa_grpc, connect_timeout: 1s, endpoints: ["127.0.0.1:$OPAG"]}
  - {name: opa_http, connect_timeout: 1s, endpoints: ["127.0.0.1:$OPAH"]}
  - {name: rls, connect_timeout: 1s, endpoints: ["127.0.0.1:$RLS"]}
C
} > "$TMP/sluice.yaml"
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn > "$TMP/sluice.log" 2>&1 &
for port in $((B + 10)) $((B + 11)) $((B + 12)) $((B + 13)); do
  for i in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/public/x" && break; sleep 0.1; done
  curl -sf -o /dev/null "http://127.0.0.1:$port/public/x" || { echo "port $port does not answer 200:" >&2; tail "$TMP"/*.log >&2; exit 1; }
done

wrk_run() { # wrk_run URL: prints "req/s p99_ms non2xx"
  wrk -t2 -c64 -d"${SECS}s" --latency "$1" | awk '
    /Requests\/sec/ {r=$2}
    /Non-2xx/ {n=$NF}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p=v}
    END {printf "%.0f %.2f %d\n", r, p, n}'
}
CASES="direct router ext_authz_grpc ext_authz_http ratelimit"
declare -A URL R P BAD
URL[direct]=http://127.0.0.1:$UP/public/x; URL[router]=http://127.0.0.1:$((B + 10))/public/x
URL[ext_authz_grpc]=http://127.0.0.1:$((B + 11))/public/x; URL[ext_authz_http]=http://127.0.0.1:$((B + 12))/public/x
URL[ratelimit]=http://127.0.0.1:$((B + 13))/public/x
for c in $CASES; do R[$c]=""; P[$c]=""; BAD[$c]=0; done
for round in $(seq "$ROUNDS"); do
  for c in $CASES; do
    read -r r p n < <(wrk_run "${URL[$c]}")
    R[$c]+="$r"$'\n'; P[$c]+="$p"$'\n'; BAD[$c]=$((BAD[$c] + n))
  done
done
base=$(printf '%s' "${R[router]}" | median)
printf '%-16s %10s %9s %8s %8s\n' case req/s p99_ms vs_router non2xx
for c in $CASES; do
  r=$(printf '%s' "${R[$c]}" | median)
  p=$(printf '%s' "${P[$c]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-16s %10s %9s %8s %8s\n' "$c" "$r" "$p" "$(awk -v a="$r" -v b="$base" 'BEGIN {printf "%.2f", a/b}')" "${BAD[$c]}"
done
# Proof the filters ran: their counters from the admin.
curl -s "http://127.0.0.1:$ADM/stats" | grep -E '^cluster\.up\.ext_authz\.(grpc|http)\.(ok|denied|error)|^cluster\.rls\.ratelimit\.(ok|over_limit|error)' || true
