"""Tells a commune's agents, by email, that one of its orders moved, that a declaration was reviewed, or what an import
of the directory changed for the commune."""
import logging

from ..domain import orders as lifecycle
from ..domain.french import date_in_words, de
from ..domain.functions import function_label
from ..mail import sender
from ..mail.messages import card_declared_mail, cards_to_return_mail, declaration_reviewed_mail, directory_changed_mail, order_moved_mail
from ..settings import get_settings

log = logging.getLogger(__name__)


def order_moved(order, reason: str | None, agent_emails: set[str] | None) -> None:
    """``agent_emails``: the commune's agents as kept on the commune (read with the order, in the same call)."""
    public_id = f"{order.siren}-{order.order_id}"
    link = f"{get_settings().site_url}/demande.html?id={public_id}"
    cards = [f"{c.first_name} {c.last_name} ({function_label(c.function, c.sex)})" for c in order.cards]
    label = f"du {date_in_words(order.created_at.date())}"
    try:
        for email in sorted(agent_emails or ()):
            sender.send(order_moved_mail(email, order.commune_name, label, lifecycle.LABELS[order.status],
                                         cards, reason, link))
    except Exception:  # noqa: BLE001 - the move is recorded; a lost notification must not undo or fail it
        log.exception("order notification not sent", extra={"order": public_id})


def declaration_reviewed(official, agent_emails) -> None:
    """``official``: as the préfecture's review left it (validated, or refused with its reason)."""
    link = f"{get_settings().site_url}/elus.html"
    name = f"{official.first_name} {official.last_name}"
    try:
        for email in sorted(agent_emails or ()):
            sender.send(declaration_reviewed_mail(email, official.commune_label, name,
                                                  function_label(official.function, official.sex),
                                                  official.declaration_status == "validated",
                                                  official.declaration_reason, link))
    except Exception:  # noqa: BLE001 - the review is recorded; a lost e-mail must not undo or fail it
        log.exception("declaration notification not sent", extra={"official": official.official_id})



def directory_changed(commune_name: str, notice, agent_emails) -> None:
    """``notice``: a ``domain.directory_news.DirectoryNotice`` that says something."""
    link = f"{get_settings().site_url}/tableau-de-bord.html"
    newly_eligible = [f"{line.name} ({line.function_label})" + (", déjà enregistré(e)" if line.registered else "")
                      for line in notice.newly_eligible]
    to_return = [f"{line.name} ({line.function_label})"
                 + (f", carte n° {line.card_number}" if line.card_number else "") for line in notice.cards_to_return]
    flagged = [f"{line.name} ({line.function_label}), demande {line.order_id}" for line in notice.orders_flagged]
    try:
        for email in sorted(agent_emails or ()):
            sender.send(directory_changed_mail(email, commune_name, notice.source_label,
                                               newly_eligible, to_return, flagged, link))
    except Exception:  # noqa: BLE001 - the notice is in the commune's space; a lost e-mail must not send it twice
        log.exception("directory notice not sent by e-mail", extra={"notice": notice.notice_id})


def card_declared(card, prefecture_emails) -> None:
    """``card``: a ``domain.cards.RegisteredCard`` just declared lost or stolen; told to its préfecture's agents."""
    link = f"{get_settings().site_url}/prefecture-cartes.html?numero={card.card_number}"
    declaration = card.declaration or {}
    try:
        for email in sorted(prefecture_emails or ()):
            sender.send(card_declared_mail(email, card.commune_name, card.card_number,
                                           f"{card.first_name} {card.last_name}",
                                           function_label(card.function, card.sex), card.label.lower(),
                                           declaration.get("date", ""), declaration.get("circumstances", ""),
                                           declaration.get("police_report"), link))
    except Exception:  # noqa: BLE001 - the declaration is recorded and in the registry; a lost e-mail must not fail it
        log.exception("card declaration not sent to the préfecture", extra={"card": card.card_number})


def cards_to_return(order, replaced, agent_emails) -> None:
    """A new order replaces cards still valid (damage, a new function, a new mandate): the commune's agents are told
    which cards to bring back to the préfecture. ``replaced``: the order's card lines that replace one."""
    link = f"{get_settings().site_url}/cartes.html"
    lines = [f"carte n° {card.replaces} {de(f'{card.first_name} {card.last_name}')} "
             f"({function_label(card.function, card.sex)})" for card in replaced]
    try:
        for email in sorted(agent_emails or ()):
            sender.send(cards_to_return_mail(email, order.commune_name, lines, link))
    except Exception:  # noqa: BLE001 - the order is recorded and the cards are listed in « Cartes »
        log.exception("cards to return not told", extra={"order": f"{order.siren}-{order.order_id}"})
