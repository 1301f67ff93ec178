#!/usr/bin/env bash
# Installs the site's npm packages exactly as locked and copies the files the pages load into site/vendor/.
set -euo pipefail
cd "$(dirname "$0")/.."
# --ignore-scripts: no package needs to build anything, and DSFR's preinstall script wants a project file we do not use.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
rm -rf site/vendor
mkdir -p site/vendor/dsfr site/vendor/cropperjs site/vendor/axe-core site/vendor/chartjs
cp -R node_modules/@gouvfr/dsfr/dist/. site/vendor/dsfr/
cp node_modules/cropperjs/dist/cropper.min.js node_modules/cropperjs/dist/cropper.min.css site/vendor/cropperjs/
cp node_modules/axe-core/axe.min.js site/vendor/axe-core/
# Chart.js for the back office's dashboards: the UMD bundle (Chart.js with its one dependency, @kurkle/color), a classic
# script that defines window.Chart, and its licence.
cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/LICENSE.md site/vendor/chartjs/
