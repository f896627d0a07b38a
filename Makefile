# sessionkit — build, test and benchmark targets. `make help` lists them.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c

GO            ?= go
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Nested modules: they carry heavy test and tool dependencies (FerretDB,
# chromedp, vegeta, the Go peers ADK Go and trpc-agent-go) that library users
# must never download.
NESTED        := internal/mongotest internal/browsertest internal/openapitest bench/loadtest bench/peers
# Nested modules whose benchmarks test-nested runs once, under -race, next to
# their tests, so that CI compiles their heavy dependencies once instead of
# twice (bench-smoke skips them).
BENCH_IN_TEST := bench/peers
FUZZTIME      ?= 5s
BENCHTIME     ?= 1x
# The peer benchmark (bench/peers): interleaved runs of every store, medians.
PEERS_COUNT     ?= 5
PEERS_BENCHTIME ?= 300ms
ARTIFACTS     ?= $(CURDIR)/artifacts
MOTO          := moto[server]==5.2.5
PYTHON        ?= python3
PYVENV        := clients/python/.venv
STRANDS       := strands-agents==1.62.0
# Tests whose log lines (stale-read counts) CI shows: run verbosely on their own.
COUNTED       := TestStaleness_TwoProcesses|TestRedisCluster

.PHONY: help test test-unit test-nested test-python fuzz bench-smoke bench bench-peers loadtest lint cover run demo mongo-java moto strands-golden clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

test: test-unit test-nested test-python fuzz bench-smoke ## everything CI runs: unit + integration tests with -race, Python client tests, short fuzzing, benchmark smoke run

test-unit: moto mongo-java ## root module tests with -race (servers the tests need are started by the tests)
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m -skip '^($(COUNTED))$$' ./...
	@# The cache's staleness and Redis Cluster tests print stale-read counts: run verbosely, minus the RUN/PAUSE/CONT noise.
	$(GO) test -race -count=1 -timeout 5m -v -run '^($(COUNTED))$$' ./backend/rediscache | grep -v -E '^=== (RUN|PAUSE|CONT|NAME)'

test-nested: mongo-java ## nested-module tests: MongoDB-wire servers, headless browser
	@mkdir -p $(ARTIFACTS)
	@for m in $(NESTED); do \
	  if [ -f $$m/go.mod ]; then \
	    echo "== $$m"; \
	    bench=; case " $(BENCH_IN_TEST) " in *" $$m "*) bench='-bench=. -benchtime=$(BENCHTIME)';; esac; \
	    (cd $$m && SESSIONKIT_ARTIFACTS_DIR=$(ARTIFACTS) $(GO) test -race -count=1 -timeout 20m $$bench ./...) || exit 1; \
	  fi; \
	done

test-python: ## Python client (clients/python) against a real `sessionkit serve` and the pinned strands-agents, in clients/python/.venv
	@if [ ! -x $(PYVENV)/bin/python ]; then $(PYTHON) -m venv $(PYVENV); fi
	$(PYVENV)/bin/python -m pip install -q --disable-pip-version-check -e 'clients/python[test]'
	cd clients/python && .venv/bin/python -m mypy --strict src && .venv/bin/python -m pytest -q

strands-golden: ## regenerate testdata/strands-1.62 with the real strands-agents SDK (throwaway venv under artifacts/; needs PyPI)
	rm -rf $(ARTIFACTS)/strands-golden-venv
	$(PYTHON) -m venv $(ARTIFACTS)/strands-golden-venv
	$(ARTIFACTS)/strands-golden-venv/bin/python -m pip install -q --disable-pip-version-check '$(STRANDS)'
	$(ARTIFACTS)/strands-golden-venv/bin/python scripts/strands-golden.py testdata/strands-1.62
	rm -rf $(ARTIFACTS)/strands-golden-venv

mongo-java: ## build the mongo-java-server launcher jar (needs Maven; skipped when mvn is missing)
	@if [ -x scripts/mongo-java.sh ] && command -v mvn >/dev/null; then scripts/mongo-java.sh build; \
	elif [ "$${SESSIONKIT_REQUIRE_SERVICES:-}" = 1 ]; then echo "mongo-java: mvn is missing"; exit 1; \
	else echo "mongo-java: mvn or scripts/mongo-java.sh missing, skipping"; fi

moto: ## install the pinned moto server the hooks tests start (pip; skipped when pip is unavailable)
	@if ! command -v moto_server >/dev/null; then \
	  if python3 -m pip install -q --disable-pip-version-check '$(MOTO)'; then \
	    command -v pyenv >/dev/null && pyenv rehash || true; \
	  elif [ "$${SESSIONKIT_REQUIRE_SERVICES:-}" = 1 ]; then echo "moto: pip install failed"; exit 1; \
	  else echo "moto: not installed; the moto-backed hooks tests will skip"; fi; \
	fi

fuzz: ## run every fuzz target briefly (FUZZTIME=5s)
	@$(GO) list -f '{{.Dir}}' ./... | while read -r dir; do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "== fuzz $$f in $${dir#$(CURDIR)/}"; \
	    log=$$(mktemp); \
	    (cd $$dir && $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) .) >$$log 2>&1; rc=$$?; cat $$log; \
	    if [ $$rc -ne 0 ] && grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
	      echo "== fuzz $$f again: Go 1.26's fuzz coordinator can report its own -fuzztime deadline as a failure (go.dev/issue/75804); no input failed"; \
	      (cd $$dir && $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) .); rc=$$?; \
	    fi; \
	    rm -f $$log; [ $$rc -eq 0 ] || exit 1; \
	  done; \
	done

