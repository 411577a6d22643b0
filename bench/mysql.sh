#!/usr/bin/env bash
# sysbench (4 tables x 10k rows) against a private mariadbd direct, through
# sluice (mysql_proxy with SQL parsing on + tcp_proxy; the same with
# --io-loops 0, "sluice-g"; tcp_proxy alone, "tcponly", to separate the
# filter's cost from the hop's) and through haproxy in tcp mode, one run each per
# load shape, printing transactions/s, queries/s, p95 latency and ratios to
# direct and to haproxy. Shapes (issue 20): oltp_read_only and
# oltp_point_select, each with 8 and 16 threads.
#   bench/mysql.sh [seconds]
# SHAPES="oltp_read_only:16 oltp_point_select:8" picks shapes (test:threads).
# PS_MODE=disable makes sysbench send every query as COM_QUERY text, so that
# sluice parses every statement (default auto: server-side prepared
# statements, parsed once per prepare).
# Needs: go, mariadb-server, mariadb-client, sysbench, haproxy.
# cpu_us/q is the proxy's CPU (user + system, from /proc) per query over the
# run: the proxies share the cores with mariadbd and sysbench, so CPU per
# query decides their ratio.
# SLUICE_PPROF=1 also profiles sluice in an extra run of each shape before
# the measured ones, writes bench/mysql-<test>-<threads>.pprof (admin's
# /debug/pprof/profile) and prints each profile's top.
# SLUICE_BIN (a prebuilt binary) and SLUICE_FLAGS (extra flags for the default
# sluice instance, e.g. "--io-loops 2"): see build_sluice in bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
for b in mariadbd mariadb-install-db mariadb sysbench haproxy; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install mariadb-server mariadb-client sysbench haproxy" >&2; exit 1; }
done

source bench/lib.sh
build_sluice "$TMP/sluice" # the release build, or $SLUICE_BIN

UP=19200 SL=19201 HA=19202 ADM=19203 SL1=19204 ADM1=19205 ST=19206
USERARG=()
[ "$(id -u)" = 0 ] && USERARG=(--user=root)
mariadb-install-db --no-defaults --datadir="$TMP/data" --auth-root-authentication-method=normal \
  --skip-test-db "${USERARG[@]}" >"$TMP/install.log" 2>&1
mariadbd --no-defaults --datadir="$TMP/data" --port=$UP --bind-address=127.0.0.1 \
  --socket="$TMP/mysqld.sock" --skip-name-resolve --max-connections=200 \
  --innodb-buffer-pool-size=256M "${USERARG[@]}" >"$TMP/mariadbd.log" 2>&1 &
for _ in $(seq 100); do mariadb --no-defaults -S "$TMP/mysqld.sock" -u root -e 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
mariadb --no-defaults -S "$TMP/mysqld.sock" -u root -e \
  "CREATE DATABASE sbtest; CREATE USER 'sb'@'%' IDENTIFIED BY 'sb'; GRANT ALL ON *.* TO 'sb'@'%';"

cat > "$TMP/sluice.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM}
listeners:
  - name: bench
    address: 127.0.0.1:$SL
    filters:
      - mysql_proxy: {stat_prefix: bench, parse_sql: true}
      - tcp_proxy: {stat_prefix: bench, cluster: up}
clusters:
  - {name: up, endpoints: ["127.0.0.1:$UP"]}
YAML
# sluice-g: the same with a goroutine per direction instead of the event
# loops (--io-loops 0).
sed -e "s/:$SL\$/:$SL1/" -e "s/:$ADM}/:$ADM1}/" "$TMP/sluice.yaml" > "$TMP/sluice1.yaml"
# tcponly: a second listener of the first sluice, tcp_proxy alone.
sed -i "/^clusters:/i\\
  - name: tcponly\\
    address: 127.0.0.1:$ST\\
    filters:\\
      - tcp_proxy: {stat_prefix: tcponly, cluster: up}" "$TMP/sluice.yaml"
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn ${SLUICE_FLAGS:-} &
PID_SL=$!
"$TMP/sluice" -c "$TMP/sluice1.yaml" -log-level warn --io-loops 0 &
PID_SL1=$!
cat > "$TMP/haproxy.cfg" <<CFG
global
  maxconn 1000
