#!/usr/bin/env bash
# TLS termination: new full handshakes per second (connect, handshake,
# 1-byte echo, close; no resumption) and bulk throughput (8 connections,
# both directions) through sluice and haproxy, both terminating TLS with
# the same ECDSA P-256 certificate in front of the same plain upstream, in
# one run, interleaved, printing medians and the sluice/haproxy ratio.
# TLS 1.3 runs with the client's default suite order (both pick
# TLS_AES_128_GCM_SHA256 on AES-capable CPUs); TLS 1.2 runs with
# ECDHE-ECDSA-AES128-GCM-SHA256 only, so the cipher is the same for both.
#   bench/tls.sh [rounds] [seconds-per-run]
# Needs: go, python3, openssl, haproxy (apt-get install haproxy).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
for b in haproxy openssl; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install $b" >&2; exit 1; }
done

go build -tags pgquery_cgo -o "$TMP/sluice" ./cmd/sluice # the release build (cgo Postgres parser)
go build -o "$TMP/tcpload" ./bench/tcpload
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
cat "$TMP/cert.pem" "$TMP/key.pem" > "$TMP/haproxy.pem"

# Free ports, picked now: fixed ones collide with other benchmarks running.
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
UP=127.0.0.1:$(freeport) SL=127.0.0.1:$(freeport) HA=127.0.0.1:$(freeport)
"$TMP/tcpload" -mode server -addr $UP &
cat > "$TMP/sluice.yaml" <<YAML
listeners:
  - name: tls
    address: $SL
    filter_chains:
      - tls:
          common_tls_context:
            tls_certificates: [{certificate_chain: {filename: $TMP/cert.pem}, private_key: {filename: $TMP/key.pem}}]
        filters: [{tcp_proxy: {stat_prefix: tls, cluster: up}}]
clusters:
  - {name: up, endpoints: ["$UP"]}
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn &
cat > "$TMP/haproxy.cfg" <<CFG
global
  maxconn 4000
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend f
  bind $HA ssl crt $TMP/haproxy.pem
  default_backend b
backend b
  server s1 $UP
CFG
haproxy -f "$TMP/haproxy.cfg" -q &
for a in $SL $HA; do
  for i in $(seq 50); do
    openssl s_client -connect $a -brief </dev/null >/dev/null 2>&1 && break
    sleep 0.2
  done
done

source bench/lib.sh # the script runs from the repository root
declare -A R
for v in 1.3 1.2; do
  for mode in connrate throughput; do
    c=8; [ $mode = connrate ] && c=16
    for ((i = 1; i <= ROUNDS; i++)); do
      for target in sluice haproxy; do
        case $target in sluice) a=$SL ;; haproxy) a=$HA ;; esac
        R[$v.$mode.$target]+="$("$TMP/tcpload" -mode $mode -tls $v -addr $a -c $c -d ${SECS}s)"$'\n'
      done
    done
  done
done

printf '%-26s %10s %10s %9s\n' metric sluice haproxy sl/hap
for v in 1.3 1.2; do
  for mode in connrate throughput; do
    s=$(printf '%s' "${R[$v.$mode.sluice]}" | median)
    h=$(printf '%s' "${R[$v.$mode.haproxy]}" | median)
    unit="MB/s"; [ $mode = connrate ] && unit="handshakes/s"
    printf '%-26s %10s %10s %9.2f\n' "TLS$v $mode($unit)" "$s" "$h" "$(echo "$s / $h" | bc -l)"
  done
done
echo "rounds=$ROUNDS seconds=$SECS cores=$(nproc); certificate ECDSA P-256; $(haproxy -v | head -1)"
