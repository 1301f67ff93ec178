"""Reference files go to S3 through a presigned POST; the S3 trigger imports them row by row."""
import json
from urllib.parse import quote_plus

import pytest

from chalicelib import aws
from chalicelib.events.uploads import IMPORTS_QUEUE, s3_object_keys
from chalicelib.store.tables import Commune, Prefecture, ReferenceImport
from tests.conftest import REFERENCE_DATA
from tests.helpers import (OPERATOR_TOTP_SECRET, auth, create_manufacturer, deliver_s3_events, import_file, log_in,
                           MANUFACTURER_PASSWORD, post_file, post_json)

COMMUNES_HEADER = "siren;code_insee;nom;code_departement\n"


@pytest.fixture
def operator(client):
    return log_in(client, create_manufacturer(), MANUFACTURER_PASSWORD, OPERATOR_TOTP_SECRET)


def test_good_lines_load_and_each_bad_line_is_reported_by_number(client, operator):
    content = (COMMUNES_HEADER
               + "210100533;01053;Bourg-en-Bresse;01\n"
               + "210100534;01053;Mauvaise clé;01\n"  # Luhn
               + "210102836;01283;Oyonnax\n"  # 3 columns
               + "\n"  # blank lines are skipped, not errors
               + "217500016;7505;Paris;75\n"  # INSEE
               + "200063402;74010;Annecy;74\n"
               + "213105554;31555;;31\n"  # no name
               + "211300553;13055;Marseille;13\n"
               + "216901231;69123;Lyon;XX\n").encode()
    result = import_file(client, operator, "communes", content)
    assert result["status"] == "done"
    assert (result["rows"], result["imported"], result["rejected"]) == (8, 3, 5)
    errors = {e["line"]: e["reason"] for e in result["errors"]}
    assert sorted(errors) == [3, 4, 6, 8, 10]
    assert "SIREN" in errors[3] and "colonnes" in errors[4] and "INSEE" in errors[6]
    assert "manquant" in errors[8] and "département" in errors[10]
    assert Commune.get("210100533").name == "Bourg-en-Bresse" and Commune.get("200063402").name == "Annecy"
    with pytest.raises(Commune.DoesNotExist):
        Commune.get("217500016")


def test_a_damaged_line_of_a_utf8_file_is_reported_and_the_rest_loads(client, operator):
    content = (COMMUNES_HEADER.encode() + "216901231;69123;Lyon-Élysée;69\n".encode("latin-1")
               + "210100533;01053;Bourg-en-Brèsse;01\n".encode("utf-8"))  # an accent in UTF-8: a UTF-8 file
    result = import_file(client, operator, "communes", content)
    assert result["imported"] == 1 and result["errors"][0]["line"] == 2
    assert "UTF-8" in result["errors"][0]["reason"] and result["notes"] == []
    assert Commune.get("210100533").name == "Bourg-en-Brèsse"


def test_a_file_in_windows_1252_is_read_as_such_and_the_report_says_so(client, operator):
    content = (COMMUNES_HEADER + "216901231;69123;Lyon-Élysée;69\n" + "210100533;01053;Bourg-en-Bresse;01\n"
               ).encode("cp1252")
    result = import_file(client, operator, "communes", content)
    assert (result["status"], result["imported"], result["rejected"]) == ("done", 2, 0)
    assert any("Windows-1252" in note for note in result["notes"])
    assert Commune.get("216901231").name == "Lyon-Élysée"


def test_a_file_with_an_unknown_header_fails_as_a_whole_with_the_reason(client, operator):
    result = import_file(client, operator, "communes", b"a;b;c\n1;2;3\n")
    assert result["status"] == "failed"
    assert "En-tête inattendu" in result["failure"]
    assert result["imported"] == 0


def test_an_empty_file_fails_with_a_reason(client, operator):
    result = import_file(client, operator, "prefectures", b"\xef\xbb\xbf")
    assert result["status"] == "failed" and "vide" in result["failure"]


