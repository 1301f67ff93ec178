"""The RNE files synced from data.gouv.fr: the local fake data.gouv.fr (local/fake_datagouv.py) publishes, the sync
downloads only what changed, hands it to the same import as an upload, and never imports a file that did not arrive
whole."""
from datetime import timedelta
from unittest import mock

import pytest

from chalicelib import aws, clock
from chalicelib.services import reference_syncs
from chalicelib.store.queues import SYNCS_QUEUE
from chalicelib.store.tables import DirectoryItem, ReferenceImport
from local.fake_datagouv import FakeDataGouv
from tests.conftest import REFERENCE_DATA
from tests.helpers import auth, deliver_s3_events, post_json

MAIRES = (REFERENCE_DATA / "elus-maires-mai.csv").read_bytes()
CM = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_bytes()
OYONNAX = "01283"


@pytest.fixture
def datagouv(aws, monkeypatch):
    """The fake data.gouv.fr on a free port, with the two RNE files under the configured resource ids."""
    from chalicelib.settings import get_settings

    fake = FakeDataGouv(aws.datagouv_dataset).start()
    monkeypatch.setenv("DATAGOUV_URL", fake.url)
    get_settings.cache_clear()
    ids = dict(get_settings().datagouv_resources)
    fake.ids = ids
    fake.publish(ids["rne_maires"], "elus-maire-mai.csv", MAIRES)
    fake.publish(ids["rne_cm"], "elus-conseiller-municipal-cm.csv", CM)
    yield fake
    fake.stop()
    get_settings.cache_clear()


def run_sync(client, token: str) -> dict:
    """What the back office's button does, then the worker and the imports, as Lambda would run them."""
    started = post_json(client, "/admin/reference-syncs", {}, token)
    assert started.status_code == 202, started.json_body
    assert started.json_body["status"] == "running"
    deliver_s3_events(client, queue=SYNCS_QUEUE, handler="run_reference_sync")
    deliver_s3_events(client)  # the imports the sync started
    state = client.http.get(f"/admin/reference-syncs/{started.json_body['id']}", headers=auth(token)).json_body
    assert state["status"] in ("done", "failed"), state
    return state


def by_kind(state: dict) -> dict:
    return {r["kind"]: r for r in state["resources"]}


def oyonnax_mayors() -> set[str]:
    return {item.last_name for item in DirectoryItem.query(OYONNAX)
            if item.source == "rne_maires" and item.status == "active"}


def bucket_keys(settings) -> list[str]:
    answer = aws.client("s3").list_objects_v2(Bucket=settings.data_bucket)
    return sorted(o["Key"] for o in answer.get("Contents", []))


def pending_uploads(settings) -> list:
    return aws.client("s3").list_multipart_uploads(Bucket=settings.data_bucket).get("Uploads", [])


def imports_count() -> int:
    return sum(1 for item in ReferenceImport.scan() if item.status != "pointer")


def new_mayor_of_oyonnax(name: str) -> bytes:
    return MAIRES.replace("Oyonnax;VINCENT;Thierry".encode(), f"Oyonnax;{name};Thierry".encode())


