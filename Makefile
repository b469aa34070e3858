# gatekeeper-pubsub: everything a newcomer runs is here.
#   make demo    Gatekeeper's audit publishing through Dapr, for real: API server,
#                Dapr injector, Gatekeeper and our chart installed with Helm
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
tools: tools-dapr tools-kube tools-gatekeeper tools-release tools-golangci-lint redis postgres chromium ca-certificates pre-commit brokers ## build every tool the tests run (cached by version outside the checkout) and install redis-server, PostgreSQL, Chromium, ca-certificates and the brokers (nats-server, RabbitMQ, Mosquitto)

# Tools are built from source, each in its own module under tools/, by
# tools/build.sh into $(TOOLS_CACHE) (keyed by tool, version and the module's
# go.sum) and linked into bin/. The first build prints progress; a clean clone
# reuses what is cached and compiles nothing. How long a cold build takes,
# per tool, is said once, in README.md (the paragraph on `make tools`); the
# injector and Sentry share most packages with daprd.
export TOOLS_CACHE ?= $(HOME)/.cache/gatekeeper-pubsub/tools
BUILD_TOOL := tools/build.sh
DAPR_LDFLAGS := -s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$(DAPR_VER)
KUBE_VER  := 1.37.2
KUBE_LDFLAGS := -s -w -X k8s.io/component-base/version.gitVersion=v$(KUBE_VER) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 \
	-X k8s.io/component-base/version.gitTreeState=clean
ETCD_VER  := 3.7.3
GATEKEEPER_VERS := 3.17.0 3.23.1
REGISTRY_VER := 3.1.2
KO_VER    := 0.19.1
NATS_VER  := 2.15.3
NATSCLI_VER := 0.5.0
GOLANGCI_VER := 2.15.0

.PHONY: tools-dapr
tools-dapr: ## daprd, the Dapr sidecar injector and Sentry v1.14.0
	@$(BUILD_TOOL) daprd $(DAPR_VER) tools/daprd github.com/dapr/dapr/cmd/daprd -tags stablecomponents -ldflags "$(DAPR_LDFLAGS)"
	@$(BUILD_TOOL) dapr-injector $(DAPR_VER) tools/daprd github.com/dapr/dapr/cmd/injector -ldflags "$(DAPR_LDFLAGS)"
	@$(BUILD_TOOL) dapr-sentry $(DAPR_VER) tools/daprd github.com/dapr/dapr/cmd/sentry -ldflags "$(DAPR_LDFLAGS)"

.PHONY: tools-kube
tools-kube: ## etcd, kube-apiserver and kube-controller-manager
	@$(BUILD_TOOL) etcd $(ETCD_VER) tools/etcd go.etcd.io/etcd/server/v3 -ldflags "-s -w"
	@$(BUILD_TOOL) kube-apiserver $(KUBE_VER) tools/kube k8s.io/kubernetes/cmd/kube-apiserver -ldflags "$(KUBE_LDFLAGS)"
	@$(BUILD_TOOL) kube-controller-manager $(KUBE_VER) tools/kube k8s.io/kubernetes/cmd/kube-controller-manager -ldflags "$(KUBE_LDFLAGS)"

.PHONY: tools-gatekeeper
tools-gatekeeper: ## Gatekeeper's manager, each version in GATEKEEPER_VERS
	@for v in $(GATEKEEPER_VERS); do \
		$(BUILD_TOOL) gatekeeper-v$$v $$v tools/gatekeeper-v$$v github.com/open-policy-agent/gatekeeper/v3 \
			-ldflags "-s -w -X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=v$$v"; \
	done

.PHONY: tools-release
tools-release: ## the OCI registry (CNCF distribution v3.1.2) and ko v0.19.1 that make release and test/release use
	@$(BUILD_TOOL) registry $(REGISTRY_VER) tools/registry github.com/distribution/distribution/v3/cmd/registry \
		-trimpath -ldflags "-s -w -X github.com/distribution/distribution/v3/version.version=v$(REGISTRY_VER)"
	@$(BUILD_TOOL) ko $(KO_VER) tools/ko github.com/google/ko -trimpath -ldflags "-s -w -X github.com/google/ko/pkg/commands.Version=v$(KO_VER)"

.PHONY: tools-golangci-lint
tools-golangci-lint: ## golangci-lint v2.15.0, which make lint runs with .golangci.yml
	@$(BUILD_TOOL) golangci-lint $(GOLANGCI_VER) tools/golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint \
		-trimpath -ldflags "-s -w -X main.version=$(GOLANGCI_VER) -X main.commit=v$(GOLANGCI_VER) -X main.date=unknown"

APT_INSTALL := tools/apt-install.sh

.PHONY: ca-certificates
ca-certificates: ## install Debian's ca-certificates (the images' CA bundle) if it is missing
	@$(APT_INSTALL) ca-certificates "test -s /etc/ssl/certs/ca-certificates.crt"

