"""API fuzzing with schemathesis against a running local stack, from the project's own OpenAPI document.

    python -m tests.security.api_fuzz --state var/local-stack.json --seconds 150 --report-dir var/security

1. Real authentication for each role: the demo commune is registered with the activation code of the state file, its
   agent sets a password from the link found in the outbox and logs in; the card maker and the préfecture log in with
   the credentials of the state file.
2. ``schemathesis run {api_url}/openapi.json`` with the four phases (examples, coverage, fuzzing, stateful), every
   operation, per-operation tokens from ``x-roles`` (``st_hooks.py``), bounded by ``--max-time``.
3. Checks: no server error, answers conform to the documented schemas, status codes and content types. A 429 of the
   abuse limits is documented on the limited operations and so is a conforming answer.
The figures (operations, test cases, server errors, schema violations) come from schemathesis' own JSON report.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import requests

PROJECT_DIR = Path(__file__).resolve().parents[2]
AGENT_PASSWORD = "sept lapins bleus dansent sous la halle"
CHECKS = ["not_a_server_error", "response_schema_conformance", "status_code_conformance",
          "content_type_conformance", "response_headers_conformance"]
PHASES = "examples,coverage,fuzzing,stateful"
# The coverage phase also sends methods no route declares. TRACE is left out: locally it never reaches the app (the
# chalice local server, Python's BaseHTTPServer, answers it with its own 501 HTML page); in production CloudFront only
# forwards GET, HEAD, OPTIONS, PUT, PATCH, POST and DELETE (infra/template.py), so TRACE never reaches the API either.
CONFIG = """
[phases.coverage]
unexpected-methods = ["get", "put", "post", "delete", "options", "patch"]
"""


def authenticate(state: dict) -> dict:
    api = state["api_url"]
    demo = state["demo"]
    agent = f"agent.fuzz@mairie-{demo['siren']}.example.fr"
    registered = requests.post(f"{api}/registrations", json={
        "siren": demo["siren"], "activation_code": demo["activation_code"], "last_name": "Fuzz",
        "first_name": "Agent", "email": agent}, timeout=60)
    if registered.status_code != 201:
        raise RuntimeError(f"registration of the demo commune: {registered.status_code} {registered.text}")
    link = None
    deadline = time.monotonic() + 30
    while link is None and time.monotonic() < deadline:
        for path in sorted(Path(state["outbox_dir"]).glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == agent:
                text = message.get_body(preferencelist=("plain",)).get_content()
                link = re.search(r"\?token=([A-Za-z0-9_.\-]+)", text).group(1)
                break
        time.sleep(0.2)
    assert requests.post(f"{api}/password", json={"token": link, "password": AGENT_PASSWORD},
                         timeout=60).status_code == 204
    from tests.helpers import otp

    operators = state["operators"]
    credentials = {"commune": (agent, AGENT_PASSWORD, None),
                   "manufacturer": (operators["manufacturer"]["email"], operators["manufacturer"]["password"],
                                    operators["manufacturer"]["totp_secret"]),
                   "prefecture": (operators["prefecture"]["email"], operators["prefecture"]["password"],
                                  operators["prefecture"]["totp_secret"])}
    tokens = {}
    for role, (address, password, secret) in credentials.items():
        body = {"email": address, "password": password} | ({"otp": otp(secret)} if secret else {})
        response = requests.post(f"{api}/sessions", json=body, timeout=60)
        assert response.status_code == 201, (role, response.text)
        assert response.json()["role"] == role
        tokens[role] = response.json()["token"]
    return {"tokens": tokens, "emails": {role: c[0] for role, c in credentials.items()}}


def stack_environment(state: dict) -> dict:
    """What the hooks need to open a session directly in the stack's emulated AWS (see st_hooks.py)."""
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(config["environment_variables"])
    environment.update(config["stages"]["local"]["environment_variables"])
    environment.update({"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                        "AWS_DEFAULT_REGION": "eu-west-3", "AWS_REGION": "eu-west-3",
                        "AWS_ENDPOINT_URL": state["aws_url"], "SITE_URL": state["site_url"],
                        "PYTHONPATH": str(PROJECT_DIR)})
    return environment


def run(state: dict, seconds: int, report_dir: Path, seed: int | None = None) -> dict:
    report_dir.mkdir(parents=True, exist_ok=True)
    tokens_file = report_dir / "st-tokens.json"
    tokens_file.write_text(json.dumps(authenticate(state)))
    json_report = report_dir / "schemathesis.json"
    junit = report_dir / "schemathesis-junit.xml"
    config = report_dir / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config), "run",
               f"{state['api_url']}/openapi.json",
               # the API itself: the document's ``servers`` name the site's ``/api`` (the CloudFront path), which
               # schemathesis would otherwise append to the API's own address
               "--url", state["api_url"],
               "--phases", PHASES, "--checks", ",".join(CHECKS), "--max-time", str(seconds), "--workers", "1",
               "--request-timeout", "30", "--report", "json,junit", "--report-json-path", str(json_report),
               "--report-junit-path", str(junit), "--no-color", "--continue-on-failure",
               "--suppress-health-check", "all"]
    if seed is not None:
        command += ["--seed", str(seed)]
    environment = stack_environment(state) | {"SCHEMATHESIS_HOOKS": "tests.security.st_hooks",
                                              "SECURITY_ST_TOKENS": str(tokens_file)}
    started = time.monotonic()
    process = subprocess.run(command, cwd=PROJECT_DIR, env=environment, capture_output=True, text=True,
                             timeout=seconds + 300)
    elapsed = time.monotonic() - started
    (report_dir / "schemathesis.log").write_text(process.stdout + process.stderr)
    tokens_file.unlink()
    figures = summarise(json_report, process.stdout + process.stderr)
    figures.update({"seconds": round(elapsed, 1), "exit_code": process.returncode, "phases": PHASES,
                    "checks": CHECKS, "tool": "schemathesis " + _version()})
    return figures


def summarise(json_report: Path, output: str) -> dict:
    figures: dict = {"failures": {}}
    if json_report.exists():
        report = json.loads(json_report.read_text())
        figures["raw_summary_keys"] = sorted(report)[:20]
        figures.update(_from_report(report))
    summary = re.search(r"API Operations:\s*\n(.*?)\n\n", output, re.S)
    if summary:
        figures["cli_summary"] = summary.group(1).strip()
    cases = re.search(r"Test cases:\s*\n\s*(.+)", output)
    if cases:
        figures["cli_test_cases"] = cases.group(1).strip()
    return figures


def _from_report(report: dict) -> dict:
    """Pick the counts out of schemathesis' JSON run report (kept tolerant of its exact layout)."""
    out: dict = {}

    def walk(value, path=""):
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, f"{path}.{key}" if path else key)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.setdefault("numbers", {})[path] = value

    walk(report)
    return out


def _version() -> str:
    from importlib.metadata import version

    return version("schemathesis")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", required=True)
    parser.add_argument("--seconds", type=int, default=150)
    parser.add_argument("--report-dir", default=str(PROJECT_DIR / "var" / "security"))
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    figures = run(json.loads(Path(args.state).read_text()), args.seconds, Path(args.report_dir), args.seed)
    print(json.dumps(figures, indent=1)[:5000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
