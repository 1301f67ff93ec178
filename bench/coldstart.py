"""Cold start: the time to import the deployed app module in a fresh interpreter, against a bare ``import boto3``.

Each measure is a new ``python`` process (bytecode compiled beforehand, as ``chalice package`` ships it) timing its
own imports: the interpreter's own start-up, the same for all, is left out. The figure is the CPU time of the imports
(``time.process_time``: user + system, the bytecode files being in the page cache), which the other work of the
shared machine does not inflate as it does the wall time (the wall-time medians are reported too; they agree when
the machine is quiet). The variants take turns.

- boto3: ``import boto3`` (what any Python Lambda function talking to AWS pays at least);
- api: ``import app`` and resolve a route's view function (what an API function does before its first request);
- image: the api work plus what ``process_photo_event`` needs: the photo service, the imaging modules, Pillow's JPEG
  plug-in (``PIL.Image.open`` loads it on the first photo).

The first request (``first_request``): a fresh process imports the API function and serves its first authenticated
``GET /officials`` (the API Gateway proxy event handed to ``app.app`` as Lambda does: settings, clients, the session's
read, the page of officials, the response's schema), against a fresh process that imports boto3, makes a DynamoDB
client and reads one item (``GetItem``). Both talk to the same AWS emulation, moto's server in another process
(``bench.endpoint``), over HTTP on the loopback: both pay real connections. CPU time of the measured process (its
HTTP included, the server's work not), wall time reported too.

When a target is missed, ``python -X importtime`` tells which packages, beyond those ``import boto3`` loads anyway,
take the time (self time summed per top-level package).
"""
from __future__ import annotations

import compileall
import os
import subprocess
import sys

from .common import PROJECT_DIR, median

_TIMED = ("import time as _t\n_c, _s = _t.process_time(), _t.perf_counter()\n{body}\n"
          "print((_t.process_time() - _c) * 1000, (_t.perf_counter() - _s) * 1000)\n")
VARIANTS = {
    "boto3": "import boto3",
    "api": "import app\napp.app.routes['/officials']['GET'].view_function",
    "image": ("import app\napp.app.handler_map['process_photo_event']\n"
              "import chalicelib.services.photos, chalicelib.imaging.photo, chalicelib.imaging.card\n"
              "import PIL.JpegImagePlugin"),
}


def _environment() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # use the compiled bytecode, never write more while measuring
    return env


def compile_bytecode() -> None:
    compileall.compile_dir(str(PROJECT_DIR / "chalicelib"), quiet=1)
    compileall.compile_file(str(PROJECT_DIR / "app.py"), quiet=1)


def _run(code: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *options, "-c", code], cwd=PROJECT_DIR, env=_environment(), check=True,
                          capture_output=True, text=True)


def import_ms(variant: str) -> tuple[float, float]:
    """(CPU time, wall time) of the variant's imports, in ms."""
    cpu, wall = _run(_TIMED.format(body=VARIANTS[variant])).stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def measure(rounds: int = 15) -> dict:
    compile_bytecode()
    for variant in VARIANTS:  # warm the file-system cache; make sure every module has its bytecode
        _run(VARIANTS[variant])
    cpu: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    wall: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for _ in range(rounds):
        for variant in VARIANTS:
            cpu_ms, wall_ms = import_ms(variant)
            cpu[variant].append(cpu_ms)
            wall[variant].append(wall_ms)
    medians = {variant: median(values) for variant, values in cpu.items()}
    walls = {variant: median(values) for variant, values in wall.items()}
    return {
        "import_ms": {variant: round(value, 1) for variant, value in medians.items()},
        "wall_ms": {variant: round(value, 1) for variant, value in walls.items()},
        "runs": rounds,
        "cold_api_vs_boto3": medians["api"] / medians["boto3"],
        "cold_image_vs_boto3": medians["image"] / medians["boto3"],
        "wall_api_vs_boto3": walls["api"] / walls["boto3"],
        "wall_image_vs_boto3": walls["image"] / walls["boto3"],
    }


# --- the first request ----------------------------------------------------------------------------------------------

