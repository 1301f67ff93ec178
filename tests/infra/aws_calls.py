"""Records the AWS calls each Lambda function makes while the portal's journeys run on the emulation, as the IAM
requests (action, resource, condition keys) they are on AWS, and says which of them a role's policy would refuse.

A call is attributed to the function whose code is running: `api_handler` inside the test client's HTTP requests, the
event handler's name inside `client.lambda_.invoke`. Calls made by the test itself (seeding, delivering S3 events)
belong to no function and are not checked. Presigned URLs are not calls, but the browser's use of them is authorised
by the signer's permissions: they are recorded when signed.
"""
import contextlib
import contextvars
import fnmatch
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from unittest import mock
from urllib.parse import unquote

ACCOUNT = "123456789012"
REGION = "eu-west-3"

current_function: contextvars.ContextVar = contextvars.ContextVar("current_function", default=None)


@dataclass(frozen=True)
class Request:
    function: str
    action: str
    resource: str
    context: tuple = ()  # (condition key, value) pairs
    operation: str = ""

    def __str__(self):
        extra = f" {dict(self.context)}" if self.context else ""
        return f"{self.function}: {self.action} on {self.resource}{extra} ({self.operation})"


def _table(name: str, index: str | None = None) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}" + (f"/index/{index}" if index else "")


def _object(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _queue(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                    "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def iam_requests(service: str, operation: str, params: dict) -> list[tuple[str, str, tuple]]:
    """The IAM (action, resource, context) that one API call needs."""
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            out = []
            for item in params["TransactItems"]:
                (kind, body), = item.items()
                out.append((f"dynamodb:{TRANSACT_ACTIONS[kind]}", _table(body["TableName"]), ()))
            return out
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return [(f"dynamodb:{operation}", _table(name), ()) for name in params["RequestItems"]]
        return [(f"dynamodb:{operation}", _table(params["TableName"], params.get("IndexName")), ())]
    if service == "s3":
        bucket = params.get("Bucket", "")
        if operation == "CopyObject":
            source = params["CopySource"]
            if isinstance(source, str):
                source_bucket, _, source_key = unquote(source).lstrip("/").partition("/")
            else:
                source_bucket, source_key = source["Bucket"], source["Key"]
            return [("s3:GetObject", _object(source_bucket, source_key), ()),
                    ("s3:PutObject", _object(bucket, params["Key"]), ())]
        if operation == "DeleteObjects":
            return [("s3:DeleteObject", _object(bucket, o["Key"]), ()) for o in params["Delete"]["Objects"]]
        if operation in ("ListObjectsV2", "ListObjects"):
            return [("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", params.get("Prefix", "")),))]
        if operation == "HeadObject":
            return [("s3:GetObject", _object(bucket, params["Key"]), ())]
        if operation in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            return [("s3:PutObject", _object(bucket, params["Key"]), ())]  # IAM has no action of their own
        return [(f"s3:{operation}", _object(bucket, params["Key"]) if "Key" in params else f"arn:aws:s3:::{bucket}",
                 ())]
    if service == "sqs":
        name = params.get("QueueName") or params.get("QueueUrl", "").rstrip("/").rsplit("/", 1)[-1]
        # IAM has no action of their own for the batch calls: SendMessageBatch is authorised by sqs:SendMessage
        batched = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
                   "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
        return [(f"sqs:{batched.get(operation, operation)}", _queue(name), ())]
    if service == "ses":
        source = params.get("Source", "")
        domain = source.rpartition("@")[2]
        return [(f"ses:{operation}", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{domain}",
                 (("ses:FromAddress", source),))]
    if service == "secretsmanager" and "SecretId" in params:
        secret = params["SecretId"]
        arn = secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}-AbCdEf"
        return [(f"secretsmanager:{operation}", arn, ())]
    return [(f"{service}:{operation}", "*", ())]


class Recorder:
    def __init__(self):
        self.requests: list[Request] = []

    def record(self, service: str, operation: str, params: dict) -> None:
        function = current_function.get()
        if function is None:
            return
        for action, resource, context in iam_requests(service, operation, params):
            self.requests.append(Request(function, action, resource, context, f"{service}.{operation}"))


@contextlib.contextmanager
def recording():
    """Patches botocore (every AWS call), the presigners, the test client's HTTP and Lambda entry points."""
    from botocore.client import BaseClient
    from chalice.test import TestHTTPClient, TestLambdaClient

    from chalicelib.settings import get_settings
    from chalicelib.store import files

    recorder = Recorder()
    original_call = BaseClient._make_api_call
    original_post, original_get = files.presigned_post, files.presigned_get
    original_request, original_invoke = TestHTTPClient.request, TestLambdaClient.invoke

    def make_api_call(client, operation, params):
        recorder.record(client.meta.service_model.service_name, operation, params)
        return original_call(client, operation, params)

    def presigned_post(key, *args, **kwargs):
        recorder.record("s3", "PutObject", {"Bucket": get_settings().data_bucket, "Key": key})
        return original_post(key, *args, **kwargs)

    def presigned_get(key, *args, **kwargs):
        recorder.record("s3", "GetObject", {"Bucket": get_settings().data_bucket, "Key": key})
        return original_get(key, *args, **kwargs)

    def as_function(name, call):
        token = current_function.set(name)
        try:
            return call()
        finally:
            current_function.reset(token)

    def request(self, method, path, *args, **kwargs):
        return as_function("api_handler", lambda: original_request(self, method, path, *args, **kwargs))

    def invoke(self, function_name, *args, **kwargs):
        return as_function(function_name, lambda: original_invoke(self, function_name, *args, **kwargs))

    original_submit = ThreadPoolExecutor.submit

    def submit(executor, fn, /, *args, **kwargs):
        # boto3's managed uploads (upload_fileobj) call S3 from a pool's threads: still the function's calls
        return original_submit(executor, contextvars.copy_context().run, fn, *args, **kwargs)

    with mock.patch.object(BaseClient, "_make_api_call", make_api_call), \
            mock.patch.object(ThreadPoolExecutor, "submit", submit), \
            mock.patch.object(files, "presigned_post", presigned_post), \
            mock.patch.object(files, "presigned_get", presigned_get), \
            mock.patch.object(TestHTTPClient, "request", request), \
            mock.patch.object(TestLambdaClient, "invoke", invoke):
        yield recorder


# --- evaluating a role's policy -----------------------------------------------------------------------------------

def _matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _conditions_hold(conditions: dict, context: dict) -> bool:
    for operator, entries in conditions.items():
        for key, expected in entries.items():
            if key not in context:
                return False
            actual = context[key]
            expected = _as_list(expected)
            if operator in ("StringEquals", "ArnEquals"):
                ok = actual in expected
            elif operator in ("StringLike", "ArnLike"):
                ok = any(_matches(e, actual) for e in expected)
            else:
                raise AssertionError(f"condition operator {operator} not understood by this test")
            if not ok:
                return False
    return True


def allowed(statements: list[dict], request: Request) -> bool:
    """Allowed by an Allow statement, not denied by a Deny one (the role's own policy only)."""
    context = dict(request.context)

    def applies(statement):
        return (any(_matches(a, request.action, case_sensitive=False) for a in _as_list(statement.get("Action", [])))
                and any(_matches(r, request.resource) for r in _as_list(statement.get("Resource", [])))
                and _conditions_hold(statement.get("Condition", {}), context))

    if any(s["Effect"] == "Deny" and applies(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and applies(s) for s in statements)
