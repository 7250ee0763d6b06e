# bosky: build, test, demo and install the single-file .pyz.
PYTHON ?= python3
PREFIX ?= /usr/local
DESTDIR ?=
PYZ := dist/bosky.pyz
SOURCES := build_pyz.py $(shell find src/bosky -name "*.py")

.PHONY: all test demo install clean pytest bench verify release

all: $(PYZ)

$(PYZ): $(SOURCES) FORCE
	$(PYTHON) build_pyz.py

FORCE:

# Test-time tools only (bosky itself needs none): pytest; python-hcl2 to parse the
# Terraform example; cfn-lint for the CloudFormation ones; moto in server mode (with boto3,
# to set it up) as an independent S3/EventBridge/IAM oracle -- pinned: tests/test_moto.py
# records what 5.2.1 does not check; awscrt, the SDKs' own CRC32C/CRC64NVME (the oracle
# for crc.py, and what moto needs to compute S3's default checksum right).
# Installed for this user if missing.
PINNED := cfn-lint==1.51.0 moto==5.2.1 awscrt==0.38.1
TEST_TOOLS := pytest pytest-xdist python-hcl2 "cfn-lint==1.51.0" "moto[server]==5.2.1" \
	"awscrt==0.38.1"
pytest:
	@$(PYTHON) -c "import pytest, xdist, hcl2, cfnlint, flask, boto3, awscrt, moto; \
	  import importlib.metadata as m; \
	  assert all(m.version(p) == v for p, v in (s.split('==') for s in '$(PINNED)'.split()))" \
	  >/dev/null 2>&1 || \
	  $(PYTHON) -m pip install --quiet $(TEST_TOOLS) || \
	  $(PYTHON) -m pip install --quiet --user --break-system-packages $(TEST_TOOLS)

# Four workers: most tests wait on a subprocess or a deadline, not on the CPU.  The load
# test (sixty interpreters at once) runs alone afterwards: beside it, the tests that check
# a deadline to the second would be measuring a starved machine.
test: $(PYZ) pytest
	$(PYTHON) -m pytest -q -n 4 tests --ignore=tests/test_load.py
	$(PYTHON) -m pytest -q tests/test_load.py

demo: $(PYZ)
	$(PYTHON) tests/demo.py

install: $(PYZ)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PYZ) $(DESTDIR)$(PREFIX)/bin/bosky

clean:
	rm -rf dist .pytest_cache
	find src tests bench -name __pycache__ -type d -prune -exec rm -rf {} +

bench: $(PYZ)
	$(PYTHON) bench/startup.py
	$(PYTHON) bench/delivery.py
	$(PYTHON) bench/transfer.py

# Reproducible: a second build of the same sources must give the same bytes.
verify: $(PYZ)
	$(PYTHON) build_pyz.py --output dist/verify/bosky.pyz >/dev/null
	cmp dist/bosky.pyz dist/verify/bosky.pyz
	cd dist && sha256sum -c bosky.pyz.sha256
	rm -rf dist/verify
	@echo "verified: dist/bosky.pyz is reproducible and matches dist/bosky.pyz.sha256"

# A release: the tests pass, then dist/bosky.pyz and its .sha256, verified.
release: clean test verify
	@cat dist/bosky.pyz.sha256
