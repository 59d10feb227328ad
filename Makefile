# Entry points for a fresh machine with only Python, pip and make:
#   make demo         - set up .venv and run the default scenario headless
#   make test         - set up .venv and run the test suite (default interpreter: python3), with
#                       coverage of every process it starts; fails under the floor in pyproject.toml
#   make mutation     - mutation testing of the numeric core (mutmut; minutes, not part of test)
#   make fuzz         - the hostile-folder generator with many examples (minutes, not part of test)
#   make test-matrix  - the test suite on every supported Python found, one .venv-X.Y each
#   make figures      - redraw docs/figures from the runs recorded in docs/figures/runs (no training)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The Python versions plastilab supports and tests; pyproject.toml's classifiers list the same.
PYTHON_VERSIONS := 3.11 3.12 3.13
# REQUIRE_ALL=1 (CI): a supported version missing from the machine is a failure, not a skip.
REQUIRE_ALL ?=
# COVERAGE= (empty): the suite without coverage. test-matrix runs it so; `make test` measures
# coverage and enforces its floor.
COVERAGE ?= 1

.PHONY: demo test test-matrix setup bench mutation fuzz clean figures

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/plastilab run scenarios/adam-quick.toml

# Coverage (configured in pyproject.toml) follows subprocesses and multiprocessing children; the
# per-package summary is printed even when a test fails, and the exit status is the suite's.
test: $(STAMP)
	@rm -f .coverage .coverage.*
	@status=0; $(BIN)/python -m pytest -q $(if $(COVERAGE),--cov --cov-report=) || status=$$?; \
	$(if $(COVERAGE),$(BIN)/python .ci/coverage_by_package.py;) exit $$status

# The first python<X.Y> that runs and says it is X.Y: on PATH, else the newest of pyenv's
# installs (a pyenv shim is on PATH for every installed version but runs only the active ones).
find_python = for candidate in $$(command -v python$(1)) \
	    $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$(1).*/bin/python$(1) 2>/dev/null | sort -rV); do \
	  if [ "$$($$candidate -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$(1)" ]; then \
	    echo $$candidate; break; \
	  fi; \
	done

# Each version runs `make test` in its own virtual environment (.venv-X.Y, set up once, then
# reused; the version of .venv, if there is one, uses .venv: a torch install is gigabytes); pip's
# download cache is shared between them. Every version runs even if one fails.
test-matrix:
	@failed=""; ran=""; \
	for version in $(PYTHON_VERSIONS); do \
	  python=$$($(call find_python,$$version)); \
	  if [ -z "$$python" ]; then \
	    echo "== Python $$version: not found$(if $(REQUIRE_ALL),, (skipped))"; \
	    $(if $(REQUIRE_ALL),failed="$$failed $$version(missing)";) continue; \
	  fi; \
	  echo "== Python $$version: $$python"; ran="$$ran $$version"; \
	  venv=.venv-$$version; \
	  if [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$$version" ]; then \
	    venv=$(VENV); \
	  fi; \
	  start=$$(date +%s); \
	  $(MAKE) --no-print-directory test PYTHON=$$python VENV=$$venv COVERAGE= || failed="$$failed $$version"; \
	  echo "== Python $$version: $$(( $$(date +%s) - start )) s (set-up and suite)"; \
	done; \
	if [ -z "$$ran" ]; then echo "== none of $(PYTHON_VERSIONS) found"; exit 1; fi; \
	if [ -n "$$failed" ]; then echo "== failed on:$$failed"; exit 1; fi; \
	echo "== passed on:$$ran"

# Mutation testing (configured in pyproject.toml's [tool.mutmut]): mutants of the numeric core, each
# run against the fast tests that call the mutated function; then the survivors and the kill rate
# per module. Results are cached in mutants/ (a rerun checks only what changed); `make clean`
# forgets them. Known equivalent mutants: docs/mutation.md.
MUTATION_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
mutation: $(STAMP)
	$(BIN)/mutmut run --max-children $(MUTATION_JOBS)
	@echo "== surviving mutants (mutmut show NAME prints the change):"
	@$(BIN)/mutmut results
	@$(BIN)/mutmut results --all true | $(BIN)/python .ci/mutation_by_module.py

# The README's and docs' figures, redrawn from the recorded run and study folders (docs/figures/runs,
# made by docs/figures/record.sh), so they always show what `plastilab figures` draws today.
figures: $(STAMP)
	$(BIN)/python docs/figures/redraw.py

# The hostile-folder generator (tests/hostile_folders.py) runs a few examples in `make test`;
# here many more, from a fresh random start each time (FUZZ_EXAMPLES per property).
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP)
	PLASTILAB_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) PLASTILAB_HYPOTHESIS_EXAMPLES=$(FUZZ_EXAMPLES) \
	  $(BIN)/python -m pytest -q tests/rundir/test_hostile_folders.py tests/core/test_hostile_properties.py

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .venv-* runs .pytest_cache mutants .coverage .coverage.*
