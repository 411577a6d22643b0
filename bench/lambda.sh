#!/usr/bin/env bash
# Lambda invocations per second, in one run against the same function: AWS's
# Lambda Runtime Interface Emulator running the aws-lambda-go echo function
# (filters/http/awslambda/internal/echofn) invoked directly, and through
# sluice's aws_lambda filter (envelope mode and payload passthrough, SigV4
# signed). The emulator serves only /2015-03-31/functions/function/
# invocations, one invocation at a time (so one connection): a sluice
# listener in front of it stands for Lambda's frontend and rewrites the ARN
# path to that (its cost is in the two filtered rows, not in "direct").
#   bench/lambda.sh [rounds] [seconds-per-run]
# Needs: go, wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
source bench/lib.sh
RIEV=v0.0.0-20261030222936-bef5c4ba774d
GOBIN="$TMP" GOFLAGS=-mod=mod go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIEV
go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/echofn" ./filters/http/awslambda/internal/echofn
RIE=19700 API=19701 ENV=19710 PASS=19711
"$TMP/aws-lambda-rie" --log-level error --runtime-interface-emulator-address 127.0.0.1:$RIE --runtime-api-address 127.0.0.1:$API "$TMP/echofn" >/dev/null 2>&1 &
ARN=arn:aws:lambda:us-east-1:123456789012:function:echo
listener() { # listener NAME PORT FILTER
  cat <<YAML
  - name: $1
    address: 127.0.0.1:$2
    filters:
      - http_connection_manager:
          stat_prefix: $1
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: rie}}]}]
          http_filters: [{aws_lambda: $3}, {router: {}}]
YAML
}
# The emulator answers only its fixed path: a second sluice listener in
# front of it rewrites the ARN path (as Lambda's frontend routes by ARN).
{
  echo "listeners:"
  listener envelope $ENV "{arn: \"$ARN\"}"
  listener passthrough $PASS "{arn: \"$ARN\", payload_passthrough: true}"
  cat <<YAML
  - name: frontend
    address: 127.0.0.1:19719
    filters:
      - http_connection_manager:
          stat_prefix: frontend
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/2015-03-31/functions/$ARN/invocations"}, route: {cluster: rie-direct, prefix_rewrite: "/2015-03-31/functions/function/invocations"}}]}]
          http_filters: [{router: {}}]
clusters:
  - {name: rie, endpoints: ["127.0.0.1:19719"]}
  - {name: rie-direct, endpoints: ["127.0.0.1:$RIE"]}
YAML
} > "$TMP/sluice.yaml"
AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench "$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn &
for i in $(seq 50); do curl -sf -XPOST "http://127.0.0.1:$PASS/" -d '{"k":"v"}' >/dev/null 2>&1 && break; sleep 0.2; done
cat > "$TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"k":"v"}'
wrk.headers["Content-Type"] = "application/json"
LUA
declare -A RPS P99
for r in $(seq "$ROUNDS"); do
  for setup in direct:$RIE:/2015-03-31/functions/function/invocations envelope:$ENV:/x passthrough:$PASS:/x; do
    IFS=: read -r name port path <<<"$setup"
    out=$(wrk -t1 -c1 -d"${SECS}s" --latency -s "$TMP/post.lua" "http://127.0.0.1:$port$path")
    RPS[$name]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
    P99[$name]+="$(echo "$out" | awk '$1=="99%" {v=$2; if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}') "
  done
done
direct=$(echo ${RPS[direct]} | tr ' ' '\n' | median)
printf "%-12s %10s %10s %9s\n" setup "inv/s" "p99 ms" "vs direct"
for name in direct envelope passthrough; do
  rps=$(echo ${RPS[$name]} | tr ' ' '\n' | median)
  p99=$(echo ${P99[$name]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf "%-12s %10s %10s %9s\n" "$name" "$rps" "$p99" "$(echo "scale=2; $rps / $direct" | bc)"
done
