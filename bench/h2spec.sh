#!/usr/bin/env bash
# h2spec (github.com/summerwind/h2spec, RFC 7540/9113 and HPACK conformance)
# against sluice's HTTP/2 listener: h2c with prior knowledge, an
# http_connection_manager answering every request itself (direct_response) so
# that only sluice's HTTP/2 server is tested. Prints the pass/fail counts and
# the failing cases; exits non-zero when a case fails that is not listed in
# bench/h2spec.known (one "<section> <title>" per line: the recorded failures).
#   bench/h2spec.sh            H2SPEC=/path/to/h2spec to skip the build
# Needs: go (h2spec is built from the module proxy into a temp directory).
set -euo pipefail
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
H2SPEC=${H2SPEC:-}
if [ -z "$H2SPEC" ]; then
  GOBIN="$TMP" GOFLAGS=-mod=mod go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible
  H2SPEC=$TMP/h2spec
fi
go build -o "$TMP/sluice" ./cmd/sluice
PORT=${PORT:-19480}
cat > "$TMP/sluice.yaml" <<YAML
listeners:
  - name: h2
    address: 127.0.0.1:$PORT
    filters:
      - http_connection_manager:
          stat_prefix: h2spec
          codec_type: HTTP2  # AUTO would answer a wrong preface as HTTP/1.1 (400)
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes: [{match: {prefix: "/"}, direct_response: {status: 200, body: {inline_string: "hello"}}}]
clusters: []
YAML
"$TMP/sluice" -c "$TMP/sluice.yaml" -log-level warn &
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
"$H2SPEC" -h 127.0.0.1 -p "$PORT" -o 2 -j "$TMP/report.xml" >"$TMP/out.txt" 2>&1 || true
grep -E "^[0-9]+ tests, [0-9]+ passed" "$TMP/out.txt" || tail -5 "$TMP/out.txt"
# The failing cases: the "×" lines of the report's Failures section.
sed -n '/^Failures:/,$p' "$TMP/out.txt" | grep '×' | sed 's/^ *× *//' | sort -u > "$TMP/failed.txt" || true
if [ -s "$TMP/failed.txt" ]; then
  echo "failing cases:"
  cat "$TMP/failed.txt"
  sed -n '/^Failures:/,/^Finished/p' "$TMP/out.txt"
fi
touch bench/h2spec.known
NEW=$(comm -23 "$TMP/failed.txt" <(sort -u bench/h2spec.known) || true)
if [ -n "$NEW" ]; then
  echo "NEW failures (not in bench/h2spec.known):"
  echo "$NEW"
  exit 1
fi
