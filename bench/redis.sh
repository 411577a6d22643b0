#!/usr/bin/env bash
# redis-benchmark GET/SET against redis-server direct, sluice's redis_proxy
# and twemproxy (nutcracker), all with the same single upstream, in one run,
# interleaved, printing medians (requests/s) and ratios.
#   bench/redis.sh [rounds] [requests]
# Needs: go, redis-server, redis-benchmark, nutcracker (apt-get install
# redis-server redis-tools nutcracker).
# Besides requests/s it prints each proxy's CPU time per request (µs, from
# /proc/PID/stat over each run; medians): less sensitive than throughput to
# a machine busy with other work.
# SLUICE_PPROF=1 also writes a 10s CPU profile of sluice under -P 16 load to
# bench/redis.pprof (admin's /debug/pprof/profile).
# SLUICE_BIN (a prebuilt binary) and SLUICE_FLAGS (extra flags for the default
# sluice instance, e.g. "--io-loops 2"): see build_sluice in bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
N=${2:-200000}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
for b in redis-server redis-benchmark nutcracker; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install redis-server redis-tools nutcracker" >&2; exit 1; }
done

source bench/lib.sh
build_sluice "$TMP/sluice"

UP=19100 SL=19101 TW=19102 ADM=19103 SL1=19104 ADM1=19105
redis-server --port $UP --save '' --appendonly no --daemonize no --logfile "$TMP/redis.log" &
cat > "$TMP/sluice.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM}
listeners:
  - name: bench
    address: 127.0.0.1:$SL
    filters:
      - redis_proxy:
          stat_prefix: bench
          settings: {op_timeout: 5s}
          prefix_routes: {catch_all_route: {cluster: up}}
clusters:
  - {name: up, endpoints: ["127.0.0.1:$UP"]}
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn ${SLUICE_FLAGS:-} &
SLPID=$!
# The same config on one core (--concurrency 1, GOMAXPROCS=1), the CPU
# budget of single-threaded twemproxy.
sed -e "s/:$SL/:$SL1/" -e "s/:$ADM/:$ADM1/" "$TMP/sluice.yaml" > "$TMP/sluice1.yaml"
"$TMP/sluice" -c "$TMP/sluice1.yaml" -log-level warn --concurrency 1 &
SL1PID=$!
cat > "$TMP/nutcracker.yml" <<YML
bench:
  listen: 127.0.0.1:$TW
  hash: fnv1a_64
  distribution: ketama
  redis: true
  auto_eject_hosts: false
  timeout: 5000
  servers:
    - 127.0.0.1:$UP:1
YML
nutcracker -c "$TMP/nutcracker.yml" -o "$TMP/nutcracker.log" &
TWPID=$!
for p in $UP $SL $SL1 $TW; do
  for _ in $(seq 50); do redis-cli -p $p ping >/dev/null 2>&1 && break; sleep 0.1; done
done

# rps runs redis-benchmark and prints the mean requests/s of GET and SET.
rps() {
  redis-benchmark -h 127.0.0.1 -p "$1" -t get,set -n "$N" -c 50 -P "$2" -q --csv 2>/dev/null |
    awk -F'"' '/"(GET|SET)"/ {s += $4; n++} END {printf "%.0f\n", s / n}'
}
if [ "${SLUICE_PPROF:-}" = 1 ]; then
  (curl -s -o bench/redis.pprof "http://127.0.0.1:$ADM/debug/pprof/profile?seconds=10" &)
  redis-benchmark -p $SL -t get,set -n $((N * 10)) -c 50 -P 16 -q >/dev/null 2>&1 || true
  sleep 1
fi
HZ=$(getconf CLK_TCK)
declare -A R C
for P in 1 16; do
  for ((i = 1; i <= ROUNDS; i++)); do
    for target in direct sluice sluice1 twemproxy; do
      case $target in direct) p=$UP pid= ;; sluice) p=$SL pid=$SLPID ;; sluice1) p=$SL1 pid=$SL1PID ;; twemproxy) p=$TW pid=$TWPID ;; esac
      if [ -n "$pid" ]; then t0=$(cpu_ticks $pid); fi
      R[$P.$target]+="$(rps $p $P)"$'\n'
      # µs of CPU per request (GET and SET runs of N requests each)
      if [ -n "$pid" ]; then C[$P.$target]+="$(echo "($(cpu_ticks $pid) - $t0) * 1000000 / $HZ / (2 * $N)" | bc -l)"$'\n'; fi
    done
  done
done

printf '%-6s %10s %10s %10s %10s %10s %10s %11s %11s\n' pipe direct sluice sluice-c1 twemproxy twem/dir sl/twem sl-c1/twem sl/direct
for P in 1 16; do
  d=$(printf '%s' "${R[$P.direct]}" | median)
  s=$(printf '%s' "${R[$P.sluice]}" | median)
  s1=$(printf '%s' "${R[$P.sluice1]}" | median)
  t=$(printf '%s' "${R[$P.twemproxy]}" | median)
  printf '%-6s %10s %10s %10s %10s %10.2f %10.2f %11.2f %11.2f\n' "-P $P" "$d" "$s" "$s1" "$t" \
    "$(echo "$t / $d" | bc -l)" "$(echo "$s / $t" | bc -l)" "$(echo "$s1 / $t" | bc -l)" "$(echo "$s / $d" | bc -l)"
done
echo
printf '%-6s %12s %12s %12s   (proxy CPU per request, µs, medians)\n' pipe sluice sluice-c1 twemproxy
for P in 1 16; do
  printf '%-6s %12.2f %12.2f %12.2f\n' "-P $P" "$(printf '%s' "${C[$P.sluice]}" | median2)" \
    "$(printf '%s' "${C[$P.sluice1]}" | median2)" "$(printf '%s' "${C[$P.twemproxy]}" | median2)"
done
echo "sluice: default concurrency ($(nproc) cores); sluice-c1: --concurrency 1"
echo "redis-benchmark -t get,set -n $N -c 50; rounds=$ROUNDS cores=$(nproc); requests/s (mean of GET and SET), medians"
