#!/usr/bin/env bash
# Egress in one run against the same upstream (nginx returning 5 bytes over
# keep-alive): direct, sluice as a reverse proxy (router to a static
# cluster), sluice as a forward proxy (absolute-form requests through the
# dynamic_forward_proxy filter and DNS cache cluster) and nginx as a forward
# proxy (proxy_pass http://$http_host). wrk HTTP/1.1 keep-alive, -t2 -c64:
# median req/s and p99 over the rounds, and each case's ratio to direct.
#   bench/egress.sh [rounds] [seconds-per-run]     BASE=27400 moves the ports (BASE..BASE+12)
# Needs: go, wrk, nginx, curl (apt-get install wrk nginx curl).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
TMP=$(mktemp -d)
chmod 755 "$TMP"
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null; rm -rf "$TMP"' EXIT
for b in wrk nginx curl; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install wrk nginx curl" >&2; exit 1; }
done
source bench/lib.sh
go build -o "$TMP/sluice" ./cmd/sluice

B=${BASE:-27400}
UP=$B NGFWD=$((B + 1)) ADM=$((B + 9)) REV=$((B + 10)) FWD=$((B + 11))
ports_free $UP $NGFWD $ADM $REV $FWD
cat > "$TMP/nginx.conf" <<CONF
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP; proxy_temp_path $TMP; fastcgi_temp_path $TMP; uwsgi_temp_path $TMP; scgi_temp_path $TMP;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP; location / { return 200 "hello"; } }
  server {
    listen 127.0.0.1:$NGFWD;
    location / { proxy_pass http://\$http_host; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
nginx -c "$TMP/nginx.conf" -p "$TMP"

cat > "$TMP/sluice.yaml" <<Y
admin: {address: 127.0.0.1:$ADM}
listeners:
  - name: reverse
    address: 127.0.0.1:$REV
    filters:
      - http_connection_manager:
          stat_prefix: reverse
          route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]}
          http_filters: [{router: {}}]
  - name: forward
    address: 127.0.0.1:$FWD
    filters:
      - http_connection_manager:
          stat_prefix: forward
          http_filters: [{dynamic_forward_proxy: {dns_cache_config: {name: egress}}}, {router: {}}]
          route_config:
            ignore_port_in_host_matching: true
            virtual_hosts:
              - {name: allowed, domains: ["127.0.0.1", "localhost"], routes: [{match: {prefix: "/"}, route: {cluster: dfp}}]}
              - {name: denied, domains: ["*"], routes: [{match: {prefix: "/"}, direct_response: {status: 403}}]}
clusters:
  - {name: up, connect_timeout: 1s, endpoints: ["127.0.0.1:$UP"]}
  - {name: dfp, type: dynamic_forward_proxy, connect_timeout: 1s, dns_cache_config: {name: egress}}
Y
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn > "$TMP/sluice.log" 2>&1 &
for i in $(seq 100); do curl -sf -o /dev/null --proxy "http://127.0.0.1:$FWD" "http://127.0.0.1:$UP/" && break; sleep 0.1; done
curl -sf -o /dev/null --proxy "http://127.0.0.1:$FWD" "http://127.0.0.1:$UP/" || { echo "sluice did not start:" >&2; cat "$TMP/sluice.log" >&2; exit 1; }
curl -sf -o /dev/null --proxy "http://127.0.0.1:$NGFWD" "http://127.0.0.1:$UP/" || { echo "nginx forward proxy failed" >&2; cat "$TMP/nginx-error.log" >&2; exit 1; }

# Absolute-form requests: wrk connects to the proxy and asks for the origin's URL.
cat > "$TMP/abs.lua" <<L
wrk.path = "http://127.0.0.1:$UP/"
wrk.headers["Host"] = "127.0.0.1:$UP"
L
wrk_run() { # wrk_run URL [script]: prints "req/s p99_ms"
  local s=()
  [ -n "${2:-}" ] && s=(-s "$2")
  wrk -t2 -c64 -d"${SECS}s" --latency "${s[@]}" "$1" | awk '
    /Requests\/sec/ {r=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p=v}
    END {printf "%.0f %.2f\n", r, p}'
}
CASES="direct sluice_reverse sluice_forward nginx_forward"
declare -A URL SCR R P
URL[direct]=http://127.0.0.1:$UP/; URL[sluice_reverse]=http://127.0.0.1:$REV/
URL[sluice_forward]=http://127.0.0.1:$FWD/; URL[nginx_forward]=http://127.0.0.1:$NGFWD/
SCR[sluice_forward]=$TMP/abs.lua; SCR[nginx_forward]=$TMP/abs.lua
for c in $CASES; do R[$c]=""; P[$c]=""; done
for round in $(seq "$ROUNDS"); do
  for c in $CASES; do
    read -r r p < <(wrk_run "${URL[$c]}" "${SCR[$c]:-}")
    R[$c]+="$r"$'\n'; P[$c]+="$p"$'\n'
  done
done
base=$(printf '%s' "${R[direct]}" | median)
printf '%-16s %10s %9s %8s\n' case req/s p99_ms vs_direct
for c in $CASES; do
  r=$(printf '%s' "${R[$c]}" | median)
  p=$(printf '%s' "${P[$c]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-16s %10s %9s %8s\n' "$c" "$r" "$p" "$(awk -v a="$r" -v b="$base" 'BEGIN {printf "%.2f", a/b}')"
done
# Proof the forward proxy ran through the DNS cache: its counters.
curl -s "http://127.0.0.1:$ADM/stats" | grep -E '^(dns_cache\.egress\.|http\.forward\.downstream_rq_2xx)' || true
