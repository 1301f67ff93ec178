"""Personal data: the photos behind a closed order are deleted 30 days after it closed (services/retention.py), by the
scheduled function, tested with a frozen clock (before the delay nothing goes, after it every file goes, once); and a
commune downloads everything the portal holds about an official before removing them."""
from datetime import timedelta
from unittest import mock

import pytest

from chalicelib import clock
from chalicelib.services import retention
from chalicelib.wiring import collaborators
from chalicelib.store import files
from chalicelib.store.tables import CardOrder, Official
from tests.helpers import OPERATOR_TOTP_SECRET, auth, deliver_photo_events, log_in, post_json, transition, upload_photo
from tests.unit import photo_corpus as corpus

PREFECTURE_PASSWORD = "le guichet des élus de l'Ain"


@pytest.fixture
def prefecture(client, operator):
    from tests.helpers import create_operator

    create_operator("guichet@ain.gouv.fr", "Paula", "Préfète", "prefecture", "01", password=PREFECTURE_PASSWORD)
    return log_in(client, "guichet@ain.gouv.fr", PREFECTURE_PASSWORD, OPERATOR_TOTP_SECRET)


def handed_over(client, agent, operator, prefecture, official_ids) -> str:
    """An order of these officials taken to « Remise à l'élu », its cards drawn: its public id."""
    order = post_json(client, "/orders", {"official_ids": official_ids}, agent)
    assert order.status_code == 201, order.json_body
    order_id = order.json_body["id"]
    assert post_json(client, f"/orders/{order_id}/submit", {"preview_acknowledged": True}, agent).status_code == 200
    assert transition(client, operator, order_id, "en_production").status_code == 200
    deliver_photo_events(client)  # the numbered cards
    for token, target in ((operator, "en_livraison"), (prefecture, "livree"), (prefecture, "remise")):
        assert transition(client, token, order_id, target).status_code == 200, target
    return order_id


def stored(siren: str, order_id: str) -> CardOrder:
    return CardOrder.get(siren, order_id.partition("-")[2], consistent_read=True)


def files_of(order: CardOrder, officials: list[Official]) -> set[str]:
    keys = {key for card in order.cards for key in (card.photo_key, card.preview_key, card.card_key)}
    keys |= {key for o in officials for key in (o.photo_key, o.original_key, o.preview_key)}
    return {key for key in keys if key}


def existing(keys) -> set[str]:
    present = set(files.list_keys(files.OFFICIALS_PREFIX)) | set(files.list_keys(files.CARDS_PREFIX))
    return set(keys) & present


def purge_at(moment):
    with mock.patch.object(clock, "now", lambda: moment):
        return retention.run(collaborators())


def test_the_photos_of_a_handed_over_card_go_30_days_later_and_not_before(client, commune, operator, prefecture):
    agent, ids = commune
    order_id = handed_over(client, agent, operator, prefecture, ids)
    siren = order_id.partition("-")[0]
    order = stored(siren, order_id)
    officials = [Official.get(siren, oid) for oid in ids]
    keys = files_of(order, officials)
    assert len(keys) == 2 * 4 and existing(keys) == keys  # photo, original, preview, numbered card of each
    closed_at = order.updated_at
    assert order.purge_after == closed_at + retention.RETENTION
    view = client.http.get(f"/orders/{order_id}", headers=auth(agent)).json_body
    assert view["photos_to_be_deleted_at"] == clock.iso(closed_at + timedelta(days=30))

    assert purge_at(closed_at + timedelta(days=29, hours=23)) == {"orders": 0, "postponed": 0}
    assert existing(keys) == keys

    assert purge_at(closed_at + timedelta(days=30, minutes=1)) == {"orders": 1, "postponed": 0}
    assert existing(keys) == set()
    order = stored(siren, order_id)
    assert order.photos_deleted_at is not None and order.purge_after is None and order.purge_keys is None
    assert all(c.photo_key is None and c.preview_key is None and c.card_key is None for c in order.cards)
    assert [c.card_number for c in order.cards] == [c["card_number"] for c in view["cards"]]  # the rest is kept
    for oid in ids:
        official = client.http.get(f"/officials/{oid}", headers=auth(agent)).json_body
        assert official["photo"]["status"] == "missing" and not official["photo"]["ready"]
        assert "supprimée 30 jours après" in official["photo"]["reason"] and "url" not in official["photo"]
        assert official["preview"] == {"status": "missing"}
    for token, path in ((agent, f"/orders/{order_id}"), (operator, f"/admin/orders/{order_id}")):
        view = client.http.get(path, headers=auth(token)).json_body
        assert view["photos_deleted_at"] and all(c["preview"] == {"status": "missing"} for c in view["cards"])
        assert all("photo_url" not in c and "card_url" not in c for c in view["cards"])
    # Once is enough: the order left the queue.
    assert purge_at(closed_at + timedelta(days=60)) == {"orders": 0, "postponed": 0}


