"""The use cases on in-memory collaborators (``tests/unit/fakes.py``): the services' rules and their answers to
races, in milliseconds. The same services run on moto in tests/integration and behind the API in tests/e2e."""
import subprocess
import sys

import pytest

from chalicelib.domain import orders as lifecycle
from chalicelib.domain.changes import Refused
from chalicelib.domain.orders import CardNumbers
from chalicelib.domain.places import Commune, DeliveryAddress
from chalicelib.services import officials as official_service, orders as service
from tests.unit.fakes import collaborators
from tests.unit.test_domain_entities import AGENT, AIN, MAKER, official, ready

SIREN = "210100533"


@pytest.fixture
def portal():
    c, store, sent, notified = collaborators()
    store.add("communes", SIREN, Commune(SIREN, "01053", "Bourg-en-Bresse", "01", frozenset({AGENT.email})))
    store.add("prefectures", "01", DeliveryAddress("Préfecture de l'Ain", "45 avenue Alsace-Lorraine", "01000",
                                                   "Bourg-en-Bresse"))
    for oid in ("p1", "p2"):
        store.add("officials", (SIREN, oid), ready(oid))
    store.add("officials", (SIREN, "p3"), official("p3"))
    return c, store, sent, notified


def held_by(store, oid):
    return store.tables["officials"][(SIREN, oid)].active_order_id


def test_an_order_takes_its_officials_with_the_prefectures_address_in_one_commit(portal):
    c, store, _, _ = portal
    order = service.create_order(c, AGENT, ["p1", "p2", "p1"])
    assert [card.official_id for card in order.cards] == ["p1", "p2"]
    assert order.delivery_address["name"] == "Préfecture de l'Ain"
    assert held_by(store, "p1") == held_by(store, "p2") == order.public_id
    assert len(store.commits) == 1 and len(store.commits[0]) == 3


def test_an_order_lists_every_official_that_cannot_be_ordered_and_writes_nothing(portal):
    c, store, _, _ = portal
    with pytest.raises(Refused) as refused:
        service.create_order(c, AGENT, ["p1", "inconnu", "p3"])
    assert [(d["official_id"], d["code"]) for d in refused.value.details] == [
        ("inconnu", "not_found"), ("p3", "photo_not_ready")]
    assert store.commits == [] and held_by(store, "p1") is None


def test_an_official_taken_between_the_read_and_the_write_refuses_the_second_order(portal):
    c, store, _, _ = portal
    # Another tab orders p1 after our order read it free and before our order is written.
    store.before_next_commit.append(lambda: service.create_order(c, AGENT, ["p1"]))
    with pytest.raises(Refused) as refused:
        service.create_order(c, AGENT, ["p1", "p2"])
    assert refused.value.code == "officials_not_ready"
    assert {d["code"] for d in refused.value.details} == {"card_in_progress"}
    assert len(store.tables["orders"]) == 1 and held_by(store, "p2") is None  # nothing of ours was written


def test_a_function_changed_between_the_read_and_the_write_refuses_the_order(portal):
    c, store, _, _ = portal
    store.before_next_commit.append(lambda: official_service.change_function(c, AGENT, "p1", "adjoint"))
    with pytest.raises(Refused):
        service.create_order(c, AGENT, ["p1"])
    assert store.tables["orders"] == {} and held_by(store, "p1") is None


