"""Work handed from one function to another through SQS: the image function's tasks (re-crop, re-render a preview),
the syncs with data.gouv.fr, the communes to tell after a directory import, the order events to count, the
events for the API clients' webhooks and each delivery's attempts, the national lists' files to write, the
emails about accounts that a request must not send itself (a set-password link asked for an address that may have
no account, an alert)."""
import json

from .. import aws

BATCH = 10  # SendMessageBatch's limit


def send(queue: str, message: dict, delay_seconds: int = 0) -> None:
    """One message; ``delay_seconds`` (at most SQS's 900) keeps it invisible that long (a webhook's next attempt)."""
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(queue), MessageBody=json.dumps(message),
                                   **({"DelaySeconds": delay_seconds} if delay_seconds else {}))


def send_batch(queue: str, messages: list[dict]) -> None:
    """Send the messages ten to a call; raises if SQS refused any (the caller's retry sends them again)."""
    sqs = aws.client("sqs")
    for start in range(0, len(messages), BATCH):
        entries = [{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(messages[start:start + BATCH])]
        failed = sqs.send_message_batch(QueueUrl=aws.queue_url(queue), Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} message(s) to {queue}: {failed[0].get('Message')}")


# Queue names are constants (Chalice reads its decorator arguments at import time); each stage has its own account.
IMPORTS_QUEUE = "carteselus-reference-imports"
PHOTOS_QUEUE = "carteselus-photos"
SYNCS_QUEUE = "carteselus-reference-syncs"  # a sync of the RNE with data.gouv.fr to run (services/reference_syncs.py)
MAILS_QUEUE = "carteselus-account-mails"  # an account's email to send (services/account_mails.py)
NOTICES_QUEUE = "carteselus-directory-news"  # a commune to tell after a directory import (services/directory_news.py)
STATS_QUEUE = "carteselus-order-stats"  # an order event to add to the dashboards' counters (store/stats.py)
WEBHOOK_EVENTS_QUEUE = "carteselus-webhook-events"  # an event to fan out to the webhooks concerned (domain/webhooks)
WEBHOOK_DELIVERIES_QUEUE = "carteselus-webhook-deliveries"  # one attempt of one delivery to a webhook
EXPORTS_QUEUE = "carteselus-list-exports"  # a national list's file to write (services/exports.py)


# The kinds of message the mails function takes (services/account_mails.py), and what each names.
ACCOUNT_MAIL_KINDS = {"password_link": "email", "login_attack": "email", "code_guessing": "siren"}


def ask_account_mail(kind: str, subject: str) -> None:
    """Queue one email about ``subject`` (an email address or a SIREN, as ``ACCOUNT_MAIL_KINDS`` says) for the mails
    function; a request that must not show whether the address or the commune has anyone to tell uses this."""
    send(MAILS_QUEUE, {"kind": kind, ACCOUNT_MAIL_KINDS[kind]: subject})
