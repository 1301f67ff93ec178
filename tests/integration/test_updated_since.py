"""``updated_since`` on the list routes a program syncs from (issue 23): moves on several orders at controlled times,
then each list returns exactly the records changed strictly after the given instant, page after page, and a bad
value is a clear 400."""
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest

from chalicelib import clock
from chalicelib.store import repositories
from tests.conftest import REFERENCE_DATA
from tests.helpers import (OPERATOR_TOTP_SECRET, auth, commune_with_ready_officials, create_operator, log_in,
                           post_json, register_official, transition)

PASSWORD = "le guichet des elus ouvre a neuf heures"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def at(moment: datetime):
    return mock.patch.object(clock, "now", lambda: moment)


def every_page(client, token: str, path: str, **query) -> list[dict]:
    """All the items of a list, following ``next`` until it is null."""
    items, cursor = [], None
    for _ in range(100):
        params = {**query, **({"cursor": cursor} if cursor else {})}
        response = client.http.get(path + "?" + "&".join(f"{k}={v}" for k, v in params.items()),
                                   headers=auth(token))
        assert response.status_code == 200, response.json_body
        items += response.json_body["items"]
        cursor = response.json_body["next"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ended")


@pytest.fixture
def moved(client, aws, operator):
    """Three orders of the demo commune (Ain) made and submitted now; at +1 min the card maker starts producing the
    first, at +2 min the second, at +3 min the commune registers a fourth official. The third order is left
    alone."""
    agent, ids = commune_with_ready_officials(client, aws, operator, REFERENCE_DATA,
                                              names=("MARCHAND", "GIRAUD", "FONTAINE"))
    create_operator("guichet@ain.gouv.fr", "Paula", "Guichet", "prefecture", "01", password=PASSWORD)
    ain = log_in(client, "guichet@ain.gouv.fr", PASSWORD, OPERATOR_TOTP_SECRET)
    orders = []
    for official_id in ids[:3]:
        created = post_json(client, "/orders", {"official_ids": [official_id]}, agent)
        assert created.status_code == 201, created.json_body
        order_id = created.json_body["id"]
        assert post_json(client, f"/orders/{order_id}/submit", {"preview_acknowledged": True},
                         agent).status_code == 200
        orders.append(order_id)
    start = clock.now().replace(microsecond=0) + timedelta(seconds=1)
    first, second, third = orders
    with at(start + timedelta(minutes=1)):
        assert transition(client, operator, first, "en_production").status_code == 200
    with at(start + timedelta(minutes=2)):
        assert transition(client, operator, second, "en_production").status_code == 200
    with at(start + timedelta(minutes=3)):
        registered = register_official(client, agent, "N'DIAYE", "adjoint")
        assert registered.status_code == 201, registered.json_body
        ids.append(registered.json_body["id"])
    return {"agent": agent, "operator": operator, "ain": ain, "start": start, "orders": orders, "ids": ids,
            "first": first, "second": second, "third": third}


def test_orders_changed_after_an_instant_exactly(client, moved):
    w, start = moved, moved["start"]
    after_none = iso(start)  # before both moves, after the orders were made
    after_first = iso(start + timedelta(minutes=1, seconds=30))
    for token, path, query in ((w["agent"], "/orders", {}),
                               (w["ain"], "/admin/orders", {}),  # the préfecture's département, by last change
                               (w["operator"], "/admin/orders", {"department": "01"}),
                               (w["operator"], "/admin/orders", {"status": "en_production"})):  # nationally
        both = every_page(client, token, path, updated_since=after_none, **query)
        assert sorted(o["id"] for o in both) == sorted([w["first"], w["second"]]), (path, query)
        assert all(o["updated_at"] > after_none for o in both)
        only = every_page(client, token, path, updated_since=after_first, **query)
        assert [o["id"] for o in only] == [w["second"]], (path, query)
    # Without updated_since, the third order is listed as before; after the last move, nothing.
    assert w["third"] in [o["id"] for o in every_page(client, w["agent"], "/orders")]
    assert every_page(client, w["agent"], "/orders", updated_since=iso(start + timedelta(minutes=5))) == []
    # The offset is read: 10:01:30+01:00 is 09:01:30Z.
    local = (start + timedelta(minutes=1, seconds=30)).astimezone(timezone(timedelta(hours=1)))
    offset = every_page(client, w["agent"], "/orders", updated_since=local.isoformat().replace("+", "%2B"))
    assert [o["id"] for o in offset] == [w["second"]]


def test_a_departements_changes_come_oldest_first_and_filter_by_status(client, moved):
    w, start = moved, moved["start"]
    listed = every_page(client, w["ain"], "/admin/orders", updated_since=iso(start))
    assert [o["id"] for o in listed] == [w["first"], w["second"]]
    assert every_page(client, w["ain"], "/admin/orders", updated_since=iso(start), status="en_preparation") == []


def test_cards_and_officials_changed_after_an_instant(client, moved):
    w, start = moved, moved["start"]
    after_first = iso(start + timedelta(minutes=1, seconds=30))
    first_cards = every_page(client, w["agent"], "/cards", updated_since=iso(start))
    assert {c["order_id"] for c in first_cards} == {w["first"], w["second"]}
    for token, path, query in ((w["agent"], "/cards", {}), (w["ain"], "/admin/cards", {}),
                               (w["operator"], "/admin/cards", {"status": "en_fabrication"})):
        cards = every_page(client, token, path, updated_since=after_first, **query)
        assert [c["order_id"] for c in cards] == [w["second"]], (path, query)
    # The officials: the orders' moves and the new registration wrote them at their times.
    officials = client.http.get("/officials?updated_since=" + iso(start + timedelta(minutes=2, seconds=30)),
                                headers=auth(w["agent"])).json_body["items"]
    assert [o["id"] for o in officials] == [w["ids"][3]]
    assert officials[0]["updated_at"] == iso(start + timedelta(minutes=3))
    everyone = client.http.get("/officials", headers=auth(w["agent"])).json_body["items"]
    assert len(everyone) == 4 and all(o["updated_at"] for o in everyone)


def test_pages_of_changes_follow_the_cursor(client, moved, monkeypatch):
    w, start = moved, moved["start"]
    monkeypatch.setattr(repositories, "PAGE_SIZE", 1)
    for token, path, query in ((w["agent"], "/orders", {}), (w["ain"], "/admin/orders", {}),
                               (w["operator"], "/admin/orders", {"status": "en_production"})):
        listed = every_page(client, token, path, updated_since=iso(start), **query)
        assert sorted(o["id"] for o in listed) == sorted([w["first"], w["second"]]), (path, query)
    cards = every_page(client, w["ain"], "/admin/cards", updated_since=iso(start))
    assert sorted(c["order_id"] for c in cards) == sorted([w["first"], w["second"]])
    # A cursor kept while updated_since moved past it, or one of another list, is an invalid cursor (not a 500).
    first = client.http.get(f"/admin/orders?updated_since={iso(start)}", headers=auth(w["ain"])).json_body
    assert first["next"]
    later = iso(start + timedelta(minutes=5))
    for query in (f"updated_since={later}&cursor={first['next']}",
                  f"updated_since={iso(start)}&cursor=" + client.http.get(
                      "/admin/orders?department=01", headers=auth(w["operator"])).json_body["next"]):
        refused = client.http.get(f"/admin/orders?{query}", headers=auth(w["ain"]))
        assert refused.status_code == 400 and refused.json_body["code"] == "invalid_cursor", refused.json_body


@pytest.mark.parametrize("value", ["hier", "2026-03-02", "2026-03-02T09:00:00", "2026-13-02T09:00:00Z",
                                   "2026-03-02%2009:00:00Z"])
def test_a_bad_instant_is_a_clear_400(client, moved, value):
    w = moved
    for token, path in ((w["agent"], "/officials"), (w["agent"], "/orders"), (w["agent"], "/cards"),
                        (w["ain"], "/admin/orders"), (w["ain"], "/admin/cards")):
        response = client.http.get(f"{path}?updated_since={value}", headers=auth(token))
        assert response.status_code == 400, (path, value, response.json_body)
        assert response.json_body["code"] == "invalid_request"
        assert "updated_since" in response.json_body["message"]
        assert "updated_since" in response.json_body["details"]
