"""The card registry over HTTP (issue 19): hand-over card by card in the two modes, loss and replacement, the reason
of a new card, return and destruction, and the préfecture's département as the limit of what it sees."""
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest

from chalicelib import clock
from tests.conftest import REFERENCE_DATA
from tests.helpers import (OPERATOR_TOTP_SECRET, auth, commune_with_ready_officials, log_in, outbox_messages, post_file,
                           post_json, transition)
from tests.security.world import snapshot

PASSWORD = "le guichet des elus ouvre a neuf heures"
REPRESENTATIVE = {"last_name": "Lefèvre", "first_name": "Chantal", "quality": "secrétaire générale de mairie"}


def prefecture_of(client, department: str, email: str) -> str:
    from tests.helpers import create_operator

    create_operator(email, "Paula", "Guichet", "prefecture", department, password=PASSWORD)
    return log_in(client, email, PASSWORD, OPERATOR_TOTP_SECRET)


@pytest.fixture
def world(client, aws, operator):
    agent, ids = commune_with_ready_officials(client, aws, operator, REFERENCE_DATA,
                                              names=("MARCHAND", "GIRAUD", "FONTAINE"))
    return {"agent": agent, "ids": ids, "operator": operator,
            "ain": prefecture_of(client, "01", "guichet@ain.gouv.fr"),
            "savoie": prefecture_of(client, "74", "guichet@haute-savoie.gouv.fr")}


def delivered(client, w, official_ids, cards=None) -> dict:
    """An order made, submitted, produced, shipped and received at the préfecture of the Ain."""
    body = {"cards": cards} if cards else {"official_ids": official_ids}
    created = post_json(client, "/orders", body, w["agent"])
    assert created.status_code == 201, created.json_body
    order_id = created.json_body["id"]
    assert post_json(client, f"/orders/{order_id}/submit", {"preview_acknowledged": True},
                     w["agent"]).status_code == 200
    for token, to in ((w["operator"], "en_production"), (w["operator"], "en_livraison"), (w["ain"], "livree")):
        moved = transition(client, token, order_id, to)
        assert moved.status_code == 200, moved.json_body
    return moved.json_body


def card(client, token, number, admin=True) -> dict:
    response = client.http.get(f"/admin/cards/{number}" if admin else f"/cards/{number}", headers=auth(token))
    assert response.status_code == 200, response.json_body
    return response.json_body


def days_later(days: int) -> datetime:
    return datetime.now(timezone.utc).replace(hour=10, minute=0) + timedelta(days=days)


def at(moment: datetime):
    """A later day: the clock moved, and the préfecture's agent logs in again (yesterday's session is over)."""
    return mock.patch.object(clock, "now", lambda: moment)


