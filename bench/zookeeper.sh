#!/usr/bin/env bash
# ZooKeeper read-heavy load (bench/zkload: N go-zookeeper sessions doing get
# and exists, one set in 20, on 16 znodes of 128 bytes) against one local
# ZooKeeper 3.8 (Debian's), direct, through a plain tcp_proxy and through
# zookeeper_proxy + tcp_proxy, in interleaved rounds, printing each run's
# operations/s, the medians and the ratios. Goal: zookeeper_proxy within 5%
# of tcp_proxy.
#   bench/zookeeper.sh [rounds] [seconds] [clients]
# Needs: go, java (default-jre-headless), zookeeper (Debian package).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-10}
CLIENTS=${3:-16}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT

go build -tags pgquery_cgo -o "$TMP/sluice" ./cmd/sluice # the release build (cgo Postgres parser)
go build -o "$TMP/zkload" ./bench/zkload

ZK=19400 SL=19401 ADM=19402 TCP=19403
mkdir -p "$TMP/zkdata"
cat > "$TMP/zoo.cfg" <<CFG
tickTime=2000
dataDir=$TMP/zkdata
clientPort=$ZK
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr
forceSync=no
CFG
java -Xmx512m -Dzookeeper.admin.enableServer=false -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
  org.apache.zookeeper.server.ZooKeeperServerMain "$TMP/zoo.cfg" >"$TMP/zk.log" 2>&1 &
cat > "$TMP/sluice.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM}
listeners:
  - name: zk
    address: 127.0.0.1:$SL
    filters:
      - zookeeper_proxy: {stat_prefix: bench}
      - tcp_proxy: {stat_prefix: zk, cluster: zookeeper}
  - name: tcp
    address: 127.0.0.1:$TCP
    filters:
      - tcp_proxy: {stat_prefix: plain, cluster: zookeeper}
clusters:
  - name: zookeeper
    type: static
    connect_timeout: 1s
    endpoints: ["127.0.0.1:$ZK"]
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" >"$TMP/sluice.log" 2>&1 &
for p in $SL $ADM $TCP; do
  for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done
# ZooKeeper serves once srvr says so (its port opens earlier).
for _ in $(seq 300); do
  (exec 3<>/dev/tcp/127.0.0.1/$ZK && printf srvr >&3 && grep -q standalone <&3) 2>/dev/null && break
  sleep 0.1
done
"$TMP/zkload" setup -addr 127.0.0.1:$ZK

# A warm-up run for the JVM's JIT, not counted.
"$TMP/zkload" run -addr 127.0.0.1:$ZK -clients "$CLIENTS" -secs "$SECS" >/dev/null
load() { "$TMP/zkload" run -addr "127.0.0.1:$1" -clients "$CLIENTS" -secs "$SECS" | awk '{print $2}'; }
declare -a D T Z
for r in $(seq "$ROUNDS"); do
  # The order rotates per round, so that drift in the machine's load
  # does not always favour the same path.
  case $((r % 3)) in
    1) d=$(load $ZK); t=$(load $TCP); z=$(load $SL) ;;
    2) t=$(load $TCP); z=$(load $SL); d=$(load $ZK) ;;
    0) z=$(load $SL); d=$(load $ZK); t=$(load $TCP) ;;
  esac
  D+=("$d") T+=("$t") Z+=("$z")
  echo "round $r: direct $d  tcp_proxy $t  zookeeper_proxy $z ops/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
d=$(median "${D[@]}") t=$(median "${T[@]}") z=$(median "${Z[@]}")
echo "median ops/s: direct $d  tcp_proxy $t  zookeeper_proxy $z"
printf 'ratios: tcp_proxy/direct %.3f  zookeeper_proxy/direct %.3f  zookeeper_proxy/tcp_proxy %.3f\n' \
  "$(echo "$t / $d" | bc -l)" "$(echo "$z / $d" | bc -l)" "$(echo "$z / $t" | bc -l)"
curl -s "http://127.0.0.1:$ADM/stats" | grep -E '^bench\.zookeeper\.(getdata_rq|exists_rq|setdata_rq|decoder_error):' || true
echo "$CLIENTS clients, $SECS s per run, $ROUNDS rounds, cores=$(nproc)"
