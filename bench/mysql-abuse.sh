#!/usr/bin/env bash
# Misbehaving MySQL clients through sluice (mysql_proxy + tcp_proxy, default
# timeouts) to a private mariadbd (issue 12):
#   1. N sequential logins (go-mysql's client) that then send garbage;
#   2. D clients dripping their HandshakeResponse one byte a second;
#   3. D logged-in clients dripping a COM_QUERY one byte a second.
# Prints the server's answers, how long the drip clients were held, and
# sluice's mysql.abuse.* counters after each step.
#   bench/mysql-abuse.sh [N=1000] [D=200]
# SLUICE_BASE=<git rev> runs the same against that revision's sluice too
# (built from `git archive`), for a before/after.
# Needs: go, mariadb-server, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
D=${2:-200}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
for b in mariadbd mariadb-install-db mariadb curl; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install mariadb-server mariadb-client curl" >&2; exit 1; }
done
go build -o "$TMP/sluice" ./cmd/sluice
go build -o "$TMP/mysqlabuse" ./bench/mysqlabuse
if [ -n "${SLUICE_BASE:-}" ]; then
  mkdir "$TMP/base"
  git archive "$SLUICE_BASE" | tar -x -C "$TMP/base"
  (cd "$TMP/base" && go build -o "$TMP/sluice-base" ./cmd/sluice)
fi

UP=19300 SL=19301 ADM=19302
USERARG=()
[ "$(id -u)" = 0 ] && USERARG=(--user=root)
mariadb-install-db --no-defaults --datadir="$TMP/data" --auth-root-authentication-method=normal \
  --skip-test-db "${USERARG[@]}" >"$TMP/install.log" 2>&1
mariadbd --no-defaults --datadir="$TMP/data" --port=$UP --bind-address=127.0.0.1 \
  --socket="$TMP/mysqld.sock" --skip-name-resolve --max-connections=1000 "${USERARG[@]}" >"$TMP/mariadbd.log" 2>&1 &
for _ in $(seq 100); do mariadb --no-defaults -S "$TMP/mysqld.sock" -u root -e 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done

cat > "$TMP/sluice.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM}
listeners:
  - name: abuse
    address: 127.0.0.1:$SL
    filters:
      - mysql_proxy: {stat_prefix: abuse}
      - tcp_proxy: {stat_prefix: abuse, cluster: up}
clusters:
  - {name: up, endpoints: ["127.0.0.1:$UP"]}
YAML

counters() {
  curl -s "http://127.0.0.1:$ADM/stats" | grep -E '^mysql\.abuse\.(sessions|login_attempts|decoder_errors|protocol_errors|handshake_timeout|request_timeout):' | tr '\n' ' '
  echo
}

for bin in sluice sluice-base; do
  [ -x "$TMP/$bin" ] || continue
  echo "== $bin"
  "$TMP/$bin" -c "$TMP/sluice.yaml" -log-level error &
  pid=$!
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$ADM/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "-- $N sequential logins sending garbage"
  "$TMP/mysqlabuse" -mode garbage -addr 127.0.0.1:$SL -n "$N"
  counters
  echo "-- $D clients dripping the handshake (given up after 30s)"
  "$TMP/mysqlabuse" -mode drip-handshake -addr 127.0.0.1:$SL -n "$D" -for 30s
  counters
  echo "-- $D logged-in clients dripping a command (given up after 45s)"
  "$TMP/mysqlabuse" -mode drip-request -addr 127.0.0.1:$SL -n "$D" -for 45s
  counters
  kill $pid
  wait $pid 2>/dev/null || true
done
