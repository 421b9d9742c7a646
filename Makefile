# calbolt — developer and CI entry points. `make help` lists the targets.
#
# `make test` needs nothing but Go (staticcheck comes from the `tool` line in
# go.mod through the module proxy). `make interop` needs Debian packages:
# `make interop-deps` installs them.

GO        ?= go
BIN       ?= bin/calbolt
# FUZZTIME is how long `make fuzz` runs each fuzz target.
FUZZTIME  ?= 5m
# FUZZTIME_SHORT is how long `make fuzz-short` (part of `make test`) runs each.
FUZZTIME_SHORT ?= 10s
# FUZZMINIMIZE caps the minimisation of each new input (Go's default, 60s,
# would eat a short run).
FUZZMINIMIZE ?= 5s
# SUITES restricts `make interop` to some of: pycaldav vdirsyncer litmus thunderbird.
SUITES    ?=
# SCENARIO picks the calbolt-load scenario `make load` runs.
SCENARIO  ?= issue2
LOADFLAGS ?=
# INTEROP_DEBS are the Debian packages the interop suites drive.
INTEROP_DEBS := python3 python3-caldav python3-requests vdirsyncer litmus thunderbird curl ca-certificates

.DEFAULT_GOAL := help

.PHONY: help run build test check fmt-check vet staticcheck unit fuzz-short fuzz crash bench \
	bench-import load interop-deps interop clean

help: ## list the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  %-13s %s\n", $$1, $$2}'

run: ## start a server on the default address and data directory (go run ./cmd/calbolt serve)
	$(GO) run ./cmd/calbolt serve

build: ## build the binary into bin/calbolt
	$(GO) build -o $(BIN) ./cmd/calbolt

test: check unit fuzz-short ## everything CI checks with Go alone: check + unit + fuzz-short

check: fmt-check vet staticcheck ## gofmt, go vet and staticcheck

fmt-check: ## fail if any Go file is not gofmt-formatted
	@echo "gofmt -l ."
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path './bin/*')); \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi

vet: ## go vet ./...
	$(GO) vet ./...

staticcheck: ## staticcheck ./..., pinned by the tool line in go.mod
	$(GO) tool staticcheck ./...

unit: ## go test -race -count=1 ./...
	$(GO) test -race -count=1 ./...


# scripts/fuzz.sh finds the targets (grep, then `go test -list`) and tells a
# finding from Go 1.26's fuzztime shutdown race (go.dev/issue/75804).
fuzz-short: ## run each fuzz target for FUZZTIME_SHORT (10s)
	GO=$(GO) bash scripts/fuzz.sh $(FUZZTIME_SHORT) $(FUZZMINIMIZE)

fuzz: ## run each fuzz target for FUZZTIME (5m; e.g. make fuzz FUZZTIME=30m)
	GO=$(GO) bash scripts/fuzz.sh $(FUZZTIME) $(FUZZMINIMIZE)

# CRASH_ITERATIONS is how many times `make crash` kills the server in each
# crash test (`make test` runs 3 and 2).
CRASH_ITERATIONS ?= 50

crash: ## SIGKILL the server CRASH_ITERATIONS (50) times mid-write-storm and mid-import; check the file and every acknowledged write
	$(GO) test -count=1 -timeout 60m -v -run '^TestCrash' ./cmd/calbolt/ -crash.iterations=$(CRASH_ITERATIONS)

bench: ## run the benchmarks once (go test -run '^$' -bench . -benchmem ./...)
	$(GO) test -run '^$$' -bench . -benchmem ./...

# BENCH_EVENTS is how many events `make bench-import` imports with the CLI.
BENCH_EVENTS ?= 100000

bench-import: ## import 10k and 100k generated events (1 in 5 recurring): events/s, peak RSS and heap, in-process and with the CLI
	$(GO) test -run '^$$' -bench '^BenchmarkImport$$' -benchtime 1x ./ics/
	$(GO) build -o $(BIN) ./cmd/calbolt
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	ICS_BENCH_FILE=$$tmp/bench.ics ICS_BENCH_EVENTS=$(BENCH_EVENTS) $(GO) test -count=1 -run '^TestWriteBenchFile$$' ./ics/ >/dev/null; \
	echo "$(BENCH_EVENTS) events, $$(du -m $$tmp/bench.ics | cut -f1) MB: /usr/bin/time -v $(BIN) import --data DIR --user bench --calendar personal bench.ics"; \
	printf 'bench-password\n' | $(BIN) user add bench --data $$tmp/data >/dev/null; \
	/usr/bin/time -v $(BIN) import --data $$tmp/data --user bench --calendar personal $$tmp/bench.ics 2>$$tmp/time.txt; \
	grep -E 'Elapsed|Maximum resident' $$tmp/time.txt

load: ## calbolt-load against a fresh local server (SCENARIO=issue2|mixed|freebusy, LOADFLAGS=...)
	bash cmd/calbolt-load/run-local.sh $(SCENARIO) $(LOADFLAGS)

interop-deps: ## install the Debian packages the interop suites use (needs root or sudo)
	@missing=""; \
	for p in $(INTEROP_DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "interop-deps: all installed ($(INTEROP_DEBS))"; exit 0; fi; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	echo "interop-deps: installing$$missing"; \
	set -x; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing

interop: ## build bin/calbolt and run the third-party client suites against it (SUITES=... to pick)
	bash interop/run.sh $(SUITES)

clean: ## remove build output
	rm -rf bin
