"""`python -m infra.publish_site --stage prod`: the static site to the stage's site bucket, then a CloudFront refresh.

Builds the pages from site-src/ (scripts/build_site.py: the generated site/*.html are not committed, so what is
uploaded always matches site-src/), then uploads site/ (with its front-end packages in site/vendor/, installed by
`make run` / `make test`, or `bash scripts/install-site-deps.sh`) and the site's config.json (the API on the same
origin, as the local site server serves it), removes what the new version no longer has, then invalidates
CloudFront's copies. The bucket and the distribution are read from the stack's outputs. Uses the caller's AWS
credentials: s3:ListBucket, s3:PutObject and s3:DeleteObject on the site bucket, cloudformation:DescribeStacks,
cloudfront:CreateInvalidation.
"""
import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

from local.site_server import NOT_FOUND_PAGE, content_type

from .project import PROJECT_DIR, load_stage, site_config

SITE_DIR = PROJECT_DIR / "site"
SITE_SOURCES = PROJECT_DIR / "site-src"
# CloudFront serves the site's 404 page (NOT_FOUND_PAGE) for any unknown address, with the status its object's metadata
# names (infra/template.py, site_routing_functions), as the local site server does.
NOT_FOUND_METADATA = {"site-status": "404"}
# Served as they are under this prefix (DSFR's hundreds of files); a missing one is S3's own 404.
PASSED_THROUGH = "vendor/"
BUILD_SCRIPT = PROJECT_DIR / "scripts" / "build_site.py"
# Loaded by the browser tests only.
NOT_PUBLISHED = ("vendor/axe-core/",)


def stack_name(stage_name: str) -> str:
    stage = load_stage(stage_name)
    return f"{stage.app_name}-{stage.name}"


def stack_outputs(cloudformation, name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def site_files(site_dir: Path = SITE_DIR) -> dict[str, Path]:
    """Object key -> file: everything under site/ but dotfiles and test-only packages."""
    if not (site_dir / "vendor" / "dsfr").is_dir():
        raise SystemExit("site/vendor/ is missing: run `bash scripts/install-site-deps.sh` (or `make run`) first")
    if not (site_dir / "vendor" / "chartjs").is_dir():
        raise SystemExit("site/vendor/chartjs/ is missing: run `bash scripts/install-site-deps.sh` (or `make run`) "
                         "first")
    found = {}
    for path in sorted(site_dir.rglob("*")):
        key = path.relative_to(site_dir).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in key.split("/")) \
                and not key.startswith(NOT_PUBLISHED):
            found[key] = path
    return found


def generated_files() -> tuple[str, ...]:
    """What scripts/build_site.py writes besides the pages (the DSFR bundle, constants.js, robots.txt, sitemap.xml)."""
    spec = importlib.util.spec_from_file_location("build_site", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.GENERATED_FILES


def known_paths(site_dir: Path = SITE_DIR, source_dir: Path = SITE_SOURCES) -> list[str]:
    """The addresses of the site outside vendor/, from its sources (the pages of site-src/, the scripts and styles of
    site/, and what the build writes), so that the template can be generated before the site is built."""
    paths = {f"/{p.name}" for p in (source_dir / "pages").glob("*.html")} | {"/config.json"}
    paths |= {f"/{name}" for name in generated_files()}
    for folder in ("js", "css"):
        paths |= {"/" + p.relative_to(site_dir).as_posix() for p in (site_dir / folder).rglob("*") if p.is_file()}
    return sorted(paths)


def build_pages(site_dir: Path = SITE_DIR, site_url: str | None = None) -> None:
    """The pages are build products (site-src/ -> site/*.html): rebuilt before every upload, never published stale;
    sitemap.xml names the stage's own address."""
    command = [sys.executable, str(BUILD_SCRIPT), "--out", str(site_dir)] + (["--site-url", site_url] if site_url else [])
    result = subprocess.run(command, cwd=PROJECT_DIR)
    if result.returncode:
        raise SystemExit("the site's pages could not be built from site-src/ (scripts/build_site.py, above)")


def publish(s3, bucket: str, site_dir: Path = SITE_DIR, log=print) -> dict:
    files = site_files(site_dir)
    for key, path in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type(key),
                      CacheControl="no-cache", Metadata=NOT_FOUND_METADATA if key == NOT_FOUND_PAGE else {})
    # The browser reads it before any API call (site/js/api.js): the API is on the same origin.
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(site_config()).encode(),
                  ContentType=content_type("config.json"), CacheControl="no-cache")
    keep = set(files) | {"config.json"}
    stale = [obj["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
             for obj in page.get("Contents", []) if obj["Key"] not in keep]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start:start + 1000]],
                                                 "Quiet": True})
    log(f"s3://{bucket}: {len(keep)} files published, {len(stale)} removed")
    return {"published": sorted(keep), "removed": stale}


def invalidate(cloudfront, distribution_id: str, log=print) -> str:
    answer = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"publish-{time.time_ns()}"})
    log(f"CloudFront {distribution_id}: invalidation {answer['Invalidation']['Id']} (a few minutes)")
    return answer["Invalidation"]["Id"]


def main(argv=None) -> int:
    import boto3

    parser = argparse.ArgumentParser(description="Publish site/ to a deployed stage.")
    parser.add_argument("--stage", required=True)
    parser.add_argument("--stack", help="CloudFormation stack name (default: carteselus-<stage>)")
    parser.add_argument("--region", help="the stack's region (default: AWS_REGION, else the stage's)")
    parser.add_argument("--no-build", action="store_true",
                        help="publish site/ as it is, without rendering its pages from site-src/ first")
    args = parser.parse_args(argv)
    if not args.no_build:
        build_pages(site_url=load_stage(args.stage).site_url)
    region = args.region or boto3.session.Session().region_name or load_stage(args.stage).options.region
    outputs = stack_outputs(boto3.client("cloudformation", region_name=region), args.stack or stack_name(args.stage))
    publish(boto3.client("s3", region_name=region), outputs["SiteBucketName"])
    invalidate(boto3.client("cloudfront"), outputs["SiteDistributionId"])
    print(f"{outputs['SiteUrl']} serves the new version once the invalidation completes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
