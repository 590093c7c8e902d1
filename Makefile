# bet-maker: every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SWIFT ?= swift
# SwiftPM orders some compiler flags by Swift's per-process random hashing: without this, a
# `swift build --product X` after `swift build --build-tests` could see other flags and compile
# Hummingbird again (104 files). Deterministic hashing keeps one order, so every build reuses the last.
export SWIFT_DETERMINISTIC_HASHING := 1
# System packages the build, the tests and `make run` need (Debian/Ubuntu names).
APT_PACKAGES := redis-server libhiredis-dev
# Extra tools for `make bench` and for validating the compose file.
APT_BENCH_PACKAGES := wrk redis-tools
APT_COMPOSE_PACKAGES := docker-compose
# `make contract` makes a Python virtual environment (Debian's python3 needs python3-venv for that).
APT_CONTRACT_PACKAGES := python3 python3-venv
PYTHON ?= python3
# `make browser-test` drives Debian's Chromium with Playwright (never `playwright install`).
APT_BROWSER_PACKAGES := python3 python3-venv chromium
# Playwright and its dependencies, pinned in Tests/browser/requirements.txt (ignored by git).
BROWSER_VENV := .build-tools/browser-venv
# schemathesis and its dependencies, pinned in Tests/contract/requirements.txt, live here (ignored by git).
CONTRACT_VENV := .build-tools/contract-venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# `make run` starts a Redis of its own on this port, with its data under var/redis.
RUN_REDIS_PORT ?= 6390
# `make run-cluster` starts a Redis Cluster of its own on these ports (3 masters, 3 replicas; the bus
# on each port + 10000), with its data under var/cluster, and splits the streams into this many shards.
RUN_CLUSTER_PORTS ?= 7001 7002 7003 7004 7005 7006
RUN_CLUSTER_SHARDS ?= 12
RUN_CLUSTER_NODES = $(subst $(space),$(comma),$(patsubst %,127.0.0.1:%,$(RUN_CLUSTER_PORTS)))
RUN_CLUSTER_SETTINGS = REDIS_CLUSTER_NODES=$(RUN_CLUSTER_NODES) REDIS_URL=redis://127.0.0.1:$(firstword $(RUN_CLUSTER_PORTS))/0 \
	REDIS_SHARDS=$(RUN_CLUSTER_SHARDS) REDIS_WAIT_REPLICAS=$${REDIS_WAIT_REPLICAS:-1}
space := $(subst ,, )
comma := ,
# `make run` is a developer's machine: a random JWT secret per start, the brief's test secret for
# the payment webhook (see README, "Try it"). Set them in the environment to override them.
RUN_DEVELOPMENT_SETTINGS := DEVELOPMENT_MODE=$${DEVELOPMENT_MODE:-true} \
	PAYMENT_WEBHOOK_SECRET=$${PAYMENT_WEBHOOK_SECRET:-gfdmhghif38yrf9ew0jkf32}
# `docker compose` (v2) if present, else the older docker-compose.
COMPOSE := $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

.PHONY: help deps bench-deps compose-deps contract-deps browser-deps browser-test executables build build-release test test-cluster contract lint format run run-cluster seed seed-cluster up up-cluster down logs compose-check bench bench-redis clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# Installs only what is missing, so it is cheap to call before every target.
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps: ## Install missing system packages (redis-server, libhiredis-dev)
	$(call apt_install,$(APT_PACKAGES))

bench-deps: deps
	$(call apt_install,$(APT_BENCH_PACKAGES))

compose-deps:
	$(call apt_install,$(APT_COMPOSE_PACKAGES))

contract-deps: deps
	$(call apt_install,$(APT_CONTRACT_PACKAGES))

browser-deps: deps
	$(call apt_install,$(APT_BROWSER_PACKAGES))

# One Python environment per test suite under Tests/ (.build-tools/<suite>-venv), made again whenever
# the suite's pins change; a half-made environment is removed rather than reused.
.build-tools/%-venv/installed: Tests/%/requirements.txt
	rm -rf $(@D)
	$(PYTHON) -m venv $(@D)
	$(@D)/bin/pip install --quiet --disable-pip-version-check --no-input -r $< || { rm -rf $(@D); exit 1; }
	touch $@

build: deps ## Debug build of everything
	$(SWIFT) build --build-tests

build-release: deps ## Release build of the executables
	$(SWIFT) build -c release

# One build: `swift build --build-tests` makes the executables too, and the contract and browser tests
# run those (EXECUTABLES_BUILT=yes) instead of building them again in another `swift build`.
test: deps compose-deps ## Run every test against real redis-server and bet-maker processes, then `make contract` and `make browser-test`
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) --no-print-directory test-cluster TESTS_BUILT=yes
	$(MAKE) --no-print-directory contract EXECUTABLES_BUILT=yes
	$(MAKE) --no-print-directory browser-test EXECUTABLES_BUILT=yes

# The same processes on Redis Cluster: every end-to-end test again, each on a 3-master cluster of its
# own (BETMAKER_TEST_REDIS=cluster, see Sources/TestSupport/RedisDeployment.swift).
test-cluster: deps ## Run the end-to-end suite on local Redis Clusters (part of `make test`)
ifneq ($(TESTS_BUILT),yes)
	$(SWIFT) build --build-tests
endif
	BETMAKER_TEST_REDIS=cluster $(SWIFT) test --skip-build --filter EndToEndTests

