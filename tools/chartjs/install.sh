#!/usr/bin/env bash
# Installs Chart.js exactly as locked (tools/chartjs/package-lock.json) and copies its browser bundle into
# site/vendor/chartjs/, for the back office's dashboards. Kept apart from the site's package.json for now (another
# change was rewriting it at the same time); to be folded into it and into scripts/install-site-deps.sh.
# Runs after scripts/install-site-deps.sh, which empties site/vendor/.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
mkdir -p ../../site/vendor/chartjs
# The UMD bundle (Chart.js with its one dependency, @kurkle/color): a classic script that defines window.Chart.
cp node_modules/chart.js/dist/chart.umd.min.js ../../site/vendor/chartjs/chart.umd.min.js
cp node_modules/chart.js/LICENSE.md ../../site/vendor/chartjs/LICENSE.md