def test_three_cards_handed_over_on_two_days_in_the_two_modes(client, world):
    order = delivered(client, world, world["ids"])
    numbers = [c["card_number"] for c in order["cards"]]
    assert [card(client, world["ain"], n)["status"] for n in numbers] == ["livree"] * 3
    monday, wednesday = days_later(3), days_later(5)
    with at(monday):  # the mayor comes in person
        ain = log_in(client, "guichet@ain.gouv.fr", PASSWORD, OPERATOR_TOTP_SECRET)
        first = post_json(client, f"/admin/cards/{numbers[0]}/hand-over", {"mode": "titulaire"}, ain)
        partial = client.http.get(f"/admin/orders/{order['id']}", headers=auth(ain)).json_body
    assert first.status_code == 200, first.json_body
    assert first.json_body["status"] == "remise" and first.json_body["hand_over"]["mode"] == "titulaire"
    assert (partial["status"], partial["status_label"]) == ("remise_partielle", "Remise partielle")
    with at(wednesday):  # the town hall's secretary takes the two others
        ain = log_in(client, "guichet@ain.gouv.fr", PASSWORD, OPERATOR_TOTP_SECRET)
        for number in numbers[1:]:
            handed = post_json(client, f"/admin/cards/{number}/hand-over",
                               {"mode": "representant", "representative": REPRESENTATIVE}, ain)
            assert handed.status_code == 200, handed.json_body
            if number != numbers[-1]:
                still = client.http.get(f"/admin/orders/{order['id']}", headers=auth(ain)).json_body
                assert still["status"] == "remise_partielle"
    done = client.http.get(f"/orders/{order['id']}", headers=auth(world["agent"])).json_body
    assert done["status"] == "remise"
    assert [h["status"] for h in done["history"]][-2:] == ["remise_partielle", "remise"]
    assert [c["handed_over_at"][:10] for c in done["cards"]] == [
        monday.date().isoformat(), wednesday.date().isoformat(), wednesday.date().isoformat()]
    third = card(client, world["ain"], numbers[2])
    assert third["hand_over"]["representative"] == REPRESENTATIVE
    assert "Chantal Lefèvre, secrétaire générale de mairie" in third["history"][-1]["note"]
    # The receipt follows the mode: the representative's transfer of responsibility, the official's own receipt.
    from tests.integration.test_orders import text_of_pdf

    representative_pdf = text_of_pdf(client.http.get(f"/admin/cards/{numbers[2]}/hand-over-receipt",
                                                     headers=auth(world["ain"])).json_body["url"])
    assert "transfert de responsabilité" in representative_pdf and "LEFÈVRE Chantal" in representative_pdf
    # The order's receipt too: one page per card, each as it was handed over.
    order_pdf = text_of_pdf(client.http.get(f"/admin/orders/{order['id']}/receipt",
                                            headers=auth(world["ain"])).json_body["url"])
    assert order_pdf.count("transfert de responsabilité") == 2 and order_pdf.count("LEFÈVRE Chantal") == 2
    assert f"{monday:%d/%m/%Y}" in order_pdf and f"{wednesday:%d/%m/%Y}" in order_pdf
    own_pdf = text_of_pdf(client.http.get(f"/admin/cards/{numbers[0]}/hand-over-receipt",
                                          headers=auth(world["ain"])).json_body["url"])
    assert "transfert" not in own_pdf and "Signature de l'élu(e)" in own_pdf and f"{monday:%d/%m/%Y}" in own_pdf
    # The signed receipt, scanned, is kept with the card; a PNG is refused and nothing is attached.
    upload = post_json(client, f"/admin/cards/{numbers[2]}/receipt-uploads", {}, world["ain"]).json_body
    assert post_file(upload, b"\x89PNG\r\n\x1a\n pas un scan", "recu.png").status_code == 204
    refused = post_json(client, f"/admin/cards/{numbers[2]}/receipt", {"upload_id": upload["upload_id"]},
                        world["ain"])
    assert (refused.status_code, refused.json_body["code"]) == (422, "invalid_file_type")
    assert card(client, world["ain"], numbers[2])["receipt_url"] is None
    upload = post_json(client, f"/admin/cards/{numbers[2]}/receipt-uploads", {}, world["ain"]).json_body
    assert post_file(upload, b"%PDF-1.4 recepisse signe", "recu.pdf").status_code == 204
    attached = post_json(client, f"/admin/cards/{numbers[2]}/receipt", {"upload_id": upload["upload_id"]},
                         world["ain"])
    assert attached.status_code == 200, attached.json_body
    import requests

    assert requests.get(attached.json_body["receipt_url"], timeout=10).content.startswith(b"%PDF-1.4")


def test_a_second_hand_over_an_unknown_card_and_another_departement_are_refused_and_nothing_changes(client, world):
    order = delivered(client, world, world["ids"][:1])
    number = order["cards"][0]["card_number"]
    assert post_json(client, f"/admin/cards/{number}/hand-over", {"mode": "titulaire"}, world["ain"]).status_code == 200
    before = snapshot()
    again = post_json(client, f"/admin/cards/{number}/hand-over", {"mode": "titulaire"}, world["ain"])
    assert (again.status_code, again.json_body["code"]) == (409, "already_handed_over")
    assert "déjà été remise" in again.json_body["message"]
    unknown = post_json(client, "/admin/cards/2026-9999999/hand-over", {"mode": "titulaire"}, world["ain"])
    assert (unknown.status_code, unknown.json_body["code"]) == (404, "not_found")
    # The préfecture of Haute-Savoie neither sees nor moves a card of the Ain.
    assert client.http.get(f"/admin/cards/{number}", headers=auth(world["savoie"])).status_code == 404
    assert client.http.get(f"/admin/cards?number={number}",
                           headers=auth(world["savoie"])).json_body["items"] == []
    for action in ("return", "destroy"):
        assert post_json(client, f"/admin/cards/{number}/{action}", {}, world["savoie"]).status_code == 404
    in_use = post_json(client, f"/admin/cards/{number}/destroy", {}, world["ain"])
    assert (in_use.status_code, in_use.json_body["code"]) == (409, "card_in_use")
    no_name = post_json(client, f"/admin/cards/{number}/hand-over", {"mode": "representant",
                                                                     "representative": {"last_name": "X"}},
                        world["ain"])
    assert no_name.status_code == 400
    assert snapshot() == before
    # The card maker sees it; the commune sees it among its cards.
    assert card(client, world["operator"], number)["status"] == "remise"
    assert [c["number"] for c in client.http.get("/cards", headers=auth(world["agent"])).json_body["items"]] == [number]


