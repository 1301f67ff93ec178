"""The local emulation's adjustments (local/emulation.py): a cancelled transaction leaves every item it named as it
was, although moto no longer backs up whole tables for it."""
import pytest
from botocore.exceptions import ClientError

from chalicelib import aws as portal_aws


def table(aws_settings, base: str) -> str:
    return aws_settings.table_name(base)


def test_a_cancelled_transaction_restores_the_items_it_wrote_before_the_failing_one(aws):
    client = portal_aws.client("dynamodb")
    counters, tokens = table(aws, "counters"), table(aws, "tokens")
    client.put_item(TableName=counters, Item={"key": {"S": "kept"}, "count": {"N": "1"}})
    client.put_item(TableName=counters, Item={"key": {"S": "gone"}, "count": {"N": "7"}})
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": counters, "Key": {"key": {"S": "kept"}}, "UpdateExpression": "ADD #c :one",
                        "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": counters, "Item": {"key": {"S": "new"}, "count": {"N": "1"}}}},
            {"Delete": {"TableName": counters, "Key": {"key": {"S": "gone"}}}},
            {"Put": {"TableName": tokens, "Item": {"token_hash": {"S": "t"}},
                     "ConditionExpression": "attribute_exists(token_hash)"}},  # fails: nothing may stay written
        ])
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    items = {i["key"]["S"]: i["count"]["N"] for i in client.scan(TableName=counters)["Items"]}
    assert items == {"kept": "1", "gone": "7"}
    assert client.scan(TableName=tokens)["Items"] == []


def test_a_transaction_that_holds_is_written_whole(aws):
    client = portal_aws.client("dynamodb")
    counters = table(aws, "counters")
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": counters, "Item": {"key": {"S": f"k{i}"}, "count": {"N": str(i)}},
                 "ConditionExpression": "attribute_not_exists(#k)", "ExpressionAttributeNames": {"#k": "key"}}}
        for i in range(3)])
    assert sorted(i["key"]["S"] for i in client.scan(TableName=counters)["Items"]) == ["k0", "k1", "k2"]
