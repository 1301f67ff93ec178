"""Card orders: the commune orders, the card maker produces and ships, the préfecture receives and hands over."""
import io
from pathlib import Path

import pytest

from chalicelib.domain import orders as lifecycle
from chalicelib.store.tables import Official
from tests.conftest import REFERENCE_DATA
from tests.helpers import (OPERATOR_TOTP_SECRET, auth, commune_with_ready_officials, log_in, other_commune_agent,
                           outbox_messages, post_json, register_official, transition)

PREFECTURE_PASSWORD = "le guichet des élus de l'Ain"


@pytest.fixture
def prefecture(client, operator):
    from tests.helpers import create_operator

    create_operator("guichet@ain.gouv.fr", "Paula", "Préfète", "prefecture", "01", password=PREFECTURE_PASSWORD)
    return log_in(client, "guichet@ain.gouv.fr", PREFECTURE_PASSWORD, OPERATOR_TOTP_SECRET)


def new_order(client, agent, official_ids):
    response = post_json(client, "/orders", {"official_ids": official_ids}, agent)
    assert response.status_code == 201, response.json_body
    return response.json_body


def submitted(client, agent, official_ids):
    order = new_order(client, agent, official_ids)
    response = post_json(client, f"/orders/{order['id']}/submit", {"preview_acknowledged": True}, agent)
    assert response.status_code == 200, response.json_body
    return response.json_body


def test_an_order_shows_each_card_preview_and_the_prefecture_address(client, commune):
    agent, ids = commune
    order = new_order(client, agent, ids)
    assert order["status"] == "brouillon" and order["status_label"] == "Brouillon"
    assert [c["official_id"] for c in order["cards"]] == ids
    assert all(c["preview"]["status"] == "ready" and c["preview"]["url"] for c in order["cards"])
    assert [c["function_label"] for c in order["cards"]] == ["Maire", "Adjoint au maire"]
    assert order["delivery_address"]["name"] == "Préfecture de l'Ain"
    assert order["history"][0]["status"] == "brouillon" and order["history"][0]["by_role"] == "commune"


def test_officials_that_cannot_be_ordered_are_reported_one_by_one(client, commune):
    agent, ids = commune
    fontaine = register_official(client, agent, "FONTAINE", "adjoint").json_body  # no photo
    new_order(client, agent, [ids[0]])
    response = post_json(client, "/orders", {"official_ids": [ids[0], fontaine["id"], "inconnu"]}, agent)
    assert response.status_code == 422 and response.json_body["code"] == "officials_not_ready"
    codes = {d["official_id"]: d["code"] for d in response.json_body["details"]}
    assert codes == {ids[0]: "card_in_progress", fontaine["id"]: "photo_not_ready", "inconnu": "not_found"}
    assert new_order(client, agent, [ids[1]])["status"] == "brouillon"  # orders never block each other


def test_submitting_needs_the_preview_acknowledged_and_happens_once(client, commune):
    agent, ids = commune
    order = new_order(client, agent, ids)
    refused = post_json(client, f"/orders/{order['id']}/submit", {"preview_acknowledged": False}, agent)
    assert refused.status_code == 422 and refused.json_body["code"] == "preview_not_acknowledged"
    first = post_json(client, f"/orders/{order['id']}/submit", {"preview_acknowledged": True}, agent)
    assert first.status_code == 200 and first.json_body["status_label"] == "En préparation"
    second = post_json(client, f"/orders/{order['id']}/submit", {"preview_acknowledged": True}, agent)
    assert second.status_code == 409 and second.json_body["code"] == "invalid_transition"


def test_each_moves_answer_shows_the_history_as_stored_each_status_once(client, commune, operator, prefecture):
    """The answer to a move is the order as written: its new status once at the end of the history, as a later read
    shows it (a plain update refreshed the order and the move appended the entry again)."""
    agent, ids = commune
    order = submitted(client, agent, ids)
    path = ["brouillon", "en_preparation"]
    assert [h["status"] for h in order["history"]] == path
    for role, to in ((operator, "en_production"), (operator, "en_livraison"), (prefecture, "livree"),
                     (prefecture, "remise")):
        answer = transition(client, role, order["id"], to)
        assert answer.status_code == 200, to
        path.append(to)
        assert [h["status"] for h in answer.json_body["history"]] == path, to
        stored = client.http.get(f"/orders/{order['id']}", headers=auth(agent)).json_body
        assert stored["history"] == answer.json_body["history"], to


