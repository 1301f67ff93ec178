"""The mails function: the emails about accounts that requests queue rather than send (``services/account_mails.py``).

A message that fails comes back (and, after a few tries, waits in the dead-letter queue): a set-password link sent
twice is two valid links, which is harmless; an alert sent twice is two emails.
"""
import logging

from chalice import Blueprint

from ..services import account_mails
from ..store.queues import MAILS_QUEUE
from .messages import fields_of

log = logging.getLogger(__name__)

mails = Blueprint(__name__)


@mails.on_sqs_message(queue=MAILS_QUEUE, batch_size=10)
def send_account_mails(event):
    for record in event:
        message = fields_of(record.body, "kind")
        if message is None:
            log.error("account mail message without a kind: dropped")
            continue
        account_mails.deliver(message)
