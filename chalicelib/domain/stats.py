"""The dashboards' figures (docs/orders.md, « Dashboards »): what each order event adds to the weekly counters, and
what the counters of some weeks say (per status, the delay's median and 90th percentile, the rejection rates).

The counters are kept per (scope, week): scope ``national`` and ``dept#<code>``, week the Monday (ISO date) of the week
the event happened in. An event names each counter it adds to and by how much; the store adds them with DynamoDB's
ADD (``store/stats.py``), so a dashboard reads a few items and never scans the orders. The delay from submission to
hand-over is a histogram, one counter per day (``delay_<days>``, the last one for « that many days or more »), from
which the median and the 90th percentile are read exactly to the day.
"""
import math
from datetime import date, datetime, timedelta

from . import orders as lifecycle
from .functions import card_function

NATIONAL = "national"
MAX_DELAY_DAYS = 120  # the last bucket holds every hand-over that long after its submission or longer
MAX_WEEKS = 52
DEFAULT_WEEKS = 12
# The statuses a dashboard charts: those an order is moved into (a draft is not an order yet).
CHARTED = (lifecycle.EN_PREPARATION, lifecycle.ANNULEE, lifecycle.EN_PRODUCTION, lifecycle.REJETEE,
           lifecycle.EN_LIVRAISON, lifecycle.LIVREE, lifecycle.REMISE_PARTIELLE, lifecycle.REMISE)
ORDER_REJECTED = "rejected_orders"  # the card maker rejected the whole order (with a written reason)
PHOTO_REFUSED = "refused_photos"  # the card maker refused one card's photo, the order going on without it
REJECTION_LABELS = {ORDER_REJECTED: "Demande rejetée par le fabricant",
                    PHOTO_REFUSED: "Photo refusée par le fabricant"}
# The photo assistant's checks (chalicelib/imaging/assistant.py, its CHECK_CODES) on the cards sent to the card maker:
# counted when the order is sent, one counter per check (``photo_check_<code>``). Only warnings can be there (an error
# forbids ordering), but every code is charted.
PHOTO_CHECK = "photo_check_"
PHOTO_CHECK_LABELS = {
    "no_face": "Aucun visage détecté", "several_faces": "Plusieurs visages", "face_too_small": "Visage trop petit",
    "face_too_large": "Visage trop grand", "face_off_centre": "Visage décentré", "face_tilted": "Tête inclinée",
    "background_not_plain": "Fond non uni", "background_too_dark": "Fond trop sombre", "blurred": "Photo floue",
    "overexposed": "Photo surexposée", "underexposed": "Photo sous-exposée",
    "resolution_too_low": "Définition insuffisante",
}
# The directory files whose rows name communes with an official entitled to a card (services/reference_imports.py).
DIRECTORY_SOURCES = ("rne_maires", "rne_cm")


def department_scope(code: str) -> str:
    return f"dept#{code}"


def week_of(moment: datetime | date) -> str:
    """The Monday of the moment's week (UTC), as an ISO date: the key of its counters."""
    day = moment.date() if isinstance(moment, datetime) else moment
    return (day - timedelta(days=day.weekday())).isoformat()


def last_weeks(today: datetime | date, weeks: int) -> list[str]:
    """The ``weeks`` weeks ending with today's, oldest first."""
    monday = date.fromisoformat(week_of(today))
    return [(monday - timedelta(weeks=back)).isoformat() for back in range(weeks - 1, -1, -1)]


def _submitted_at(order) -> datetime | None:
    return next((entry.at for entry in order.history if entry.status == lifecycle.EN_PREPARATION), None)


def _event(event_id: str, order, at: datetime, counts: dict) -> dict:
    return {"event_id": event_id, "department_code": order.department_code, "week": week_of(at), "counts": counts}


def order_moved(order) -> dict | None:
    """The counters a move adds to, from the order as the move left it (its last history entry is the move): the
    order and its cards entering the status; for an order handed over whole, its delay since submission; for a
    rejection by the card maker, the rejection. The event's id names the move, so a message delivered twice counts
    once. None for a status not charted."""
    last = order.history[-1]
    if last.status not in CHARTED or last.status != order.status:
        return None
    cards = sum(1 for card in order.cards if card.going_on)
    counts = {f"orders_{last.status}": 1, f"cards_{last.status}": cards}
    if last.status == lifecycle.REMISE:
        submitted = _submitted_at(order)
        if submitted is not None:
            counts[f"delay_{min(max((last.at - submitted).days, 0), MAX_DELAY_DAYS)}"] = 1
    if last.status == lifecycle.REJETEE:
        counts[ORDER_REJECTED] = 1
    event = _event(f"{order.public_id}#{len(order.history)}#{last.status}#{last.at.isoformat()}", order, last.at,
                   counts)
    if last.status == lifecycle.EN_PREPARATION:
        for card in order.cards:
            for check in (card.photo_checks or []) if card.going_on else []:
                if check.get("code") in PHOTO_CHECK_LABELS:
                    name = PHOTO_CHECK + check["code"]
                    counts[name] = counts.get(name, 0) + 1
        event["siren"] = order.siren  # the commune's first order sent is counted once (store/stats.py)
    return event


