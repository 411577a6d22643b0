#!/usr/bin/env bash
# pgbench (scale 10) against a private postgres direct, through sluice
# (postgres_proxy with SQL parsing on + tcp_proxy; the same with
# --io-loops 0, "sluice-g"; and tcp_proxy alone, "tcponly", to separate the
# filter's cost from the proxy hop), PgBouncer (session mode) and haproxy
# (tcp mode), interleaved, printing the median tps of ROUNDS runs per target
# and the ratios to direct and to PgBouncer. Shapes (issue 20): -S
# (select-only) with 8 and 16 clients in each protocol (simple, extended,
# prepared: pgbench -M), and the default TPC-B-like script with 16 clients.
#   bench/postgres.sh [seconds] [rounds]
# CLIENTS="8 16" and PROTOCOLS="simple extended prepared" narrow the -S shapes;
# TPCB=0 skips the TPC-B-like one.
# Needs: go, postgresql, pgbench (postgresql-contrib on old releases),
# pgbouncer, haproxy (apt-get install postgresql pgbouncer haproxy).
# A second table gives each proxy's CPU (user + system, from /proc) per
# transaction, median over rounds: the proxies share the cores with postgres
# and pgbench, so CPU per transaction decides their ratio.
# SLUICE_PPROF=1 also profiles sluice in an extra run of each -S shape (or of
# the shapes named in PPROF_SHAPES, e.g. "S-prepared-c8 S-simple-c16")
# before the measured ones, writes bench/postgres-<shape>.pprof (admin's
# /debug/pprof/profile) and prints each profile's top.
# SLUICE_BIN (a prebuilt binary) and SLUICE_FLAGS (extra flags for the default
# sluice instance, e.g. "--io-loops 2"): see build_sluice in bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}
ROUNDS=${2:-1}
TMP=$(mktemp -d)
chmod 755 "$TMP"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
for b in pgbench pgbouncer haproxy psql; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install postgresql pgbouncer haproxy" >&2; exit 1; }
done
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
# postgres and pgbouncer refuse to run as root.
AS=()
[ "$(id -u)" = 0 ] && AS=(runuser -u postgres --)

source bench/lib.sh
build_sluice "$TMP/sluice" # the release build, or $SLUICE_BIN