def test_a_loss_declared_then_a_replacement_and_the_lost_card_stays_lost(client, world):
    official = world["ids"][0]
    first = delivered(client, world, [official])
    lost = first["cards"][0]["card_number"]
    assert post_json(client, f"/admin/cards/{lost}/hand-over", {"mode": "titulaire"}, world["ain"]).status_code == 200
    # Ordered again a week later with no reason: refused, naming the card and its hand-over.
    again = post_json(client, "/orders", {"official_ids": [official]}, world["agent"])
    assert (again.status_code, again.json_body["code"]) == (409, "card_already_issued")
    assert lost in again.json_body["message"] and "remise le" in again.json_body["message"]
    early = post_json(client, "/orders", {"cards": [{"official_id": official, "reason": "perte"}]}, world["agent"])
    assert (early.status_code, early.json_body["code"]) == (409, "card_already_issued")  # declare it first
    # A theft needs the police report's reference; a date in the future is refused.
    theft = post_json(client, f"/cards/{lost}/declarations", {"kind": "vol", "date": "2026-11-30",
                                                               "circumstances": "Sac volé"}, world["agent"])
    assert (theft.status_code, theft.json_body["code"]) == (400, "invalid_request")
    assert "police_report" in theft.json_body["details"]
    future = (clock.now() + timedelta(days=3)).date().isoformat()
    assert post_json(client, f"/cards/{lost}/declarations", {"kind": "perte", "date": future,
                                                             "circumstances": "x"}, world["agent"]).status_code == 400
    declared = post_json(client, f"/cards/{lost}/declarations",
                         {"kind": "perte", "date": "2026-11-30", "circumstances": "Perdue lors du marché"},
                         world["agent"])
    assert declared.status_code == 201, declared.json_body
    assert declared.json_body["status"] == "perdue" and declared.json_body["declaration"]["kind"] == "perte"
    told = outbox_messages(world_outbox(), "guichet@ain.gouv.fr")
    assert any(lost in m["Subject"] and "perdue" in m["Subject"] for m in told)
    assert not outbox_messages(world_outbox(), "guichet@haute-savoie.gouv.fr")
    # The replacement: its reason is the loss, and it names the card it replaces.
    replacement = delivered(client, world, [official], cards=[{"official_id": official, "reason": "perte"}])
    line = replacement["cards"][0]
    assert (line["reason"], line["reason_label"], line["replaces"]) == ("perte", "Perte", lost)
    new = line["card_number"]
    assert card(client, world["ain"], new)["replaces"] == lost
    # The lost card can never be handed over again.
    refused = post_json(client, f"/admin/cards/{lost}/hand-over", {"mode": "titulaire"}, world["ain"])
    assert (refused.status_code, refused.json_body["code"]) == (409, "card_declared")
    assert card(client, world["ain"], lost)["status"] == "perdue"
    assert post_json(client, f"/admin/cards/{new}/hand-over", {"mode": "titulaire"}, world["ain"]).status_code == 200
    # Found later: destroyed.
    destroyed = post_json(client, f"/admin/cards/{lost}/destroy", {}, world["ain"])
    assert destroyed.status_code == 200 and destroyed.json_body["status"] == "detruite"
    official_cards = client.http.get(f"/cards?official_id={official}", headers=auth(world["agent"])).json_body
    assert sorted((c["number"], c["status"]) for c in official_cards["items"]) == [(lost, "detruite"),
                                                                                  (new, "remise")]