def entitles_commune(source: str, function_label: str | None) -> bool:
    """Whether a directory row makes its commune one « with an official entitled to a card »: every row of the
    mayors' file, a row of the councillors' file whose function is a card's (``functions.card_function``)."""
    return source == "rne_maires" or card_function(function_label or "") is not None


def photo_refused(order, official_id: str, at: datetime) -> dict:
    """The card maker refused one card's photo (``services/orders.reject_photo``)."""
    return _event(f"{order.public_id}#photo#{official_id}#{at.isoformat()}", order, at, {PHOTO_REFUSED: 1})


# --- reading ------------------------------------------------------------------------------------------------------

def percentile(histogram: dict[int, int], fraction: float) -> int | None:
    """The smallest day count below or at which ``fraction`` of the hand-overs fall (nearest rank); None if none."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen >= rank:
            return days
    return None  # unreachable: the ranks add up to the total


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def dashboard(weeks: list[str], items: list[dict | None], communes: dict | None = None,
              cards_to_return: int = 0) -> dict:
    """The dashboard of some weeks from their counter items (``{name: count}``, None for a week without events), with
    the scope's communes (``{"eligible", "ordered"}``, not weekly) and its cards to return."""
    communes = communes or {}
    eligible, ordered = int(communes.get("eligible", 0)), int(communes.get("ordered", 0))
    items = [item or {} for item in items]
    orders = {status: [int(item.get(f"orders_{status}", 0)) for item in items] for status in CHARTED}
    cards = {status: [int(item.get(f"cards_{status}", 0)) for item in items] for status in CHARTED}
    histogram: dict[int, int] = {}
    for item in items:
        for name, count in item.items():
            if name.startswith("delay_") and int(count):
                days = int(name[len("delay_"):])
                histogram[days] = histogram.get(days, 0) + int(count)
    submitted_orders = sum(orders[lifecycle.EN_PREPARATION])
    submitted_cards = sum(cards[lifecycle.EN_PREPARATION])
    rejected = sum(int(item.get(ORDER_REJECTED, 0)) for item in items)
    checked = {code: sum(int(item.get(PHOTO_CHECK + code, 0)) for item in items) for code in PHOTO_CHECK_LABELS}
    refused = sum(int(item.get(PHOTO_REFUSED, 0)) for item in items)
    return {
        "weeks": weeks,
        "statuses": [{"status": status, "label": lifecycle.LABELS[status]} for status in CHARTED],
        "orders": orders,
        "cards": cards,
        "delay": {
            "handed_over": sum(histogram.values()),
            "median_days": percentile(histogram, 0.5),
            "p90_days": percentile(histogram, 0.9),
            "max_days": MAX_DELAY_DAYS,
            "histogram": [{"days": days, "orders": histogram[days]} for days in sorted(histogram)],
        },
        "rejections": [
            {"reason": ORDER_REJECTED, "label": REJECTION_LABELS[ORDER_REJECTED], "count": rejected,
             "out_of": submitted_orders, "rate": _rate(rejected, submitted_orders)},
            {"reason": PHOTO_REFUSED, "label": REJECTION_LABELS[PHOTO_REFUSED], "count": refused,
             "out_of": submitted_cards, "rate": _rate(refused, submitted_cards)},
        ],
        "photo_checks": [{"code": code, "label": label, "count": checked[code], "out_of": submitted_cards,
                          "rate": _rate(checked[code], submitted_cards)} for code, label in PHOTO_CHECK_LABELS.items()],
        # A commune that sent an order had an entitled official: the difference is those still without one (never
        # below 0: a commune the directory no longer lists may have ordered before).
        "communes": {"eligible": eligible, "ordered": ordered, "without_order": max(eligible - ordered, 0)},
        "cards_to_return": cards_to_return,
    }
