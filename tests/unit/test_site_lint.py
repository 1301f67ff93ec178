"""The site's JavaScript passes ESLint (pinned in package.json, flat config in eslint.config.mjs): unused names,
undeclared globals, == instead of ===, reassigned constants... are test failures, not review comments."""
import shutil
import subprocess

import pytest

from tests.conftest import PROJECT_DIR

ESLINT = PROJECT_DIR / "node_modules" / ".bin" / "eslint"


def test_the_site_javascript_passes_eslint():
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    if not ESLINT.exists():
        pytest.fail("eslint is missing: run `bash scripts/install-site-deps.sh` (make test does it first)")
    result = subprocess.run([str(ESLINT), "--max-warnings", "0", "site/js", "eslint.config.mjs"], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