def test_a_change_of_function_replaces_the_valid_card_which_is_to_be_returned_then_destroyed(client, world):
    official = world["ids"][1]
    order = delivered(client, world, [official])
    old = order["cards"][0]["card_number"]
    assert post_json(client, f"/admin/cards/{old}/hand-over", {"mode": "titulaire"}, world["ain"]).status_code == 200
    refused = post_json(client, "/orders", {"official_ids": [official]}, world["agent"])
    assert refused.status_code == 409 and refused.json_body["code"] == "card_already_issued"
    assert refused.json_body["details"][0]["card_number"] == old
    accepted = post_json(client, "/orders", {"cards": [{"official_id": official,
                                                        "reason": "changement_de_fonction"}]}, world["agent"])
    assert accepted.status_code == 201, accepted.json_body
    assert accepted.json_body["cards"][0]["reason"] == "changement_de_fonction"
    returning = card(client, world["ain"], old)
    assert returning["status"] == "a_restituer" and "changement de fonction" in returning["history"][-1]["note"]
    told = [m for m in outbox_messages(world_outbox(), "agent@mairie-bourg.fr")
            if m["Subject"] == "Cartes d'élus à restituer à la préfecture"]
    assert len(told) == 1 and old in told[0].get_body(preferencelist=("plain",)).get_content()
    listed = client.http.get("/admin/cards-to-return", headers=auth(world["ain"])).json_body["items"]
    assert [c["number"] for c in listed] == [old]
    assert [c["number"] for c in client.http.get("/cards?status=a_restituer",
                                                 headers=auth(world["agent"])).json_body["items"]] == [old]
    assert client.http.get("/admin/cards-to-return", headers=auth(world["savoie"])).json_body["items"] == []
    # Return, then destruction; neither twice.
    assert post_json(client, f"/admin/cards/{old}/return", {}, world["ain"]).json_body["status"] == "restituee"
    twice = post_json(client, f"/admin/cards/{old}/return", {}, world["ain"])
    assert (twice.status_code, twice.json_body["code"]) == (409, "invalid_card_transition")
    assert post_json(client, f"/admin/cards/{old}/destroy", {}, world["ain"]).json_body["status"] == "detruite"
    history = [h["status"] for h in card(client, world["ain"], old)["history"]]
    assert history == ["en_fabrication", "livree", "remise", "a_restituer", "restituee", "detruite"]


def test_an_official_whose_mandate_ended_cannot_be_ordered(client, world):
    from tests.helpers import import_file

    lines = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_text(encoding="utf-8-sig").splitlines()
    newer = "\n".join(line for line in lines if "FONTAINE" not in line) + "\n"
    assert import_file(client, world["operator"], "rne_cm", newer.encode("utf-8-sig"))["status"] == "done"
    fontaine = world["ids"][2]
    before = snapshot()
    refused = post_json(client, "/orders", {"official_ids": [world["ids"][0], fontaine]}, world["agent"])
    assert (refused.status_code, refused.json_body["code"]) == (409, "mandate_ended")
    assert "FONTAINE" in refused.json_body["message"].upper() and "répertoire" in refused.json_body["message"]
    assert [d["official_id"] for d in refused.json_body["details"]] == [fontaine]
    assert snapshot() == before


def test_an_order_in_production_for_an_official_whose_mandate_ends_shows_an_alert(client, world):
    from tests.helpers import import_file

    fontaine = world["ids"][2]
    order = post_json(client, "/orders", {"official_ids": [fontaine]}, world["agent"]).json_body
    post_json(client, f"/orders/{order['id']}/submit", {"preview_acknowledged": True}, world["agent"])
    assert transition(client, world["operator"], order["id"], "en_production").status_code == 200
    lines = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_text(encoding="utf-8-sig").splitlines()
    newer = "\n".join(line for line in lines if "FONTAINE" not in line) + "\n"
    assert import_file(client, world["operator"], "rne_cm", newer.encode("utf-8-sig"))["status"] == "done"
    for token in (world["operator"], world["ain"]):
        alerts = client.http.get(f"/admin/orders/{order['id']}", headers=auth(token)).json_body["alerts"]
        assert [a["code"] for a in alerts] == ["mandate_ended"] and "ne doit pas être remise" in alerts[0]["message"]


def world_outbox():
    from chalicelib.settings import get_settings
    from pathlib import Path

    return Path(get_settings().outbox_dir)


