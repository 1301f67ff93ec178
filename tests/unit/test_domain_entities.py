"""The entities' rules, on plain objects: the official and their photo's life, the card order and its lifecycle.
Neither AWS nor its emulation is imported here (``test_services_in_memory.py`` checks it)."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import orders as lifecycle
from chalicelib.domain.changes import PRESENT, Below, Refused
from chalicelib.domain.officials import (IMAGE_FUNCTION, MISSING, PHOTO_MOVES, PROCESSING, READY, REJECTED,
                                         RETENTION_PURGE, Official)
from chalicelib.domain.orders import RETENTION, CardNumbers, CardOrder
from chalicelib.domain.roles import COMMUNE, MANUFACTURER, PREFECTURE, Principal

NOW = datetime(2026, 4, 2, 9, 0, tzinfo=timezone.utc)
AGENT = Principal("agent@mairie-bourg.fr", COMMUNE, "210100533", "01", "h")
MAKER = Principal("atelier@fabricant.fr", MANUFACTURER, None, None, "h")
AIN = Principal("guichet@ain.gouv.fr", PREFECTURE, None, "01", "h")
JURA = Principal("guichet@jura.gouv.fr", PREFECTURE, None, "39", "h")


def official(official_id="p1", **fields) -> Official:
    values = dict(insee_code="01053", last_name="MARCHAND", first_name="Léa", sex="F", birth_date="1970-05-01",
                  mandate_start="2026-03-22", function="maire", eligible_functions=["maire", "adjoint"],
                  commune_label="Bourg-en-Bresse", department_label="Ain", created_at=NOW)
    values.update(fields)
    return Official("210100533", official_id, **values)


def ready(official_id="p1", **fields) -> Official:
    values = dict(photo_status=READY, photo_id="0001", photo_key=f"officials/{official_id}/photo.jpg",
                  original_key=f"officials/{official_id}/original.jpg", preview_status=READY,
                  preview_key=f"officials/{official_id}/preview.jpg")
    return official(official_id, **{**values, **fields})


# --- the official ---------------------------------------------------------------------------------------------------

def test_a_function_change_redraws_the_preview_and_relies_on_no_card_being_ordered():
    change = ready().change_function("adjoint")
    assert change.sets == {"function": "adjoint", "preview_status": PROCESSING}
    assert change.expects == {"active_order_id": None, "function": "maire"}
    assert official().change_function("adjoint").sets == {"function": "adjoint"}  # no photo: no preview to redraw
    assert ready().change_function("maire") is None


def test_a_function_the_directory_does_not_give_or_a_card_in_progress_refuses_the_change():
    with pytest.raises(Refused) as refused:
        ready().change_function("maire_delegue")
    assert refused.value.code == "function_not_eligible" and "Maire, Adjointe au maire" in refused.value.message
    with pytest.raises(Refused) as refused:
        ready(active_order_id="210100533-1").change_function("adjoint")
    assert refused.value.code == "card_in_progress"


def test_each_photo_move_is_made_by_its_own_actor():
    assert {name: move.by for name, move in PHOTO_MOVES.items()} == {
        "start_attempt": IMAGE_FUNCTION, "request_recrop": COMMUNE, "keep_photo": IMAGE_FUNCTION,
        "reject_attempt": IMAGE_FUNCTION, "delete_photos": RETENTION_PURGE}
    with pytest.raises(Refused) as refused:
        ready().request_recrop(by=IMAGE_FUNCTION)
    assert refused.value.code == "forbidden"
    with pytest.raises(Refused):
        ready().delete_photos("officials/p1/photo.jpg", "motif", by=COMMUNE)


def test_an_attempt_older_than_the_kept_photo_is_refused_and_a_newer_one_relies_on_staying_newer():
    kept = ready(photo_id="0005")
    with pytest.raises(Refused) as refused:
        kept.start_attempt("0004")
    assert refused.value.code == "stale_attempt"
    change = kept.start_attempt("0006")
    assert change.sets["photo_status"] == PROCESSING and change.expects == {"photo_id": Below("0006")}


def test_keeping_a_photo_relies_on_no_order_holding_the_previous_one_and_names_the_files_it_replaces():
    current = ready()
    change = current.keep_photo("0002", photo_key="k/photo2", original_key="k/orig2", preview_key="k/prev2",
                                crop={"x": 0, "y": 0, "width": 10, "height": 13}, analysis=None)
    assert change.sets["photo_status"] == READY and change.sets["photo_checks"] is None
    assert change.expects == {"photo_id": Below("0002"), "active_order_id": None}
    assert current.files_replaced_by("k/orig2") == ["officials/p1/photo.jpg", "officials/p1/preview.jpg",
                                                    "officials/p1/original.jpg"]
    assert current.files_replaced_by("officials/p1/original.jpg") == ["officials/p1/photo.jpg",
                                                                      "officials/p1/preview.jpg"]


def test_a_rejected_attempt_keeps_the_photo_and_counts_only_if_still_the_one_processed():
    change = ready(processing_id="0002").reject_attempt("0002", "Ce fichier n'est pas une photo JPEG.")
    assert change.sets == {"photo_status": REJECTED, "photo_reason": "Ce fichier n'est pas une photo JPEG."}
    assert change.expects == {"processing_id": "0002"}


def test_recropping_needs_an_original_and_no_card_in_progress():
    with pytest.raises(Refused) as refused:
        official().request_recrop()
    assert refused.value.code == "no_original"
    with pytest.raises(Refused) as refused:
        ready(active_order_id="210100533-1").request_recrop()
    assert refused.value.code == "card_in_progress"
    assert ready().request_recrop().sets == {"photo_status": PROCESSING, "photo_reason": None}


def test_the_purge_deletes_the_photo_only_if_it_is_still_the_ordered_one_and_no_order_holds_it():
    change = ready().delete_photos("officials/p1/photo.jpg", "supprimée")
    assert change.sets["photo_status"] == MISSING and change.sets["photo_key"] is None
    assert change.expects == {"photo_key": "officials/p1/photo.jpg", "active_order_id": None}


@pytest.mark.parametrize("fields, code", [
    ({}, None),
    ({"photo_key": None}, "photo_not_ready"),
    ({"active_order_id": "210100533-9"}, "card_in_progress"),
    ({"preview_status": PROCESSING}, "photo_not_ready"),
    ({"photo_checks": [{"code": "no_face", "level": "error", "message": "Aucun visage."}]}, "photo_not_conforming"),
    ({"photo_checks": [{"code": "dark", "level": "warning", "message": "Un peu sombre."}]}, None),
])
def test_when_an_official_may_be_ordered(fields, code):
    subject = ready()
    for name, value in fields.items():
        setattr(subject, name, value)
    problem = subject.why_not_orderable()
    assert (problem[0] if problem else None) == code


# --- the card order -------------------------------------------------------------------------------------------------

def test_an_order_is_made_of_ready_officials_only_and_says_why_for_each_other():
    with pytest.raises(Refused) as refused:
        CardOrder.create(AGENT, [ready("p1"), official("p2"), ready("p3", active_order_id="x")], None, NOW)
    assert refused.value.code == "officials_not_ready"
    assert [(d["official_id"], d["code"]) for d in refused.value.details] == [("p2", "photo_not_ready"),
                                                                              ("p3", "card_in_progress")]
    order = CardOrder.create(AGENT, [ready("p1")], {"name": "Préfecture de l'Ain"}, NOW)
    assert order.status == lifecycle.BROUILLON and order.cards[0].function == "maire"
    assert [h.status for h in order.history] == [lifecycle.BROUILLON]
    taken = order.takes([ready("p1")])[0]
    assert taken.sets == {"active_order_id": order.public_id}
    assert taken.expects["active_order_id"] is None and taken.expects["function"] == "maire"
    assert taken.expects["preview_key"] == "officials/p1/preview.jpg" and taken.expects["preview_status"] == READY


def test_a_move_relies_on_the_status_it_was_read_in_and_records_one_history_entry():
    order = CardOrder.create(AGENT, [ready()], None, NOW)
    moved = order.move(lifecycle.EN_PREPARATION, AGENT, None, NOW + timedelta(minutes=1))
    assert moved.change.expects == {"status": lifecycle.BROUILLON}
    assert [h.status for h in moved.change.sets["history"]] == [lifecycle.BROUILLON, lifecycle.EN_PREPARATION]
    assert not moved.releases_officials and "purge_after" not in moved.change.sets


@pytest.mark.parametrize("by, target, code", [
    (MAKER, lifecycle.EN_PRODUCTION, "invalid_transition"),  # not submitted yet
    (AIN, lifecycle.LIVREE, "invalid_transition"),
    (JURA, lifecycle.ANNULEE, "not_found"),  # another département's préfecture does not even see it
])
def test_moves_the_lifecycle_forbids_are_refused(by, target, code):
    order = CardOrder.create(AGENT, [ready()], None, NOW)
    with pytest.raises(Refused) as refused:
        order.move(target, by, None, NOW)
    assert refused.value.code == code


def test_a_rejection_needs_a_reason_and_closing_sets_when_the_photos_go():
    order = CardOrder.create(AGENT, [ready()], None, NOW)
    order.status = lifecycle.EN_PREPARATION
    with pytest.raises(Refused) as refused:
        order.move(lifecycle.REJETEE, MAKER, "  ", NOW)
    assert refused.value.code == "reason_required"
    moved = order.move(lifecycle.REJETEE, MAKER, " photo floue ", NOW)
    assert moved.releases_officials and not moved.handed_over
    assert moved.change.sets["purge_after"] == NOW + RETENTION and moved.entry.reason == "photo floue"
    released = order.releases(moved)[0]
    assert released.sets == {"active_order_id": None} and released.expects == {"active_order_id": order.public_id}


def test_a_draft_expires_7_days_after_it_was_made_and_only_a_draft():
    order = CardOrder.create(AGENT, [ready()], None, NOW)
    assert not order.draft_expired(NOW + lifecycle.DRAFT_LIFETIME - timedelta(seconds=1))
    with pytest.raises(Refused):
        order.expire_draft(NOW + timedelta(days=6))
    later = NOW + timedelta(days=7)
    moved = order.expire_draft(later)
    assert moved.change.sets["status"] == lifecycle.ANNULEE
    assert moved.change.expects == {"status": lifecycle.BROUILLON, "updated_at": NOW}
    assert moved.entry.by_role == lifecycle.PORTAL and "7 jours" in moved.entry.reason
    assert moved.releases_officials and not moved.tells_commune
    assert moved.change.sets["purge_after"] == later + RETENTION
    assert order.releases(moved)[0].expects == {"active_order_id": order.public_id}
    order.status = lifecycle.EN_PREPARATION
    assert not order.draft_expired(NOW + timedelta(days=30))


def test_only_a_drafts_cancellation_is_not_told_to_the_commune():
    order = CardOrder.create(AGENT, [ready()], None, NOW)
    assert not order.move(lifecycle.ANNULEE, AGENT, None, NOW).tells_commune
    assert order.move(lifecycle.EN_PREPARATION, AGENT, None, NOW).tells_commune
    order.status = lifecycle.EN_PREPARATION
    assert order.move(lifecycle.ANNULEE, AGENT, None, NOW).tells_commune


def test_the_card_number_label_follows_the_orders_history():
    order = CardOrder.create(AGENT, [ready("p1"), ready("p2")], None, NOW)
    first, second = order.cards
    assert order.card_number_label(first) == "Attribué à la fabrication"  # a draft may still get there
    order.status = lifecycle.EN_PREPARATION
    assert order.card_number_label(first) == "Attribué à la fabrication"
    # Rejected before production: it never will be numbered.
    moved = order.move(lifecycle.REJETEE, MAKER, "photo floue", NOW)
    order.status, order.history = moved.change.sets["status"], moved.change.sets["history"]
    assert order.card_number_label(first) == "Aucun : demande rejetée avant la fabrication"
    # A card whose photo was refused, and a numbered card.
    first.photo_rejected_at = NOW
    assert order.card_number_label(first) == "Aucun : photo refusée par le fabricant"
    second.card_number = "2026-0000001"
    assert order.card_number_label(second) is None
    cancelled = CardOrder.create(AGENT, [ready()], None, NOW)
    cancelled.status = lifecycle.ANNULEE
    assert cancelled.card_number_label(cancelled.cards[0]) == "Aucun : demande annulée avant la fabrication"


def test_the_alert_of_a_refused_photo_elides_before_the_name():
    order = CardOrder.create(AGENT, [ready("p1", first_name="Hélène")], None, NOW)
    order.status = lifecycle.EN_PREPARATION
    alert = order.reject_photo("p1", MAKER, "visage flou", NOW).sets["alerts"][-1]
    assert alert.message.startswith("La photo d'Hélène ")


def test_handing_over_records_the_delivered_order_on_the_official():
    order = CardOrder.create(AGENT, [ready()], None, NOW)
    order.status = lifecycle.LIVREE
    moved = order.move(lifecycle.REMISE, AIN, None, NOW)
    assert moved.handed_over
    assert order.releases(moved)[0].sets == {"active_order_id": None, "delivered_order_id": order.public_id}


def test_cards_take_the_years_next_numbers_and_the_counter_relies_on_its_count():
    order = CardOrder.create(AGENT, [ready("p1"), ready("p2")], None, NOW)
    order.number_cards(2026, 41)
    assert [c.card_number for c in order.cards] == ["2026-0000042", "2026-0000043"]
    assert CardNumbers(2026, 41, exists=True).take(2).expects == {"count": 41}
    assert CardNumbers(2026).take(2).expects == {"key": None}


def test_the_purge_forgets_the_files_of_the_order_and_only_the_photos_still_in_use_by_it():
    order = CardOrder.create(AGENT, [ready("p1"), ready("p2")], None, NOW)
    order.purge_after = NOW
    newer = ready("p2")
    newer.photo_key = "officials/p2/newer.jpg"  # a new photo since: it stays, the ordered one goes
    change, official_changes, keys = order.files_forgotten([ready("p1"), newer], "supprimée")
    assert [c.entity.official_id for c in official_changes] == ["p1"]
    assert "officials/p1/original.jpg" in keys and "officials/p2/photo.jpg" in keys
    assert "officials/p2/newer.jpg" not in keys and "officials/p2/original.jpg" not in keys
    assert all(card.photo_key is None for card in change.sets["cards"])
    assert change.expects == {"purge_after": PRESENT, "purge_keys": None}