# betmaker-api and betmaker-worker in .build/debug, for the targets that run them; nothing when the
# caller built them already.
executables: deps
ifneq ($(EXECUTABLES_BUILT),yes)
	$(SWIFT) build --product betmaker-api
	$(SWIFT) build --product betmaker-worker
endif

contract: contract-deps $(CONTRACT_VENV)/installed executables ## schemathesis (--checks all, stateful phase included) against a live API, as administrator and as player
	$(CONTRACT_VENV)/bin/python Tests/contract/run.py --products .build/debug

browser-test: browser-deps $(BROWSER_VENV)/installed executables ## The web UI in headless Chromium (Playwright) against a live stack; screenshots in .build-tools/browser-screenshots
	$(BROWSER_VENV)/bin/python Tests/browser/run.py --products .build/debug

run: deps ## Run Redis, the API and the worker here, no Docker; Ctrl-C stops all three
	$(SWIFT) build --product betmaker-api
	$(SWIFT) build --product betmaker-worker
	@mkdir -p var/redis
	@set -m; trap 'kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	redis-server --port $(RUN_REDIS_PORT) --bind 127.0.0.1 --dir "$(CURDIR)/var/redis" \
		--appendonly yes --appendfsync always --save "" --logfile "" & \
	until redis-cli -p $(RUN_REDIS_PORT) ping >/dev/null 2>&1; do sleep 0.1; done; \
	export REDIS_URL=redis://127.0.0.1:$(RUN_REDIS_PORT)/0 $(RUN_DEVELOPMENT_SETTINGS); \
	.build/debug/betmaker-api & \
	.build/debug/betmaker-worker & \
	wait -n

run-cluster: deps ## The same on a local 6-node Redis Cluster (3 masters, 3 replicas); Ctrl-C stops all
	$(SWIFT) build --product betmaker-api
	$(SWIFT) build --product betmaker-worker
	@set -m; trap 'kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	for port in $(RUN_CLUSTER_PORTS); do \
		mkdir -p var/cluster/$$port; \
		redis-server --port $$port --bind 127.0.0.1 --dir "$(CURDIR)/var/cluster/$$port" --cluster-enabled yes \
			--cluster-config-file nodes.conf --cluster-node-timeout 5000 --appendonly yes --appendfsync always \
			--save "" --logfile redis.log & \
	done; \
	for port in $(RUN_CLUSTER_PORTS); do until redis-cli -p $$port ping >/dev/null 2>&1; do sleep 0.1; done; done; \
	first=$(firstword $(RUN_CLUSTER_PORTS)); \
	if redis-cli -p $$first cluster info | grep -q '^cluster_known_nodes:1\b'; then \
		redis-cli --cluster create $(patsubst %,127.0.0.1:%,$(RUN_CLUSTER_PORTS)) --cluster-replicas 1 --cluster-yes >/dev/null; \
	fi; \
	until redis-cli -p $$first cluster info | grep -q '^cluster_state:ok'; do sleep 0.2; done; \
	echo "Redis Cluster up on $(RUN_CLUSTER_NODES) (logs in var/cluster/<port>/redis.log)"; \
	export $(RUN_CLUSTER_SETTINGS) $(RUN_DEVELOPMENT_SETTINGS); \
	.build/debug/betmaker-api & \
	.build/debug/betmaker-worker & \
	wait -n

seed-cluster: deps ## `make seed` for `make run-cluster`'s cluster
	$(SWIFT) build --product betmaker-api
	$(RUN_CLUSTER_SETTINGS) DEVELOPMENT_MODE=$${DEVELOPMENT_MODE:-true} .build/debug/betmaker-api seed

seed: deps ## Create an administrator, a demo player with money and open events in `make run`'s Redis (idempotent)
	$(SWIFT) build --product betmaker-api
	REDIS_URL=redis://127.0.0.1:$(RUN_REDIS_PORT)/0 DEVELOPMENT_MODE=$${DEVELOPMENT_MODE:-true} .build/debug/betmaker-api seed

up: ## Build the image and start Redis, API and worker with docker compose
	$(COMPOSE) up -d --build

up-cluster: ## `make up` on a six-node Redis Cluster (compose profile `cluster`; the API on port 8090)
	$(COMPOSE) --profile cluster up -d --build api-cluster worker-cluster

down: ## Stop the docker compose services, the cluster's too (the Redis volumes stay)
	$(COMPOSE) --profile cluster down

logs: ## Follow the worker's log under docker compose
	$(COMPOSE) logs -f worker

compose-check: compose-deps ## `make up` for real: healthy services, the README's first bet settled in the worker's log, `make down`
	COMPOSE="$(COMPOSE)" docker/compose-check.sh

lint: ## Check formatting with the toolchain's swift-format
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Plugins Sources Tests

format: ## Rewrite sources in the project's style
	$(SWIFT) format --in-place --recursive --parallel Package.swift Plugins Sources Tests

bench: bench-deps ## API and worker under load: throughput, latency, settlement rate, memory per bet
	$(SWIFT) build -c release --product betmaker-api
	$(SWIFT) build -c release --product betmaker-worker
	$(SWIFT) build -c release --product betmaker-bench
	.build/release/betmaker-bench

bench-redis: bench-deps ## Redis client against redis-benchmark, same server, same run
	$(SWIFT) build -c release --product redis-bench
	.build/release/redis-bench

clean:
	rm -rf .build .build-tools var
