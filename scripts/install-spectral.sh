#!/usr/bin/env bash
# Installs Spectral, the OpenAPI linter of the tests (tests/integration/test_openapi_lint.py), exactly as locked in
# tools/spectral/, apart from the site's packages (package.json at the root): its node_modules stay in that folder.
set -euo pipefail
cd "$(dirname "$0")/../tools/spectral"
# --ignore-scripts: Spectral needs no build step.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
