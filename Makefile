# Palisade: build, run and test. `make test` is what CI runs (through .ci/run).
SWIFT ?= swift
PYTHON := .venv/bin/python
CONFORMANCE_DIR ?= ../conformance
# Release builds drop Swift's run-time exclusivity checks, in our code and in SwiftNIO's: they
# are a large share of what an event costs (BENCHMARKS.md has the figures). The compile-time
# checks stay, and the debug build that `make test` runs keeps the run-time ones, so a
# violation still fails the tests.
RELEASE_BUILD = $(SWIFT) build -c release -Xswiftc -enforce-exclusivity=unchecked

.PHONY: build release run test check-layering lint test-unit test-interop conformance bench bench-redis e2e attack-mix fuzz autobahn clean

# Debug build of every target.
build:
	$(SWIFT) build

# Optimised build.
release:
	$(RELEASE_BUILD)

# Release server on 127.0.0.1:$(PORT) (8080) with the repo's policies and plugins, data in $(DATA_DIR).
# A second instance on the same Redis: PALISADE_REDIS_URL=redis://… make run PORT=8081 DATA_DIR=data2
PORT ?= 8080
DATA_DIR ?= data
run:
	scripts/install-deps.sh
	$(RELEASE_BUILD) --product palisade
	.build/release/palisade serve --host 127.0.0.1 --port $(PORT) --policies policies --plugins plugins --data-dir $(DATA_DIR)

# Everything: debug build with tests (and PalisadeTestServer), Swift tests, Python interop tests.
# Runs both suites even if the first fails, then prints a summary; fails if either failed.
test:
	scripts/install-deps.sh --python
	$(SWIFT) build --build-tests
	@layering=passed; lint=passed; unit=passed; interop=passed; \
	$(MAKE) --no-print-directory check-layering || layering=FAILED; \
	$(MAKE) --no-print-directory lint || lint=FAILED; \
	$(MAKE) --no-print-directory test-unit SWIFT_TEST_FLAGS=--skip-build || unit=FAILED; \
	$(MAKE) --no-print-directory test-interop || interop=FAILED; \
	echo "== make test: layering $$layering, lint $$lint, swift tests $$unit, interop tests $$interop"; \
	[ $$layering = passed ] && [ $$lint = passed ] && [ $$unit = passed ] && [ $$interop = passed ]

# Which target may import which (scripts/check-layering.py): the codecs, stores, contract,
# policy engine and relay never reach the server.
check-layering:
	python3 scripts/check-layering.py

# swift-format's lint with the repository's .swift-format (the toolchain ships it).
lint:
	$(SWIFT) format lint --strict -r Sources Tests benchmarks fuzz Package.swift

# Swift unit and integration tests only (XCTest and Swift Testing).
test-unit:
	$(SWIFT) test $(SWIFT_TEST_FLAGS)

# Python interop tests only; they start .build/debug/PalisadeTestServer themselves.
# pytest's exit code 5 (no tests collected) counts as a failure.
test-interop:
	scripts/install-deps.sh --python
	@$(PYTHON) -m pytest -q Tests/interop; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no interop tests"; rc=1; fi; \
	exit $$rc

# Official Engine.IO/Socket.IO conformance suites (local only, not part of `test`); see scripts/conformance.sh.
conformance:
	scripts/install-deps.sh --conformance
	$(SWIFT) build --product PalisadeTestServer
	scripts/conformance.sh $(CONFORMANCE_DIR)

# End-to-end suite (local only, not part of `test`): the real Open WebUI 0.12.4 (.venv-e2e/, from
# PyPI), redis-server, nginx and headless Chromium; see the README's "End-to-end suite".
# E2E_SOCKET=openwebui (default) sends /ws/socket.io/ to Open WebUI's own socket server,
# E2E_SOCKET=palisade to Palisade (a debug build of the palisade product, built here).
E2E_SOCKET ?= openwebui
E2E_ARGS ?=
e2e:
	scripts/install-e2e-deps.sh
	@if [ "$(E2E_SOCKET)" = palisade ] && [ -z "$$E2E_PALISADE" ]; then $(SWIFT) build --product palisade; fi
	E2E_SOCKET=$(E2E_SOCKET) SE_OFFLINE=true .venv-e2e/bin/python -m pytest -p no:cacheprovider -rA --timeout=600 e2e $(E2E_ARGS)

# The live attack mix, long form (the short form runs in `make test`): 100 well-behaved clients
# served while 10 000 connection attempts, bad frames, a flood, slowloris heads and 1 000
# clients that never read hit a debug build; prints the figures (also in .build/attack-mix.json).
attack-mix:
	scripts/install-deps.sh --python
	$(SWIFT) build --product palisade
	ATTACK_MIX=long $(PYTHON) -m pytest -q -s Tests/interop/test_attack_mix.py

# Benchmarks: the hook micro-benchmark, then benchmarks/run-bench.sh, which measures the
# python-socketio peer, Palisade with the empty policy set and with the stock policies side by
# side (server on core 0, palisade-bench on core 1), counts the server's instructions per echo
# event with callgrind, and writes the tables of BENCHMARKS.md. Then the Redis part (bench-redis).
bench:
	scripts/install-deps.sh --python --bench
	$(RELEASE_BUILD) --product palisade-hookbench
	.build/release/palisade-hookbench 200000
	$(RELEASE_BUILD) --product palisade
	$(RELEASE_BUILD) --product palisade-bench
	$(RELEASE_BUILD) --product palisade-serverbench
	benchmarks/run-bench.sh
	benchmarks/redis-fanout.sh

# The Redis part of the benchmarks alone: two instances on one redis-server, cross-instance room
# fanout, Palisade against two python-socketio peers with AsyncRedisManager (benchmarks/redis-fanout.sh).
bench-redis:
	scripts/install-deps.sh --python --bench
	$(RELEASE_BUILD) --product palisade
	$(RELEASE_BUILD) --product palisade-bench
	benchmarks/redis-fanout.sh

# Coverage-guided fuzzing (local only, not part of `test`; FUZZING.md): one libFuzzer binary with
# AddressSanitizer, built apart in .build/fuzz (PALISADE_FUZZ adds its target to the manifest), then
# scripts/fuzz.sh runs each target FUZZ_SECONDS from its seeds in fuzz/corpus/<target>/. Crashes go to
# fuzz/artifacts/<target>/ (ignored); `make fuzz FUZZ_TARGETS=json FUZZ_SECONDS=600` runs one longer.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= http-head websocket-frames engineio socketio json yjs jwt lua-bridge
fuzz:
	PALISADE_FUZZ=1 $(SWIFT) build -c release --build-path .build/fuzz --product palisade-fuzz \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing \
		-Xcc -fsanitize=fuzzer-no-link,address
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# RFC 6455 conformance (local only, not part of `test`; AUTOBAHN.md): the Autobahn Testsuite's
# fuzzingclient, cases 1-10, against PalisadeTestServer's raw WebSocket echo route; rewrites AUTOBAHN.md.
autobahn:
	scripts/install-autobahn.sh
	$(SWIFT) build --product PalisadeTestServer
	scripts/autobahn.sh

# Remove build output and the Python virtualenv.
clean:
	rm -rf .build .venv .pytest_cache e2e/.artifacts .autobahn
