"""What the use cases need from outside the domain, handed to them as one argument.

The production set is assembled once per process in ``chalicelib/wiring.py`` (DynamoDB, S3, SQS, SES); the unit tests
pass in-memory ones (``tests/unit/fakes.py``), so a service's rules run in milliseconds without AWS or its emulation.
"""
from datetime import datetime
from typing import Any, Callable, NamedTuple


class Collaborators(NamedTuple):  # a NamedTuple: 0.05 ms to define on the API's import path, a frozen dataclass 1 ms
    unit_of_work: Callable[[], Any]  # a new unit of work for each use case (store/unit_of_work.py)
    now: Callable[[], datetime]
    send_photo_task: Callable[[dict], None]  # work for the image function (re-crop, preview, cards)
    order_moved: Callable[[Any, str | None, frozenset], None]  # tells the commune's agents (services/notifications)
    files: Any = None  # the data bucket (store/files.py): photos and cards
    card_declared: Callable[[Any, list], None] = lambda card, emails: None  # tells the préfecture's agents
    cards_to_return: Callable[[Any, list, frozenset], None] = lambda order, cards, emails: None  # the commune's agents
    # an order event for the dashboards' counters (domain/stats.py), counted off the request by the stats function
    count_event: Callable[[dict], None] = lambda event: None
    # events for the API clients' webhooks (domain/webhooks.py), fanned out off the request (events/webhooks.py)
    webhook_events: Callable[[list], None] = lambda events: None
