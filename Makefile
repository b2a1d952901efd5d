# The two commands of the README: `make run` starts everything, `make test` passes the tests.
# Each sets up what it needs (venv, packages, Chromium and nginx for the tests) on a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
MNIST_DIR ?= $(abspath ../shared/data/mnist)
export MNIST_DIR

.PHONY: run test venv system-deps lint bench clean

$(BIN)/digitflow: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/digitflow

## run: set up and start Redis (embedded if none), a worker, the trainer and the web server
run: venv
	$(BIN)/digitflow up

## system-deps: Chromium for the browser test, nginx for the several-web-processes test and
## the fonts the generated non-digits are drawn from (Debian packages; never a downloaded
## browser). nginx lives in /usr/sbin, off a user's PATH.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 || missing="$$missing nginx"; \
	test -d /usr/share/fonts/truetype/liberation || missing="$$missing fonts-liberation"; \
	test -d /usr/share/fonts/truetype/dejavu || missing="$$missing fonts-dejavu-core"; \
	[ -z "$$missing" ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }

## test: set up and run lint plus the whole suite (unit, integration, browser)
test: venv system-deps
	$(BIN)/ruff check .
	$(BIN)/pytest -q -p no:cacheprovider --durations=10

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python bench/inference.py --onnx-threads
	$(BIN)/python bench/batcher_handoff.py
	$(BIN)/python bench/live.py
	$(BIN)/python bench/batch.py
	$(BIN)/python bench/swap.py
	$(BIN)/python bench/coldstart.py
	$(BIN)/python bench/recovery.py
	$(BIN)/python bench/live.py --web 2 --clients 50
	$(BIN)/python bench/failover.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
