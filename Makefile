# bosky: build, test, demo and install the single-file .pyz.
PYTHON ?= python3
PREFIX ?= /usr/local
DESTDIR ?=
PYZ := dist/bosky.pyz
SOURCES := build_pyz.py $(wildcard src/bosky/*.py)

.PHONY: all test demo install clean pytest bench

all: $(PYZ)

$(PYZ): $(SOURCES)
	$(PYTHON) build_pyz.py

# pytest is a test-time tool only; install it for this user if it is missing.
pytest:
	@$(PYTHON) -m pytest --version >/dev/null 2>&1 || \
	  $(PYTHON) -m pip install --quiet pytest || \
	  $(PYTHON) -m pip install --quiet --user --break-system-packages pytest

test: $(PYZ) pytest
	$(PYTHON) -m pytest -q tests

demo: $(PYZ)
	$(PYTHON) tests/demo.py

install: $(PYZ)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PYZ) $(DESTDIR)$(PREFIX)/bin/bosky

clean:
	rm -rf dist .pytest_cache src/bosky/__pycache__ tests/__pycache__

bench: $(PYZ)
	$(PYTHON) bench/delivery.py
