"""The data bucket's helpers (chalicelib/store/files.py) where S3's answers need care."""
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from chalicelib.store import files


class S3:
    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def delete_objects(self, **kwargs):
        self.calls.append(kwargs)
        return self.answer


def test_keys_s3_refused_to_delete_raise_although_the_call_answered_200(monkeypatch):
    s3 = S3({"Errors": [{"Key": "officials/a.jpg", "Code": "SlowDown", "Message": "Please reduce your request rate."}]})
    monkeypatch.setattr(files.aws, "client", lambda name: s3)
    with mock.patch.object(files, "get_settings", return_value=mock.Mock(data_bucket="bucket")):
        with pytest.raises(ClientError) as raised:
            files.delete_objects(["officials/a.jpg", "officials/b.jpg", None])
    assert raised.value.response["Error"]["Code"] == "SlowDown"  # throttling: the API answers 503, a job retries
    assert "1 of 2 objects not deleted" in str(raised.value)
    assert [o["Key"] for o in s3.calls[0]["Delete"]["Objects"]] == ["officials/a.jpg", "officials/b.jpg"]


def test_nothing_to_delete_makes_no_call(monkeypatch):
    s3 = S3({})
    monkeypatch.setattr(files.aws, "client", lambda name: s3)
    files.delete_objects([None, ""])
    assert s3.calls == []