def test_the_whole_path_to_hand_over_with_card_numbers_emails_and_receipt(client, aws, commune, operator, prefecture):
    agent, ids = commune
    order = submitted(client, agent, ids)
    produced = transition(client, operator, order["id"], "en_production")
    assert produced.status_code == 200
    numbers = [c["card_number"] for c in produced.json_body["cards"]]
    assert len(set(numbers)) == 2 and all(n.startswith("2026-") or n[:4].isdigit() for n in numbers)
    for to in ("en_livraison",):
        assert transition(client, operator, order["id"], to).status_code == 200
    for to in ("livree", "remise"):
        assert transition(client, prefecture, order["id"], to).status_code == 200, to
    final = client.http.get(f"/orders/{order['id']}", headers=auth(agent)).json_body
    assert final["status_label"] == "Remise à l'élu"
    assert [h["status"] for h in final["history"]] == ["brouillon", "en_preparation", "en_production",
                                                       "en_livraison", "livree", "remise"]
    assert [h["by_role"] for h in final["history"]] == ["commune", "commune", "manufacturer", "manufacturer",
                                                        "prefecture", "prefecture"]
    assert all(c["card_number"] in numbers for c in final["cards"])
    subjects = [m["Subject"] for m in outbox_messages(Path(aws.outbox_dir), "agent@mairie-bourg.fr")]
    for label in ("En préparation", "En production", "En livraison", "Livrée en préfecture", "Remise à l'élu"):
        assert f"Demande de cartes\u00a0: {label}" in subjects
    # the officials are free again: a new card can be ordered
    assert all(Official.get("210100533", oid).active_order_id is None for oid in ids)
    receipt = client.http.get(f"/admin/orders/{order['id']}/receipt", headers=auth(prefecture))
    assert receipt.status_code == 200 and receipt.json_body["pages"] == 2
    pages = render_pdf(receipt.json_body["url"])
    assert len(pages) == 2 and pages[0].size[0] > 500
    assert text_of_pdf(receipt.json_body["url"]).count("Signature de l'élu(e)") == 2


def render_pdf(url):
    import pypdfium2
    import requests

    document = pypdfium2.PdfDocument(requests.get(url, timeout=30).content)
    return [page.render(scale=1).to_pil() for page in document]


def text_of_pdf(url):
    import pypdfium2
    import requests

    document = pypdfium2.PdfDocument(requests.get(url, timeout=30).content)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def test_production_draws_each_card_with_its_number(client, commune, operator):
    from tests.helpers import deliver_photo_events

    agent, ids = commune
    order = submitted(client, agent, ids)
    transition(client, operator, order["id"], "en_production")
    deliver_photo_events(client)
    view = client.http.get(f"/admin/orders/{order['id']}", headers=auth(operator)).json_body
    import requests
    from PIL import Image

    for card in view["cards"]:
        image = Image.open(io.BytesIO(requests.get(card["card_url"], timeout=30).content))
        assert image.size == (1011, 638)


def test_rejection_needs_a_reason_and_frees_the_officials(client, aws, commune, operator):
    agent, ids = commune
    order = submitted(client, agent, ids)
    missing = transition(client, operator, order["id"], "rejetee")
    assert missing.status_code == 422 and missing.json_body["code"] == "reason_required"
    rejected = transition(client, operator, order["id"], "rejetee", "photo non conforme")
    assert rejected.status_code == 200
    assert rejected.json_body["history"][-1]["reason"] == "photo non conforme"
    mail = outbox_messages(Path(aws.outbox_dir), "agent@mairie-bourg.fr")[-1]
    assert "photo non conforme" in mail.get_body(preferencelist=("plain",)).get_content()
    # Rejected before production: no card will ever be numbered, and the order says so.
    for path, who in ((f"/orders/{order['id']}", agent), (f"/admin/orders/{order['id']}", operator)):
        shown = client.http.get(path, headers=auth(who)).json_body
        assert {card["card_number_label"] for card in shown["cards"]} == {
            "Aucun : demande rejetée avant la fabrication"}
        assert all("card_number" not in card for card in shown["cards"])
    assert new_order(client, agent, ids)["status"] == "brouillon"


