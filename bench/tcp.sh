#!/usr/bin/env bash
# Throughput and connection rate of sluice's tcp_proxy against the direct path
# and haproxy (mode tcp), in one run, interleaved, printing medians and ratios.
#   bench/tcp.sh [rounds] [seconds-per-run]
# SLUICE_PPROF=1 also writes a CPU profile of sluice (default settings) under
# the connection-rate load to bench/tcp-connrate.pprof (admin's
# /debug/pprof/profile) before the measured runs.
# Needs: go, haproxy (apt-get install haproxy).
# SLUICE_BIN (a prebuilt binary) and SLUICE_FLAGS (extra flags for the default
# sluice instance, e.g. "--io-loops 2"): see build_sluice in bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
command -v haproxy >/dev/null || { echo "haproxy missing: apt-get install haproxy" >&2; exit 1; }

source bench/lib.sh
build_sluice "$TMP/sluice" # the release build, or $SLUICE_BIN
go build -o "$TMP/tcpload" ./bench/tcpload

UP=127.0.0.1:19000 SL=127.0.0.1:19001 HA=127.0.0.1:19002 SLG=127.0.0.1:19003 ADM=127.0.0.1:19004
"$TMP/tcpload" -mode server -addr $UP &
cat > "$TMP/sluice.yaml" <<YAML
admin: {address: $ADM}
listeners:
  - name: bench
    address: $SL
    filters: [{tcp_proxy: {stat_prefix: bench, cluster: up}}]
clusters:
  - {name: up, endpoints: ["$UP"]}
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn ${SLUICE_FLAGS:-} &
# sluice-g: a goroutine per direction, splicing bulk transfers (--io-loops 0).
sed -e "s/$SL/$SLG/" -e "/^admin:/d" "$TMP/sluice.yaml" > "$TMP/sluice-g.yaml"
"$TMP/sluice" -c "$TMP/sluice-g.yaml" -log-level warn --io-loops 0 &
cat > "$TMP/haproxy.cfg" <<CFG
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend f
  bind $HA
  default_backend b
backend b
  server s1 $UP
CFG
haproxy -f "$TMP/haproxy.cfg" -q &
sleep 1

if [ "${SLUICE_PPROF:-}" = 1 ]; then
  curl -s -o bench/tcp-connrate.pprof "http://$ADM/debug/pprof/profile?seconds=$SECS" &
  "$TMP/tcpload" -mode connrate -addr $SL -c 16 -d ${SECS}s >/dev/null
  wait $!
fi
declare -A R
for mode in throughput connrate; do
  c=8; [ $mode = connrate ] && c=16
  for ((i = 1; i <= ROUNDS; i++)); do
    for target in direct sluice sluice-g haproxy; do
      case $target in direct) a=$UP ;; sluice) a=$SL ;; sluice-g) a=$SLG ;; haproxy) a=$HA ;; esac
      v=$("$TMP/tcpload" -mode $mode -addr $a -c $c -d ${SECS}s)
      R[$mode.$target]+="$v"$'\n'
    done
  done
done

printf '%-18s %10s %10s %10s %10s %9s %9s %9s\n' metric direct sluice sluice-g haproxy sl/direct sl/hap sl-g/hap
for mode in throughput connrate; do
  d=$(printf '%s' "${R[$mode.direct]}" | median)
  s=$(printf '%s' "${R[$mode.sluice]}" | median)
  g=$(printf '%s' "${R[$mode.sluice-g]}" | median)
  h=$(printf '%s' "${R[$mode.haproxy]}" | median)
  unit="MB/s"; [ $mode = connrate ] && unit="conn/s"
  printf '%-18s %10s %10s %10s %10s %9.2f %9.2f %9.2f\n' "$mode($unit)" "$d" "$s" "$g" "$h" \
    "$(echo "$s / $d" | bc -l)" "$(echo "$s / $h" | bc -l)" "$(echo "$g / $h" | bc -l)"
done
echo "rounds=$ROUNDS seconds=$SECS cores=$(nproc); sluice: event loops (default); sluice-g: --io-loops 0"