def test_a_photo_that_a_new_order_holds_is_kept_and_a_newer_photo_too(client, commune, operator, prefecture):
    agent, (first, second) = commune
    order_id = handed_over(client, agent, operator, prefecture, [first, second])
    siren = order_id.partition("-")[0]
    closed = stored(siren, order_id)
    # The first official is ordered again with the same photo; the second sends a new photo.
    again = post_json(client, "/orders", {"cards": [{"official_id": first, "reason": "deterioration"}]}, agent)
    assert again.status_code == 201, again.json_body
    upload_photo(client, agent, second, corpus.small_jpeg((700, 900)), corpus.full_crop((700, 900)))
    first_now, second_now = Official.get(siren, first), Official.get(siren, second)
    assert second_now.photo_key != closed.cards[1].photo_key

    assert purge_at(closed.updated_at + timedelta(days=31))["orders"] == 1
    kept = {k for o in (first_now, second_now) for k in (o.photo_key, o.original_key, o.preview_key)}
    assert existing(kept) == kept
    assert existing(c.card_key for c in closed.cards) == set()  # the numbered cards of the closed order went
    assert Official.get(siren, first).photo_status == "ready"
    new_order = client.http.get(f"/orders/{again.json_body['id']}", headers=auth(agent)).json_body
    assert new_order["cards"][0]["preview"]["status"] == "ready" and new_order["photos_to_be_deleted_at"] is None


def test_a_cancelled_order_is_purged_too(client, commune):
    agent, ids = commune
    order = post_json(client, "/orders", {"official_ids": ids[:1]}, agent).json_body
    assert post_json(client, f"/orders/{order['id']}/cancel", {}, agent).status_code == 200
    siren = order["id"].partition("-")[0]
    closed = stored(siren, order["id"])
    keys = files_of(closed, [Official.get(siren, ids[0])])
    assert purge_at(closed.updated_at + timedelta(days=31))["orders"] == 1
    assert existing(keys) == set() and Official.get(siren, ids[0]).photo_status == "missing"


def test_an_open_order_is_never_purged(client, commune):
    agent, ids = commune
    post_json(client, "/orders", {"official_ids": ids}, agent)
    assert purge_at(clock.now() + timedelta(days=3650)) == {"orders": 0, "postponed": 0}


def test_a_purge_interrupted_after_its_first_write_is_completed_by_the_next_run(client, commune, operator,
                                                                                prefecture):
    agent, ids = commune
    order_id = handed_over(client, agent, operator, prefecture, ids)
    siren = order_id.partition("-")[0]
    order = stored(siren, order_id)
    keys = files_of(order, [Official.get(siren, oid) for oid in ids])
    later = order.updated_at + timedelta(days=31)
    with mock.patch.object(files, "delete_objects", side_effect=RuntimeError("S3 SlowDown")):
        with pytest.raises(RuntimeError):
            purge_at(later)
    half = stored(siren, order_id)
    assert sorted(half.purge_keys) == sorted(keys) and half.purge_after is not None  # still queued, keys recorded
    assert existing(keys) == keys
    assert purge_at(later) == {"orders": 1, "postponed": 0}
    assert existing(keys) == set() and stored(siren, order_id).purge_keys is None


def test_the_scheduled_function_runs_the_purge(client, commune, operator, prefecture):
    agent, ids = commune
    order_id = handed_over(client, agent, operator, prefecture, ids[:1])
    order = stored(order_id.partition("-")[0], order_id)
    with mock.patch.object(clock, "now", lambda: order.updated_at + timedelta(days=31)):
        result = client.lambda_.invoke("purge_personal_data", client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert result.payload == {"orders": 1, "postponed": 0, "drafts_cancelled": 0}


def fetched(url: str) -> bytes:
    import requests

    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    return response.content


def test_a_commune_downloads_everything_held_about_an_official_before_removing_them(client, commune, operator,
                                                                                    prefecture):
    import io

    from PIL import Image

    agent, (mayor, deputy) = commune
    order_id = handed_over(client, agent, operator, prefecture, [mayor])
    response = client.http.get(f"/officials/{mayor}/export", headers=auth(agent))
    assert response.status_code == 200, response.json_body
    data = response.json_body
    official = client.http.get(f"/officials/{mayor}", headers=auth(agent)).json_body
    assert {key: data["official"][key] for key in ("last_name", "first_name", "birth_date", "function_label")} == \
        {key: official[key] for key in ("last_name", "first_name", "birth_date", "function_label")}
    assert data["official"]["registered_at"] and data["official"]["commune"]
    assert data["directory_rows"] and {row["last_name"] for row in data["directory_rows"]} == {official["last_name"]}
    # The original upload is never exported (it is kept only for re-crops); the ID photo carries no metadata.
    assert set(data["photo_files"]) == {"photo", "card_preview"} and data["photo_files_expire_at"]
    photo = Image.open(io.BytesIO(fetched(data["photo_files"]["photo"])))
    assert photo.size == (413, 531) and not dict(photo.getexif())
    [ordered] = data["orders"]
    assert ordered["id"] == order_id and ordered["status"] == "remise" and ordered["card"]["card_number"]
    assert [h["status"] for h in ordered["history"]][-1] == "remise" and ordered["photos_to_be_deleted_at"]
    # Only this official's orders, only this commune's official.
    assert client.http.get(f"/officials/{deputy}/export", headers=auth(agent)).json_body["orders"] == []
    assert client.http.get("/officials/inconnu/export", headers=auth(agent)).status_code == 404
    assert client.http.get(f"/officials/{mayor}/export", headers=auth(operator)).status_code == 403
    assert client.http.delete(f"/officials/{mayor}", headers=auth(agent)).status_code == 204
    assert client.http.get(f"/officials/{mayor}/export", headers=auth(agent)).status_code == 404
