"""« Commander les cartes » on the running local stack, over HTTP only: from registration to hand-over."""
from pathlib import Path

import pypdfium2
import requests

from tests.e2e.test_local_stack import read_link_token
from tests.e2e.test_local_stack_officials import Api, wait_for
from tests.unit import photo_corpus as corpus


def test_two_officials_from_registration_to_hand_over(stack):
    state = stack.state
    demo = state["demo"]
    agent = Api(state["api_url"])
    email = "cartes@mairie-bourg-en-bresse.fr"
    agent("POST", "/registrations", 201, json={"siren": demo["siren"], "activation_code": demo["activation_code"],
                                               "last_name": "Bernard", "first_name": "Lucie", "email": email})
    token = read_link_token(Path(state["outbox_dir"]), email)
    agent("POST", "/password", 204, json={"token": token, "password": "le monastère royal de Brou"})
    agent.log_in(email, "le monastère royal de Brou")

    directory = {e["last_name"]: e for e in agent("GET", "/directory", 200)["items"]}
    official_ids = []
    for name, function in (("MARCHAND", "maire"), ("FONTAINE", "adjoint")):
        official = agent("POST", "/officials", 201, json={"directory_id": directory[name]["id"], "function": function})
        upload = agent("POST", f"/officials/{official['id']}/photo-uploads", 201,
                       json={"crop": corpus.full_crop((700, 900))})
        requests.post(upload["url"], data=upload["fields"],
                      files={"file": ("photo.jpg", corpus.portrait_jpeg((700, 900)), "image/jpeg")}, timeout=60)
        wait_for(lambda: agent("GET", f"/officials/{official['id']}", 200)["photo"]["status"] == "ready")
        official_ids.append(official["id"])

    order = agent("POST", "/orders", 201, json={"official_ids": official_ids})
    assert [c["function_label"] for c in order["cards"]] == ["Maire", "Adjointe au maire"]
    assert order["delivery_address"]["address"] == "45 avenue Alsace-Lorraine"
    agent("POST", f"/orders/{order['id']}/submit", 200, json={"preview_acknowledged": True})

    manufacturer = Api(state["api_url"])
    manufacturer.log_in_as(state["operators"]["manufacturer"])
    prefecture = Api(state["api_url"])
    prefecture.log_in_as(state["operators"]["prefecture"])
    labels_seen = [agent("GET", "/orders", 200)["items"][0]["status_label"]]
    for actor, to in ((manufacturer, "en_production"), (manufacturer, "en_livraison"), (prefecture, "livree"),
                      (prefecture, "remise")):
        actor("POST", f"/admin/orders/{order['id']}/transitions", 200, json={"to": to})
        labels_seen.append(agent("GET", "/orders", 200)["items"][0]["status_label"])
    assert labels_seen == ["En préparation", "En production", "En livraison", "Livrée en préfecture",
                           "Remise à l'élu"]

    receipt = prefecture("GET", f"/admin/orders/{order['id']}/receipt", 200)
    document = pypdfium2.PdfDocument(requests.get(receipt["url"], timeout=60).content)
    assert len(document) == 2
    image = document[0].render(scale=1).to_pil()
    lightest, darkest = image.convert("L").getextrema()[::-1]
    assert image.size[0] > 500 and darkest < lightest  # really drawn, not blank
    text = document[0].get_textpage().get_text_range()
    assert "MARCHAND" in text and "Maire" in text and "Bourg-en-Bresse" in text


def test_a_program_syncs_what_changed_since_an_instant(stack):
    """``updated_since`` over HTTP (issue 23): Oyonnax sends two orders; after an instant taken between the two, only
    the order moved after it (and its cards) comes back, to the commune and to its préfecture; a bad instant is a
    400."""
    import time
    from datetime import datetime, timezone

    state = stack.state
    agent, manufacturer, prefecture = Api(state["api_url"]), Api(state["api_url"]), Api(state["api_url"])
    agent.log_in(state["demo_agent"]["email"], state["demo_agent"]["password"])
    manufacturer.log_in_as(state["operators"]["manufacturer"])
    prefecture.log_in_as(state["operators"]["prefecture"])
    ids = wait_for(lambda: (lambda items: [o["id"] for o in items] if len(items) == 2 and all(
        o["photo"]["status"] == "ready" for o in items) else None)(agent("GET", "/officials", 200)["items"]))
    orders = []
    for official_id in ids:
        order = agent("POST", "/orders", 201, json={"official_ids": [official_id]})
        agent("POST", f"/orders/{order['id']}/submit", 200, json={"preview_acknowledged": True})
        orders.append(order["id"])
    time.sleep(1.1)  # the instant, to the second, comes after every write so far
    since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(1.1)
    moved = manufacturer("POST", f"/admin/orders/{orders[0]}/transitions", 200, json={"to": "en_production"})
    assert moved["updated_at"] > since

    assert [o["id"] for o in agent("GET", f"/orders?updated_since={since}", 200)["items"]] == [orders[0]]
    assert {o["id"] for o in agent("GET", "/orders", 200)["items"]} >= set(orders)
    assert [o["id"] for o in prefecture("GET", f"/admin/orders?updated_since={since}", 200)["items"]] == [orders[0]]
    cards = agent("GET", f"/cards?updated_since={since}", 200)["items"]
    assert [c["order_id"] for c in cards] == [orders[0]] and cards[0]["status"] == "en_fabrication"
    # Production writes the order and the registry, not the officials (held by their orders since they were sent).
    assert agent("GET", f"/officials?updated_since={since}", 200)["items"] == []
    assert len(agent("GET", "/officials?updated_since=2000-01-01T00:00:00%2B01:00", 200)["items"]) == 2
    refused = agent("GET", "/orders?updated_since=2026-03-02", 400)
    assert refused["code"] == "invalid_request" and "updated_since" in refused["details"]