bench-smoke: mongo-java ## run every benchmark once, nested modules included, so they keep compiling and stay honest (not timed)
	$(GO) test -run='^$$' -bench=. -benchtime=$(BENCHTIME) -count=1 ./...
	@for m in $(NESTED); do \
	  case " $(BENCH_IN_TEST) " in *" $$m "*) echo "== bench-smoke $$m: its benchmarks run once in test-nested"; continue;; esac; \
	  echo "== bench-smoke $$m"; \
	  (cd $$m && $(GO) test -run='^$$' -bench=. -benchtime=$(BENCHTIME) -count=1 ./...) || exit 1; \
	done

bench: ## full benchmark run and Markdown report (bench/REPORT.md), the peer comparison included
	@if [ -x scripts/bench-report.sh ]; then scripts/bench-report.sh; \
	else $(GO) test -run='^$$' -bench=. -benchmem ./...; fi
	$(MAKE) bench-peers

# Each of the PEERS_COUNT runs goes through every store once (-p 1: one
# benchmark at a time), so a slow spell of the shared machine hits all of
# them alike; peersreport takes the medians and replaces the Peers section
# of bench/REPORT.md (the rest of the file is benchreport's).
bench-peers: ## sessionkit vs ADK Go and trpc-agent-go (nested module bench/peers), medians and ratios into bench/REPORT.md's Peers section
	@mkdir -p bench/raw/peers
	cd bench/peers && $(GO) test -count=1 -run='^TestAliasing$$' -v ./... > ../raw/peers/aliasing.txt
	@start=$$SECONDS; : > bench/raw/peers/bench.txt; \
	for i in $$(seq $(PEERS_COUNT)); do \
	  echo "== bench-peers: run $$i of $(PEERS_COUNT)"; \
	  (cd bench/peers && $(GO) test -p 1 -count=1 -run='^$$' -bench=. -benchmem -benchtime=$(PEERS_BENCHTIME) ./...) >> bench/raw/peers/bench.txt || exit 1; \
	done; \
	cd bench/peers && $(GO) run ./cmd/peersreport -bench ../raw/peers/bench.txt -aliasing ../raw/peers/aliasing.txt -gaps GAPS.md -report ../REPORT.md \
	  -run "$(PEERS_COUNT) runs ($$((SECONDS - start)) s), each \`go test -p 1 -run='^\$$' -bench=. -benchmem -benchtime=$(PEERS_BENCHTIME) ./...\` in bench/peers, $$($(GO) version | cut -d' ' -f3-), $$(nproc) CPUs, load average at the end $$(cut -d' ' -f1-3 /proc/loadavg)"

loadtest: ## load test of `sessionkit serve`: concurrent appends on memory and SQLite (MongoDB with LOAD_FLAGS=-mongo-url=...), report in bench/LOAD.md
	@mkdir -p $(ARTIFACTS)
	$(GO) build -o $(ARTIFACTS)/sessionkit ./cmd/sessionkit
	cd bench/loadtest && $(GO) run . -sessionkit $(ARTIFACTS)/sessionkit -out $(CURDIR)/bench/LOAD.md $(LOAD_FLAGS)

lint: ## gofmt, go vet, staticcheck (pinned), in the root and nested modules
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@for m in $(NESTED); do \
	  echo "== lint $$m"; \
	  (cd $$m && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...) || exit 1; \
	done

# The nested modules' tests exercise root packages the root module's own
# tests barely reach (backend/mongo's write logic runs against the MongoDB-wire
# servers in internal/mongotest): each runs with -coverpkg over the root
# module, and its profile, less the nested module's own packages, is appended
# to coverage.out; go tool cover adds up the counts of a block that appears
# in several profiles.
cover: mongo-java ## test coverage of the root module's packages, including what the nested modules' tests exercise (coverage.html)
	$(GO) test -race -covermode=atomic -coverprofile=coverage.out ./...
	@for m in $(NESTED); do \
	  if [ -f $$m/go.mod ]; then \
	    echo "== cover $$m"; \
	    mod=$$(cd $$m && $(GO) list -m) || exit 1; \
	    (cd $$m && SESSIONKIT_ARTIFACTS_DIR=$(ARTIFACTS) $(GO) test -race -count=1 -timeout 20m -covermode=atomic \
	      -coverpkg=github.com/sessionkit/sessionkit/... -coverprofile=$(CURDIR)/coverage-nested.out ./...) || exit 1; \
	    grep -v -e '^mode:' -e "^$$mod/" coverage-nested.out >> coverage.out || true; \
	  fi; \
	done; rm -f coverage-nested.out
	$(GO) tool cover -func=coverage.out | tail -n 1
	$(GO) tool cover -html=coverage.out -o coverage.html

run: ## start the service on 127.0.0.1:8080 with the embedded SQLite store in ./sessionkit-data
	$(GO) run ./cmd/sessionkit serve

demo: ## fill the configured store with demo conversations
	$(GO) run ./cmd/sessionkit demo

clean: ## remove build and test artifacts
	rm -rf $(ARTIFACTS) coverage.out coverage-nested.out coverage.html internal/mongojava/target $(PYVENV)
