"""Officials not yet in the national directory: declared by the commune with the procès-verbal, reviewed by the
préfecture of the département, ordered once validated, linked when a directory import brings them."""
from pathlib import Path

import pytest

from chalicelib.store.tables import Official
from tests.conftest import REFERENCE_DATA
from tests.helpers import (OPERATOR_TOTP_SECRET, auth, deliver_photo_events, import_file, load_directory, log_in,
                           outbox_messages, post_file, post_json, registered_agent, upload_photo)
from tests.unit import photo_corpus as corpus

PREFECTURE_PASSWORD = "guichet des élus de l'Ain au printemps"
PV = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NEW_DEPUTY = {"last_name": "Roussel", "first_name": "Inès", "sex": "F", "birth_date": "1980-05-02",
              "election_date": "2026-03-22", "function": "adjoint"}
# The directory's row that a later snapshot publishes for the same person (capitals, French dates).
NEW_DEPUTY_ROW = ("01;Ain;;;01053;Bourg-en-Bresse;ROUSSEL;Inès;F;02/05/1980;48;Professions intermédiaires;"
                  "15/03/2026;4ème adjoint au Maire;22/03/2026;FRA")


@pytest.fixture
def agent(client, aws, operator):
    load_directory(client, operator, REFERENCE_DATA)
    return registered_agent(client, aws, operator)


def prefecture_of(client, department: str, email: str) -> str:
    from tests.helpers import create_operator

    create_operator(email, "Paula", "Préfète", "prefecture", department, password=PREFECTURE_PASSWORD)
    return log_in(client, email, PREFECTURE_PASSWORD, OPERATOR_TOTP_SECRET)


@pytest.fixture
def prefecture(client, operator):
    return prefecture_of(client, "01", "guichet@ain.gouv.fr")


def declare(client, agent, proof: bytes | None = PV, **changes):
    response = post_json(client, "/officials/declarations", {**NEW_DEPUTY, **changes}, agent)
    assert response.status_code == 201, response.json_body
    if proof is not None:
        post_file(response.json_body["proof_upload"], proof, "pv.pdf")
        deliver_photo_events(client)
    return client.http.get(f"/officials/{response.json_body['official']['id']}", headers=auth(agent)).json_body


def with_photo(client, agent, official_id):
    return upload_photo(client, agent, official_id, corpus.portrait_jpeg((700, 900)), corpus.full_crop((700, 900)))


def pending(client, prefecture, status="pending"):
    response = client.http.get(f"/prefecture/declarations?status={status}", headers=auth(prefecture))
    assert response.status_code == 200, response.json_body
    return response.json_body["items"]


def test_a_declared_official_is_validated_by_the_prefecture_then_ordered(client, agent, prefecture, aws):
    official = declare(client, agent)
    assert official["origin"] == "declared"
    assert official["declaration"] == {"status": "pending", "status_label": "En attente de validation par la "
                                       "préfecture", "reason": None, "election_date": "2026-03-22",
                                       "proof_id": official["declaration"]["proof_id"], "linked_to_directory": False}
    assert official["declaration"]["proof_id"]
    official = with_photo(client, agent, official["id"])
    assert official["photo"]["status"] == "ready"
    refused = post_json(client, "/orders", {"official_ids": [official["id"]]}, agent)
    assert refused.status_code == 422
    assert [d["code"] for d in refused.json_body["details"]] == ["declaration_not_validated"]

    item, = pending(client, prefecture)
    assert (item["last_name"], item["function_label"], item["commune_label"]) == ("Roussel", "Adjointe au maire",
                                                                                  "Bourg-en-Bresse")
    import requests
    assert requests.get(item["proof_url"], timeout=30).content == PV
    reviewed = post_json(client, f"/prefecture/declarations/{item['siren']}/{item['official_id']}/review",
                         {"decision": "validate"}, prefecture)
    assert reviewed.status_code == 200 and reviewed.json_body["status"] == "validated", reviewed.json_body
    assert pending(client, prefecture) == [] and len(pending(client, prefecture, "validated")) == 1
    told = outbox_messages(Path(aws.outbox_dir), "agent@mairie-bourg.fr")[-1]
    assert told["Subject"] == "Déclaration validée\u00a0: Inès Roussel"
    order = post_json(client, "/orders", {"official_ids": [official["id"]]}, agent)
    assert order.status_code == 201, order.json_body


def test_a_refused_declaration_cannot_be_ordered_and_the_commune_sees_why(client, agent, prefecture, aws):
    official = with_photo(client, agent, declare(client, agent)["id"])
    path = f"/prefecture/declarations/210100533/{official['id']}/review"
    assert post_json(client, path, {"decision": "refuse"}, prefecture).status_code == 422  # a reason is required
    refused = post_json(client, path, {"decision": "refuse", "reason": "PV d'une autre commune"}, prefecture)
    assert refused.status_code == 200 and refused.json_body["status"] == "refused"
    assert post_json(client, path, {"decision": "validate"}, prefecture).status_code == 409
    shown = client.http.get(f"/officials/{official['id']}", headers=auth(agent)).json_body["declaration"]
    assert (shown["status"], shown["reason"]) == ("refused", "PV d'une autre commune")
    told = outbox_messages(Path(aws.outbox_dir), "agent@mairie-bourg.fr")[-1]
    assert told["Subject"] == "Déclaration refusée\u00a0: Inès Roussel" and "PV d'une autre commune" in told.get_body(
        ("plain",)).get_content()
    order = post_json(client, "/orders", {"official_ids": [official["id"]]}, agent)
    assert order.status_code == 422
    assert "PV d'une autre commune" in order.json_body["details"][0]["message"]