def test_a_wrong_move_is_undone_by_the_same_role_within_minutes_where_nothing_depends_on_it(client, world):
    official = world["ids"][0]
    order = delivered(client, world, [official])
    number = order["cards"][0]["card_number"]
    # The préfecture records the receipt by mistake: undone, the cards are back « En fabrication ».
    assert order["undo"]["label"] == "Livrée en préfecture"
    assert post_json(client, f"/admin/orders/{order['id']}/undo", {}, world["operator"]).status_code == 409
    back = post_json(client, f"/admin/orders/{order['id']}/undo", {}, world["ain"])
    assert back.status_code == 200 and back.json_body["status"] == "en_livraison"
    assert card(client, world["ain"], number)["status"] == "en_fabrication"
    assert transition(client, world["ain"], order["id"], "livree").status_code == 200
    # A hand-over to the wrong card: undone, the order is to hand over again, the official held by it again.
    handed = post_json(client, f"/admin/cards/{number}/hand-over", {"mode": "titulaire"}, world["ain"]).json_body
    assert handed["undo"]["label"] == "Remise"
    undone = post_json(client, f"/admin/cards/{number}/undo", {}, world["ain"])
    assert undone.status_code == 200, undone.json_body
    assert undone.json_body["status"] == "livree" and undone.json_body["hand_over"] is None
    assert "Annulation" in undone.json_body["history"][-1]["note"]
    assert client.http.get(f"/orders/{order['id']}", headers=auth(world["agent"])).json_body["status"] == "livree"
    officials = client.http.get(f"/officials/{official}", headers=auth(world["agent"])).json_body
    assert officials["card_in_progress"] is True and officials["card"] is None
    # An undo is not undone; too late (10 minutes) is refused, and nothing changes.
    assert post_json(client, f"/admin/cards/{number}/undo", {}, world["ain"]).json_body["code"] == "not_undoable"
    assert post_json(client, f"/admin/cards/{number}/hand-over", {"mode": "titulaire"}, world["ain"]).status_code == 200
    with at(days_later(0) + timedelta(days=1)):
        ain = log_in(client, "guichet@ain.gouv.fr", PASSWORD, OPERATOR_TOTP_SECRET)
        before = snapshot()
        late = post_json(client, f"/admin/cards/{number}/undo", {}, ain)
        assert (late.status_code, late.json_body["code"]) == (409, "not_undoable")
        assert snapshot() == before
    # The commune's declaration made by mistake: undone while no new card is ordered.
    lost = post_json(client, f"/cards/{number}/declarations", {"kind": "perte", "date": "2026-11-30",
                                                               "circumstances": "Égarée"}, world["agent"])
    assert lost.json_body["undo"]["label"] == "Perdue"
    found = post_json(client, f"/cards/{number}/undo", {}, world["agent"])
    assert found.status_code == 200 and found.json_body["status"] == "remise"
    assert client.http.get(f"/officials/{official}", headers=auth(world["agent"])).json_body["card"]["status"] == \
        "remise"


def test_a_hand_over_reads_the_card_with_the_session_three_calls_in_all(client, world):
    from tests.dynamodb_calls import count_dynamodb_calls

    order = delivered(client, world, world["ids"][:2])
    first, second = (c["card_number"] for c in order["cards"])
    # Another département's préfecture: the card read with its session is not shown, nor moved.
    with count_dynamodb_calls() as calls:
        other = post_json(client, f"/admin/cards/{first}/hand-over", {"mode": "titulaire"}, world["savoie"])
    assert (other.status_code, other.json_body["code"], calls) == (404, "not_found", ["BatchGetItem"])
    with count_dynamodb_calls() as calls:
        handed = post_json(client, f"/admin/cards/{first}/hand-over", {"mode": "titulaire"}, world["ain"])
    assert handed.status_code == 200 and handed.json_body["status"] == "remise", handed.json_body
    # The session with the card; the order with its commune; the one transaction.
    assert calls == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"], calls
    # The last card closes the order (its notification needs no read after the write).
    with count_dynamodb_calls() as calls:
        last = post_json(client, f"/admin/cards/{second}/hand-over", {"mode": "titulaire"}, world["ain"])
    assert last.status_code == 200 and len(calls) == 3, calls
    closed = client.http.get(f"/admin/orders/{order['id']}", headers=auth(world["ain"])).json_body
    assert closed["status"] == "remise"
