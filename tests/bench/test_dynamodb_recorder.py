"""The benchmark's DynamoDB call counter (botocore events) and its request-unit estimate."""
import pytest

from bench.dynamodb import Recorder, item_size, read_units, value_size, write_units

TABLE = "bench-test-items"


@pytest.fixture
def recorder():
    from moto import mock_aws

    recorder = Recorder()
    recorder.install()  # before any client exists: the clients created afterwards are counted
    try:
        with mock_aws():
            yield recorder
    finally:
        recorder.uninstall()


def make_table(client, indexes=True):
    spec = dict(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                                      for n in ("pk", "sk") + (("status",) if indexes else ())])
    if indexes:
        spec["GlobalSecondaryIndexes"] = [{"IndexName": "by-status", "Projection": {"ProjectionType": "ALL"},
                                           "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}]}]
    client.create_table(**spec)


def test_every_call_of_a_client_created_after_install_is_counted_with_its_table(recorder):
    import boto3

    client = boto3.client("dynamodb", region_name="eu-west-3")
    make_table(client)
    with recorder.recording("work") as calls:
        client.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "status": {"S": "new"}})
        client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ConsistentRead=True)
        client.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}})
    assert [c.operation for c in calls] == ["PutItem", "GetItem", "Query"]
    assert all(c.tables == [TABLE] and c.section == "work" for c in calls)
    assert [c.operation for c in recorder.calls if c.section is None] == ["CreateTable"]
    # The estimator's own reads (item before and after each write) are not counted.
    assert len(recorder.calls) == 4


def test_it_counts_what_the_existing_api_call_patch_counts(recorder):
    """Same figures as tests/dynamodb_calls.py (BaseClient._make_api_call) for PynamoDB's batch and conditional
    operations, refused ones included."""
    import boto3
    from pynamodb.attributes import UnicodeAttribute
    from pynamodb.exceptions import PutError
    from pynamodb.models import Model

    from tests.dynamodb_calls import count_dynamodb_calls

    make_table(boto3.client("dynamodb", region_name="eu-west-3"), indexes=False)

    class Item(Model):
        class Meta:
            table_name = TABLE
            region = "eu-west-3"

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)

    recorder.estimate = False  # the estimate's own reads would show in the other counter (it patches every client)
    with count_dynamodb_calls() as patched, recorder.recording("pynamodb") as calls:
        with Item.batch_write() as batch:
            for number in range(30):
                batch.save(Item("a", f"{number:02d}"))
        list(Item.batch_get([("a", "01"), ("a", "02")]))
        with pytest.raises(PutError):
            Item("a", "01").save(condition=Item.pk.does_not_exist())
        list(Item.query("a"))
    assert [c.operation for c in calls] == patched
    assert patched == ["BatchWriteItem", "BatchWriteItem", "BatchGetItem", "PutItem", "Query"]
    assert calls[3].failed


def test_request_units_follow_dynamodbs_rules(recorder):
    import boto3

    client = boto3.client("dynamodb", region_name="eu-west-3")
    make_table(client)
    big = {"pk": {"S": "a"}, "sk": {"S": "1"}, "status": {"S": "new"}, "blob": {"S": "x" * 1500}}
    with recorder.recording("units") as calls:
        client.put_item(TableName=TABLE, Item=big)  # 2 KB: 2 units, and 2 for the ALL index
        client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "1"}})  # eventually consistent
        client.update_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "1"}},
                           UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                           ExpressionAttributeValues={":s": {"S": "old"}})  # the index key moves: out and in
        client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": {
            "pk": {"S": "b"}, "sk": {"S": "1"}}}}])  # transactional: twice; not in the index
    assert [c.write_units for c in calls] == [4, 0, 2 + 2 + 2, 2]
    assert calls[1].read_units == 0.5
    assert sum(c.reported_units for c in calls) > 0  # PynamoDB-like TOTAL is not asked here: moto reports anyway


def test_item_sizes():
    assert value_size({"S": "été"}) == 5
    assert value_size({"N": "123"}) == 3 and value_size({"N": "-0.0100"}) == 2
    assert value_size({"BOOL": True}) == 1 and value_size({"NULL": True}) == 1
    assert value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (2 + 1) + (2 + 1)
    assert value_size({"M": {"k": {"S": "v"}}}) == 3 + 1 + 1 + 1
    assert item_size({"name": {"S": "abc"}, "n": {"N": "7"}}) == 4 + 3 + 1 + 2
    assert read_units(4096, True) == 1 and read_units(4097, True) == 2 and read_units(10, False) == 0.5
    assert read_units(10, True, transactional=True) == 2
    assert write_units(0) == 1 and write_units(1024) == 1 and write_units(1025) == 2


def test_the_breakdown_groups_repeated_calls():
    from bench.dynamodb import Call, breakdown

    calls = [Call("GetItem", ["tokens"], None)] + [Call("UpdateItem", ["communes"], None) for _ in range(3)] \
        + [Call("PutItem", ["counters"], None, failed=True)]
    assert breakdown(calls) == "GetItem tokens, UpdateItem communes x 3, PutItem counters (refused)"