def test_a_new_version_is_imported_once_then_nothing_then_a_broken_download_changes_nothing(
        client, aws, operator, datagouv):
    ids = datagouv.ids
    # The first sync: nothing downloaded before, both files are imported as an upload would be.
    first = run_sync(client, operator)
    assert first["status"] == "done" and first["failure"] is None
    assert first["requested_by"] == "operateur@fabricant.example.fr"
    resources = by_kind(first)
    assert {k: r["action"] for k, r in resources.items()} == {"rne_maires": "downloaded", "rne_cm": "downloaded"}
    maires = resources["rne_maires"]
    assert maires["resource_id"] == ids["rne_maires"] and maires["title"] == "elus-maire-mai.csv"
    assert maires["checksum"].startswith("sha1:") and maires["filesize"] == len(MAIRES)
    report = client.http.get(f"/admin/reference-imports/{maires['import_id']}", headers=auth(operator)).json_body
    assert report["status"] == "done" and report["source"] == "sync" and report["imported"] == 3, report
    assert oyonnax_mayors() == {"VINCENT"}

    # data.gouv.fr publishes a new version of the mayors' file: only it is downloaded and imported, once.
    datagouv.publish(ids["rne_maires"], "elus-maire-mai.csv", new_mayor_of_oyonnax("NOUVEAU"))
    second = run_sync(client, operator)
    assert second["status"] == "done"
    assert {k: r["action"] for k, r in by_kind(second).items()} == {"rne_maires": "downloaded", "rne_cm": "unchanged"}
    assert by_kind(second)["rne_cm"]["import_id"] is None
    assert oyonnax_mayors() == {"NOUVEAU"}
    assert (datagouv.downloads_of(ids["rne_maires"]), datagouv.downloads_of(ids["rne_cm"])) == (2, 1)

    # Nothing new: nothing is downloaded, no import is made.
    imports = imports_count()
    third = run_sync(client, operator)
    assert third["status"] == "done"
    assert {r["action"] for r in third["resources"]} == {"unchanged"}
    assert (datagouv.downloads_of(ids["rne_maires"]), datagouv.downloads_of(ids["rne_cm"])) == (2, 1)
    assert imports_count() == imports

    # A newer version whose download is cut half-way: no object, no import, the directory as it was, and the sync
    # failed with its reason.
    keys = bucket_keys(aws)
    datagouv.publish(ids["rne_maires"], "elus-maire-mai.csv", new_mayor_of_oyonnax("COUPURE"))
    datagouv.break_next_download(ids["rne_maires"], "cut")
    broken = run_sync(client, operator)
    assert broken["status"] == "failed"
    maires = by_kind(broken)["rne_maires"]
    assert maires["action"] == "failed" and maires["import_id"] is None
    assert "interrompu" in maires["reason"] or "incomplet" in maires["reason"], maires["reason"]
    assert broken["failure"].startswith("Élus – maires : ")
    assert by_kind(broken)["rne_cm"]["action"] == "unchanged"
    assert bucket_keys(aws) == keys and pending_uploads(aws) == []
    assert imports_count() == imports
    assert oyonnax_mayors() == {"NOUVEAU"}

    # Other bytes than the published checksum: refused the same way.
    datagouv.break_next_download(ids["rne_maires"], "corrupt")
    corrupt = run_sync(client, operator)
    assert corrupt["status"] == "failed"
    assert "somme de contrôle" in by_kind(corrupt)["rne_maires"]["reason"]
    assert bucket_keys(aws) == keys and pending_uploads(aws) == [] and imports_count() == imports
    assert oyonnax_mayors() == {"NOUVEAU"}

    # The next sync finds the version still new (only a whole download counts) and imports it.
    healed = run_sync(client, operator)
    assert healed["status"] == "done" and by_kind(healed)["rne_maires"]["action"] == "downloaded"
    assert oyonnax_mayors() == {"COUPURE"}
    assert client.http.get("/admin/reference-syncs/latest", headers=auth(operator)).json_body["id"] == healed["id"]


def test_an_http_error_on_the_file_fails_the_sync_with_its_status(client, aws, operator, datagouv):
    datagouv.break_next_download(datagouv.ids["rne_cm"], "error")
    state = run_sync(client, operator)
    assert state["status"] == "failed"
    assert {k: r["action"] for k, r in by_kind(state).items()} == {"rne_maires": "downloaded", "rne_cm": "failed"}
    assert "500" in by_kind(state)["rne_cm"]["reason"]
    assert pending_uploads(aws) == []
    # The mayors' file, which arrived whole, counts as downloaded: the next sync downloads only the councillors'.
    again = run_sync(client, operator)
    assert {k: r["action"] for k, r in by_kind(again).items()} == {"rne_maires": "unchanged", "rne_cm": "downloaded"}


def test_resources_are_found_by_title_when_their_ids_changed_whatever_the_case_and_accents(client, aws, operator,
                                                                                         datagouv):
    datagouv.remove(datagouv.ids["rne_maires"])
    datagouv.remove(datagouv.ids["rne_cm"])
    datagouv.publish("nouvel-id-maires", "ÉLUS-MAIRE-MAI.CSV", MAIRES)
    datagouv.publish("nouvel-id-cm", "elus-conseillers-municipaux-cm.csv", CM)  # the former spelling
    datagouv.publish("autre", "elus-epci.csv", b"autre chose\n")
    state = run_sync(client, operator)
    assert state["status"] == "done", state
    assert {k: r["resource_id"] for k, r in by_kind(state).items()} == {"rne_maires": "nouvel-id-maires",
                                                                       "rne_cm": "nouvel-id-cm"}
    assert datagouv.downloads_of("autre") == 0


def test_a_missing_resource_or_dataset_fails_the_sync_in_french(client, aws, operator, datagouv, monkeypatch):
    from chalicelib.settings import get_settings

    datagouv.remove(datagouv.ids["rne_cm"])
    state = run_sync(client, operator)
    assert state["status"] == "failed"
    assert by_kind(state)["rne_cm"]["action"] == "failed"
    assert "elus-conseiller-municipal-cm.csv" in by_kind(state)["rne_cm"]["reason"]
    assert by_kind(state)["rne_maires"]["action"] == "downloaded"

    # (the test client sets the stage's variables again on each call: the settings are replaced instead)
    unknown = get_settings()._replace(datagouv_dataset="inconnu")
    monkeypatch.setattr(reference_syncs, "get_settings", lambda: unknown)
    state = run_sync(client, operator)
    assert state["status"] == "failed" and state["resources"] == []
    assert "404" in state["failure"] and "DATAGOUV_DATASET" in state["failure"]