def test_the_whole_lifecycle_notifies_the_commune_and_keeps_each_status_once_in_the_history(portal):
    c, store, sent, notified = portal
    order = service.create_order(c, AGENT, ["p1", "p2"])
    service.submit(c, AGENT, order.public_id, True)
    produced = service.move(c, MAKER, order.public_id, lifecycle.EN_PRODUCTION, None)
    assert [card.card_number for card in produced.cards] == ["2026-0000001", "2026-0000002"]
    assert sent == [{"action": "render_cards", "siren": SIREN, "order_id": order.order_id}]
    service.move(c, MAKER, order.public_id, lifecycle.EN_LIVRAISON, None)
    service.move(c, AIN, order.public_id, lifecycle.LIVREE, None)
    handed = service.move(c, AIN, order.public_id, lifecycle.REMISE, None)
    assert [h.status for h in handed.history] == [lifecycle.BROUILLON, lifecycle.EN_PREPARATION,
                                                  lifecycle.EN_PRODUCTION, lifecycle.EN_LIVRAISON, lifecycle.LIVREE,
                                                  lifecycle.REMISE]
    stored = store.tables["orders"][(SIREN, order.order_id)]
    assert [h.status for h in stored.history] == [h.status for h in handed.history]
    assert stored.purge_after == c.now() + lifecycle.RETENTION
    assert held_by(store, "p1") is None
    assert store.tables["officials"][(SIREN, "p1")].delivered_order_id == order.public_id
    assert [status for status, _, emails in notified] == [lifecycle.EN_PREPARATION, lifecycle.EN_PRODUCTION,
                                                          lifecycle.EN_LIVRAISON, lifecycle.LIVREE, lifecycle.REMISE]
    assert notified[0][2] == frozenset({AGENT.email})


def test_card_numbers_continue_the_years_count_and_a_counter_moved_meanwhile_is_read_again(portal):
    c, store, _, _ = portal
    store.add("card_numbers", 2026, CardNumbers(2026, 41, exists=True))
    order = service.create_order(c, AGENT, ["p1"])
    service.submit(c, AGENT, order.public_id, True)
    store.fail_next = [1]  # another production took numbers between our read and our write
    produced = service.move(c, MAKER, order.public_id, lifecycle.EN_PRODUCTION, None)
    assert [card.card_number for card in produced.cards] == ["2026-0000042"]
    assert store.tables["card_numbers"][2026].count == 42


def test_two_productions_at_once_both_go_on_with_their_own_card_numbers(portal):
    """The loser of the race is refused on the counter *and* on the card records the winner created with the same
    numbers; its order is untouched, so it reads the counter again instead of answering 409 (found by make load)."""
    c, store, _, _ = portal
    first = service.create_order(c, AGENT, ["p1"])
    second = service.create_order(c, AGENT, ["p2"])
    for order in (first, second):
        service.submit(c, AGENT, order.public_id, True)
    store.before_next_commit.append(lambda: service.move(c, MAKER, second.public_id, lifecycle.EN_PRODUCTION, None))
    produced = service.move(c, MAKER, first.public_id, lifecycle.EN_PRODUCTION, None)
    assert [card.card_number for card in produced.cards] == ["2026-0000002"]
    other = store.tables["orders"][(SIREN, second.order_id)]
    assert [card.card_number for card in other.cards] == ["2026-0000001"]
    assert store.tables["card_numbers"][2026].count == 2


def test_a_move_on_an_order_changed_meanwhile_is_refused_and_a_cancellation_frees_the_officials(portal):
    c, store, _, _ = portal
    order = service.create_order(c, AGENT, ["p1"])
    store.fail_next = [0]
    with pytest.raises(Refused) as refused:
        service.submit(c, AGENT, order.public_id, True)
    assert refused.value.code == "invalid_transition"
    assert store.tables["orders"][(SIREN, order.order_id)].status == lifecycle.BROUILLON
    service.move(c, AGENT, order.public_id, lifecycle.ANNULEE, None)
    assert held_by(store, "p1") is None


def test_a_drafts_cancellation_tells_no_one_and_a_sent_orders_tells_the_commune(portal):
    c, _, _, notified = portal
    draft = service.create_order(c, AGENT, ["p1"])
    service.move(c, AGENT, draft.public_id, lifecycle.ANNULEE, None)
    assert notified == []  # the commune was never told of the draft
    sent = service.create_order(c, AGENT, ["p1"])
    service.submit(c, AGENT, sent.public_id, True)
    service.move(c, AGENT, sent.public_id, lifecycle.ANNULEE, None)
    assert [status for status, _, _ in notified] == [lifecycle.EN_PREPARATION, lifecycle.ANNULEE]


