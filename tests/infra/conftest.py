"""The packaged templates of every deployable stage, built once per test session.

`chalice package` runs for real (on a clean copy of the app, with the merge template generated from the code); the
Lambda dependencies are left out, since they change the code zip and not the template, and building them needs the
package index: `make package` builds them.
"""
import pytest

from infra import checks
from infra.package import package
from infra.project import deployable_stages, load_stage


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> dict:
    """stage name -> {"stage": Stage, "template": packaged SAM template, "merge": merge template, "lint": LintResult}"""
    results = {}
    for name in deployable_stages():
        result = package(name, tmp_path_factory.mktemp(f"package-{name}"), with_dependencies=False, strict=False,
                         log=lambda _: None)
        results[name] = {"stage": load_stage(name), "template": checks.load(result.template_path),
                         "merge": checks.load(result.merge_template_path), "lint": result.lint,
                         "path": result.template_path}
    return results


def pytest_generate_tests(metafunc):
    if "stage_name" in metafunc.fixturenames:
        metafunc.parametrize("stage_name", deployable_stages())


@pytest.fixture
def stage(packaged, stage_name):
    return packaged[stage_name]["stage"]


@pytest.fixture
def template(packaged, stage_name) -> dict:
    return packaged[stage_name]["template"]


def resources_of_type(template: dict, kind: str) -> dict:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}
