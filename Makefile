# sluice: `make test` runs everything CI runs: vet, gofmt, unit and
# integration tests (real redis-server, postgres, mariadbd, ZooKeeper started
# by the harness), and the race detector on the packages with concurrency.
GO       ?= go
RACE_PKGS = ./proxy/... ./filters/... ./cluster/... ./stats/... ./admin/... ./internal/sluicetest/... ./internal/guard/... ./integration/...

.PHONY: all build run test vet fmt unit race deps bench-tcp compose-config

all: build

build:
	$(GO) build -o bin/sluice ./cmd/sluice

run:
	$(GO) run ./cmd/sluice -c examples/tcp.yaml

test: deps vet fmt unit race

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

race:
	$(GO) test -race -short -count=1 -timeout 20m $(RACE_PKGS)

bench-tcp:
	bash bench/tcp.sh

compose-config:
	docker-compose -f docker-compose.yml config -q
