"""Lambda's size quota: `make package` refuses a code zip over 250 MB unzipped, and the portal's fits.

AWS counts a function's code and its layers unzipped against 262,144,000 bytes ("250 MB"); the code zip that
`chalice package` writes is every function's code, dependencies included. The numbers of the real package are in
docs/photo-assistant.md ("Package size").
"""
import zipfile

import pytest

from infra import deps
from infra import package as packaging
from infra.project import PROJECT_DIR

# Measured with `make package STAGE=prod` (docs/photo-assistant.md): 139.1 million bytes unzipped with numpy. A
# dependency that would bring the package near the quota should be a decision, not a surprise: keep this margin.
EXPECTED_AT_MOST = 200_000_000


def _zip(path, files: dict[str, int]):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, size in files.items():
            archive.writestr(name, b"\0" * size)
        archive.writestr(zipfile.ZipInfo("vendor/"), b"")  # a folder entry weighs nothing
    return path


def test_the_quota_is_awss_250_mb():
    assert packaging.LAMBDA_UNZIPPED_LIMIT == 250 * 1_048_576 == 262_144_000


def test_a_code_zip_over_the_quota_is_refused_with_its_size(tmp_path):
    archive = _zip(tmp_path / "deployment.zip", {"app.py": 600, "vendor/numpy/core.so": 401})
    assert packaging.unzipped_size(archive) == 1001
    with pytest.raises(SystemExit) as refused:
        packaging.check_unzipped_size(archive, limit=1000, log=lambda line: None)
    assert "1,001 bytes unzipped" in str(refused.value) and "too large" in str(refused.value)
    printed = []
    assert packaging.check_unzipped_size(archive, limit=1001, log=printed.append) == 1001
    assert printed and "1,001 bytes unzipped" in printed[0] and "1,001 bytes)" in printed[0]


def test_the_packaging_checks_the_size_of_what_it_wrote(tmp_path, monkeypatch):
    """package() refuses the zip chalice wrote when it is over the quota (here a quota of 1 byte)."""
    monkeypatch.setattr(packaging, "LAMBDA_UNZIPPED_LIMIT", 1)

    def fake_chalice(project, stage, merge_template, out, region):
        out.mkdir(parents=True)
        _zip(out / "deployment.zip", {"app.py": 10})
        (out / "sam.json").write_text("{}")

    monkeypatch.setattr(packaging, "run_chalice_package", fake_chalice)
    with pytest.raises(packaging.PackageTooLarge):
        packaging.package("prod", tmp_path / "out", with_dependencies=False, log=lambda line: None)


def test_the_portals_dependencies_and_code_fit_with_room_to_spare():
    """The Lambda dependencies built by `make package` (skipped when they are not built: building them needs the
    package index) plus the code: under the quota, and under EXPECTED_AT_MOST."""
    built = deps.cached_dependencies()
    if built is None:
        pytest.skip("the Lambda dependencies are not built (make package STAGE=prod builds them)")
    code = deps.installed_size(PROJECT_DIR / "app.py") + deps.installed_size(
        PROJECT_DIR / "chalicelib", skip=lambda f: "__pycache__" in f.parts or f.suffix == ".pyc")
    total = deps.installed_size(built) + code
    largest = dict(deps.largest_packages(built, 20))
    print(f"\nLambda package: {total:,} bytes unzipped (code {code:,}); numpy {largest.get('numpy', 0):,}")
    assert "cv2" not in largest and "numpy" in largest  # the detector runs on numpy alone
    assert total <= EXPECTED_AT_MOST < packaging.LAMBDA_UNZIPPED_LIMIT
