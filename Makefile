# gatekeeper-pubsub: everything a newcomer runs is here.
#   make demo    the quick start, locally: Redis, two Dapr sidecars, publish, subscribe
#   make test    every test (installs/builds what the tests need first)
#   make bench   benchmarks (publisher throughput through a real daprd and Redis)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/bin
DAPR_VER  := 1.14.0
DAPRD     := $(BIN)/daprd
GOFILES   := $(shell find . -name '*.go' -not -path './tools/*' -not -path './bin/*')
TEST_TIMEOUT ?= 45m

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: tools
tools: $(DAPRD) redis ## build daprd v1.14.0 into bin/ and install redis-server (once)

# daprd is built from source (module tools/daprd); the first build compiles
# about 3,000 packages: 8 to 20 minutes on 2 cores. It is reused afterwards.
$(DAPRD): tools/daprd/go.mod tools/daprd/go.sum
	@mkdir -p $(BIN)
	@echo ">> building daprd v$(DAPR_VER) from source into bin/daprd"
	@echo "   (first time only: 8-20 minutes on 2 cores; later builds reuse Go's cache)"
	@cd tools/daprd && { $(GO) build -v -tags stablecomponents \
		-ldflags "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$(DAPR_VER)" \
		-o $(DAPRD).tmp github.com/dapr/dapr/cmd/daprd 2>&1 | tee $(BIN)/daprd-build.log \
		| awk '{ n++ } n % 200 == 0 { printf "   ... %d packages compiled (%s)\n", n, $$0; fflush() }'; } \
		|| { echo "daprd build failed; last lines of bin/daprd-build.log:" >&2; tail -40 $(BIN)/daprd-build.log >&2; exit 1; }
	@mv $(DAPRD).tmp $(DAPRD)
	@echo ">> $$($(DAPRD) --version | head -1): bin/daprd ready"

.PHONY: redis
redis: ## install Debian's redis-server if it is missing
	@if command -v redis-server >/dev/null 2>&1; then \
		echo ">> $$(redis-server --version | cut -d' ' -f1-3)"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo ">> installing redis-server with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
		systemctl disable --now redis-server >/dev/null 2>&1 || service redis-server stop >/dev/null 2>&1 || true; \
	else \
		echo "redis-server is missing and this is not root: run 'sudo apt-get install -y redis-server' (or set REDIS_SERVER=/path/to/redis-server)" >&2; \
		exit 1; \
	fi

.PHONY: build
build: ## build the commands into bin/
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

.PHONY: demo
demo: tools build ## run the quick start locally and show what the subscriber received
	$(BIN)/quickstart --bin $(BIN)

.PHONY: test
test: tools lint ## run every test (unit, chart, kustomize, lint, end-to-end with real daprd and Redis)
	DAPRD=$(DAPRD) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: bench
bench: tools ## benchmarks; the summary lines (publish-throughput, lint-throughput) come last
	@mkdir -p .tmp
	DAPRD=$(DAPRD) $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 30m ./bench/... 2>&1 | tee .tmp/bench.out
	@echo "---- summary ----"
	@grep -hE '^[a-z]+-ceiling:' .tmp/bench.out || true
	@grep -hE '^[a-z]+-throughput:' .tmp/bench.out

.PHONY: schemas
schemas: ## regenerate schemas/ from the committed facts (schemas/facts)
	$(GO) run ./cmd/schemagen -from-facts -out schemas

.PHONY: schemas-from-data
schemas-from-data: ## refresh the facts and schemas from Dapr's metadata (DATA=path to the data dir)
	$(GO) run ./cmd/schemagen -data $(DATA) -out schemas

.PHONY: clean
clean: ## remove bin/ (daprd included)
	rm -rf $(BIN)