def test_a_card_waiting_for_production_says_its_number_comes_then(client, commune):
    agent, ids = commune
    order = submitted(client, agent, ids[:1])
    assert [card["card_number_label"] for card in order["cards"]] == ["Attribué à la fabrication"]


def test_a_drafts_cancellation_sends_no_email_and_a_sent_orders_does(client, aws, commune):
    agent, ids = commune
    outbox = Path(aws.outbox_dir)
    before = len(outbox_messages(outbox, "agent@mairie-bourg.fr"))
    draft = new_order(client, agent, ids)
    cancelled = post_json(client, f"/orders/{draft['id']}/cancel", {}, agent).json_body
    assert cancelled["status"] == "annulee"
    assert len(outbox_messages(outbox, "agent@mairie-bourg.fr")) == before  # the commune never knew of the draft
    order = submitted(client, agent, ids)
    post_json(client, f"/orders/{order['id']}/cancel", {}, agent)
    subjects = [m["Subject"] for m in outbox_messages(outbox, "agent@mairie-bourg.fr")[before:]]
    assert subjects == ["Demande de cartes\u00a0: En préparation", "Demande de cartes\u00a0: Annulée"]


def test_the_hourly_function_cancels_a_draft_left_for_7_days_and_releases_its_officials(client, aws, commune):
    from datetime import timedelta
    from unittest import mock

    from chalicelib import clock

    agent, ids = commune
    outbox = Path(aws.outbox_dir)
    draft = new_order(client, agent, ids)
    before = len(outbox_messages(outbox, "agent@mairie-bourg.fr"))
    made = clock.now()

    def hourly():
        return client.lambda_.invoke("purge_personal_data", client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])).payload

    with mock.patch.object(clock, "now", lambda: made + timedelta(days=6, hours=23)):
        assert hourly()["drafts_cancelled"] == 0
    assert client.http.get(f"/orders/{draft['id']}", headers=auth(agent)).json_body["status"] == "brouillon"
    with mock.patch.object(clock, "now", lambda: made + timedelta(days=7, minutes=1)):
        assert hourly()["drafts_cancelled"] == 1
    shown = client.http.get(f"/orders/{draft['id']}", headers=auth(agent)).json_body
    assert shown["status"] == "annulee" and shown["history"][-1]["by_role"] == "portail"
    assert len(outbox_messages(outbox, "agent@mairie-bourg.fr")) == before
    assert new_order(client, agent, ids)["status"] == "brouillon"  # its officials were released


def test_cancelling_frees_the_officials_but_not_once_in_production(client, commune, operator):
    agent, ids = commune
    order = new_order(client, agent, ids)
    assert post_json(client, f"/orders/{order['id']}/cancel", {}, agent).json_body["status"] == "annulee"
    order = submitted(client, agent, ids)
    transition(client, operator, order["id"], "en_production")
    refused = post_json(client, f"/orders/{order['id']}/cancel", {}, agent)
    assert refused.status_code == 409


def test_photo_and_function_are_frozen_while_a_card_is_in_progress(client, commune):
    from tests.unit import photo_corpus as corpus

    agent, ids = commune
    new_order(client, agent, ids)
    started = post_json(client, f"/officials/{ids[0]}/photo-uploads", {"crop": corpus.full_crop((700, 900))}, agent)
    assert started.status_code == 409 and started.json_body["code"] == "card_in_progress"
    assert client.http.delete(f"/officials/{ids[0]}", headers=auth(agent)).status_code == 409


