#!/usr/bin/env bash
# The cost of the everyday HTTP filters, in one run against the same upstream
# (nginx returning a 4 KiB text body over keep-alive): direct, then sluice's
# http_connection_manager with the router only, and with local_ratelimit (a
# bucket that never runs dry), cors (a preflight-free request from an
# allowed origin), fault (configured, injecting nothing) and compressor (gzip,
# BEST_SPEED). wrk HTTP/1.1 keep-alive: median req/s and p99 over the rounds,
# and each case's ratio to the router-only sluice.
#   bench/http_filters.sh [rounds] [seconds-per-run]     BASE=27300 moves the ports (BASE..BASE+14)
# Needs: go, wrk, nginx (apt-get install wrk nginx).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
TMP=$(mktemp -d)
chmod 755 "$TMP"

trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null; rm -rf "$TMP"' EXIT
for b in wrk nginx; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install wrk nginx" >&2; exit 1; }
done
source bench/lib.sh
go build -o "$TMP/sluice" ./cmd/sluice

B=${BASE:-27300}
UP=$B ADM=$((B + 9))
ports_free $UP $ADM $((B + 10)) $((B + 11)) $((B + 12)) $((B + 13)) $((B + 14))
nginx_body "$TMP" "$UP"

# One listener per case, same route and cluster.
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
                typed_per_filter_config:
                  cors: {allow_origin_string_match: [{exact: "https://app.example"}], expose_headers: "x-trace"}
                routes: [{match: {prefix: "/"}, route: {cluster: up}}]
          http_filters: $3
L
}
{
  echo "admin: {address: 127.0.0.1:$ADM}"
  echo "listeners:"
  listener router $((B + 10)) '[{router: {}}]'
  listener local_ratelimit $((B + 11)) '[{local_ratelimit: {stat_prefix: b, token_bucket: {max_tokens: 4000000000, tokens_per_fill: 4000000000, fill_interval: 1s}, filter_enabled: {default_value: {numerator: 100}}, filter_enforced: {default_value: {numerator: 100}}, enable_x_ratelimit_headers: DRAFT_VERSION_03}}, {router: {}}]'
  listener cors $((B + 12)) '[{cors: {}}, {router: {}}]'
  listener fault $((B + 13)) '[{fault: {abort: {header_abort: {}, percentage: {numerator: 100}}, delay: {header_delay: {}, percentage: {numerator: 100}}}}, {router: {}}]'
  listener compressor $((B + 14)) '[{compressor: {compressor_library: {name: b, gzip: {compression_level: BEST_SPEED}}}}, {router: {}}]'
  cat <<C
clusters:
  - name: up
    connect_timeout: 1s
    endpoints: ["127.0.0.1:$UP"]
C
} > "$TMP/sluice.yaml"
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn > "$TMP/sluice.log" 2>&1 &
for i in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$((B + 14))/" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$((B + 14))/" || { echo "sluice did not start:" >&2; cat "$TMP/sluice.log" >&2; exit 1; }

wrk_run() { # wrk_run URL [header]: prints "req/s p99_ms"
  local h=()
  [ -n "${2:-}" ] && h=(-H "$2")
  wrk -t2 -c64 -d"${SECS}s" --latency "${h[@]}" "$1" | awk '
    /Requests\/sec/ {r=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p=v}
    END {printf "%.0f %.2f\n", r, p}'
}
CASES="direct router local_ratelimit cors fault compressor"
declare -A URL HDR R P
URL[direct]=http://127.0.0.1:$UP/; URL[router]=http://127.0.0.1:$((B + 10))/; URL[local_ratelimit]=http://127.0.0.1:$((B + 11))/
URL[cors]=http://127.0.0.1:$((B + 12))/; URL[fault]=http://127.0.0.1:$((B + 13))/; URL[compressor]=http://127.0.0.1:$((B + 14))/
HDR[cors]="Origin: https://app.example"; HDR[compressor]="Accept-Encoding: gzip"
for c in $CASES; do R[$c]=""; P[$c]=""; done
for round in $(seq "$ROUNDS"); do
  for c in $CASES; do
    read -r r p < <(wrk_run "${URL[$c]}" "${HDR[$c]:-}")
    R[$c]+="$r"$'\n'; P[$c]+="$p"$'\n'
  done
done
base=$(printf '%s' "${R[router]}" | median)
printf '%-16s %10s %9s %8s\n' case req/s p99_ms vs_router
for c in $CASES; do
  r=$(printf '%s' "${R[$c]}" | median)
  p=$(printf '%s' "${P[$c]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-16s %10s %9s %8s\n' "$c" "$r" "$p" "$(awk -v a="$r" -v b="$base" 'BEGIN {printf "%.2f", a/b}')"
done
# Proof the filters ran: their counters from the admin.
curl -s "http://127.0.0.1:$ADM/stats" | grep -E '^(b\.http_local_rate_limit\.ok|http\.cors\.cors\.origin_valid|http\.compressor\.compressor\.b\.gzip\.compressed):' || true
