"""Delivers the S3 events that the emulation queued in SQS to the same handlers that Lambda runs in production.

Like Lambda's SQS poller: a message is deleted only when the handler succeeded; a failure leaves it to come back after
the visibility timeout, and after a few tries the queue's redrive policy parks it in the dead-letter queue.
"""
import logging
import threading

from chalice.local import LambdaContext

from chalicelib import aws

log = logging.getLogger("local.relay")


class S3EventRelay:
    def __init__(self, app, handlers_by_queue: dict[str, str], queue_urls: dict[str, str]):
        self._app = app
        self._routes = [(queue_urls[queue], handler) for queue, handler in handlers_by_queue.items()]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for url, handler in self._routes:
            thread = threading.Thread(target=self._poll, args=(url, handler), name=f"relay-{handler}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _poll(self, url: str, handler_name: str) -> None:
        sqs = aws.client("sqs")
        handler = self._app.handler_map[handler_name]
        while not self._stop.is_set():
            try:
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                               AttributeNames=["All"]).get("Messages", [])
            except Exception:  # noqa: BLE001 - the emulation is stopping, or briefly busy
                if self._stop.wait(0.5):
                    return
                continue
            for message in messages:
                event = {"Records": [_sqs_record(message, url)]}
                try:
                    handler(event, LambdaContext(handler_name, memory_size=1024, max_runtime_ms=900_000))
                except Exception:  # noqa: BLE001 - as Lambda: log, leave the message for a retry
                    log.exception("handler failed; the message will be retried", extra={"handler": handler_name})
                    continue
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _sqs_record(message: dict, queue_url: str) -> dict:
    """The record shape Lambda gives an SQS-triggered function."""
    queue_name = queue_url.rsplit("/", 1)[-1]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:eu-west-3:123456789012:{queue_name}",
        "awsRegion": "eu-west-3",
    }
