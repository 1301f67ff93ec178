"""Tells a commune's agents, by email, that one of its orders moved."""
import logging

from ..domain import orders as lifecycle
from ..domain.functions import function_label
from ..mail import sender
from ..mail.messages import order_moved_mail
from ..settings import get_settings

log = logging.getLogger(__name__)


def order_moved(order, reason: str | None, agent_emails: set[str] | None) -> None:
    """``agent_emails``: the commune's agents as kept on the commune (read with the order, in the same call)."""
    public_id = f"{order.siren}-{order.order_id}"
    link = f"{get_settings().site_url}/demande.html?id={public_id}"
    cards = [f"{c.first_name} {c.last_name} ({function_label(c.function, c.sex)})" for c in order.cards]
    label = f"du {order.created_at.strftime('%d/%m/%Y')}"
    try:
        for email in sorted(agent_emails or ()):
            sender.send(order_moved_mail(email, order.commune_name, label, lifecycle.LABELS[order.status],
                                         cards, reason, link))
    except Exception:  # noqa: BLE001 - the move is recorded; a lost notification must not undo or fail it
        log.exception("order notification not sent", extra={"order": public_id})
