#!/usr/bin/env bash
# Installs the Debian packages sluice's tests and benchmarks use, if any is
# missing. Safe to run again; does nothing when everything is present.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$2" ]; }
have redis-server /usr/bin/redis-server || need+=(redis-server)
have redis-cli /usr/bin/redis-cli || need+=(redis-tools)
have initdb /usr/lib/postgresql/15/bin/initdb || need+=(postgresql)
have psql /usr/bin/psql || need+=(postgresql-client)
have mariadbd /usr/sbin/mariadbd || need+=(mariadb-server)
have mariadb /usr/bin/mariadb || need+=(mariadb-client)
[ -d /usr/share/zookeeper ] || need+=(zookeeper)
have java /usr/bin/java || need+=(default-jre-headless)
have haproxy /usr/sbin/haproxy || need+=(haproxy)
have nutcracker /usr/sbin/nutcracker || need+=(nutcracker)
have pgbouncer /usr/sbin/pgbouncer || need+=(pgbouncer)
have sysbench /usr/bin/sysbench || need+=(sysbench)
have docker-compose /usr/bin/docker-compose || need+=(docker-compose)
have bc /usr/bin/bc || need+=(bc)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
# Keep apt from starting the services: the test harness starts its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
