#!/usr/bin/env bash
# DynamoDB through sluice, in one run against the same dynalite (npm
# dynalite 3.2.2, in memory): direct, sluice with plain routing, sluice with
# the dynamo filter, sluice with aws_request_signing + dynamo. wrk posts
# GetItem requests (the JSON protocol, keep-alive); prints req/s and p99 per
# setup, medians over the rounds, and each ratio to plain routing.
#   bench/dynamo.sh [rounds] [seconds-per-run]
# Needs: go, wrk, nodejs, npm (apt-get install wrk nodejs npm).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
for b in wrk node npm curl; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install wrk nodejs npm curl" >&2; exit 1; }
done
source bench/lib.sh
DYN=${XDG_CACHE_HOME:-$HOME/.cache}/sluice-testenv/dynalite-3.2.2
if [ ! -f "$DYN/node_modules/dynalite/cli.js" ]; then
  mkdir -p "$DYN" && npm install --no-audit --no-fund --prefix "$DYN" dynalite@3.2.2 >/dev/null
fi
go build -o "$TMP/sluice" ./cmd/sluice
UP=19600 PLAIN=19610 DYNF=19611 SIGN=19612
node "$DYN/node_modules/dynalite/cli.js" --host 127.0.0.1 --port $UP --createTableMs 0 >/dev/null 2>&1 &
listener() { # listener NAME PORT FILTERS
  cat <<YAML
  - name: $1
    address: 127.0.0.1:$2
    filters:
      - http_connection_manager:
          stat_prefix: $1
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
          http_filters: $3
YAML
}
{
  echo "listeners:"
  listener plain $PLAIN "[{router: {}}]"
  listener dynamo $DYNF "[{dynamo: {}}, {router: {}}]"
  listener signed $SIGN "[{aws_request_signing: {service_name: dynamodb, region: us-east-1}}, {dynamo: {}}, {router: {}}]"
  echo "clusters: [{name: up, endpoints: [\"127.0.0.1:$UP\"], circuit_breakers: {thresholds: [{max_connections: 100000}]}}]"
} > "$TMP/sluice.yaml"
AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench "$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn &
AUTH='AWS4-HMAC-SHA256 Credential=AKIDBENCH/20150830/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00'
ddb() { # ddb PORT OPERATION BODY
  curl -sf -XPOST "http://127.0.0.1:$1/" -H "X-Amz-Target: DynamoDB_20120810.$2" -H 'Content-Type: application/x-amz-json-1.0' \
    -H "Authorization: $AUTH" -H 'X-Amz-Date: 20150830T123600Z' -d "$3"
}
for i in $(seq 50); do ddb $UP ListTables '{}' >/dev/null 2>&1 && break; sleep 0.2; done
for i in $(seq 50); do ddb $SIGN ListTables '{}' >/dev/null 2>&1 && break; sleep 0.2; done
ddb $UP CreateTable '{"TableName":"bench","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}' >/dev/null
ddb $UP PutItem '{"TableName":"bench","Item":{"id":{"S":"k1"},"v":{"S":"value"}}}' >/dev/null
cat > "$TMP/getitem.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"TableName":"bench","Key":{"id":{"S":"k1"}}}'
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.GetItem"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["Authorization"] = "$AUTH"
wrk.headers["X-Amz-Date"] = "20150830T123600Z"
LUA
declare -A RPS P99
for r in $(seq "$ROUNDS"); do
  for setup in direct:$UP plain:$PLAIN dynamo:$DYNF signed+dynamo:$SIGN; do
    name=${setup%%:*} port=${setup##*:}
    out=$(wrk -t2 -c32 -d"${SECS}s" --latency -s "$TMP/getitem.lua" "http://127.0.0.1:$port/")
    RPS[$name]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
    P99[$name]+="$(echo "$out" | awk '$1=="99%" {v=$2; if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}') "
  done
done
plain=$(echo ${RPS[plain]} | tr ' ' '\n' | median)
printf "%-14s %10s %10s %8s\n" setup "req/s" "p99 ms" "vs plain"
for name in direct plain dynamo signed+dynamo; do
  rps=$(echo ${RPS[$name]} | tr ' ' '\n' | median)
  p99=$(echo ${P99[$name]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf "%-14s %10s %10s %8s\n" "$name" "$rps" "$p99" "$(echo "scale=2; $rps / $plain" | bc)"
done
