# Amparo — build, test and demo entry points. `make help` lists them.
SHELL := /bin/bash
GO    ?= go
# withpg runs a command against AMPARO_TEST_DATABASE_URL, or a private
# PostgreSQL it starts and stops around the command.
WITHPG := $(GO) run ./internal/pglocal/withpg

.DEFAULT_GOAL := help
.PHONY: help demo test bench lint generate build release failover-test postgres-binaries chromium

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# Built first, then exec'd: the binary's own status reaches make, and it
# exits 0 on Ctrl-C (SIGINT), whereas `go run` exits 1 and make says Error 1.
demo: postgres-binaries build ## run the hotline locally: database, migrations, demo data, simulated phone (Ctrl-C stops it)
	exec bin/amparo demo

test: postgres-binaries chromium ## the SQL code current, go vet and every test (race detector on), against a private PostgreSQL
	$(GO) tool sqlc diff
	$(GO) vet ./...
	@mkdir -p .test-artifacts
	$(WITHPG) $(GO) test -race -count=1 -timeout 20m -artifacts -outputdir $(CURDIR)/.test-artifacts ./...

bench: postgres-binaries ## run the benchmarks (results belong in bench/README.md)
	$(WITHPG) $(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./...

lint: ## gofmt, go vet and staticcheck (pinned as a tool in go.mod)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# Each package's named queries (<package>/queries/*.sql) become Go in
# <package>/internal/<package>db; the generated code is checked in, and
# `make test` fails when it is not what the queries and migrations give.
generate: ## regenerate the SQL packages (sqlc.yaml) after changing a query or a migration
	$(GO) tool sqlc generate

build: ## build bin/amparo
	$(GO) build -o bin/amparo ./cmd/amparo

failover-test: postgres-binaries ## a primary and a synchronous standby, the primary stopped hard and the standby promoted under load
	AMPARO_FAILOVER_TEST=1 $(WITHPG) $(GO) test -count=1 -run '^TestFailover$$' -v -timeout 10m ./cmd/amparo

release: ## build a static, versioned bin/amparo for Linux (amparo version prints it)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$$(git describe --tags --always --dirty) -X main.commit=$$(git rev-parse HEAD)" -o bin/amparo ./cmd/amparo
	@bin/amparo version

# The server binaries come from Debian's postgresql package. As root with apt
# we install it; otherwise we say exactly what is missing.
postgres-binaries:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "PostgreSQL server binaries missing: installing Debian's postgresql package"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	else \
		echo "PostgreSQL server binaries (initdb, pg_ctl) are missing: install them, e.g. 'sudo apt-get install postgresql'"; exit 1; \
	fi

# The portal's browser tests drive Debian's chromium headless; installed like
# PostgreSQL above. Without it they skip locally and fail in CI.
chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "chromium missing: installing Debian's chromium package for the portal's browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "chromium is missing: the portal's browser tests will skip (and fail in CI); install it, e.g. 'sudo apt-get install chromium'"; \
	fi
