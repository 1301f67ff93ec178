"""Schemathesis hooks for the API fuzzing run (loaded with SCHEMATHESIS_HOOKS=tests.security.st_hooks).

Authentication per operation: the operation's ``x-roles`` (from the project's OpenAPI document) says which roles it
admits; each case is sent with the bearer token of one of them (several roles: taken in turn). The tokens come from
real logins made by ``api_fuzz.py`` (the commune agent registered with the demo activation code and the password
link of the outbox; the operators from the state file) and are in the file named by SECURITY_ST_TOKENS.

The fuzzer logs sessions out (DELETE /sessions/current is one of the operations) and its random logins lock the
source address (POST /sessions): when a case of ours gets 401, a new session for the same account is opened directly
in the stack's emulated DynamoDB (what a successful login writes), so that fuzzing goes on without waiting 15 minutes.
"""
import itertools
import json
import os
import threading

import schemathesis

_lock = threading.Lock()
_state = json.loads(open(os.environ["SECURITY_ST_TOKENS"]).read())
TOKENS: dict = dict(_state["tokens"])  # role -> token
EMAILS: dict = dict(_state["emails"])  # role -> account email
_turn = itertools.count()
REFRESHED = {"count": 0}


def _roles_of(operation) -> list[str]:
    raw = getattr(getattr(operation, "definition", None), "raw", None) or {}
    return [r for r in raw.get("x-roles", []) if r in TOKENS]


def _mint(role: str) -> str:
    from chalicelib.services.sessions import open_session
    from chalicelib.store.tables import Account

    return open_session(Account.get(EMAILS[role]))["token"]


@schemathesis.auth(refresh_interval=None)
class PortalAuth:
    def get(self, case, context):
        roles = _roles_of(context.operation)
        if not roles:
            return None
        with _lock:
            return TOKENS[roles[next(_turn) % len(roles)]]

    def set(self, case, data, context):
        if data:
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def after_call(context, case, response):
    if response.status_code != 401:
        return
    sent = (case.headers or {}).get("Authorization", "")
    with _lock:
        for role, token in TOKENS.items():
            if sent == f"Bearer {token}":
                try:
                    TOKENS[role] = _mint(role)
                    REFRESHED["count"] += 1
                except Exception:  # noqa: BLE001 - the account itself was removed by the fuzzer: keep going
                    pass
