"""Documents for the back office: the hand-over receipt, activation letters, the monthly check of a département.

PDFs are written to the private bucket and handed out through short-lived URLs, never streamed through the API.
"""
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from pynamodb.exceptions import TransactWriteError

from .. import clock
from ..domain import orders as lifecycle
from ..domain.functions import function_label
from ..domain.places import department_on_card
from ..domain.roles import MANUFACTURER, Principal
from ..domain.secrets_codes import IssuedCode, issue_activation_code
from ..errors import PortalError
from ..settings import get_settings
from ..store import counters, files
from ..store.tables import CardOrder, Commune, Prefecture, is_condition_failure, transaction
from . import accounts, limits

DOCUMENTS_PREFIX = "documents/"


def _publish(kind: str, pdf: bytes) -> dict:
    key = f"{DOCUMENTS_PREFIX}{kind}/{clock.now():%Y/%m}/{uuid.uuid4().hex}.pdf"
    files.put_object(key, pdf, "application/pdf")
    return {"url": files.presigned_get(key), "expires_at": clock.iso(clock.now() + files.URL_LIFETIME)}


def hand_over_receipt(order: CardOrder) -> dict:
    # cold start: printing.pdf 2 ms (fpdf2 itself waits for the first page), only the two printing routes need it
    from ..printing.pdf import ReceiptCard, hand_over_receipt as draw_receipt

    if order.status not in lifecycle.DELIVERED:
        raise PortalError(409, "not_delivered", "Le récépissé est disponible une fois les cartes livrées en préfecture.")
    handed = next((h.at for h in reversed(order.history) if h.status == lifecycle.REMISE), None)
    # Each card's page follows how it was handed over (its own date; to a representative: the transfer of
    # responsibility), as its line of the order records it; a card whose photo was refused has no page.
    lines = [c for c in order.cards if c.going_on]
    try:
        prefecture = Prefecture.get(order.department_code).name
    except Prefecture.DoesNotExist:
        prefecture = f"Préfecture ({order.department_code})"
    cards = [ReceiptCard(c.last_name, c.first_name, function_label(c.function, c.sex), order.commune_name,
                         department_on_card(c.department_label, order.department_code), c.card_number or "",
                         (c.handed_over_at or handed).date() if (c.handed_over_at or handed) else None,
                         c.handed_over_to) for c in lines]
    return {**_publish("receipts", draw_receipt(cards, prefecture)), "pages": len(cards)}


def card_receipt(card) -> dict:
    """One card's receipt, as it was handed over: the official's own, or the representative's transfer of
    responsibility (``domain/cards.py``)."""
    # cold start: printing.pdf 2 ms (fpdf2 itself waits for the first page), only the printing routes need it
    from ..printing.pdf import ReceiptCard, hand_over_receipt as draw_receipt

    if not card.hand_over:
        raise PortalError(409, "not_handed_over", f"La carte n° {card.card_number} n'a pas encore été remise : "
                          "enregistrez d'abord sa remise.")
    try:
        prefecture = Prefecture.get(card.department_code).name
    except Prefecture.DoesNotExist:
        prefecture = f"Préfecture ({card.department_code})"
    line = ReceiptCard(card.last_name, card.first_name, function_label(card.function, card.sex), card.commune_name,
                       department_on_card("", card.department_code), card.card_number,
                       card.hand_over["at"].date(), card.hand_over.get("representative"))
    return {**_publish("receipts", draw_receipt([line], prefecture)), "pages": 1}


# Each commune's code is one update and one counter reset: 50 communes make a transaction of 100 writes.
_LETTERS_PER_WRITE = 50


