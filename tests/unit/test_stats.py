"""The dashboards' arithmetic (domain/stats.py): weeks, what a move counts, the median and 90th percentile."""
from datetime import date, datetime, timedelta, timezone

from chalicelib.domain import orders as lifecycle, stats
from chalicelib.domain.orders import HistoryEntry


def test_a_week_is_named_by_its_monday_and_the_last_weeks_end_with_todays():
    sunday = datetime(2026, 12, 13, 23, 59, tzinfo=timezone.utc)
    assert stats.week_of(sunday) == "2026-12-07" and stats.week_of(date(2026, 12, 7)) == "2026-12-07"
    assert stats.last_weeks(sunday, 3) == ["2026-11-23", "2026-11-30", "2026-12-07"]
    assert stats.last_weeks(date(2027, 1, 1), 2) == ["2026-12-21", "2026-12-28"]  # across the year


def test_percentiles_come_from_the_histogram_by_nearest_rank():
    assert stats.percentile({}, 0.5) is None
    assert stats.percentile({4: 1}, 0.5) == stats.percentile({4: 1}, 0.9) == 4
    histogram = {2: 5, 3: 4, 10: 1}  # ten hand-overs
    assert stats.percentile(histogram, 0.5) == 2 and stats.percentile(histogram, 0.9) == 3
    assert stats.percentile({**histogram, 30: 1}, 0.95) == 30


class _Card:
    def __init__(self, going_on=True, photo_checks=None):
        self.going_on = going_on
        self.photo_checks = photo_checks


class _Order:
    public_id, department_code, siren = "210100533-abc", "01", "210100533"

    def __init__(self, statuses, start, cards):
        self.history = [HistoryEntry(status, start + timedelta(days=day), "x", "x@x") for status, day in statuses]
        self.status = self.history[-1].status
        self.cards = cards


def test_a_hand_over_counts_its_delay_since_submission_and_a_draft_counts_nothing():
    start = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    handed = _Order([("brouillon", 0), ("en_preparation", 1), ("livree", 5), ("remise", 9)], start,
                    [_Card(), _Card(), _Card(going_on=False)])
    event = stats.order_moved(handed)
    assert event["counts"] == {"orders_remise": 1, "cards_remise": 2, "delay_8": 1}
    assert event["week"] == "2026-12-07" and event["department_code"] == "01"
    assert event["event_id"] != stats.order_moved(_Order([("brouillon", 0), ("en_preparation", 1), ("livree", 5),
                                                          ("remise", 10)], start, [_Card()]))["event_id"]
    assert stats.order_moved(_Order([("brouillon", 0)], start, [_Card()])) is None
    late = _Order([("en_preparation", 0), ("remise", 400)], start, [_Card()])
    assert stats.order_moved(late)["counts"][f"delay_{stats.MAX_DELAY_DAYS}"] == 1
    rejected = _Order([("en_preparation", 0), (lifecycle.REJETEE, 2)], start, [_Card()])
    assert stats.order_moved(rejected)["counts"][stats.ORDER_REJECTED] == 1


def test_the_dashboard_adds_the_weeks_and_gives_rates_only_when_something_was_submitted():
    weeks = ["2026-11-30", "2026-12-07"]
    figures = stats.dashboard(weeks, [{"orders_en_preparation": 4, "cards_en_preparation": 10, "delay_2": 3,
                                       stats.PHOTO_REFUSED: 1}, None])
    assert figures["orders"]["en_preparation"] == [4, 0] and figures["cards"]["remise"] == [0, 0]
    assert figures["delay"]["median_days"] == 2 and figures["delay"]["handed_over"] == 3
    assert {r["reason"]: r["rate"] for r in figures["rejections"]} == {stats.ORDER_REJECTED: 0.0,
                                                                       stats.PHOTO_REFUSED: 0.1}
    empty = stats.dashboard(weeks, [None, None])
    assert all(r["rate"] is None for r in empty["rejections"]) and empty["delay"]["median_days"] is None


def test_an_order_sent_counts_its_cards_photo_checks_and_names_its_commune():
    start = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    tilted = {"code": "face_tilted", "level": "warning", "message": "…"}
    blurred = {"code": "blurred", "level": "warning", "message": "…"}
    sent = _Order([("brouillon", 0), ("en_preparation", 1)], start,
                  [_Card(photo_checks=[tilted, blurred]), _Card(photo_checks=[tilted]), _Card(),
                   _Card(going_on=False, photo_checks=[blurred]),  # its photo refused since: not counted
                   _Card(photo_checks=[{"code": "unknown_code", "level": "warning", "message": "…"}])])
    event = stats.order_moved(sent)
    assert event["counts"] == {"orders_en_preparation": 1, "cards_en_preparation": 4, "photo_check_face_tilted": 2,
                               "photo_check_blurred": 1}
    assert event["siren"] == "210100533"
    # only the sending names the commune (its first order is counted once, by the store)
    later = stats.order_moved(_Order([("en_preparation", 0), ("en_production", 1)], start, [_Card()]))
    assert "siren" not in later and not any(name.startswith(stats.PHOTO_CHECK) for name in later["counts"])
    figures = stats.dashboard(["2026-11-30"], [event["counts"]], {"eligible": 5, "ordered": 2}, 3)
    checks = {c["code"]: (c["count"], c["out_of"], c["rate"]) for c in figures["photo_checks"]}
    assert checks["face_tilted"] == (2, 4, 0.5) and checks["blurred"] == (1, 4, 0.25) and checks["no_face"][0] == 0
    assert figures["communes"] == {"eligible": 5, "ordered": 2, "without_order": 3}
    assert figures["cards_to_return"] == 3
    assert stats.dashboard(["2026-11-30"], [None], {"eligible": 1, "ordered": 2})["communes"]["without_order"] == 0


def test_the_photo_checks_charted_are_the_assistants():
    from chalicelib.imaging.assistant import CHECK_CODES

    assert set(stats.PHOTO_CHECK_LABELS) == set(CHECK_CODES)


def test_a_commune_is_entitled_by_a_mayor_or_a_card_function():
    assert stats.entitles_commune("rne_maires", None)
    assert stats.entitles_commune("rne_cm", "2ème adjoint au Maire") and stats.entitles_commune("rne_cm", "Maire")
    assert not stats.entitles_commune("rne_cm", "Conseiller délégué") and not stats.entitles_commune("rne_cm", "")
