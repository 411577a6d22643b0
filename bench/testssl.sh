#!/usr/bin/env bash
# testssl.sh (Debian's testssl 3.0) against a sluice TLS listener with
# default settings and against haproxy with its defaults, the same RSA-2048
# certificate for both, and a markdown summary for docs/security.md on
# stdout: protocols offered, cipher categories, forward secrecy, every
# vulnerability check's verdict, and each finding testssl rates LOW or
# worse.
#   bench/testssl.sh > /tmp/summary.md
# Needs: go, python3, openssl, haproxy, testssl.sh, jq (apt-get install haproxy testssl.sh jq).
set -euo pipefail
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
for b in haproxy openssl testssl jq; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install haproxy openssl testssl.sh jq" >&2; exit 1; }
done
go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/tcpload" ./bench/tcpload
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
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
      - tls: {common_tls_context: {tls_certificates: [{certificate_chain: {filename: $TMP/cert.pem}, private_key: {filename: $TMP/key.pem}}]}}
        filters: [{tcp_proxy: {stat_prefix: tls, cluster: up}}]
clusters:
  - {name: up, endpoints: ["$UP"]}
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level error &
# haproxy's defaults: no ssl-default-bind-* lines, only the certificate.
cat > "$TMP/haproxy.cfg" <<CFG
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
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

for t in sluice haproxy; do
  case $t in sluice) a=$SL ;; haproxy) a=$HA ;; esac
  testssl --quiet --color 0 --warnings off --openssl-timeout 5 -p -s -f -U --jsonfile "$TMP/$t.json" $a > "$TMP/$t.txt" 2>&1 || true
done

# row ID: the finding of each target, side by side.
row() {
  local s h
  s=$(jq -r --arg id "$1" '[.[] | select(.id == $id) | .finding] | join("; ")' "$TMP/sluice.json")
  h=$(jq -r --arg id "$1" '[.[] | select(.id == $id) | .finding] | join("; ")' "$TMP/haproxy.json")
  echo "| \`$1\` | $s | $h |"
}
echo "testssl $(testssl --version 2>/dev/null | grep -o '3\.[0-9.]*' | head -1), $(haproxy -v | head -1 | cut -d' ' -f1-3), sluice $(git describe --always --dirty), $(date -u +%Y-%m-%d); RSA-2048 certificate, self-signed (the trust findings are expected)."
echo
echo "| check | sluice (defaults) | haproxy (defaults) |"
echo "|---|---|---|"
for id in SSLv2 SSLv3 TLS1 TLS1_1 TLS1_2 TLS1_3 NPN ALPN \
  cipherlist_NULL cipherlist_aNULL cipherlist_EXPORT cipherlist_LOW cipherlist_3DES_IDEA cipherlist_AVERAGE cipherlist_STRONG PFS PFS_ciphers PFS_ECDHE_curves \
  heartbleed CCS ticketbleed ROBOT secure_renego secure_client_renego CRIME_TLS POODLE_SSL fallback_SCSV \
  SWEET32 FREAK DROWN LOGJAM BEAST LUCKY13 RC4; do
  row $id
done
echo
for t in sluice haproxy; do
  echo "Findings rated LOW or worse for $t:"
  echo
  jq -r '.[] | select(.severity == "LOW" or .severity == "MEDIUM" or .severity == "HIGH" or .severity == "CRITICAL") | "- `\(.id)` \(.severity): \(.finding)"' "$TMP/$t.json"
  echo
done