def test_reimporting_the_same_file_changes_nothing_and_keeps_registrations(client, operator):
    content = (REFERENCE_DATA / "communes.csv").read_bytes()
    first = import_file(client, operator, "communes", content)
    from chalicelib.services.accounts import issue_activation_code

    issue_activation_code("210100533")
    before = {c.siren: c.attribute_values for c in Commune.scan()}
    second = import_file(client, operator, "communes", content)
    after = {c.siren: c.attribute_values for c in Commune.scan()}
    assert (first["imported"], second["imported"]) == (10, 10)
    assert before == after
    assert after["210100533"]["activation_code_hash"].startswith("$argon2id$")


def test_a_duplicated_s3_event_is_imported_once(client, operator):
    started = post_json(client, "/admin/reference-imports", {"kind": "prefectures"}, operator).json_body
    post_file(started["upload"], (REFERENCE_DATA / "prefectures.csv").read_bytes())
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=IMPORTS_QUEUE)["QueueUrl"]
    messages = [m for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
                if "Records" in json.loads(m["Body"])]
    event = client.events.generate_sqs_event([messages[0]["Body"]] * 2, queue_name=IMPORTS_QUEUE)
    client.lambda_.invoke("import_reference_file", event)
    client.lambda_.invoke("import_reference_file", event)
    item = ReferenceImport.get(started["id"])
    assert (item.status, item.rows, item.imported) == ("done", 9, 9)
    assert Prefecture.count() == 9


def test_the_trigger_decodes_url_encoded_keys_and_skips_s3_test_events(client, operator):
    started = post_json(client, "/admin/reference-imports", {"kind": "prefectures"}, operator).json_body
    key = f"incoming/imports/{started['id']}/prefectures.csv"
    aws.client("s3").put_object(Bucket=_bucket(), Key=key,
                                Body=(REFERENCE_DATA / "prefectures.csv").read_bytes())
    deliver_s3_events(client)  # the emulation's own notification is consumed; now a hand-made, encoded one
    ReferenceImport(started["id"]).update(actions=[ReferenceImport.status.set("pending")])
    body = json.dumps({"Records": [{"eventName": "ObjectCreated:Post", "s3": {
        "bucket": {"name": _bucket()}, "object": {"key": quote_plus(key)}}}]})
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": _bucket()})
    client.lambda_.invoke("import_reference_file", client.events.generate_sqs_event([test_event, body]))
    assert ReferenceImport.get(started["id"]).status == "done"
    assert s3_object_keys(json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": "b"}, "object": {"key": "incoming/photos/a+b%C3%A9.jpg"}}}]})) == [
        ("b", "incoming/photos/a bé.jpg")]
    assert s3_object_keys("not json") == [] and s3_object_keys(test_event) == []


def test_progress_is_visible_while_a_large_file_imports(client, operator, monkeypatch):
    from chalicelib.services import reference_imports

    seen = []
    original = reference_imports._Report.save

    def spy(report, item):
        original(report, item)
        stored = ReferenceImport.get(item.import_id)
        seen.append((stored.status, stored.rows))

    monkeypatch.setattr(reference_imports._Report, "save", spy)
    monkeypatch.setattr(reference_imports, "PROGRESS_EVERY", 3)
    result = import_file(client, operator, "communes", (REFERENCE_DATA / "communes.csv").read_bytes())
    assert result["status"] == "done"
    assert seen[:3] == [("running", 3), ("running", 6), ("running", 9)]


def test_only_the_first_hundred_errors_are_kept(client, operator):
    content = COMMUNES_HEADER + "".join(f"SIREN{i:04d};01053;X;01\n" for i in range(150))
    result = import_file(client, operator, "communes", content.encode())
    assert result["rejected"] == 150 and len(result["errors"]) == 100


def test_unknown_import_id_is_404(client, operator):
    response = client.http.get("/admin/reference-imports/nope", headers=auth(operator))
    assert response.status_code == 404 and response.json_body["code"] == "not_found"


def test_unknown_kind_is_refused(client, operator):
    response = post_json(client, "/admin/reference-imports", {"kind": "élus"}, operator)
    assert response.status_code == 400


def _bucket() -> str:
    from chalicelib.settings import get_settings

    return get_settings().data_bucket
