# Shared by the bench scripts, which run from the repository root: source bench/lib.sh.

# median reads numbers, one per line, and prints their median as an integer
# (awk's default %.6g would print large rates as 1.13582e+06).
median() { sort -n | awk '{a[NR]=$1} END {printf "%.0f\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# median2 is median with two decimals (small figures: µs of CPU per request).
median2() { sort -g | awk '{a[NR]=$1} END {printf "%.2f\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# cpu_ticks prints the CPU time (user + system, all threads) the processes
# $@ have used so far, in clock ticks (getconf CLK_TCK a second). The
# scripts take it before and after a run to print a proxy's CPU per query:
# on a box the proxy shares with the database and the load tool, CPU per
# query is what decides its throughput.
cpu_ticks() {
  local t=0 p
  for p; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}

# cpu_us_per prints microseconds of CPU per unit: cpu_us_per TICKS UNITS.
cpu_us_per() { echo "$1 $2 $(getconf CLK_TCK)" | awk '{ if ($2 > 0) printf "%.1f\n", $1 * 1e6 / $3 / $2; else print "-" }'; }

# profile_run ADM SECONDS FILE CMD...: a CPU profile of the sluice whose
# admin listens on 127.0.0.1:ADM, taken while CMD (a load run) runs, saved
# to FILE and its top printed.
profile_run() {
  local adm=$1 secs=$2 prof=$3
  shift 3
  (curl -s -o "$prof" "http://127.0.0.1:$adm/debug/pprof/profile?seconds=$secs" &)
  "$@" >/dev/null
  sleep 2
  echo "== $prof"
  go tool pprof -top -nodecount=25 "$prof" 2>/dev/null | sed -n '4,32p'
}

# build_sluice puts the sluice binary at $1: the release build of this
# checkout (cgo Postgres parser), or $SLUICE_BIN when set (an A/B against a
# binary built from another commit). The scripts pass $SLUICE_FLAGS (e.g.
# "--io-loops 2") to their default sluice instance only, so that a default
# can be chosen by running the same script with and without it.
build_sluice() {
  if [ -n "${SLUICE_BIN:-}" ]; then
    cp "$SLUICE_BIN" "$1"
  else
    go build -tags pgquery_cgo -o "$1" ./cmd/sluice
  fi
}

# ports_free P...: exits with a message when one of the ports is taken.
ports_free() {
  local p
  for p; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is taken: set BASE" >&2; exit 1; fi
  done
}

# nginx_body DIR PORT: nginx (one worker) serving DIR/body.txt, about
# 4 KiB, for every path on 127.0.0.1:PORT; its pid is in DIR/nginx.pid.
nginx_body() {
  local dir=$1 port=$2 i
  for i in $(seq 164); do echo "sluice bench body line"; done >"$dir/body.txt"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  keepalive_requests 1000000;
  default_type text/plain;
  server { listen 127.0.0.1:$port; root $dir; location / { try_files /body.txt =404; } }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir"
}
