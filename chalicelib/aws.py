"""The one place that creates AWS clients: lazily, once per container, from the settings.

This module depends on ``settings``, never the reverse: forgetting the settings also forgets the clients built from
them, so the reset that tests and the local stack call is here (``reset_settings_and_clients``).
"""
import threading

from botocore.config import Config
from pynamodb.connection import Connection

from .settings import get_settings

_clients: dict = {}
_lock = threading.Lock()


def client(service: str):
    with _lock:
        if service not in _clients:
            # cold start: boto3 22 ms over what app.py loads (botocore comes with PynamoDB), paid at the first AWS call
            # so that the app's import stays within its target (bench/coldstart.py).
            import boto3

            settings = get_settings()
            # SigV4 explicitly: presigned S3 URLs must not fall back to the legacy signature.
            config = Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 3}) \
                if service == "s3" else Config(retries={"mode": "standard", "max_attempts": 3})
            _clients[service] = boto3.client(
                service, region_name=settings.region, endpoint_url=settings.aws_endpoint_url, config=config
            )
        return _clients[service]


def dynamodb():
    """The process's one PynamoDB connection, on the process's one DynamoDB client: every table and every transaction
    goes through it. (PynamoDB builds a connection, hence a botocore client, per model class and per transaction
    otherwise: tens of milliseconds each, more than a DynamoDB call.)"""
    connection = _clients.get("pynamodb")
    if connection is None:
        settings = get_settings()
        connection = Connection(region=settings.region, host=settings.aws_endpoint_url)
        connection._client = client("dynamodb")  # PynamoDB creates its client lazily: it is given ours instead
        with _lock:
            connection = _clients.setdefault("pynamodb", connection)
    return connection


_queue_urls: dict[str, str] = {}


def queue_url(name: str) -> str:
    """The URL of a queue of this account and region, looked up once per container."""
    if name not in _queue_urls:
        _queue_urls[name] = client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    return _queue_urls[name]


def reset_settings_and_clients() -> None:
    """Forget the cached settings and every client built from them (tests, local stack: after the environment
    changed)."""
    get_settings.cache_clear()
    with _lock:
        _clients.clear()
        _queue_urls.clear()
