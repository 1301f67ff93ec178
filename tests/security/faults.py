"""Transient AWS failures injected into the middle of a use case.

Every AWS call of the portal (PynamoDB and boto3 alike) ends in botocore's ``BaseClient._make_api_call``; ``Faults``
makes call number ``fail_at`` of a request raise the ClientError AWS itself returns when it throttles or is briefly
unavailable (after botocore's own retries gave up): DynamoDB ``ProvisionedThroughputExceededException``, S3
``SlowDown``, SES ``Throttling``, SQS ``RequestThrottled``.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from unittest import mock

AWS_ERRORS = {
    "dynamodb": ("ProvisionedThroughputExceededException", 400, "The level of configured provisioned throughput for "
                 "the table was exceeded."),
    "s3": ("SlowDown", 503, "Please reduce your request rate."),
    "ses": ("Throttling", 400, "Maximum sending rate exceeded."),
    "sqs": ("RequestThrottled", 403, "The request was denied due to request throttling."),
}


@dataclass
class Faults:
    fail_at: int | None = None
    calls: list = field(default_factory=list)
    injected: tuple | None = None


@contextlib.contextmanager
def inject(fail_at: int | None):
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    faults = Faults(fail_at)
    original = BaseClient._make_api_call

    def failing(client, operation_name, api_params):
        service = client.meta.service_model.service_name
        index = len(faults.calls)
        faults.calls.append(f"{service}.{operation_name}")
        if index == fail_at:
            code, status, message = AWS_ERRORS.get(service, ("ServiceUnavailable", 503, "Service unavailable"))
            faults.injected = (service, operation_name, code)
            raise ClientError({"Error": {"Code": code, "Message": message},
                               "ResponseMetadata": {"HTTPStatusCode": status}}, operation_name)
        return original(client, operation_name, api_params)

    with mock.patch.object(BaseClient, "_make_api_call", failing):
        yield faults
