"""`python -m infra.package --stage prod [--out build/prod]`: the deployment artifact of a stage, checked offline.

1. Generates the merge template from the code (`infra.template`): tables, buckets, queues, SES, CloudFront, roles.
2. Builds (or reuses) the Lambda dependencies for the Lambda runtime (`infra.deps`).
3. Runs `chalice package --stage <stage> --pkg-format cloudformation --merge-template ...` on a clean copy of the app
   (app.py, chalicelib/ without bytecode, .chalice/), the dependencies given to Chalice as its `vendor/` folder.
4. Checks the result: every override of a Chalice resource landed, the least-privilege rules, cfn-lint (0 errors),
   and the code zip's unzipped size against Lambda's limit (250 MB for a function's code and layers together: the
   zip is every function's code, dependencies included).

Writes `<out>/sam.json` (the SAM template to deploy), `<out>/deployment.zip` (its code), `<out>/merge-template.json`.
Deploying is `aws cloudformation package` + `deploy`: see docs/deploy.md.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import checks, template
from .project import PROJECT_DIR, load_stage

CHALICE_CLI = "import sys; from chalice.cli import main; sys.exit(main())"
# Lambda's quota for a function's unzipped code, layers included: "250 MB", i.e. 262,144,000 bytes (AWS's MB is
# 1,048,576 bytes). A larger package is refused by CloudFormation at deployment time; it is refused here first.
LAMBDA_UNZIPPED_LIMIT = 262_144_000
MB = 1_048_576


@dataclass
class PackageResult:
    out_dir: Path
    template_path: Path
    merge_template_path: Path
    lint: checks.LintResult
    seconds: float
    unzipped_bytes: int = 0


class PackageTooLarge(SystemExit):
    pass


def unzipped_size(zip_path: Path) -> int:
    """Bytes of the files in a zip once extracted (what Lambda counts against its limit)."""
    with zipfile.ZipFile(zip_path) as archive:
        return sum(info.file_size for info in archive.infolist() if not info.is_dir())


def check_unzipped_size(zip_path: Path, limit: int | None = None, log=print) -> int:
    """The unzipped size of the code zip, printed; ``PackageTooLarge`` (a SystemExit) when it exceeds ``limit``
    (default: ``LAMBDA_UNZIPPED_LIMIT``)."""
    limit = LAMBDA_UNZIPPED_LIMIT if limit is None else limit
    size = unzipped_size(zip_path)
    line = (f"{Path(zip_path).name}: {size:,} bytes unzipped ({size / MB:.1f} MB of Lambda's {limit / MB:.0f} MB, "
            f"{limit:,} bytes)")
    if size > limit:
        raise PackageTooLarge(f"{line}: too large, Lambda would refuse it. See docs/photo-assistant.md, "
                              f"\"Package size\" for what weighs what.")
    log(line)
    return size


def stage_project(target: Path, dependencies: Path | None) -> Path:
    """A clean copy of what Chalice packages: no bytecode, no local state, dependencies as vendor/."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(PROJECT_DIR / "app.py", target / "app.py")
    shutil.copytree(PROJECT_DIR / "chalicelib", target / "chalicelib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (target / ".chalice").mkdir()
    for path in (PROJECT_DIR / ".chalice").glob("*.json"):
        shutil.copy2(path, target / ".chalice" / path.name)
    # Chalice would build requirements.txt for the Python that runs it; infra.deps built them for Lambda's.
    (target / "requirements.txt").write_text("")
    if dependencies is not None:
        (target / "vendor").symlink_to(dependencies, target_is_directory=True)
    return target


def run_chalice_package(project: Path, stage: str, merge_template: Path, out: Path, region: str) -> None:
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", region)  # Chalice needs a region to start; the template uses AWS::Region
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(name, None)
    command = [sys.executable, "-c", CHALICE_CLI, "--project-dir", str(project), "package", "--stage", stage,
               "--pkg-format", "cloudformation", "--merge-template", str(merge_template), str(out)]
    completed = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"chalice package failed ({completed.returncode}):\n{completed.stdout}{completed.stderr}")


def package(stage_name: str, out_dir: Path, with_dependencies: bool = True, strict: bool = True,
            log=print) -> PackageResult:
    """Package a stage; ``strict`` refuses (SystemExit) a template that fails the checks, else the caller checks."""
    started = time.monotonic()
    stage = load_stage(stage_name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    merge_path = out_dir / "merge-template.json"
    template.write(stage_name, merge_path)
    log(f"Merge template: {merge_path} (generated from the code)")
    dependencies = None
    if with_dependencies:
        from .deps import build_dependencies

        dependencies = build_dependencies(log=log)
    with tempfile.TemporaryDirectory(prefix=f"carteselus-{stage_name}-") as temporary:
        project = stage_project(Path(temporary) / "project", dependencies)
        chalice_out = Path(temporary) / "out"
        log(f"chalice package --stage {stage_name} --pkg-format cloudformation --merge-template {merge_path.name}")
        run_chalice_package(project, stage_name, merge_path, chalice_out, stage.options.region)
        for produced in chalice_out.iterdir():
            destination = out_dir / produced.name
            if destination.exists():
                destination.unlink()
            shutil.move(str(produced), destination)
    unzipped = check_unzipped_size(out_dir / "deployment.zip", log=log)
    if dependencies is not None:
        from .deps import largest_packages

        log("Largest dependencies (unzipped): " + ", ".join(f"{name} {size / MB:.1f} MB"
                                                             for name, size in largest_packages(dependencies)))
    template_path = out_dir / "sam.json"
    packaged = checks.load(template_path)
    problems = [f"not created by chalice, so not overridden: {name}" for name in checks.unmerged_overrides(packaged)]
    problems += checks.least_privilege_problems(packaged, stage)
    if problems and strict:
        raise SystemExit("The packaged template breaks the rules:\n  " + "\n  ".join(problems))
    lint = checks.cfn_lint(template_path, regions=(stage.options.region,))
    for line in lint.warnings + lint.informational:
        log(f"cfn-lint: {line}")
    if lint.errors and strict:
        raise SystemExit("cfn-lint errors:\n  " + "\n  ".join(lint.errors))
    seconds = time.monotonic() - started
    log(f"{template_path} and {out_dir / 'deployment.zip'}: cfn-lint 0 errors, {len(lint.warnings)} warnings "
        f"({seconds:.0f} s)")
    return PackageResult(out_dir, template_path, merge_path, lint, seconds, unzipped)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", type=Path, help="output folder (default: build/<stage>)")
    parser.add_argument("--no-dependencies", action="store_true",
                        help="package the code alone (a quick check of the template; not deployable)")
    args = parser.parse_args(argv)
    out = args.out or PROJECT_DIR / "build" / args.stage
    package(args.stage, out, with_dependencies=not args.no_dependencies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
