#!/usr/bin/env bash
# Kafka produce throughput (1 KiB records, franz-go, acks=all, 1 ms linger)
# against one in-process kfake broker that discards records, direct and
# through sluice (kafka_broker with address rewrite + tcp_proxy), one run
# each, printing messages/s, MB/s and the ratios to direct. A third run goes
# through a plain tcp_proxy listener (the client dials it whatever the broker
# advertises), to tell the proxy hop's cost from kafka_broker's.
#   bench/kafka.sh [seconds]
# Needs: go.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT

go build -tags pgquery_cgo -o "$TMP/sluice" ./cmd/sluice # the release build (cgo Postgres parser)
go build -o "$TMP/kafkaload" ./bench/kafkaload

UP=19300 SL=19301 ADM=19302 TCP=19303
"$TMP/kafkaload" serve -port $UP >"$TMP/kfake.log" 2>&1 &
cat > "$TMP/sluice.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM}
listeners:
  - name: kafka
    address: 127.0.0.1:$SL
    filters:
      - kafka_broker:
          stat_prefix: bench
          id_based_broker_address_rewrite_spec: {rules: [{id: 0, host: 127.0.0.1, port: $SL}]}
      - tcp_proxy: {stat_prefix: kafka, cluster: kafka}
  - name: tcp
    address: 127.0.0.1:$TCP
    filters:
      - tcp_proxy: {stat_prefix: plain, cluster: kafka}
clusters:
  - name: kafka
    type: static
    connect_timeout: 1s
    endpoints: ["127.0.0.1:$UP"]
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" >"$TMP/sluice.log" 2>&1 &
for p in $UP $SL $ADM $TCP; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done

direct=$("$TMP/kafkaload" produce -brokers 127.0.0.1:$UP -secs "$SECS")
sluice=$("$TMP/kafkaload" produce -brokers 127.0.0.1:$SL -secs "$SECS")
plain=$("$TMP/kafkaload" produce -brokers 127.0.0.1:$TCP -via 127.0.0.1:$TCP -secs "$SECS")
echo "direct:                    $direct"
echo "kafka_broker + tcp_proxy:  $sluice"
echo "tcp_proxy only (spliced):  $plain"
d=$(awk '{print $2}' <<<"$direct")
s=$(awk '{print $2}' <<<"$sluice")
p=$(awk '{print $2}' <<<"$plain")
printf 'msgs/s ratios: kafka_broker/direct %.2f  tcp_proxy/direct %.2f  kafka_broker/tcp_proxy %.2f\n' \
  "$(echo "$s / $d" | bc -l)" "$(echo "$p / $d" | bc -l)" "$(echo "$s / $p" | bc -l)"
produced=$(curl -s "http://127.0.0.1:$ADM/stats" | grep -E 'kafka\.bench\.(request|response)\.produce_(request|response):' || true)
echo "$produced"
echo "records 1 KiB, acks=all, linger 1ms, $SECS s per run, cores=$(nproc)"
