# Two commands on a fresh machine: `make run` and `make test`. Nothing to install by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
# Empty: the PostgreSQL pass starts a throwaway server of its own (tests/pg_server.py). Set it to run the
# pass on an existing server instead, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test
PG_TEST_URL ?=
# pytest-xdist workers; on PostgreSQL each has a database of its own (test_gw0, ...; tests/conftest.py).
# Most tests wait on a server, a browser or a child process, so three keep two cores busy; an idle worker
# takes tests from a busy one (worksteal), so one slow file at the end does not leave the others waiting.
TEST_WORKERS ?= 3
# A machine that sets PYTHONDONTWRITEBYTECODE (this one does) makes every pytest process rewrite the asserts of
# all ~200 test modules again: 12 s of each worker's collection, ~8 s of it saved by keeping the bytecode, out of
# the tree, in the virtualenv.
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/pycache
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal

ASSETS := webui/static/dist/.built
FRONTEND := webui/frontend

.PHONY: setup run test test-sqlite test-postgres test-load test-passes lint clean translations browser-deps postgres-deps bench

$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) and installing salesflow with its pinned dependencies"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# The page scripts (ES modules in webui/frontend/src) and the bpmn-js/dmn-js they import come from npm (pinned in
# package-lock.json), bundled by esbuild into webui/static/dist/js (scripts/build.mjs).
$(ASSETS): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json $(FRONTEND)/.bpmnlintrc $(wildcard $(FRONTEND)/src/* $(FRONTEND)/src/*/* $(FRONTEND)/scripts/*)
	@echo "==> building the page scripts and the bpmn-js bundles from npm"
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error && npm run build
	@touch $(ASSETS)

# each catalogue compiled when its .po changed: two test targets that make runs side by side may both ask
MO := $(patsubst %.po,%.mo,$(wildcard webui/translations/*/LC_MESSAGES/messages.po))
translations: $(MO)
webui/translations/%/LC_MESSAGES/messages.mo: webui/translations/%/LC_MESSAGES/messages.po $(STAMP)
	@$(BIN)/pybabel compile -i $< -o $@ >/dev/null

setup: $(STAMP) translations $(if $(wildcard $(FRONTEND)/package.json),$(ASSETS))

# Debian's chromium (and a CJK font) for the browser tests; Playwright never downloads a browser.
browser-deps:
	@command -v chromium >/dev/null 2>&1 && fc-list :lang=zh | grep -q . || { \
	  echo "==> installing chromium and fonts-noto-cjk for the browser tests"; \
	  apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# Debian's PostgreSQL server binaries for the PostgreSQL pass, which runs them as a throwaway server.
postgres-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  echo "==> installing Debian's postgresql server package for the PostgreSQL test pass"; \
	  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }

run: setup
	$(BIN)/salesflow init --demo
	$(BIN)/salesflow serve --host 127.0.0.1 --port 5000

# setup installs eslint too (a pinned devDependency of webui/frontend)
lint: setup
	$(BIN)/ruff check engine salesflow webui tests bench deploy tools
	cd $(FRONTEND) && npm run --silent lint

test-sqlite: setup browser-deps
	@echo "==> test suite on SQLite"
	SALESFLOW_REQUIRE_BROWSER=1 SALESFLOW_TEST_DATABASE_URL= $(PYTEST)

test-postgres: setup $(if $(PG_TEST_URL),,postgres-deps)
	@echo "==> test suite on PostgreSQL ($(or $(PG_TEST_URL),a throwaway server of its own))"
	@# the tests whose outcome does not depend on the database (browser, units, CLI) ran in the SQLite pass (tests/conftest.py)
	SALESFLOW_TEST_POSTGRES=throwaway SALESFLOW_TEST_DATABASE_URL=$(PG_TEST_URL) \
	  $(PYTEST) --ignore=tests/load -m "not db_agnostic"

# The load-and-failure test on PostgreSQL: a throwaway server of its own, which it restarts (on PG_TEST_URL's
# server it only cuts its own connections). Its staff work for a fixed 30 s, so beside the two passes it takes
# a share of the cores for those seconds instead of both of them; its report is printed in one piece at the end.
LOAD_LOG := $(VENV)/load-test.log
test-load: setup $(if $(PG_TEST_URL),,postgres-deps)
	@echo "==> the load-and-failure test on PostgreSQL (a server of its own; report in $(LOAD_LOG) until it ends)"
	@SALESFLOW_TEST_POSTGRES=throwaway SALESFLOW_TEST_DATABASE_URL=$(PG_TEST_URL) \
	  $(BIN)/pytest -q -p no:cacheprovider tests/load > $(LOAD_LOG) 2>&1; rc=$$?; \
	  echo "==> the load-and-failure test:"; cat $(LOAD_LOG); exit $$rc

test-passes:
	@$(MAKE) --no-print-directory test-sqlite
	@$(MAKE) --no-print-directory test-postgres

# The two passes one after the other (they keep both cores busy), the load test beside them; then the test
# time, installs and lint excluded.
test: lint browser-deps $(if $(PG_TEST_URL),,postgres-deps)
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -j2 test-passes test-load; rc=$$?; \
	took=$$(( $$(date +%s) - start )); \
	echo "==> test time: $$((took / 60)) m $$((took % 60)) s (both passes and the load test; exit $$rc)"; exit $$rc

# The benchmarks of bench/README.md at full size, with the load-and-failure run (about 30 minutes;
# needs PostgreSQL on 127.0.0.1:5432, restarts it once). Each line is also a command of its own; the
# last one sums up every target's verdict this run recorded (bench/verdicts.py).
BENCH_VERDICTS := $(abspath $(VENV))/bench-verdicts.jsonl
bench: export SALESFLOW_BENCH_VERDICTS = $(BENCH_VERDICTS)
bench: setup
	rm -f $(BENCH_VERDICTS)
	$(BIN)/python -m bench.engine_throughput --db both --instances 300
	$(BIN)/python -m bench.rest_latency
	$(BIN)/python -m bench.read_scale --db both --tasks 10000000 --open 1000000
	$(BIN)/python -m bench.cost_growth --db both --tasks 500
	$(BIN)/python -m bench.audit_speed --db both --instances 10000
	$(BIN)/python -m bench.sandbox_cost --db both --instances 200
	$(BIN)/python -m bench.load_failures
	$(BIN)/python -m bench.command_cost --db both --instances 300
	$(BIN)/python -m bench.rest_vs_raw --instances 300
	$(BIN)/python -m bench.verdicts $(BENCH_VERDICTS)

clean:
	rm -rf $(VENV) instance .pytest_cache
