# sluice: `make test` runs everything CI runs: vet, gofmt, unit and
# integration tests (real redis-server, postgres, mariadbd, ZooKeeper started
# by the harness), the race detector on the packages with concurrency, and
# the SQL tests again with the release build's cgo Postgres parser.
#
# Two builds of the Postgres parser (sqlmeta/pg): the default one runs
# libpg_query as WebAssembly (no cgo: go run, go test and a fresh clone
# compile fast); RELEASE_TAGS selects the cgo libpg_query (needs gcc; half
# the parse cost, no 4 s, 260 MB start), used by `make build` and the image.
GO       ?= go
FUZZTIME ?= 30s
RELEASE_TAGS = pgquery_cgo
# The packages and integration tests that parse SQL, run in both builds.
SQL_PKGS  = ./sqlmeta/... ./filters/postgres/... ./filters/rbac/... ./filters/mysql/...
SQL_IT    = TestPostgres|TestRBAC|TestMySQL|TestExamples
RACE_PKGS = ./proxy/... ./filters/... ./cluster/... ./stats/... ./admin/... ./internal/sluicetest/... ./internal/guard/... ./integration/... ./config/xds/... ./tlsctx/... ./hotrestart/... ./accesslog/... ./tracing/...

.PHONY: all build run test vet fmt unit race test-cgo deps fuzz bench-tcp bench-grpc compose-config

all: build

build:
	CGO_ENABLED=1 $(GO) build -tags $(RELEASE_TAGS) -o bin/sluice ./cmd/sluice

run:
	$(GO) run ./cmd/sluice -c examples/tcp.yaml

test: deps vet fmt unit race test-cgo

# deps installs the Debian packages the integration tests need, when any is
# missing (as root, or through sudo).
deps:
	@bash .ci/deps.sh

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 -timeout 20m ./...

# race needs cgo anyway, and under the race detector wazero's first compile
# of the WebAssembly parser takes ~40 s per test binary (filters/postgres:
# 39 s against 1.4 s), so it runs with the cgo parser.
race:
	$(GO) test -race -tags $(RELEASE_TAGS) -short -count=1 -timeout 20m $(RACE_PKGS)

# test-cgo runs the SQL tests with the release build's parser.
test-cgo:
	$(GO) vet -tags $(RELEASE_TAGS) ./sqlmeta/...
	CGO_ENABLED=1 $(GO) test -count=1 -tags $(RELEASE_TAGS) $(SQL_PKGS)
	CGO_ENABLED=1 $(GO) test -count=1 -tags $(RELEASE_TAGS) -run '$(SQL_IT)' ./integration/

# fuzz runs every Fuzz* target of the repository (found with go test -list,
# so new ones are included) for FUZZTIME each: make fuzz FUZZTIME=2m.
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash .ci/fuzz.sh

bench-tcp:
	bash bench/tcp.sh

bench-grpc:
	bash bench/grpc.sh

compose-config:
	docker-compose -f docker-compose.yml config -q