UP=19300 SL=19301 PB=19302 HA=19303 ADM=19304 ST=19305 SL1=19306 ADM1=19307
mkdir "$TMP/pg"
[ ${#AS[@]} -gt 0 ] && chown postgres "$TMP/pg"
"${AS[@]}" "$BIN/initdb" -D "$TMP/pg/data" -U postgres --auth=trust >"$TMP/initdb.log" 2>&1
"${AS[@]}" "$BIN/postgres" -D "$TMP/pg/data" -p $UP -k "$TMP/pg" -c listen_addresses=127.0.0.1 \
  -c max_connections=200 -c shared_buffers=256MB >"$TMP/pg/postgres.log" 2>&1 &
for _ in $(seq 100); do psql -h 127.0.0.1 -p $UP -U postgres -Atc 'select 1' postgres >/dev/null 2>&1 && break; sleep 0.2; done
pgbench -i -q -s 10 -h 127.0.0.1 -p $UP -U postgres postgres >"$TMP/init.log" 2>&1

cat > "$TMP/sluice.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM}
listeners:
  - name: bench
    address: 127.0.0.1:$SL
    filters:
      - postgres_proxy: {stat_prefix: bench}
      - tcp_proxy: {stat_prefix: bench, cluster: pg}
  - name: tcponly
    address: 127.0.0.1:$ST
    filters:
      - tcp_proxy: {stat_prefix: tcponly, cluster: pg}
clusters:
  - {name: pg, endpoints: ["127.0.0.1:$UP"]}
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn ${SLUICE_FLAGS:-} &
PID_SL=$!
# sluice-g: the postgres_proxy listener with the bytes moved by a goroutine
# per direction instead of the event loops (--io-loops 0).
cat > "$TMP/sluice1.yaml" <<YAML
admin: {address: 127.0.0.1:$ADM1}
listeners:
  - name: bench
    address: 127.0.0.1:$SL1
    filters:
      - postgres_proxy: {stat_prefix: bench}
      - tcp_proxy: {stat_prefix: bench, cluster: pg}
clusters:
  - {name: pg, endpoints: ["127.0.0.1:$UP"]}
YAML
"$TMP/sluice" -c "$TMP/sluice1.yaml" -log-level warn --io-loops 0 &
PID_SL1=$!

echo '"postgres" ""' > "$TMP/userlist.txt"
cat > "$TMP/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$UP
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PB
unix_socket_dir =
auth_type = trust
auth_file = $TMP/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 32
logfile = $TMP/pg/pgbouncer.log
pidfile = $TMP/pg/pgbouncer.pid
INI
chmod 644 "$TMP"/*.ini "$TMP"/*.txt
"${AS[@]}" pgbouncer "$TMP/pgbouncer.ini" >"$TMP/pgbouncer.out" 2>&1 &

cat > "$TMP/haproxy.cfg" <<CFG
global
  maxconn 1000
defaults
  mode tcp
  timeout connect 5s
  timeout client 1m
  timeout server 1m
listen pg
  bind 127.0.0.1:$HA
  server pg 127.0.0.1:$UP
CFG
haproxy -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
PID_HA=$!
sleep 1; cat "$TMP/pgbouncer.out" "$TMP/pg/pgbouncer.log" 2>/dev/null | tail -5 >&2
for p in $SL $SL1 $ST $PB $HA; do
  for _ in $(seq 100); do psql -h 127.0.0.1 -p $p -U postgres -Atc 'select 1' postgres >/dev/null 2>&1 && break; sleep 0.2; done
done

PID_PB=$(cat "$TMP/pg/pgbouncer.pid")
# tps runs pgbench against port $1 with $2 clients and extra args $3 and
# prints the tps and, given a pid $4, that process's CPU in microseconds per
# transaction ("-" without).
tps() {
  local before out
  [ -n "${4:-}" ] && before=$(cpu_ticks "$4")
  out=$(pgbench -h 127.0.0.1 -p "$1" -U postgres -c "$2" -j 2 -T "$SECS" $3 postgres 2>/dev/null |
    awk '/^tps = / {t=$3} /actually processed:/ {n=$NF} END {printf "%.0f %d\n", t, n}' || true)
  read -r t n <<<"$out"
  if [ -n "${4:-}" ]; then
    echo "$t $(cpu_us_per $(($(cpu_ticks "$4") - before)) "$n")"
  else
    echo "$t -"
  fi
}
# A shape is NAME:CLIENTS:PGBENCH-ARGS.
SHAPES=()
for c in ${CLIENTS:-8 16}; do
  for m in ${PROTOCOLS:-simple extended prepared}; do SHAPES+=("S-$m-c$c:$c:-S -M $m"); done
done
[ "${TPCB:-1}" = 1 ] && SHAPES+=("tpcb-simple-c16:16:-M simple")
if [ "${SLUICE_PPROF:-}" = 1 ]; then
  for shape in "${SHAPES[@]}"; do
    IFS=: read -r name c args <<<"$shape"
    case " ${PPROF_SHAPES:-$name} " in *" $name "*) ;; *) continue ;; esac
    [[ $name == S-* ]] || [ -n "${PPROF_SHAPES:-}" ] || continue
    profile_run $ADM $((SECS - 2)) "bench/postgres-$name.pprof" tps $SL "$c" "$args"
  done
fi
declare -A R C
for ((i = 1; i <= ROUNDS; i++)); do
  for shape in "${SHAPES[@]}"; do
    IFS=: read -r name c args <<<"$shape"
    for target in direct sluice sluice1 tcponly pgbouncer haproxy; do
      case $target in
        direct) p=$UP pid= ;; sluice) p=$SL pid=$PID_SL ;; sluice1) p=$SL1 pid=$PID_SL1 ;;
        tcponly) p=$ST pid=$PID_SL ;; pgbouncer) p=$PB pid=$PID_PB ;; haproxy) p=$HA pid=$PID_HA ;;
      esac
      read -r t u <<<"$(tps $p "$c" "$args" $pid)"
      R[$name.$target]+="$t"$'\n'
      C[$name.$target]+="$u"$'\n'
    done
  done
done

printf '%-19s %7s %7s %8s %7s %9s %7s %9s %8s %7s %8s %7s %7s\n' shape direct sluice sluice-g tcponly pgbouncer haproxy \
  sl/direct sl-g/dir sl/pgb sl-g/pgb sl/hap pgb/dir
for shape in "${SHAPES[@]}"; do
  name=${shape%%:*}
  d=$(printf '%s' "${R[$name.direct]}" | median)
  s=$(printf '%s' "${R[$name.sluice]}" | median)
  s1=$(printf '%s' "${R[$name.sluice1]}" | median)
  b=$(printf '%s' "${R[$name.pgbouncer]}" | median)
  h=$(printf '%s' "${R[$name.haproxy]}" | median)
  o=$(printf '%s' "${R[$name.tcponly]}" | median)
  printf '%-19s %7s %7s %8s %7s %9s %7s %9.2f %8.2f %7.2f %8.2f %7.2f %7.2f\n' "$name" "$d" "$s" "$s1" "$o" "$b" "$h" \
    "$(echo "$s / $d" | bc -l)" "$(echo "$s1 / $d" | bc -l)" "$(echo "$s / $b" | bc -l)" "$(echo "$s1 / $b" | bc -l)" \
    "$(echo "$s / $h" | bc -l)" "$(echo "$b / $d" | bc -l)"
done
printf '\nCPU microseconds per transaction (median of rounds)\n%-19s %7s %8s %7s %9s %7s %7s %7s\n' \
  shape sluice sluice-g tcponly pgbouncer haproxy sl/pgb sl/hap
for shape in "${SHAPES[@]}"; do
  name=${shape%%:*}
  for target in sluice sluice1 tcponly pgbouncer haproxy; do
    printf -v "u_$target" '%s' "$(printf '%s' "${C[$name.$target]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
  done
  printf '%-19s %7s %8s %7s %9s %7s %7.2f %7.2f\n' "$name" "$u_sluice" "$u_sluice1" "$u_tcponly" "$u_pgbouncer" "$u_haproxy" \
    "$(echo "$u_sluice / $u_pgbouncer" | bc -l)" "$(echo "$u_sluice / $u_haproxy" | bc -l)"
done
echo "sluice: defaults ($(nproc) cores, event loops); sluice-g: --io-loops 0 (goroutine per direction); tcponly: tcp_proxy alone"
curl -s "http://127.0.0.1:$ADM/stats" | grep -E '^postgres\.bench\.(statements|statements_parsed|statements_parse_error|transactions|errors|protocol_errors):' || true