def test_two_syncs_never_run_at_once_and_a_dead_one_is_taken_over(client, aws, operator, datagouv):
    first = post_json(client, "/admin/reference-syncs", {}, operator)
    assert first.status_code == 202
    second = post_json(client, "/admin/reference-syncs", {}, operator)
    assert second.status_code == 409
    assert second.json_body["code"] == "sync_in_progress"
    assert second.json_body["details"] == {"sync_id": first.json_body["id"]}
    assert "déjà en cours" in second.json_body["message"]
    # The daily one is skipped too.
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=[])
    assert client.lambda_.invoke("sync_reference_files", event).payload is None
    latest = client.http.get("/admin/reference-syncs/latest", headers=auth(operator)).json_body
    assert latest["id"] == first.json_body["id"] and latest["status"] == "running"

    # Its worker never ran (say, it died): after a while a new sync takes the claim, and the old one is failed.
    later = clock.now() + reference_syncs.STALE_AFTER + timedelta(minutes=1)
    with mock.patch.object(clock, "now", lambda: later):
        third = post_json(client, "/admin/reference-syncs", {}, operator)
    assert third.status_code == 202, third.json_body
    old = client.http.get(f"/admin/reference-syncs/{first.json_body['id']}", headers=auth(operator)).json_body
    assert old["status"] == "failed" and "temps imparti" in old["failure"]
    # Both messages reach the worker: the abandoned sync's is ignored, the new one runs.
    deliver_s3_events(client, queue=SYNCS_QUEUE, handler="run_reference_sync")
    done = client.http.get(f"/admin/reference-syncs/{third.json_body['id']}", headers=auth(operator)).json_body
    assert done["status"] == "done" and len(done["resources"]) == 2
    assert datagouv.downloads_of(datagouv.ids["rne_maires"]) == 1
    # The claim is free again.
    assert post_json(client, "/admin/reference-syncs", {}, operator).status_code == 202


def test_the_daily_schedule_requests_a_sync_that_the_worker_runs(client, aws, operator, datagouv):
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=[])
    requested = client.lambda_.invoke("sync_reference_files", event).payload
    assert requested["requested_by"] == "schedule" and requested["status"] == "running"
    deliver_s3_events(client, queue=SYNCS_QUEUE, handler="run_reference_sync")
    deliver_s3_events(client)
    state = client.http.get(f"/admin/reference-syncs/{requested['id']}", headers=auth(operator)).json_body
    assert state["status"] == "done"
    report = client.http.get(f"/admin/reference-imports/{by_kind(state)['rne_cm']['import_id']}",
                             headers=auth(operator)).json_body
    assert report["source"] == "sync" and report["status"] == "done"


def test_the_routes_answer_in_french_and_only_to_the_card_maker(client, aws, operator, datagouv):
    missing = client.http.get("/admin/reference-syncs/latest", headers=auth(operator))
    assert missing.status_code == 404 and missing.json_body["code"] == "not_found"
    assert "Aucune synchronisation" in missing.json_body["message"]
    unknown = client.http.get("/admin/reference-syncs/0123", headers=auth(operator))
    assert unknown.status_code == 404 and unknown.json_body["message"] == "Cette synchronisation n'existe pas."
    assert client.http.get("/admin/reference-syncs/state", headers=auth(operator)).status_code == 404
    assert post_json(client, "/admin/reference-syncs", {"force": True}, operator).status_code == 400
    assert post_json(client, "/admin/reference-syncs", {}).status_code == 401


def test_a_sync_without_a_configured_address_fails_with_its_reason(client, aws, operator, monkeypatch):
    from chalicelib.settings import get_settings

    monkeypatch.delenv("DATAGOUV_URL", raising=False)
    get_settings.cache_clear()
    state = run_sync(client, operator)
    assert state["status"] == "failed" and "DATAGOUV_URL" in state["failure"]


def test_a_file_elsewhere_than_data_gouv_is_not_downloaded():
    assert reference_syncs._allowed("https://static.data.gouv.fr/resources/x.csv", "https://www.data.gouv.fr")
    assert reference_syncs._allowed("https://www.data.gouv.fr/fr/datasets/r/1", "https://www.data.gouv.fr")
    assert not reference_syncs._allowed("https://evil.example/x.csv", "https://www.data.gouv.fr")
    assert not reference_syncs._allowed("http://static.data.gouv.fr/x.csv", "https://www.data.gouv.fr")
    assert not reference_syncs._allowed("file:///etc/passwd", "https://www.data.gouv.fr")
    assert reference_syncs._allowed("http://127.0.0.1:8003/fichiers/a/b.csv", "http://127.0.0.1:8003")


def test_locally_the_daily_sync_runs_24_times_less_often_than_the_hourly_purge(app):
    from chalice.app import ScheduledEventConfig

    from local.scheduler import Scheduler, local_period

    assert local_period(mock.Mock(spec=[]), 60) == 60  # a cron expression: as an hourly one
    periods = Scheduler(app, interval=2)._periods
    rates = {s.name: s.schedule_expression.to_string() for s in app.event_sources
             if isinstance(s, ScheduledEventConfig)}
    assert rates == {"purge_personal_data": "rate(1 hour)", "sync_reference_files": "rate(1 day)"}
    assert periods == {"purge_personal_data": 2, "sync_reference_files": 48}
