"""The messages the portal's own functions send each other through SQS: JSON objects with string fields."""
import json


def fields_of(body: str, *names: str) -> dict | None:
    """The message as a dict when it is a JSON object whose ``names`` are all strings, else None (to drop it: a
    malformed message never becomes valid by coming back)."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or not all(isinstance(message.get(name), str) for name in names):
        return None
    return message
