"""Hands an event for the API clients' webhooks (``domain/webhooks.py``) to the fan-out function, off the request.

Called once the change is recorded, as the dashboards' ``count``: a lost event must not fail the change (the programs
then learn it from ``updated_since``), and the log says so. Free of AWS libraries, like the services that call it
(their in-memory tests check it): the collaborator queues the event.
"""
import logging

from .collaborators import Collaborators

log = logging.getLogger(__name__)


def emit(c: Collaborators, event: dict | None) -> None:
    emit_all(c, [event] if event is not None else [])


def emit_all(c: Collaborators, events: list[dict]) -> None:
    """The events of one change (an order and its cards moving with it): one SQS message (`wiring._webhook_events`)."""
    if not events:
        return
    try:
        c.webhook_events(events)
    except Exception:  # noqa: BLE001 - the change is recorded; telling the programs is secondary
        log.exception("webhook events not queued", extra={"event_ids": [e["id"] for e in events],
                                                          "event_type": events[0]["type"]})
