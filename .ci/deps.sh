#!/usr/bin/env bash
# Installs the Debian packages sluice's tests and benchmarks use: the servers
# the integration harness (internal/testenv) starts itself, their clients,
# the benchmark peers and the build tools. Only packages dpkg reports missing
# are installed, so a second run costs nothing. `make test` and .ci/run call it.
set -euo pipefail

packages=(
  redis-server redis-tools
  postgresql postgresql-client
  mariadb-server mariadb-client
  zookeeper default-jre-headless libslf4j-java
  haproxy nutcracker pgbouncer sysbench wrk docker-compose
  kcat chromium
  thrift-compiler python3-thrift
  curl iptables
  python3-grpcio nginx nghttp2-proxy nghttp2-client
  openssl testssl.sh jq
  make git gcc libc6-dev ca-certificates bc systemd
  brotli
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm (dynalite, the DynamoDB stand-in) often come from the
# machine's own Node.js packaging (nodesource's nodejs bundles npm and
# conflicts with Debian's npm): only ask Debian when npm is not there.
command -v npm >/dev/null || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: missing ${missing[*]}; run as root to install them" >&2; exit 1; }
  SUDO=sudo
fi
echo "deps: installing ${missing[*]}"
# Keep package scripts from starting the services: the harness starts its
# own on free ports. Only remove the policy if we put it there.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
log=$(mktemp /tmp/sluice-apt.XXXXXX.log)
if ! { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
    --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "deps: apt-get failed installing: ${missing[*]} (full log: $log)" >&2
  exit 1
fi
rm -f "$log"
