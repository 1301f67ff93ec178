"""Several items of several tables in one DynamoDB call (BatchGetItem).

PynamoDB's ``batch_get`` reads one table at a time; a request that needs, say, an order and its commune, or the
rate-limit counters and the account of a login, would pay one round trip per table. This reads them all at once and
gives back PynamoDB models (or the raw attributes, for items whose attributes are not all declared: the counters).
"""
import time

from botocore.exceptions import ClientError

from .. import aws


class Wanted:
    """One item to read: a model class and its key (hash key, and range key when the table has one)."""

    def __init__(self, model, hash_key, range_key=None, raw: bool = False):
        self.model, self.hash_key, self.range_key, self.raw = model, hash_key, range_key, raw

    def table(self) -> str:
        self.model._get_connection()  # binds the table name from the settings
        return self.model.Meta.table_name

    def key(self) -> dict:
        attributes = self.model.get_attributes()
        key = {}
        for attribute in attributes.values():
            if attribute.is_hash_key:
                key[attribute.attr_name] = {attribute.attr_type: attribute.serialize(self.hash_key)}
            elif attribute.is_range_key:
                key[attribute.attr_name] = {attribute.attr_type: attribute.serialize(self.range_key)}
        return key


MAX_KEYS = 100  # DynamoDB's limit for one BatchGetItem
_RETRIES = 5


def get_many(wanted: list[Wanted], consistent: bool = True) -> list:
    """The items in the order asked, None for those that do not exist. One call unless DynamoDB leaves some keys
    unprocessed (throttling), which are asked again with a short back-off, as the SDKs advise."""
    if not wanted:
        return []
    if len(wanted) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} keys in one read")
    identities = []  # (table, key) of each item asked, in order
    request: dict[str, dict] = {}
    for item in wanted:
        table, key = item.table(), item.key()
        identity = (table, _frozen(key))
        if identity not in identities:
            request.setdefault(table, {"Keys": [], "ConsistentRead": consistent})["Keys"].append(key)
        identities.append(identity)
    key_names = {table: list(asked["Keys"][0]) for table, asked in request.items()}
    found: dict[tuple, dict] = {}
    client = aws.client("dynamodb")
    for attempt in range(_RETRIES):
        response = client.batch_get_item(RequestItems=request)
        for table, items in response.get("Responses", {}).items():
            for raw in items:
                found[(table, _frozen({name: raw[name] for name in key_names[table]}))] = raw
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
        time.sleep(0.05 * 2 ** attempt)
    else:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                     "Message": "keys left unprocessed"}}, "BatchGetItem")
    results = []
    for item, identity in zip(wanted, identities):
        raw = found.get(identity)
        results.append(None if raw is None else raw if item.raw else item.model.from_raw_data(raw))
    return results


def _frozen(key: dict) -> tuple:
    return tuple(sorted((name, tuple(sorted(value.items()))) for name, value in key.items()))
