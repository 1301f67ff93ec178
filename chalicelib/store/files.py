"""The private data bucket: where uploads land and what the portal keeps.

Prefixes (the bucket notifications filter on the ``incoming/`` ones):
- ``incoming/imports/<import id>/<kind>.csv``: reference files sent by an operator;
- ``incoming/photos/...``: photos sent by a town hall (see the photo slice).
"""
from datetime import timedelta

from .. import aws, clock
from ..settings import get_settings

IMPORTS_PREFIX = "incoming/imports/"


def presigned_post(key: str, max_bytes: int, content_type: str | None, lifetime: timedelta) -> dict:
    """A browser-ready presigned POST (SigV4) for exactly this key, size range and content type."""
    conditions: list = [["content-length-range", 1, max_bytes]]
    fields = {}
    if content_type:
        conditions.append({"Content-Type": content_type})
        fields["Content-Type"] = content_type
    post = aws.client("s3").generate_presigned_post(
        Bucket=get_settings().data_bucket,
        Key=key,
        Fields=fields,
        Conditions=conditions,
        ExpiresIn=int(lifetime.total_seconds()),
    )
    return {"url": post["url"], "fields": post["fields"], "expires_at": clock.iso(clock.now() + lifetime)}


def open_object(key: str) -> dict:
    return aws.client("s3").get_object(Bucket=get_settings().data_bucket, Key=key)
