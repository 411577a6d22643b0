#!/usr/bin/env bash
# Cold first run: how long from `git clone` to the first request proxied by
# README's first command, and how long the first compile of the test suite
# takes, with an empty Go build cache.
#   bench/firstrun.sh [repo] [ref]      (default: this repository, HEAD)
# Besides wall time it prints the CPU time (user+sys) the go command and the
# compilers it ran used: on a machine shared with other work that is the
# number to compare (wall time on an idle 2-core machine is about half of it,
# or more where the build cannot use both cores).
# FIRSTRUN_MODCACHE=empty also starts from an empty module cache (fetches
# every module from the Go proxy). FIRSTRUN_TESTS=0 skips the suite compile.
# Needs: git, go, redis-server, redis-cli. Uses ports 6379, 16379 and 9901
# (README's example) and stops if one is taken.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=${1:-$PWD}
REF=${2:-HEAD}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT
for b in git go redis-server redis-cli; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install git golang redis-server redis-tools" >&2; exit 1; }
done
for p in 6379 16379 9901; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is taken" >&2; exit 1; fi
done
export GOCACHE="$TMP/gocache"
if [ "${FIRSTRUN_MODCACHE:-}" = empty ]; then
  export GOMODCACHE="$TMP/gomodcache" GOFLAGS="${GOFLAGS:-} -modcacherw"
fi
redis-server --port 6379 --save '' --appendonly no --logfile "$TMP/redis.log" &
for _ in $(seq 100); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done

now() { date +%s.%N; }
start=$(now)
git clone -q "$REPO" "$TMP/src"
git -C "$TMP/src" checkout -q "$REF"
cloned=$(now)
# README's first command, verbatim.
# setsid: its own process group, so that go run and the binary it started
# stop together.
# GNU time ignores SIGINT, so it outlives go run and reports its CPU.
setsid /usr/bin/time -f '%U %S' -o "$TMP/run.cpu" \
  bash -c 'cd "$1" && exec go run ./cmd/sluice -c examples/tcp.yaml' _ "$TMP/src" >"$TMP/sluice.log" 2>&1 &
SL=$!
until [ "$(redis-cli -p 16379 ping 2>/dev/null)" = PONG ]; do
  if ! kill -0 $SL 2>/dev/null; then cat "$TMP/sluice.log" >&2; echo "sluice exited" >&2; exit 1; fi
  sleep 0.2
done
first=$(now)
kill -INT -- -$SL 2>/dev/null || true
wait $SL 2>/dev/null || true
cpu() { awk 'NF == 2 {c = $1 + $2} END {printf "%.1f", c}' "$1"; }
printf 'clone          %6.1f s\n' "$(echo "$cloned - $start" | bc)"
printf 'first request  %6.1f s after clone, cpu %s s (go run ./cmd/sluice -c examples/tcp.yaml; redis-cli -p 16379 ping)\n' \
  "$(echo "$first - $cloned" | bc)" "$(cpu "$TMP/run.cpu")"
printf 'total          %6.1f s\n' "$(echo "$first - $start" | bc)"
if [ "${FIRSTRUN_TESTS:-1}" = 1 ]; then
  # A second empty build cache: the suite's first compile, cold too.
  t0=$(now)
  (cd "$TMP/src" && GOCACHE="$TMP/gocache2" /usr/bin/time -f '%U %S' -o "$TMP/test.cpu" \
    go test -count=1 -run XXX ./... >"$TMP/test.log" 2>&1) || { cat "$TMP/test.log" >&2; exit 1; }
  printf 'suite compile  %6.1f s, cpu %s s (go test -count=1 -run XXX ./..., empty build cache)\n' \
    "$(echo "$(now) - $t0" | bc)" "$(cpu "$TMP/test.cpu")"
fi
