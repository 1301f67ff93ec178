"""`make security`: everything of issue 6 against a fresh local stack, then docs/security.md rewritten with the figures.

    python -m tests.security.run [--api-seconds 150] [--photo-seconds 90]

1. The fast tests (tests/security: isolation matrix, field-level access, abuse limits, fault injection, headers, logs
   and audit) on moto, with their figures collected (SECURITY_FIGURES_DIR);
2. a fresh local stack (`python -m local.stack --free-ports`), fuzzed by schemathesis from its own OpenAPI document
   (api_fuzz.py), then stopped;
3. the photo sanitiser fuzzed by atheris (photo_fuzz.py);
4. docs/security.md rendered from tests/security/security.md.in and the figures.
Stops by itself: each step has a time budget. Exit code 0 only if every figure that must be 0 is 0.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATE = Path(__file__).with_name("security.md.in")
OUTPUT = PROJECT_DIR / "docs" / "security.md"
VAR = PROJECT_DIR / "var" / "security"


def run_tests(figures_dir: Path) -> dict:
    junit = figures_dir / "pytest.xml"
    started = time.monotonic()
    process = subprocess.run([sys.executable, "-m", "pytest", "tests/security", "-q", "-p", "no:randomly",
                              f"--junitxml={junit}"], cwd=PROJECT_DIR, capture_output=True, text=True,
                             env=_env(SECURITY_FIGURES_DIR=str(figures_dir)), timeout=1800)
    elapsed = time.monotonic() - started
    results = {"seconds": round(elapsed, 1), "exit_code": process.returncode, "tests": [], "failed": []}
    if junit.exists():
        for case in ElementTree.parse(junit).getroot().iter("testcase"):
            name = f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
            failure = case.find("failure")
            if failure is None:
                failure = case.find("error")
            results["tests"].append(name)
            if failure is not None:
                results["failed"].append({"test": name, "message": (failure.get("message") or "")[:600]})
    return results


def _env(**extra) -> dict:
    import os

    return {**os.environ, **extra}


def run_api_fuzzing(seconds: int, workdir: Path) -> dict:
    sys.path.insert(0, str(PROJECT_DIR))
    from tests.e2e.conftest import start_stack
    from tests.security import api_fuzz

    stack = start_stack(workdir)
    try:
        return api_fuzz.run(stack.state, seconds, VAR)
    finally:
        stack.stop()


def run_photo_fuzzing(seconds: int) -> dict:
    report = VAR / "photo-fuzz.json"
    subprocess.run([sys.executable, "-m", "tests.security.photo_fuzz", "--seconds", str(seconds), "--report",
                    str(report)], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=seconds + 300)
    return json.loads(report.read_text()) if report.exists() else {"error": "no report"}


def load(figures_dir: Path, name: str) -> dict:
    path = figures_dir / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def limits_table() -> str:
    from tests.security.test_abuse_limits import all_limits

    subjects = {"activation": "wrong activation codes for one SIREN",
                "activation-alert": "wrong activation codes for one SIREN: its agents, or its préfecture's, told",
                "login-pair": "failed logins for one account from one source address",
                "login-account": "failed logins for one account, from any addresses: its holder told",
                "login-source": "failed logins from one source address", "reset": "password-reset requests for one email",
                "uploads": "photo uploads started by one commune",
                "registration-source": "failed registrations from one source address, whatever the SIREN",
                "reset-source": "password-reset requests from one source address, whatever the email",
                "invitations": "agents invited by one commune (each invitation e-mails the address typed)",
                "token-pair": "failed token requests (`POST /oauth/token`) for one API client id from one source "
                              "address",
                "token-source": "failed token requests from one source address, whatever the client id"}
    rows = ["| limit (code) | what | attempts | window | lock, at most | answer |", "|---|---|---|---|---|---|"]
    for name, limit in sorted(all_limits().items(), key=lambda kv: kv[1].name):
        lock, answer = ((f"{limit.lock_seconds // 60} min", "429 `too_many_attempts` + `Retry-After`") if limit.refuses
                        else ("none", "an email (queued for any subject alike), no refusal"))
        rows.append(f"| `{limit.name}` (`{name.split('.')[-2]}.{name.split('.')[-1]}`) | "
                    f"{subjects.get(limit.name, '?')} | {limit.attempts} | {limit.window_seconds // 60} min | "
                    f"{lock} | {answer} |")
    return "\n".join(rows)


def faults_table(faults: dict) -> str:
    rows = ["| use case | injection points | outcome |", "|---|---|---|"]
    for name, result in faults.items():
        outcome = "clean (503 + Retry-After, nothing changed; or completed)" if not result["problems"] else \
            "<br>".join(p.replace("|", "/") for p in result["problems"][:4]) + \
            (f" (+{len(result['problems']) - 4})" if len(result["problems"]) > 4 else "")
        rows.append(f"| {name} | {result['injection_points']} | {outcome} |")
    return "\n".join(rows)


def failed_list(tests: dict) -> str:
    if not tests.get("failed"):
        return "None: every test of `tests/security` passes."
    return "\n".join(f"- `{f['test']}`: {f['message'].splitlines()[0][:300] if f['message'] else ''}"
                     for f in tests["failed"])


def render(figures: dict) -> str:
    tests, api, photo = figures["tests"], figures["api"], figures["photo"]
    isolation, mass, faults, logs = figures["isolation"], figures["mass"], figures["faults"], figures["logs"]
    st_cases = api.get("numbers", {})
    values = {
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "runtime": f"{figures['runtime']:.0f}",
        "tests_total": len(tests.get("tests", [])), "tests_failed": len(tests.get("failed", [])),
        "tests_seconds": tests.get("seconds", "?"),
        "api_tool": api.get("tool", "schemathesis"), "api_seconds": api.get("seconds", "?"),
        "api_operations": st_cases.get("operations.tested", "?"),
        "api_operations_total": st_cases.get("operations.total", "?"),
        "api_cases": st_cases.get("test_cases.generated", "?"),
        "api_failures": st_cases.get("test_cases.with_failures", "?"),
        "api_server_errors": _count_failures(api, "ST101"),
        "api_schema_violations": _schema_violations(api),
        "api_phases": api.get("phases", "?"), "api_exit": api.get("exit_code", "?"),
        "api_seed": api.get("seed", "see var/security/schemathesis.json"),
        "iso_operations": isolation.get("operations", "?"), "iso_cases": isolation.get("cases", "?"),
        "iso_violations": len(isolation.get("violations", [])) if isolation else "?",
        "iso_headers": len(isolation.get("header_violations", [])) if isolation else "?",
        "iso_by_expected": ", ".join(f"{k}: {v}" for k, v in isolation.get("by_expected", {}).items()),
        "iso_changed": "none" if isolation and not isolation.get("data_changed") else str(isolation.get("data_changed")),
        "mass_operations": mass.get("operations", "?"), "mass_attempts": mass.get("attempts", "?"),
        "mass_failures": len(mass.get("failures", [])) if mass else "?",
        "photo_tool": photo.get("tool", "?"), "photo_seconds": photo.get("seconds", "?"),
        "photo_executions": photo.get("executions", "?"), "photo_crashes": photo.get("crashes", "?"),
        "photo_hangs": photo.get("hangs", "?"), "photo_oom": photo.get("out_of_memory", "?"),
        "photo_rss": photo.get("peak_rss_mb", "?"), "photo_rss_limit": photo.get("rss_limit_mb", "?"),
        "photo_timeout": photo.get("per_input_limit_s", "?"), "photo_seeds": photo.get("seeds", "?"),
        "photo_corpus": photo.get("corpus_after", "?"), "photo_edges": photo.get("coverage_edges", "?"),
        "fault_points": sum(r["injection_points"] for r in faults.values()),
        "fault_cases": len(faults), "fault_problems": sum(1 for r in faults.values() if r["problems"]),
        "faults_table": faults_table(faults), "limits_table": limits_table(),
        "log_lines": logs.get("lines", "?"), "log_secrets": len(logs.get("secrets_checked", [])),
        "log_found": len(logs.get("secrets_found", [])) if logs else "?",
        "failed_tests": failed_list(tests),
    }
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    return text


def _count_failures(api: dict, code: str) -> int | str:
    report = VAR / "schemathesis.json"
    if not report.exists():
        return "?"
    failures = json.loads(report.read_text()).get("failures", [])
    return sum(f.get("count", 0) for f in failures if f.get("code") == code)


def _schema_violations(api: dict) -> int | str:
    report = VAR / "schemathesis.json"
    if not report.exists():
        return "?"
    failures = json.loads(report.read_text()).get("failures", [])
    return sum(f.get("count", 0) for f in failures if f.get("code") != "ST101")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-seconds", type=int, default=150)
    parser.add_argument("--photo-seconds", type=int, default=90)
    parser.add_argument("--skip-tests", action="store_true", help="reuse the test figures of the last run")
    parser.add_argument("--render-only", action="store_true", help="rewrite docs/security.md from the last figures")
    args = parser.parse_args(argv)
    started = time.monotonic()
    VAR.mkdir(parents=True, exist_ok=True)
    figures_dir = VAR / "figures"
    figures_dir.mkdir(exist_ok=True)
    if args.render_only:
        figures = {name: load(figures_dir, name) for name in ("tests", "api", "isolation", "faults", "logs", "limits")}
        figures |= {"mass": load(figures_dir, "mass_assignment"), "photo": json.loads((VAR / "photo-fuzz.json")
                                                                                     .read_text()),
                    "runtime": json.loads((figures_dir / "runtime.json").read_text())["seconds"]}
        OUTPUT.write_text(render(figures))
        return 0
    print("1/4 tests/security (isolation, field level, limits, faults, headers, logs)…", flush=True)
    tests = json.loads((figures_dir / "tests.json").read_text()) if args.skip_tests else run_tests(figures_dir)
    (figures_dir / "tests.json").write_text(json.dumps(tests, indent=1))
    print(f"   {len(tests['tests'])} tests, {len(tests['failed'])} failed, {tests['seconds']} s", flush=True)
    print(f"2/4 API fuzzing on a fresh local stack ({args.api_seconds} s)…", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        api = run_api_fuzzing(args.api_seconds, Path(folder))
    (figures_dir / "api.json").write_text(json.dumps(api, indent=1))
    print(f"   {api.get('numbers', {}).get('test_cases.generated')} test cases", flush=True)
    print(f"3/4 photo sanitiser fuzzing ({args.photo_seconds} s)…", flush=True)
    photo = run_photo_fuzzing(args.photo_seconds)
    print(f"   {photo.get('executions')} executions, {photo.get('crashes')} crashes", flush=True)
    figures = {"tests": tests, "api": api, "photo": photo, "isolation": load(figures_dir, "isolation"),
               "mass": load(figures_dir, "mass_assignment"), "faults": load(figures_dir, "faults"),
               "logs": load(figures_dir, "logs"), "limits": load(figures_dir, "limits"),
               "runtime": time.monotonic() - started}
    print("4/4 docs/security.md", flush=True)
    (figures_dir / "runtime.json").write_text(json.dumps({"seconds": figures["runtime"]}))
    OUTPUT.write_text(render(figures))
    print(f"done in {figures['runtime']:.0f} s: {OUTPUT}", flush=True)
    zero = [api.get("numbers", {}).get("test_cases.with_failures", 1), photo.get("crashes", 1),
            photo.get("hangs", 1), len(tests.get("failed", [1]))]
    return 0 if not any(zero) else 1


if __name__ == "__main__":
    sys.exit(main())
