"""The private data bucket: where uploads land and what the portal keeps.

Prefixes (the bucket notifications filter on the ``incoming/`` ones):
- ``incoming/imports/<import id>/<kind>.csv``: reference files sent by an operator;
- ``incoming/photos/...``: photos sent by a town hall (see the photo slice).
"""
from datetime import timedelta

from botocore.exceptions import ClientError

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


PHOTOS_PREFIX = "incoming/photos/"
OFFICIALS_PREFIX = "officials/"  # kept photos, originals and previews of each official
CARDS_PREFIX = "orders/"  # final cards drawn with their number when production starts
URL_LIFETIME = timedelta(minutes=10)


def presigned_get(key: str) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": get_settings().data_bucket, "Key": key},
        ExpiresIn=int(URL_LIFETIME.total_seconds()),
    )


def read_object(key: str, max_bytes: int) -> bytes | None:
    """The object's bytes, or None if it is larger than max_bytes (checked before reading: never load a huge file)."""
    obj = open_object(key)
    if obj["ContentLength"] > max_bytes:
        obj["Body"].close()
        return None
    return obj["Body"].read(max_bytes + 1)


def read_head(key: str, length: int = 1024) -> tuple[int, bytes] | None:
    """The object's size and its first ``length`` bytes (enough to tell its type), None when it does not exist."""
    try:
        obj = open_object(key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    try:
        return obj["ContentLength"], obj["Body"].read(length)
    finally:
        obj["Body"].close()


def put_object(key: str, data: bytes, content_type: str) -> None:
    aws.client("s3").put_object(Bucket=get_settings().data_bucket, Key=key, Body=data, ContentType=content_type)


def put_file(key: str, fileobj, content_type: str) -> None:
    """A file that may be large (an archive): boto3's managed upload, in parts above 8 MiB, from a file object (each
    part is read into memory before it is sent)."""
    aws.client("s3").upload_fileobj(fileobj, get_settings().data_bucket, key, ExtraArgs={"ContentType": content_type})


def put_path(key: str, path: str, content_type: str) -> None:
    """A file on disk of any size (a national list): the managed upload reads each part from the file as it sends
    it, so memory does not hold the parts."""
    aws.client("s3").upload_file(path, get_settings().data_bucket, key, ExtraArgs={"ContentType": content_type})


def copy_object(source_key: str, target_key: str, content_type: str) -> None:
    """The copy is typed by the portal (``content_type``), never with what the uploader's POST said: a JPEG with HTML
    inside sent as text/html is kept, and later handed out, as what the portal checked it to be."""
    bucket = get_settings().data_bucket
    aws.client("s3").copy_object(Bucket=bucket, Key=target_key, CopySource={"Bucket": bucket, "Key": source_key},
                                 ContentType=content_type, MetadataDirective="REPLACE")


def delete_objects(keys) -> None:
    """Deletes these keys (1,000 at most); a key S3 could not delete raises, as the whole call failing would: the
    answer of DeleteObjects is 200 even when some keys were refused (e.g. SlowDown, AccessDenied)."""
    keys = [k for k in keys if k]
    if keys:
        answer = aws.client("s3").delete_objects(Bucket=get_settings().data_bucket,
                                                 Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise ClientError({"Error": {"Code": first.get("Code", "InternalError"), "Message": (
                f"{len(answer['Errors'])} of {len(keys)} objects not deleted: {first.get('Message', '')}")}},
                "DeleteObjects")


def list_keys(prefix: str) -> list[str]:
    s3 = aws.client("s3")
    bucket = get_settings().data_bucket
    return [obj["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for obj in page.get("Contents", [])]


def delete_prefix(prefix: str) -> None:
    keys = list_keys(prefix)
    for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 keys at most
        delete_objects(keys[start:start + 1000])



def presigned_download(key: str, filename: str) -> str:
    """A presigned GET that the browser saves as ``filename`` (an ASCII name: the exports' names are)."""
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": get_settings().data_bucket, "Key": key,
                              "ResponseContentDisposition": f'attachment; filename="{filename}"'},
        ExpiresIn=int(URL_LIFETIME.total_seconds()),
    )