@pytest.mark.parametrize("role", ["commune", "manufacturer", "prefecture"])
def test_every_move_not_in_the_table_is_refused_and_changes_nothing(client, commune, operator, prefecture, role):
    """For each status an order can be in, every target by this role that the lifecycle does not allow -> 409."""
    agent, ids = commune
    tokens = {"commune": agent, "manufacturer": operator, "prefecture": prefecture}
    path = {"brouillon": [], "en_preparation": [("commune", "submit")],
            "en_production": [("commune", "submit"), ("manufacturer", "en_production")],
            "en_livraison": [("commune", "submit"), ("manufacturer", "en_production"),
                             ("manufacturer", "en_livraison")]}
    for status, steps in path.items():
        order = new_order(client, agent, [ids[0]])
        for who, step in steps:
            if step == "submit":
                post_json(client, f"/orders/{order['id']}/submit", {"preview_acknowledged": True}, agent)
            else:
                transition(client, tokens[who], order["id"], step)
        for target in lifecycle.STATUSES:
            move = lifecycle.MOVES.get(target)
            if move and move.role == role and status in move.sources:
                continue
            if role == "commune":
                continue  # the commune has no transitions route; its moves are submit and cancel
            response = transition(client, tokens[role], order["id"], target, "motif")
            assert response.status_code == 409, (status, role, target, response.json_body)
            assert response.json_body["code"] == "invalid_transition"
        current = client.http.get(f"/orders/{order['id']}", headers=auth(agent)).json_body
        assert current["status"] == status
        post_json(client, f"/orders/{order['id']}/cancel", {}, agent) if status in ("brouillon", "en_preparation") \
            else transition(client, operator, order["id"], "rejetee", "fin du test")
    if role == "commune":
        response = client.http.post("/admin/orders/x-y/transitions", headers=auth(agent), body=b'{"to": "remise"}')
        assert response.status_code == 403


def test_prefectures_see_only_their_departement(client, aws, commune, operator, prefecture):
    agent, ids = commune
    order = submitted(client, agent, ids)
    from tests.helpers import create_operator

    create_operator("guichet@isere.gouv.fr", "Iris", "Isère", "prefecture", "38", password=PREFECTURE_PASSWORD)
    isere = log_in(client, "guichet@isere.gouv.fr", PREFECTURE_PASSWORD, OPERATOR_TOTP_SECRET)
    assert client.http.get(f"/admin/orders/{order['id']}", headers=auth(isere)).status_code == 404
    assert transition(client, isere, order["id"], "livree").status_code == 404
    assert client.http.get("/admin/orders?status=en_preparation", headers=auth(isere)).json_body["items"] == []
    mine = client.http.get("/admin/orders?status=en_preparation", headers=auth(prefecture)).json_body["items"]
    assert [o["id"] for o in mine] == [order["id"]]
    # a préfecture cannot widen its view with the department parameter
    widened = client.http.get("/admin/orders?status=en_preparation&department=01", headers=auth(isere))
    assert widened.json_body["items"] == []


def test_communes_never_see_each_others_orders(client, aws, commune, operator):
    agent, ids = commune
    order = new_order(client, agent, ids)
    lyon = other_commune_agent(client, aws, "216901231", "agent@mairie-lyon.fr", "la colline de fourvière au loin")
    assert client.http.get(f"/orders/{order['id']}", headers=auth(lyon)).status_code == 404
    assert post_json(client, f"/orders/{order['id']}/cancel", {}, lyon).status_code == 404
    assert client.http.get("/orders", headers=auth(lyon)).json_body["items"] == []
    refused = post_json(client, "/orders", {"official_ids": ids}, lyon)
    assert refused.status_code == 422
    assert {d["code"] for d in refused.json_body["details"]} == {"not_found"}


def test_back_office_lists_are_paginated_queries_with_checked_cursors(client, commune, operator, monkeypatch):
    from chalicelib.store import repositories
    from tests.dynamodb_calls import count_dynamodb_calls

    monkeypatch.setattr(repositories, "PAGE_SIZE", 1)
    agent, ids = commune
    first = submitted(client, agent, [ids[0]])
    second = submitted(client, agent, [ids[1]])
    with count_dynamodb_calls() as calls:
        page = client.http.get("/admin/orders?status=en_preparation", headers=auth(operator)).json_body
    assert "Scan" not in calls and calls.count("Query") == 1
    assert len(page["items"]) == 1 and page["next"]
    rest = client.http.get(f"/admin/orders?status=en_preparation&cursor={page['next']}", headers=auth(operator))
    seen = [page["items"][0]["id"]] + [o["id"] for o in rest.json_body["items"]]
    assert sorted(seen) == sorted([first["id"], second["id"]])
    forged = client.http.get(f"/admin/orders?status=en_livraison&cursor={page['next']}", headers=auth(operator))
    assert forged.status_code == 400 and forged.json_body["code"] == "invalid_cursor"
    garbage = client.http.get("/orders?cursor=%%%", headers=auth(agent))
    assert garbage.status_code == 400