.PHONY: pre-commit
pre-commit: ## install Debian's pre-commit (test/release runs the hook with the real framework) if it is missing
	@$(APT_INSTALL) pre-commit "command -v pre-commit"

.PHONY: redis
redis: ## install Debian's redis-server if it is missing (REDIS_SERVER=/path/to/redis-server uses another)
	@# The package starts a system service; the tests start their own servers.
	@$(APT_INSTALL) redis-server "command -v redis-server" \
		"systemctl disable --now redis-server >/dev/null 2>&1 || service redis-server stop >/dev/null 2>&1"

.PHONY: postgres
postgres: ## install Debian's postgresql if it is missing (the consumer's store tests start their own servers; POSTGRES_BIN=/dir uses another)
	@# The package starts a system cluster; the tests start their own.
	@$(APT_INSTALL) postgresql "ls /usr/lib/postgresql/*/bin/postgres" \
		"systemctl disable --now postgresql >/dev/null 2>&1 || service postgresql stop >/dev/null 2>&1"

.PHONY: chromium
chromium: ## install Debian's chromium if it is missing (test/consumer's TestPage drives it headless; CHROMIUM=/path/to/chrome uses another)
	@$(APT_INSTALL) chromium "command -v chromium"

.PHONY: brokers
brokers: tools-nats tools-natscli tools-daprd-jetstream rabbitmq mosquitto ## every broker test/brokers and bench/publish run besides Redis: nats-server (and a daprd with pubsub.jetstream), RabbitMQ and Mosquitto

.PHONY: tools-nats
tools-nats: ## nats-server v2.15.3 (JetStream), built from its Go module (NATS_SERVER=/path/to/nats-server uses another)
	@$(BUILD_TOOL) nats-server $(NATS_VER) tools/nats-server github.com/nats-io/nats-server/v2 -trimpath -ldflags "-s -w"

.PHONY: tools-natscli
tools-natscli: ## the NATS CLI (nats) v0.5.0, built from its Go module: the stand-in runs it for the chart's JetStream stream Job
	@$(BUILD_TOOL) nats $(NATSCLI_VER) tools/natscli github.com/nats-io/natscli/nats -trimpath -ldflags "-s -w"

.PHONY: tools-daprd-jetstream
tools-daprd-jetstream: ## daprd v1.14.0 with pubsub.jetstream (stable builds leave it out; DAPRD_JETSTREAM=/path uses another)
	@$(BUILD_TOOL) daprd-jetstream $(DAPR_VER) tools/daprd-jetstream . -tags stablecomponents -ldflags "$(DAPR_LDFLAGS)"

.PHONY: rabbitmq
rabbitmq: ## install Debian's rabbitmq-server if it is missing (the tests start their own nodes; RABBITMQ_SERVER=/path/to/rabbitmq-server uses another)
	@# The package starts a system node (on 5672, with epmd on 4369); the
	@# tests start their own nodes with their own ports and epmd.
	@$(APT_INSTALL) rabbitmq-server "command -v rabbitmq-server" \
		"systemctl disable --now rabbitmq-server >/dev/null 2>&1 || service rabbitmq-server stop >/dev/null 2>&1"

.PHONY: mosquitto
mosquitto: ## install Debian's mosquitto if it is missing (the tests start their own brokers; MOSQUITTO=/path/to/mosquitto uses another)
	@# The package starts a system broker on 1883; the tests start their own.
	@$(APT_INSTALL) mosquitto "command -v mosquitto || test -x /usr/sbin/mosquitto" \
		"systemctl disable --now mosquitto >/dev/null 2>&1 || service mosquitto stop >/dev/null 2>&1"

.PHONY: build
build: ## build the commands into bin/
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/... ./hack/...

.PHONY: demo
demo: tools-dapr tools-kube tools-gatekeeper redis build ## the real thing: API server, Gatekeeper and our chart installed with Helm, Gatekeeper's audit publishing to the subscriber
	$(BIN)/demo $(DEMO_ARGS)

.PHONY: demo-sidecar
demo-sidecar: tools-dapr redis build ## the quick start's sidecars only: Redis, two daprd, publish, subscribe (no Kubernetes)
	$(BIN)/quickstart --bin $(BIN)

.PHONY: test
test: tools lint ## run every test (unit, chart, kustomize, lint, end-to-end with real daprd and Redis)
	DAPRD=$(DAPRD) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	@echo ">> the concurrent publisher under the race detector"
	DAPRD=$(DAPRD) $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./pkg/pubsub/... ./test/e2e/

# The inner loop's tests: every package outside test/ and bench/ except the
# ones whose tests start a built tool, and two tests that run one. None needs
# bin/, daprd, kube-apiserver, redis-server, PostgreSQL, a broker or Chromium
# (fake-subscriber's test builds its own binary with go build).
#   internal/consumer/store    every case runs on SQLite and on a real PostgreSQL
#   internal/consumer/reports  the lease and the reports' writer need kube-apiserver
#   TestGatekeeperFlagsMatchBinaries (internal/lint/model) runs Gatekeeper's managers
#   TestREADMECommands (cmd/pubsub-lint) runs the README's live command on kube-apiserver
UNIT_EXCLUDE := /(test|bench)/|/internal/consumer/(store|reports)$$
UNIT_SKIP    := ^(TestGatekeeperFlagsMatchBinaries|TestREADMECommands)$$
UNIT_PKGS     = $(shell $(GO) list ./... | grep -vE '$(UNIT_EXCLUDE)')