def activation_letters(department_code: str | None, sirens: list[str] | None) -> dict:
    # cold start: printing.pdf 2 ms (fpdf2 itself waits for the first page), only the two printing routes need it
    from ..printing.pdf import ActivationLetter, activation_letters as draw_letters

    if bool(department_code) == bool(sirens):
        raise PortalError(400, "invalid_request", "Indiquez soit un département, soit une liste de SIREN.")
    if department_code:
        # The index holds the whole commune: one query per page gives what the letters need.
        found = {c.siren: c for c in Commune.by_department.query(department_code)}
        sirens = sorted(found)
        if not sirens:
            raise PortalError(404, "not_found", "Aucune commune de ce département dans le référentiel.")
    else:
        sirens = list(dict.fromkeys(accounts.valid_siren(s) for s in sirens))
        found = {c.siren: c for c in Commune.batch_get(sirens)}
    skipped, waiting = [], []
    for siren in sirens:
        commune = found.get(siren)
        if commune is None:
            skipped.append({"siren": siren, "reason": "Commune absente du référentiel."})
        elif commune.registered_at is not None:
            skipped.append({"siren": siren, "reason": "Commune déjà inscrite."})
        else:
            waiting.append(commune)
    now = clock.now()
    letters = []
    for start in range(0, len(waiting), _LETTERS_PER_WRITE):
        chunk = waiting[start:start + _LETTERS_PER_WRITE]
        codes = {commune.siren: issue_activation_code(now) for commune in chunk}
        try:
            _issue_codes(chunk, codes)
        except _RegisteredMeanwhile:
            # A commune of this batch registered since we read it: one by one, so the others still get their code.
            for commune in chunk:
                try:
                    _issue_codes([commune], codes)
                except _RegisteredMeanwhile:
                    skipped.append({"siren": commune.siren, "reason": "Commune déjà inscrite."})
                    codes.pop(commune.siren)
        letters += [ActivationLetter(c.name, c.department_code, c.siren, codes[c.siren].code,
                                     codes[c.siren].expires_at.date())
                    for c in chunk if c.siren in codes]
    if not letters:
        raise PortalError(404, "not_found", "Aucune commune à qui écrire : toutes sont inscrites ou inconnues.",
                          details=skipped)
    letters.sort(key=lambda letter: letter.commune_name)
    published = _publish("activation-letters", draw_letters(letters, get_settings().site_url))
    return {**published, "letters": len(letters), "skipped": skipped}


class _RegisteredMeanwhile(Exception):
    pass


def _issue_codes(communes: list[Commune], codes: dict[str, IssuedCode]) -> None:
    """Each commune's new code replaces any earlier one, and the wrong guesses of the old code are forgotten."""
    try:
        with transaction() as writes:
            for commune in communes:
                actions, condition = accounts.new_code_update(codes[commune.siren])
                writes.update(commune, actions=actions, condition=condition)
                counters.clear_in(writes, limits.ACTIVATION_CODE, commune.siren)
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        raise _RegisteredMeanwhile() from None


def monthly_report(principal: Principal, month: str | None, department: str | None) -> dict:
    """Per commune of the département: cards ordered (submitted), delivered, handed over and rejected in the month."""
    if principal.role != MANUFACTURER:
        department = principal.department_code
    if not department:
        raise PortalError(400, "invalid_request", "Précisez le département.",
                          details={"department": "Département requis."})
    start, end = _month_bounds(month)
    events = {lifecycle.EN_PREPARATION: "ordered", lifecycle.LIVREE: "delivered", lifecycle.REMISE: "handed_over",
              lifecycle.REJETEE: "rejected"}
    rows: dict[str, dict] = {}
    totals = defaultdict(int)
    # Orders submitted up to a year before the month can still be delivered in it; older ones are long closed.
    since = f"{int((start - timedelta(days=365)).timestamp() * 1000):013d}"
    for order in CardOrder.by_department.query(department, CardOrder.order_id >= since):
        for entry in order.history:
            column = events.get(entry.status)
            if column and start <= entry.at < end:
                row = rows.setdefault(order.siren, {"siren": order.siren, "commune_name": order.commune_name,
                                                    "ordered": 0, "delivered": 0, "handed_over": 0, "rejected": 0})
                row[column] += len(order.cards)
                totals[column] += len(order.cards)
    return {"month": f"{start:%Y-%m}", "department_code": department,
            "communes": sorted(rows.values(), key=lambda r: r["commune_name"]),
            "totals": {k: totals[k] for k in ("ordered", "delivered", "handed_over", "rejected")}}


def _month_bounds(month: str | None) -> tuple[datetime, datetime]:
    now = clock.now()
    try:
        year, number = (int(part) for part in month.split("-")) if month else (now.year, now.month)
        if not 2000 <= year <= 2099:  # the API's schema (api/schemas.py MONTH) says so first; a year's look-back
            raise ValueError(month)   # and the next month must stay within datetime's range
        start = datetime(year, number, 1, tzinfo=timezone.utc)
    except ValueError:
        raise PortalError(400, "invalid_request", "Mois invalide (format AAAA-MM, de 2000-01 à 2099-12).",
                          details={"month": "Format invalide."}) from None
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end