defaults
  mode tcp
  timeout connect 5s
  timeout client 1m
  timeout server 1m
listen mysql
  bind 127.0.0.1:$HA
  server up 127.0.0.1:$UP
CFG
haproxy -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
PID_HA=$!
sleep 0.5

SB=(sysbench --db-driver=mysql --mysql-host=127.0.0.1 --mysql-user=sb --mysql-password=sb
  --mysql-db=sbtest --tables=4 --table-size=10000 --report-interval=0 --rand-type=uniform --db-ps-mode=${PS_MODE:-auto})
"${SB[@]}" oltp_read_only --mysql-port=$UP --threads=4 prepare >"$TMP/prepare.log"
"${SB[@]}" oltp_read_only --mysql-port=$UP --threads=16 --time=3 run >/dev/null # warm the buffer pool

# run <port> <test> <threads> [pid] prints "tps qps p95ms cpu_us_per_query"
# (the CPU of process pid, "-" without one).
run() {
  local before out
  [ -n "${4:-}" ] && before=$(cpu_ticks "$4")
  out=$("${SB[@]}" "$2" --mysql-port="$1" --threads="$3" --time="$SECS" run |
    awk '/transactions:/ {gsub(/[(]/, "", $3); t=$3} /queries:/ && !q {gsub(/[(]/, "", $3); q=$3; n=$2}
         /95th percentile:/ {p=$3} END {print t, q, p, n}')
  read -r t q p n <<<"$out"
  if [ -n "${4:-}" ]; then
    echo "$t $q $p $(cpu_us_per $(($(cpu_ticks "$4") - before)) "$n")"
  else
    echo "$t $q $p -"
  fi
}
declare -A R
SHAPES=(${SHAPES:-oltp_read_only:8 oltp_read_only:16 oltp_point_select:8 oltp_point_select:16})
if [ "${SLUICE_PPROF:-}" = 1 ]; then
  for shape in "${SHAPES[@]}"; do
    profile_run $ADM $((SECS - 2)) "bench/mysql-${shape/:/-}.pprof" run $SL "${shape%%:*}" "${shape##*:}"
  done
fi
for shape in "${SHAPES[@]}"; do
  test=${shape%%:*} threads=${shape##*:}
  R[$shape.direct]=$(run $UP "$test" "$threads")
  R[$shape.sluice]=$(run $SL "$test" "$threads" $PID_SL)
  R[$shape.sluice-g]=$(run $SL1 "$test" "$threads" $PID_SL1)
  R[$shape.tcponly]=$(run $ST "$test" "$threads" $PID_SL)
  R[$shape.haproxy]=$(run $HA "$test" "$threads" $PID_HA)
done

printf '%-22s %-9s %10s %10s %8s %10s %11s %9s\n' shape target tps qps p95_ms tps/direct tps/haproxy cpu_us/q
for shape in "${SHAPES[@]}"; do
  d=$(echo "${R[$shape.direct]}" | awk '{print $1}')
  h=$(echo "${R[$shape.haproxy]}" | awk '{print $1}')
  for target in direct sluice sluice-g tcponly haproxy; do
    read -r t q p c <<<"${R[$shape.$target]}"
    printf '%-22s %-9s %10s %10s %8s %10.3f %11.3f %9s\n' "$shape" "$target" "$t" "$q" "$p" \
      "$(echo "$t / $d" | bc -l)" "$(echo "$t / $h" | bc -l)" "$c"
  done
done
parsed=$(curl -s "http://127.0.0.1:$ADM/stats" | awk -F': ' '$1 == "mysql.bench.queries_parsed" {print $2}')
echo "sysbench --tables=4 --table-size=10000 --time=$SECS; cores=$(nproc); ps_mode=${PS_MODE:-auto}; one run each; sluice queries_parsed=$parsed"
