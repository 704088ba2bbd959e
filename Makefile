# Every target sets up what it needs; running one twice does nothing new.
# TensorFlow 2.19 has wheels for Python 3.9-3.12: take the newest supported interpreter on the PATH that runs
# (a version manager's shim may exist and still refuse to run).
SUPPORTED := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do $$p -c '$(SUPPORTED)' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := assets/node_modules/.installed
# Exact versions and hashes of every Python package (`make lock` regenerates it from pyproject.toml).
LOCK := .ci/requirements.lock
# Reproduces models/default (docs: guides/model.md, "The default model").
DEFAULT_MODEL_ARGS := --synthetic 20000 --renderers cartoon,vector --augment --epochs 60 --seed 7 --strangers 12
NODE_TESTS := tests/js/
JS_SOURCES := assets/app tests/js
# Python outside the package too: the OpenCV.js build script and the docs site's hook.
PY_SOURCES := gazesite tests assets/opencv/build_opencv_js.py assets/docs/hooks.py
ESLINT := npx --prefix assets --no-install eslint --config assets/eslint.config.js
PRETTIER := npx --prefix assets --no-install prettier --config assets/.prettierrc.json --ignore-path assets/.prettierignore

.PHONY: setup build serve test test-fast test-js lint fix format docs docs-serve bench model lock opencv-js docs-pictures clean

setup: $(STAMP) $(NPM_STAMP)

# npm first: a package build of gazesite copies the shipped front-end files out of assets/node_modules.
$(STAMP): pyproject.toml $(LOCK) $(NPM_STAMP)
	@test -n "$(PYTHON)" && $(PYTHON) -c '$(SUPPORTED)' 2>/dev/null || \
	  { echo "gazesite needs Python 3.11 or 3.12 (TensorFlow 2.19 has no wheels for others): none of python3.12, python3.11, python3 on the PATH is one; install one or run make PYTHON=/path/to/python3.12"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(NPM_STAMP): assets/package.json assets/package-lock.json
	cd assets && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# make build TARGET=https://example.com/  (the page to overlay)
# TARGET reaches the shell through the environment, never pasted into the command.
build: export TARGET := $(TARGET)
build: setup
	@test -n "$$TARGET" || { echo "usage: make build TARGET=https://example.com/"; exit 2; }
	$(BIN)/gazesite build --target "$$TARGET" --out dist

serve: setup
	$(BIN)/gazesite serve dist

# Everything: unit, slow and browser tests, and the page's own unit tests. Two workers, each taking whole test
# files (module fixtures build once): CPU-bound renders on one while the other waits on Chromium, ~11 min instead of ~16.
# Coverage of gazesite (also in the `gazesite` processes the tests start) is printed at the end and written to
# build/coverage.xml for CI tools; configuration under [tool.coverage] in pyproject.toml.
TEST_WORKERS ?= 2
COVERAGE := --cov --cov-report=term:skip-covered --cov-report=xml:build/coverage.xml
test: setup test-js
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(COVERAGE)

# The fast tier: no browser, nothing slow.
test-fast: setup test-js
	$(BIN)/python -m pytest -m "not browser and not slow"

test-js: $(NPM_STAMP)
	node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON --test --test-reporter=dot $(NODE_TESTS)

lint: setup
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy
	$(ESLINT) $(JS_SOURCES)
	$(PRETTIER) --check $(JS_SOURCES)
	$(BIN)/codespell $(SPELLCHECKED)
	$(MKDOCS) build --strict -f $(DOCS_CONFIG) -d $(DOCS_SITE)
	$(BIN)/pre-commit validate-config .pre-commit-config.yaml

fix: setup
	$(BIN)/ruff check --fix $(PY_SOURCES)
	$(ESLINT) --fix $(JS_SOURCES)

format: setup
	$(BIN)/ruff format $(PY_SOURCES)
	$(PRETTIER) --write $(JS_SOURCES)

# Figures of the Python and the in-browser pipeline, side by side, and of WebGazer on the
# same fake camera (fetched once with npm into ~/.cache; docs: measurements/performance.md).
bench: setup
	$(BIN)/gazesite bench speed --peer webgazer --json bench.json

model: setup
	$(BIN)/gazesite train $(DEFAULT_MODEL_ARGS) --out models/default

# Regenerate the lock after changing dependencies in pyproject.toml.
lock: setup
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --all-extras --strip-extras --no-header -o $(LOCK) pyproject.toml

# The lean OpenCV.js in assets/opencv/ (docs: measurements/opencv-js.md): slow, 8+ minutes on 2 cores, so the
# artefact is committed with its manifest and CI only checks it. The source archive and the build
# trees go to $XDG_CACHE_HOME/gazesite/opencv-build (default ~/.cache/...).
# Other variants: make opencv-js OPENCV_JS_ARGS="--variant lean-simd --out /tmp/opencv".
opencv-js:
	$(PYTHON) assets/opencv/build_opencv_js.py $(OPENCV_JS_ARGS)

# The documentation site: assets/docs/mkdocs.yml, pages in assets/docs/pages/, built into build/docs/.
# --strict: a broken link or anchor, a missing include or a page left out of the nav fails the build.
# The output path is absolute because mkdocs reads a relative -d from the config file's folder.
# NO_MKDOCS_2_WARNING quiets mkdocs-material's notice about its successor (a banner, not a build warning).
MKDOCS := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs
DOCS_CONFIG := assets/docs/mkdocs.yml
DOCS_SITE := $(CURDIR)/build/docs
# What make lint spell-checks: the code, the page, the docs and the top-level texts.
SPELLCHECKED := gazesite tests assets/app assets/docs/pages README.md ARCHITECTURE.md CHANGELOG.md .github

docs: setup
	$(MKDOCS) build --strict -f $(DOCS_CONFIG) -d $(DOCS_SITE)

# Live preview on http://127.0.0.1:8001/ while you edit the pages (make serve keeps port 8000).
docs-serve: setup
	$(MKDOCS) serve -f $(DOCS_CONFIG) -a 127.0.0.1:8001

# The docs' pictures of the participant flow and of a same-origin report, saved by the browser tests that
# drive them (real builds, a real collect server, Chromium with a synthetic face as its camera).
docs-pictures: setup
	GAZESITE_DOCS_PICTURES=$(CURDIR)/assets/docs/pages/pictures $(BIN)/python -m pytest -q \
	  tests/browser/test_study_flow.py::test_a_participant_sees_the_study_and_ends_at_the_finish_url \
	  tests/browser/test_study.py::test_same_origin_site_reads_scroll_location_and_element

clean:
	rm -rf build *.egg-info .pytest_cache
