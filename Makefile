# The project's stable interface: run, test (and later bench, package, security).
# Each target installs what is missing first, so a fresh clone needs nothing but Python 3.11 and make.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

SITE_DEPS := site/vendor/.installed

.PHONY: run test browser package bench security clean

STAGE ?= prod

$(INSTALLED): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# pip is not upgraded on purpose: chalice pins pip<26.3.
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

# The site's front-end packages (DSFR, cropper, axe-core) from npm, copied into site/vendor/ (not committed).
$(SITE_DEPS): package.json package-lock.json scripts/install-site-deps.sh
	bash scripts/install-site-deps.sh
	touch $@

# Debian's Chromium for the browser tests.
browser:
	bash scripts/install-browser.sh

## run: the whole portal locally (AWS emulation, API, S3 triggers, site, demo data). Ctrl-C stops it.
run: $(INSTALLED) $(SITE_DEPS)
	exec $(PY) -m local.stack

## test: the whole test suite.
test: $(INSTALLED) $(SITE_DEPS) browser
	$(PY) -m pytest -n 2 --dist loadfile

## package: the deployment artifact for a stage (chalice package + the project's template), checked offline.
package: $(INSTALLED)
	$(PY) -m infra.package --stage $(STAGE)

## bench: the benchmarks (ratios against references measured in the same run); writes var/bench.json.
bench: $(INSTALLED)
	$(PY) -m bench.run

## security: API fuzzing, isolation matrix, abuse limits, upload fuzzing against a fresh local stack;
## rewrites docs/security.md with the figures.
security: $(INSTALLED) $(SITE_DEPS)
	$(PY) -m tests.security.run

clean:
	rm -rf $(VENV) var .pytest_cache node_modules site/vendor