.PHONY: test-unit
test-unit: ## the fast inner loop (under a minute): the tests that need no built tool, server or browser
	@pkgs="$(UNIT_PKGS)"; echo ">> go test -count=1 -skip '$(UNIT_SKIP)' on $$(wc -w <<<"$$pkgs") packages (all but $(UNIT_EXCLUDE))"; \
		$(GO) test -count=1 -timeout 5m -skip '$(UNIT_SKIP)' $$pkgs

.PHONY: test-brokers
test-brokers: tools-dapr brokers ## the brokers test alone: NATS JetStream, RabbitMQ and Mosquitto through daprd into the violations consumer, each stopped for 10 s while publishing
	DAPRD=$(DAPRD) $(GO) test -count=1 -timeout 15m -v ./test/brokers/

.PHONY: lint
lint: tools-golangci-lint ## gofmt, go vet and golangci-lint (the linters and why some are off: .golangci.yml)
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/golangci-lint run --timeout 15m ./...

.PHONY: bench
bench: tools ## benchmarks; the summary lines (publish-throughput, lint-throughput, gatekeeper-audit) come last
	@mkdir -p .tmp
	DAPRD=$(DAPRD) $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 45m ./bench/... 2>&1 | tee .tmp/bench.out
	@echo "---- summary ----"
	@grep -hE '^[a-z]+-ceiling:' .tmp/bench.out || true
	@grep -hE '^[a-z]+-throughput:' .tmp/bench.out
	@grep -hE '^lint-memory:' .tmp/bench.out || true
	@grep -hE "^reconcile:" .tmp/bench.out || true
	@grep -hE "^consumer-memory:" .tmp/bench.out || true
	@grep -hE '^gatekeeper-audit(-cost)?:' .tmp/bench.out
	@grep -hE '^redis-stream:' .tmp/bench.out || true

.PHONY: schemas
schemas: ## regenerate schemas/ from the committed facts (schemas/facts), and the chart's templates/_sensitive.tpl from their sensitive marks
	$(GO) run ./hack/schemagen -from-facts -out schemas

.PHONY: schemas-from-data
schemas-from-data: ## refresh the facts and schemas from Dapr's metadata (DATA=path to the data dir)
	$(GO) run ./hack/schemagen -data $(DATA) -out schemas

# One version for everything: the chart's version (a test keeps Chart.yaml
# equal to it), the images' tag and `pubsub-lint version` (embedded with
# go:embed) come from this file.
VERSION_FILE := internal/version/VERSION
VERSION   := $(shell cat $(VERSION_FILE))
# Where make release pushes: HOST[:PORT][/PATH]. Empty (the default) means
# the local registry: bin/registry started on LOCAL_REGISTRY with its storage
# in .tmp/registry, and stopped again when the release is pushed;
# `make registry` serves that storage again on the same address.
REGISTRY  ?=
LOCAL_REGISTRY ?= 127.0.0.1:5001
# The Gatekeeper image REPOSITORY:TAG (TAG the chart's gatekeeperVersion)
# whose digest the packaged chart pins; required with a REGISTRY, optional
# for the local one (then the chart keeps the tag alone).
GATEKEEPER_IMAGE ?=
# A PEM ECDSA P-256 private key: with it make release signs the images and
# the chart and attaches SLSA provenance, as cosign does with --key (an
# encrypted cosign key takes COSIGN_PASSWORD); empty: nothing is signed.
SIGNING_KEY ?=

.PHONY: release
release: tools-release ca-certificates ## build and push the images (ko, multi-arch, SBOM) and the chart (OCI, images pinned by digest) to REGISTRY (default: a local registry it starts and stops); SIGNING_KEY=path signs them and attaches provenance
	@echo ">> release $(VERSION) to $(if $(REGISTRY),$(REGISTRY),the local registry on $(LOCAL_REGISTRY))"
	REGISTRY=$(REGISTRY) GATEKEEPER_IMAGE=$(GATEKEEPER_IMAGE) SIGNING_KEY=$(SIGNING_KEY) $(GO) run ./hack/release -local-addr $(LOCAL_REGISTRY) $(RELEASE_ARGS)

.PHONY: registry
registry: tools-release ## serve the local registry of make release (.tmp/registry) on LOCAL_REGISTRY until Ctrl-C
	$(GO) run ./hack/release -serve -local-addr $(LOCAL_REGISTRY)

.PHONY: version
version: ## print the release version
	@echo $(VERSION)

.PHONY: clean
clean: ## remove bin/ (the built tools stay in $(TOOLS_CACHE))
	rm -rf $(BIN)
