# Every target sets up what it needs; running one twice does nothing new.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := assets/node_modules/.installed
# Reproduces models/default (see README, "The default model").
DEFAULT_MODEL_ARGS := --synthetic 20000 --renderers cartoon,vector --augment --epochs 60 --seed 7

.PHONY: setup build serve test bench model opencv-js clean

setup: $(STAMP) $(NPM_STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
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

test: setup
	$(BIN)/python -m pytest

# Figures of the Python and the in-browser pipeline, side by side, and of WebGazer on the
# same fake camera (fetched once with npm into ~/.cache; see README, "Performance").
bench: setup
	$(BIN)/gazesite bench --peer webgazer --json bench.json

model: setup
	$(BIN)/gazesite train $(DEFAULT_MODEL_ARGS) --out models/default

# The lean OpenCV.js in assets/opencv/ (see README, "The lean OpenCV.js"): slow, 8+ minutes on 2 cores, so the
# artefact is committed with its manifest and CI only checks it. The source archive and the build
# trees go to $XDG_CACHE_HOME/gazesite/opencv-build (default ~/.cache/...).
# Other variants: make opencv-js OPENCV_JS_ARGS="--variant lean-simd --out /tmp/opencv".
opencv-js:
	$(PYTHON) assets/opencv/build_opencv_js.py $(OPENCV_JS_ARGS)

clean:
	rm -rf build *.egg-info .pytest_cache
