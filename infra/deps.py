"""The Lambda functions' Python dependencies (requirements.txt), built once and cached.

Chalice's own dependency builder does the work (manylinux wheels for the Lambda runtime from the package index pip is
configured with), with two differences from a plain `chalice package`:

- it targets the runtime of `infra.project.LAMBDA_RUNTIME`, not the Python that runs the build: pip is told the
  target Python version, so wheels with compiled code are those of the runtime;
- a package that exists only as a source distribution with compiled code would be built on this machine, against this
  machine's libraries (Chalice accepts such a wheel, and Lambda then fails to import it): the build refuses it.

The result is cached under `build/.cache/` by the hash of requirements.txt and the target, so that packaging again
after a code change only zips the code.
"""
import hashlib
import shutil
from pathlib import Path

from .project import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, PROJECT_DIR

CACHE_DIR = PROJECT_DIR / "build" / ".cache"
COMPLETE_MARKER = ".complete"


class LocallyBuiltBinary(RuntimeError):
    pass


def _abi(runtime: str) -> str:
    major, minor = runtime.removeprefix("python").split(".")
    return f"cp{major}{minor}"


def _pip_runner(python_version: str):
    from chalice.deploy.packager import PipRunner, SubprocessPip
    from chalice.utils import OSUtils

    class TargetPythonPipRunner(PipRunner):
        """Chalice's pip calls, with the target Python version given to pip (Chalice assumes its own)."""

        def download_manylinux_wheels(self, abi, packages, directory, platforms=None):
            for package in packages:
                arguments = ["--only-binary=:all:", "--no-deps"]
                for platform in platforms or ["manylinux2014_x86_64"]:
                    arguments += ["--platform", platform]
                arguments += ["--implementation", "cp", "--python-version", python_version, "--abi", abi,
                              "--dest", directory, package]
                self._execute("download", arguments)

    return TargetPythonPipRunner(SubprocessPip(OSUtils()), OSUtils())


def cache_key(requirements: Path, runtime: str = LAMBDA_RUNTIME, architecture: str = LAMBDA_ARCHITECTURE) -> str:
    import chalice

    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{runtime}|{architecture}|chalice {chalice.__version__}".encode())
    return digest.hexdigest()[:16]


def wheel_tags(site_packages: Path) -> dict[str, list[str]]:
    """dist-info name -> the tags of the wheel it was installed from."""
    tags = {}
    for wheel in site_packages.glob("*.dist-info/WHEEL"):
        tags[wheel.parent.name] = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines()
                                   if line.startswith("Tag:")]
    return tags


def locally_built(site_packages: Path) -> list[str]:
    """Distributions whose wheel is binary for a bare `linux_*` platform: compiled here, not a manylinux wheel."""
    found = []
    for name, wheel_tag_list in wheel_tags(site_packages).items():
        platforms = {tag.rsplit("-", 1)[-1] for tag in wheel_tag_list}
        if platforms and all(p.startswith("linux_") for p in platforms):
            found.append(name)
    return sorted(found)


def installed_size(path: Path, skip=lambda path: False) -> int:
    """Bytes of the regular files under ``path`` (or of ``path`` itself), as they would be once unzipped."""
    path = Path(path)
    if path.is_file():
        return 0 if skip(path) else path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink() and not skip(f))


def largest_packages(site_packages: Path, count: int = 6) -> list[tuple[str, int]]:
    """The ``count`` largest top-level entries of a site-packages folder (a package with its ``.libs`` folder of
    bundled shared libraries counted together), with their size in bytes, largest first."""
    sizes: dict[str, int] = {}
    for entry in Path(site_packages).iterdir():
        if entry.name.endswith((".dist-info", ".data")) or entry.name == "__pycache__":
            continue
        name = entry.name.removesuffix(".libs")
        if not (entry.parent / name).is_dir():  # pillow.libs belongs to PIL: left as it is
            name = entry.name
        sizes[name] = sizes.get(name, 0) + installed_size(entry)
    return sorted(sizes.items(), key=lambda item: -item[1])[:count]


def cached_dependencies(requirements: Path = PROJECT_DIR / "requirements.txt", runtime: str = LAMBDA_RUNTIME,
                        cache_dir: Path = CACHE_DIR) -> Path | None:
    """The already built site-packages for ``requirements``, or None (nothing is built or downloaded here)."""
    target = cache_dir / f"lambda-deps-{_abi(runtime)}-{cache_key(requirements, runtime)}"
    return target if target.with_name(target.name + COMPLETE_MARKER).exists() and target.is_dir() else None


def build_dependencies(requirements: Path = PROJECT_DIR / "requirements.txt", runtime: str = LAMBDA_RUNTIME,
                       cache_dir: Path = CACHE_DIR, log=print) -> Path:
    """The site-packages for the Lambda runtime, from the cache or built now."""
    from chalice.deploy.packager import DependencyBuilder, MissingDependencyError, NoSuchPackageError
    from chalice.utils import OSUtils

    cached = cached_dependencies(requirements, runtime, cache_dir)
    if cached is not None:
        log(f"Dependencies for {runtime}: reusing {cached}")
        return cached
    target = cache_dir / f"lambda-deps-{_abi(runtime)}-{cache_key(requirements, runtime)}"
    complete = target.with_name(target.name + COMPLETE_MARKER)
    partial = target.with_name(target.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    log(f"Dependencies for {runtime}: building from {requirements.name} (manylinux wheels from the package index)")
    builder = DependencyBuilder(OSUtils(), pip_runner=_pip_runner(runtime.removeprefix("python")),
                                architecture=LAMBDA_ARCHITECTURE)
    try:
        builder.build_site_packages(_abi(runtime), str(requirements), str(partial))
    except NoSuchPackageError as error:
        raise SystemExit(f"The Lambda dependencies could not be downloaded ({error}) from the package index pip is "
                         f"configured with (see `pip config list`): the first packaging needs it, later ones reuse "
                         f"{cache_dir}") from None
    except MissingDependencyError as error:
        missing = ", ".join(sorted(p.identifier for p in error.missing))
        raise SystemExit(f"No Lambda-compatible ({runtime}, {LAMBDA_ARCHITECTURE}) wheel for: {missing}") from None
    compiled_here = locally_built(partial)
    if compiled_here:
        raise LocallyBuiltBinary(
            f"These packages have no manylinux wheel for {runtime} and were compiled on this machine, against its "
            f"libraries, which Lambda does not have: {', '.join(compiled_here)}. Pin a version that publishes a "
            f"manylinux wheel for the runtime's glibc, or change infra.project.LAMBDA_RUNTIME.")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    complete.write_text(runtime + "\n")  # written last: an interrupted build is never reused
    return target
