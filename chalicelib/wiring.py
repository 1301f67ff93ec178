"""The production collaborators of the use cases, assembled once per process (per Lambda container).

The one place where services meet the AWS adapters: the API's blueprints and the event handlers ask for
``collaborators()`` and pass it on; tests either use it (on moto) or build their own (in memory).
"""
from functools import lru_cache

from . import clock
from .services import notifications
from .services.collaborators import Collaborators
from .store import files, queues
from .store.unit_of_work import UnitOfWork


def _send_photo_task(message: dict) -> None:
    queues.send(queues.PHOTOS_QUEUE, message)


def _count_event(event: dict) -> None:
    queues.send(queues.STATS_QUEUE, event)


# The events of one change travel together (an order moving with its 40 cards: one SQS call, not five), well under
# SQS's 256 KB a message (an event is under 1 KB).
WEBHOOK_EVENTS_PER_MESSAGE = 100


def _webhook_events(events: list) -> None:
    for start in range(0, len(events), WEBHOOK_EVENTS_PER_MESSAGE):
        queues.send(queues.WEBHOOK_EVENTS_QUEUE, {"events": events[start:start + WEBHOOK_EVENTS_PER_MESSAGE]})


@lru_cache(maxsize=1)
def collaborators() -> Collaborators:
    # Looked up at each call: tests move the time, or silence the notifications, by patching the modules.
    return Collaborators(unit_of_work=UnitOfWork, now=lambda: clock.now(), send_photo_task=_send_photo_task,
                         order_moved=lambda *args: notifications.order_moved(*args), files=files,
                         card_declared=lambda *args: notifications.card_declared(*args),
                         cards_to_return=lambda *args: notifications.cards_to_return(*args),
                         count_event=_count_event, webhook_events=_webhook_events)