def test_monthly_report_counts_cards_per_commune(client, commune, operator, prefecture):
    agent, ids = commune
    order = submitted(client, agent, ids)
    for to in ("en_production", "en_livraison"):
        transition(client, operator, order["id"], to)
    transition(client, prefecture, order["id"], "livree")
    report = client.http.get("/admin/reports/monthly", headers=auth(prefecture)).json_body
    assert report["department_code"] == "01"
    assert report["communes"] == [{"siren": "210100533", "commune_name": "Bourg-en-Bresse", "ordered": 2,
                                   "delivered": 2, "handed_over": 0, "rejected": 0}]
    assert report["totals"]["ordered"] == 2


def test_activation_letters_issue_new_codes_in_one_pdf(client, aws, operator):
    from chalicelib.services.accounts import issue_activation_code

    old = issue_activation_code("210102836")["activation_code"]  # Oyonnax
    response = post_json(client, "/admin/activation-letters", {"department_code": "01"}, operator)
    assert response.status_code == 201, response.json_body
    assert response.json_body["letters"] == 2  # Bourg-en-Bresse and Oyonnax
    text = text_of_pdf(response.json_body["url"])
    assert "Démarrer l'inscription" in text and "210102836" in text
    assert old not in text
    refused = post_json(client, "/registrations", {"siren": "210102836", "activation_code": old, "last_name": "A",
                                                   "first_name": "B", "email": "a@mairie-oyonnax.fr"})
    assert refused.status_code == 403
    import re

    codes = re.findall(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}\b", text)
    assert len(set(codes)) == 2 and old not in codes
    assert len(render_pdf(response.json_body["url"])) == 2
    oyonnax_page = next(page for page in text.split("Objet :") if "210102836" in page)
    [new_code] = re.findall(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}\b", oyonnax_page)
    accepted = post_json(client, "/registrations", {"siren": "210102836", "activation_code": new_code,
                                                    "last_name": "A", "first_name": "B",
                                                    "email": "a@mairie-oyonnax.fr"})
    assert accepted.status_code == 201, accepted.json_body


def test_a_newer_directory_flags_orders_of_officials_whose_mandate_ended(client, aws, operator, prefecture):
    from tests.helpers import import_file

    agent, ids = commune_with_ready_officials(client, aws, operator, REFERENCE_DATA,
                                              names=("MARCHAND", "GIRAUD", "FONTAINE"))
    marchand, giraud, fontaine = ids
    delivered = submitted(client, agent, [giraud])
    for token, to in ((operator, "en_production"), (operator, "en_livraison"), (prefecture, "livree"),
                      (prefecture, "remise")):
        assert transition(client, token, delivered["id"], to).status_code == 200
    pending = submitted(client, agent, [fontaine])
    untouched = submitted(client, agent, [marchand])
    lines = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_text(encoding="utf-8-sig").splitlines()
    newer = "\n".join(line for line in lines if "GIRAUD" not in line and "FONTAINE" not in line) + "\n"
    assert import_file(client, operator, "rne_cm", newer.encode("utf-8-sig"))["status"] == "done"

    seen_by_commune = client.http.get(f"/orders/{pending['id']}", headers=auth(agent)).json_body
    assert [a["code"] for a in seen_by_commune["alerts"]] == ["mandate_ended"]
    assert "FONTAINE" in seen_by_commune["alerts"][0]["message"]
    seen_by_maker = client.http.get(f"/admin/orders/{pending['id']}", headers=auth(operator)).json_body
    assert seen_by_maker["alerts"] == seen_by_commune["alerts"]
    assert client.http.get(f"/orders/{untouched['id']}", headers=auth(agent)).json_body["alerts"] == []
    to_return = client.http.get("/admin/cards-to-return", headers=auth(prefecture)).json_body["items"]
    # The registry lists the card itself, to be returned; its order keeps the alert.
    assert [(c["order_id"], c["status"], c["last_name"]) for c in to_return] == [
        (delivered["id"], "a_restituer", "GIRAUD")]
    assert "Mandat terminé" in to_return[0]["history"][-1]["note"]
    assert client.http.get(f"/admin/orders/{delivered['id']}", headers=auth(prefecture)).json_body[
        "alerts"][0]["code"] == "card_to_return"
    assert [c["number"] for c in client.http.get("/cards?status=a_restituer", headers=auth(agent)).json_body[
        "items"]] == [to_return[0]["number"]]
    official = client.http.get(f"/officials/{fontaine}", headers=auth(agent)).json_body
    assert official["mandate_ended"] is True