def test_only_the_prefecture_of_the_departement_sees_and_reviews(client, agent, operator):
    official = declare(client, agent)
    savoie = prefecture_of(client, "74", "guichet@haute-savoie.gouv.fr")
    assert pending(client, savoie) == []
    path = f"/prefecture/declarations/210100533/{official['id']}/review"
    assert post_json(client, path, {"decision": "validate"}, savoie).status_code == 404
    assert post_json(client, path, {"decision": "validate"}, agent).status_code == 403
    assert post_json(client, path, {"decision": "validate"}, operator).status_code == 403


def test_a_file_that_is_not_a_pdf_is_not_taken_and_another_can_be_sent(client, agent, prefecture):
    official = declare(client, agent, proof=b"\x89PNG\r\n\x1a\n not a pdf")
    assert official["declaration"]["status"] == "awaiting_proof"
    assert "n'est pas un PDF" in official["declaration"]["reason"]
    assert pending(client, prefecture) == []
    again = post_json(client, f"/officials/{official['id']}/proof-uploads", {}, agent)
    assert again.status_code == 201, again.json_body
    post_file(again.json_body, PV, "pv.pdf")
    deliver_photo_events(client)
    shown = client.http.get(f"/officials/{official['id']}", headers=auth(agent)).json_body["declaration"]
    assert (shown["status"], shown["reason"], shown["proof_id"]) == ("pending", None, again.json_body["upload_id"])
    # a wrong file sent after a good one: said, and the good one stays
    third = post_json(client, f"/officials/{official['id']}/proof-uploads", {}, agent).json_body
    post_file(third, b"GIF89a not a pdf", "pv.pdf")
    deliver_photo_events(client)
    shown = client.http.get(f"/officials/{official['id']}", headers=auth(agent)).json_body["declaration"]
    assert (shown["status"], shown["proof_id"]) == ("pending", again.json_body["upload_id"])
    assert "n'est pas un PDF" in shown["reason"]


def test_a_declaration_that_cannot_be_true_or_of_someone_listed_is_refused(client, agent):
    response = post_json(client, "/officials/declarations", {**NEW_DEPUTY, "election_date": "2031-03-22"}, agent)
    assert response.status_code == 422 and "election_date" in response.json_body["details"]
    listed = post_json(client, "/officials/declarations", {**NEW_DEPUTY, "last_name": "MARCHAND",
                                                           "first_name": "Hélène", "birth_date": "1968-02-04"}, agent)
    assert listed.status_code == 409 and listed.json_body["code"] == "already_in_directory"
    declare(client, agent, proof=None)
    twice = post_json(client, "/officials/declarations", {**NEW_DEPUTY, "last_name": "ROUSSEL"}, agent)
    assert twice.status_code == 409 and twice.json_body["code"] == "already_registered"


def test_a_later_directory_import_links_the_declaration(client, agent, operator):
    official = declare(client, agent)
    newer = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_bytes().rstrip(b"\r\n") \
        + b"\n" + NEW_DEPUTY_ROW.encode() + b"\n"
    assert import_file(client, operator, "rne_cm", newer)["status"] == "done"  # import_file delivers the events
    shown = client.http.get(f"/officials/{official['id']}", headers=auth(agent)).json_body
    assert shown["declaration"]["linked_to_directory"] is True
    entry = next(i for i in client.http.get("/directory", headers=auth(agent)).json_body["items"]
                 if i["last_name"] == "ROUSSEL")
    assert entry["registered"] is True and entry["id"].endswith(official["id"])
    assert Official.get("210100533", official["id"]).awaiting_directory is None


def test_the_prefectures_list_comes_in_pages_and_a_forged_cursor_is_refused(client, agent, prefecture, monkeypatch):
    from chalicelib.store import repositories

    monkeypatch.setattr(repositories, "PAGE_SIZE", 2)
    for last_name, birth in (("Roussel", "1980-05-02"), ("Perrin", "1991-09-14"), ("Blanc", "1975-01-30")):
        declare(client, agent, last_name=last_name, birth_date=birth)
    first = client.http.get("/prefecture/declarations", headers=auth(prefecture)).json_body
    assert len(first["items"]) == 2 and first["next"]
    second = client.http.get(f"/prefecture/declarations?cursor={first['next']}", headers=auth(prefecture)).json_body
    names = [i["last_name"] for i in first["items"] + second["items"]]
    assert sorted(names) == ["Blanc", "Perrin", "Roussel"] and second["next"] is None
    # a cursor of another partition (the validated ones) is refused, not followed
    forged = client.http.get(f"/prefecture/declarations?status=validated&cursor={first['next']}",
                             headers=auth(prefecture))
    assert forged.status_code == 400 and forged.json_body["code"] == "invalid_cursor"
