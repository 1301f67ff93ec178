"""`make run`'s sync with its fake data.gouv.fr, over HTTP only: the stack serves the RNE files of data/reference/ under
the configured resource ids; the test publishes a new version through the fake's control routes (``/_fake/``), and the
sync imports it once, downloads nothing the second time, and imports nothing from a download cut half-way."""
import json
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import start_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]
CONFIG = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["environment_variables"]
MAIRES_ID = CONFIG["DATAGOUV_RESOURCE_RNE_MAIRES"]
CM_ID = CONFIG["DATAGOUV_RESOURCE_RNE_CM"]
MAIRES = (PROJECT_DIR / "data" / "reference" / "elus-maires-mai.csv").read_bytes()


@pytest.fixture(scope="module")
def quiet_stack(tmp_path_factory):
    """A stack whose daily sync does not run by itself during the test (an hour lasts an hour here)."""
    running = start_stack(tmp_path_factory.mktemp("stack-sync"), "--schedule-seconds", "3600")
    yield running
    running.stop()


class Operator:
    def __init__(self, api: str, email: str, password: str, totp_secret: str):
        from tests.helpers import otp

        self.api = api
        token = requests.post(f"{api}/sessions", json={"email": email, "password": password,
                                                       "otp": otp(totp_secret)}, timeout=30).json()
        self.headers = {"Authorization": f"Bearer {token['token']}"}

    def call(self, method: str, path: str, status: int, **kwargs):
        response = requests.request(method, self.api + path, headers=self.headers, timeout=30, **kwargs)
        assert response.status_code == status, (path, response.status_code, response.text)
        return response.json()

    def sync(self, timeout: float = 60) -> dict:
        started = self.call("POST", "/admin/reference-syncs", 202, json={})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.call("GET", f"/admin/reference-syncs/{started['id']}", 200)
            if state["status"] != "running":
                return state
            time.sleep(0.3)
        raise AssertionError(f"sync {started['id']} still running after {timeout} s")

    def wait_import(self, import_id: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.call("GET", f"/admin/reference-imports/{import_id}", 200)
            if state["status"] in ("done", "failed"):
                return state
            time.sleep(0.3)
        raise AssertionError(f"import {import_id} not finished after {timeout} s")


def actions(state: dict) -> dict:
    return {r["kind"]: r["action"] for r in state["resources"]}


def test_a_new_version_is_imported_once_then_nothing_then_a_cut_download_changes_nothing(quiet_stack):
    state = quiet_stack.state
    fake = state["datagouv_url"]
    maker = state["operators"]["manufacturer"]
    operator = Operator(state["api_url"], maker["email"], maker["password"], maker["totp_secret"])
    agent_login = requests.post(f"{state['api_url']}/sessions", timeout=30, json={
        "email": state["demo_agent"]["email"], "password": state["demo_agent"]["password"]}).json()
    agent = {"Authorization": f"Bearer {agent_login['token']}"}

    def oyonnax(name: str) -> list:
        return requests.get(f"{state['api_url']}/directory", params={"q": name}, headers=agent,
                            timeout=30).json()["items"]

    def downloads() -> dict:
        return requests.get(f"{fake}/_fake/downloads", timeout=30).json()

    # The fake serves the demo's files under the configured ids, with the titles of 2026-08-11.
    dataset = requests.get(f"{fake}/api/1/datasets/{CONFIG['DATAGOUV_DATASET']}/", timeout=30).json()
    assert {r["id"]: r["title"] for r in dataset["resources"]} == {
        MAIRES_ID: "elus-maire-mai.csv", CM_ID: "elus-conseiller-municipal-cm.csv"}
    assert all(r["checksum"]["type"] == "sha1" for r in dataset["resources"])

    # The demo loaded the same files by upload; the first sync has no download to compare with: it takes both.
    first = operator.sync()
    assert first["status"] == "done" and actions(first) == {"rne_maires": "downloaded", "rne_cm": "downloaded"}

    # A new version of the mayors' file: Oyonnax has a new mayor.
    published = requests.put(f"{fake}/_fake/resources/{MAIRES_ID}", params={"title": "elus-maire-mai.csv"},
                             data=MAIRES.replace(b"Oyonnax;VINCENT;", b"Oyonnax;NOUVEAU;"), timeout=30)
    assert published.status_code == 200
    second = operator.sync()
    assert second["status"] == "done" and actions(second) == {"rne_maires": "downloaded", "rne_cm": "unchanged"}
    maires = next(r for r in second["resources"] if r["kind"] == "rne_maires")
    assert maires["checksum"] == f"sha1:{published.json()['checksum']['value']}"
    report = operator.wait_import(maires["import_id"])
    assert report["status"] == "done" and report["source"] == "sync" and report["imported"] == 3
    assert [e["last_name"] for e in oyonnax("nouveau")] == ["NOUVEAU"]
    assert downloads() == {MAIRES_ID: 2, CM_ID: 1}

    # Nothing changed: nothing is downloaded.
    third = operator.sync()
    assert third["status"] == "done" and set(actions(third).values()) == {"unchanged"}
    assert downloads() == {MAIRES_ID: 2, CM_ID: 1}

    # A newer version whose download is cut half-way: the sync fails and says why, the directory stays as it was.
    requests.put(f"{fake}/_fake/resources/{MAIRES_ID}", data=MAIRES.replace(b"Oyonnax;VINCENT;", b"Oyonnax;COUPURE;"),
                 timeout=30).raise_for_status()
    requests.post(f"{fake}/_fake/resources/{MAIRES_ID}/break", params={"mode": "cut"}, timeout=30).raise_for_status()
    broken = operator.sync()
    assert broken["status"] == "failed" and actions(broken) == {"rne_maires": "failed", "rne_cm": "unchanged"}
    assert broken["failure"].startswith("Élus – maires : ")
    assert downloads()[MAIRES_ID] == 3
    time.sleep(2)  # an import, had one been started, would have had time to run
    assert oyonnax("coupure") == [] and [e["last_name"] for e in oyonnax("nouveau")] == ["NOUVEAU"]
    latest = operator.call("GET", "/admin/reference-syncs/latest", 200)
    assert latest["id"] == broken["id"]


def test_the_stack_says_where_its_fake_data_gouv_is_and_stops_it(tmp_path):
    running = start_stack(tmp_path, "--no-demo", "--schedule-seconds", "3600")
    fake = running.state["datagouv_url"]
    dataset = requests.get(f"{fake}/api/1/datasets/{CONFIG['DATAGOUV_DATASET']}/", timeout=30)
    assert dataset.status_code == 200 and len(dataset.json()["resources"]) == 2
    assert running.stop() == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(fake, timeout=5)
