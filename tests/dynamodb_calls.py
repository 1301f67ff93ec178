"""Counts the AWS operations that code makes (PynamoDB and boto3 both end in botocore's ``_make_api_call``)."""
import contextlib
from unittest import mock


@contextlib.contextmanager
def count_dynamodb_calls(service: str = "dynamodb"):
    from botocore.client import BaseClient

    calls: list[str] = []
    original = BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        if client.meta.service_model.service_name == service:
            calls.append(operation_name)
        return original(client, operation_name, api_params)

    with mock.patch.object(BaseClient, "_make_api_call", recording):
        yield calls