_FIRST_REQUEST = ("import app, json, os\n"
                  "_r = app.app(json.loads(os.environ['BENCH_EVENT']), None)\n"
                  "assert _r['statusCode'] == 200 and json.loads(_r['body'])['items'], _r")
_GETITEM = ("import boto3\n"
            "_r = boto3.client('dynamodb').get_item(TableName='carteselus-local-accounts', "
            "Key={'email': {'S': 'agent@mairie-bourg.fr'}})\n"
            "assert 'Item' in _r, _r")


def _officials_event(token: str) -> dict:
    """``GET /officials`` as API Gateway (REST, Lambda proxy) hands it to the function."""
    headers = {"Authorization": f"Bearer {token}", "Host": "api.bench.test", "Accept": "application/json"}
    return {"resource": "/officials", "path": "/officials", "httpMethod": "GET", "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None, "body": None,
            "isBase64Encoded": False,
            "requestContext": {"resourcePath": "/officials", "httpMethod": "GET", "stage": "api",
                               "identity": {"sourceIp": "127.0.0.1"}, "requestId": "bench"}}


def first_request(rounds: int = 15) -> dict:
    """``first_request_vs_boto3``: see the module's docstring."""
    import json

    from .endpoint import Endpoint

    compile_bytecode()
    with Endpoint() as aws:
        env = aws.environment()
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        seeded = subprocess.run([sys.executable, "-c", "from bench.endpoint import seed_commune_session\n"
                                 "print(seed_commune_session())"], cwd=PROJECT_DIR, env=env, check=True,
                                capture_output=True, text=True)
        env["BENCH_EVENT"] = json.dumps(_officials_event(seeded.stdout.strip().splitlines()[-1]))
        variants = {"first_request": _FIRST_REQUEST, "getitem": _GETITEM}

        def timed(name: str) -> tuple[float, float]:
            output = subprocess.run([sys.executable, "-c", _TIMED.format(body=variants[name])], cwd=PROJECT_DIR,
                                    env=env, check=True, capture_output=True, text=True).stdout
            cpu, wall = output.strip().splitlines()[-1].split()
            return float(cpu), float(wall)

        for name in variants:  # warm the page cache and the emulation
            timed(name)
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        wall: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name in variants:
                c, w = timed(name)
                cpu[name].append(c)
                wall[name].append(w)
    medians = {name: median(values) for name, values in cpu.items()}
    walls = {name: median(values) for name, values in wall.items()}
    return {"cpu_ms": {k: round(v, 1) for k, v in medians.items()},
            "wall_ms": {k: round(v, 1) for k, v in walls.items()}, "runs": rounds,
            "first_request_vs_boto3": medians["first_request"] / medians["getitem"],
            "wall_first_request_vs_boto3": walls["first_request"] / walls["getitem"]}


# --- what dominates -------------------------------------------------------------------------------------------------

def parse_importtime(stderr: str) -> dict[str, int]:
    """Module -> self time in microseconds, from ``python -X importtime`` output."""
    modules = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = line[len("import time:"):].split("|")
        if len(fields) == 3:
            modules[fields[2].strip()] = int(fields[0].strip())
    return modules


def beyond_boto3(variant: str, top: int = 8) -> list[dict]:
    """The top-level packages that ``variant`` imports and ``import boto3`` does not, by summed self time."""
    baseline = parse_importtime(_run(VARIANTS["boto3"], "-X", "importtime").stderr)
    measured = parse_importtime(_run(VARIANTS[variant], "-X", "importtime").stderr)
    packages: dict[str, int] = {}
    for module, self_us in measured.items():
        if module in baseline:
            continue
        package = module.split(".")[0]
        if package == "chalicelib":
            package = ".".join(module.split(".")[:2])
        packages[package] = packages.get(package, 0) + self_us
    total = sum(packages.values()) or 1
    ranked = sorted(packages.items(), key=lambda item: -item[1])[:top]
    return [{"package": name, "self_ms": round(us / 1000, 1), "share": round(us / total, 3)} for name, us in ranked]
