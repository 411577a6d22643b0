#!/usr/bin/env bash
# sluice under a large xDS update: go-control-plane (ADS, in bench/xdsload)
# pushes a snapshot of 10,000 EDS clusters and 100,000 endpoints while live
# request/response traffic runs through one listener; prints the time from
# the push to sluice's ACK of CDS and EDS, sluice's RSS before and after, the
# live latency before, during and after the update, and writes sluice's CPU
# profile of the update.
#   bench/xds.sh [clusters] [endpoints] [sotw|delta]
# Needs: go.
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTERS=${1:-10000}
ENDPOINTS=${2:-100000}
MODE=${3:-sotw}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/xdsload" ./bench/xdsload
ARGS=(-sluice "$TMP/sluice" -clusters "$CLUSTERS" -endpoints "$ENDPOINTS" -profile "${PROFILE:-bench/xds.cpu.pprof}")
[ "$MODE" = delta ] && ARGS+=(-delta)
"$TMP/xdsload" "${ARGS[@]}"
go tool pprof -top -nodecount=25 "$TMP/sluice" "${PROFILE:-bench/xds.cpu.pprof}" 2>/dev/null | head -35
