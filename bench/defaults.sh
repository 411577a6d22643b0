#!/usr/bin/env bash
# The runs behind sluice's I/O defaults (issue 20): each peer script at the
# default settings and with the alternatives, alternating, RUNS times, so a
# default is chosen from several runs and every load shape the scripts cover
# (redis -P 1/-P 16, tcp throughput and connection rate, sysbench's four
# shapes, pgbench's seven), never from one favourable run.
#   bench/defaults.sh [runs] [out-dir]
# ALTS lists the alternatives as SLUICE_FLAGS values, separated by commas
# (default: "--io-loops 2"; every script also runs its own --io-loops 0 or
# --concurrency 1 instance). SCRIPTS picks scripts (default: all four).
# One binary serves every run (built once; SLUICE_BIN to use another).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-2}
OUT=${2:-bench/defaults-$(date -u +%Y%m%d-%H%M)}
IFS=, read -r -a ALTS <<<"${ALTS:---io-loops 2}"
SCRIPTS=${SCRIPTS:-redis tcp mysql postgres}
mkdir -p "$OUT"
source bench/lib.sh
BIN=$(mktemp)
trap 'rm -f "$BIN"' EXIT
build_sluice "$BIN"
export SLUICE_BIN=$BIN

args() {
  case $1 in
  redis) echo "3 100000" ;;
  tcp) echo "3 4" ;;
  mysql) echo "10" ;;
  postgres) echo "5 1" ;;
  esac
}
for ((r = 1; r <= RUNS; r++)); do
  for s in $SCRIPTS; do
    for flags in "" "${ALTS[@]}"; do
      name=$s.run$r.${flags:-default}
      name=${name// /}
      echo "== $name ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" | tee -a "$OUT/index"
      # shellcheck disable=SC2046
      SLUICE_FLAGS=$flags bash "bench/$s.sh" $(args "$s") >"$OUT/$name.txt" 2>&1 || echo "   failed: see $OUT/$name.txt" | tee -a "$OUT/index"
    done
  done
done
echo "outputs in $OUT"