def test_a_draft_never_sent_releases_its_officials_after_7_days_without_an_email(portal):
    c, store, _, notified = portal
    draft = service.create_order(c, AGENT, ["p1", "p2"])
    store.add("officials", (SIREN, "p4"), ready("p4"))
    submitted = service.create_order(c, AGENT, ["p4"])
    service.submit(c, AGENT, submitted.public_id, True)
    notified.clear()
    c.now.advance(days=7, seconds=-1)
    assert service.expire_drafts(c) == {"orders": 0, "postponed": 0}
    assert held_by(store, "p1") == held_by(store, "p2") == draft.public_id
    c.now.advance(seconds=1)
    assert service.expire_drafts(c) == {"orders": 1, "postponed": 0}
    stored = store.tables["orders"][(SIREN, draft.order_id)]
    assert stored.status == lifecycle.ANNULEE
    last = stored.history[-1]
    assert (last.status, last.by_role, last.at) == (lifecycle.ANNULEE, lifecycle.PORTAL, c.now())
    assert held_by(store, "p1") is None and held_by(store, "p2") is None
    assert stored.purge_after == c.now() + lifecycle.RETENTION
    assert notified == []  # no email: the commune never sent it
    # The sent order is not a draft: it keeps its official; the next run finds nothing more.
    assert store.tables["orders"][(SIREN, submitted.order_id)].status == lifecycle.EN_PREPARATION
    assert held_by(store, "p4") == submitted.public_id
    assert service.expire_drafts(c) == {"orders": 0, "postponed": 0}
    # Released, p1 may be ordered again.
    assert service.create_order(c, AGENT, ["p1"]).status == lifecycle.BROUILLON


def test_a_draft_sent_while_it_expires_is_left_sent(portal):
    c, store, _, _ = portal
    draft = service.create_order(c, AGENT, ["p1"])
    c.now.advance(days=8)
    store.before_next_commit.append(lambda: service.submit(c, AGENT, draft.public_id, True))
    assert service.expire_drafts(c) == {"orders": 0, "postponed": 1}
    assert store.tables["orders"][(SIREN, draft.order_id)].status == lifecycle.EN_PREPARATION
    assert held_by(store, "p1") == draft.public_id


def test_another_communes_order_and_a_missing_acknowledgement_are_refused(portal):
    c, _, _, _ = portal
    order = service.create_order(c, AGENT, ["p1"])
    other = AGENT._replace(siren="216901231")
    with pytest.raises(Refused) as refused:
        service.load(c, other, order.public_id)
    assert refused.value.code == "not_found"
    with pytest.raises(Refused) as refused:
        service.submit(c, AGENT, order.public_id, False)
    assert refused.value.code == "preview_not_acknowledged"


def test_a_function_change_asks_for_a_new_preview_and_is_refused_while_a_card_is_ordered(portal):
    c, store, sent, _ = portal
    changed = official_service.change_function(c, AGENT, "p1", "adjoint")
    assert changed.function == "adjoint" and changed.preview_status == "processing"
    assert sent == [{"action": "render_preview", "siren": SIREN, "official_id": "p1"}]
    with pytest.raises(Refused) as refused:  # the preview is being redrawn: no order yet
        service.create_order(c, AGENT, ["p1"])
    assert refused.value.details[0]["code"] == "photo_not_ready"
    service.create_order(c, AGENT, ["p2"])
    with pytest.raises(Refused) as refused:
        official_service.change_function(c, AGENT, "p2", "adjoint")
    assert refused.value.code == "card_in_progress"
    assert store.tables["officials"][(SIREN, "p2")].function == "maire"


def test_removing_an_official_deletes_their_files_first_and_is_refused_while_a_card_is_ordered(portal):
    c, store, _, _ = portal
    c.files.objects.update({"officials/210100533/p1/photo.jpg": b"x", "officials/210100533/p2/photo.jpg": b"y"})
    service.create_order(c, AGENT, ["p2"])
    with pytest.raises(Refused):
        official_service.delete_official(c, AGENT, "p2")
    official_service.delete_official(c, AGENT, "p1")
    assert (SIREN, "p1") not in store.tables["officials"]
    assert list(c.files.objects) == ["officials/210100533/p2/photo.jpg"]


def test_these_unit_tests_need_neither_boto3_nor_moto():
    """The domain and the services import no AWS library: their rules run anywhere."""
    code = ("import sys; import chalicelib.services.orders, chalicelib.services.officials, "
            "chalicelib.services.photos, chalicelib.services.retention, tests.unit.fakes; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'moto', 'pynamodb'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
