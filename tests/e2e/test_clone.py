"""A clone of the repository is the whole product: cloned into an empty folder, `make run` serves the demo from what
the clone holds, with nothing beside it (no neighbouring folder of design notes, no data from elsewhere).

The clone borrows this checkout's installed packages (.venv and site/vendor, both installed from the registries, not
from the project's neighbourhood) so that the test takes seconds, not a fresh install: `make -o` tells make not to
redo them. Everything else, the pages built from site-src/, the reference files, the photos, comes from the clone.
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import PROJECT_DIR
from tests.e2e.test_local_stack_lifecycle import group_members

NEIGHBOUR_PATTERN = r"\.\./shared|[\"']shared[\"'] */|/ *[\"']shared[\"']|parent */ *[\"']shared"


def test_no_code_makefile_or_script_reads_a_folder_beside_the_project():
    found = subprocess.run(["git", "grep", "-nE", NEIGHBOUR_PATTERN, "--", "*.py", "*.sh", "*.js", "Makefile",
                            ".ci/*"], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert found.returncode == 1, found.stdout  # git grep: 1 = nothing found


@pytest.fixture
def clone(tmp_path):
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_DIR, capture_output=True).returncode:
        pytest.skip("not a git checkout")
    portal = tmp_path / "portal"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(PROJECT_DIR), str(portal)], check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["portal"]  # nothing beside it
    (portal / ".venv").symlink_to(PROJECT_DIR / ".venv")
    (portal / "site" / "vendor").symlink_to(PROJECT_DIR / "site" / "vendor")
    return portal


def test_make_run_in_a_fresh_clone_serves_the_demo(clone):
    state_file = clone / "var" / "local-stack.json"
    log_path = clone.parent / "make-run.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCAL_", "MAKE"))}
    with log_path.open("wb") as log:
        process = subprocess.Popen(["make", "-o", ".venv/.installed", "-o", "site/vendor/.installed", "run"],
                                   cwd=clone, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        state = _wait_for_state(process, state_file, log_path)
        assert state["pid"] != process.pid and os.getpgid(state["pid"]) == process.pid  # make's child
        assert Path(state["outbox_dir"]).is_relative_to(clone)
        assert (clone / "site" / "index.html").is_file()  # built in the clone from its site-src/

        site = requests.Session()
        agent = state["demo_agent"]
        session = site.post(f"{state['site_url']}/api/sessions",
                            json={"email": agent["email"], "password": agent["password"]}, timeout=30)
        assert session.status_code == 201, session.text
        site.headers["Authorization"] = f"Bearer {session.json()['token']}"
        me = site.get(f"{state['site_url']}/api/me", timeout=30).json()
        assert me["commune"]["name"] == agent["commune_name"] == "Oyonnax"
        directory = site.get(f"{state['site_url']}/api/directory", timeout=30).json()["items"]
        assert {e["last_name"] for e in directory} == {"VINCENT", "CARON", "LAMBERT", "GAUTHIER"}
        officials = site.get(f"{state['site_url']}/api/officials", timeout=30).json()["items"]
        assert {(o["last_name"], o["photo"]["status"]) for o in officials} == {("CARON", "ready"),
                                                                                ("GAUTHIER", "ready")}
        home = requests.get(state["site_url"] + "/", timeout=30)
        assert home.status_code == 200 and "Démarrer l'inscription" in home.text
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole foreground group
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("make run did not stop within 10 s:\n" + log_path.read_text(errors="replace")[-3000:])
    # The stack exits 0 (tests/e2e/test_local_stack_lifecycle.py); make, interrupted, reports it as make does.
    assert group_members(process.pid) == []
    assert not state_file.exists()
    assert "Arrêt de la pile locale" in log_path.read_text(errors="replace")


def _wait_for_state(process: subprocess.Popen, state_file: Path, log_path: Path, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("make run exited:\n" + log_path.read_text(errors="replace")[-5000:])
        if state_file.exists():
            return json.loads(state_file.read_text())
        time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail("make run did not start:\n" + log_path.read_text(errors="replace")[-5000:])
