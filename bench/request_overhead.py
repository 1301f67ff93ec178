"""What a warm API function adds to its DynamoDB calls, on the local stack (`make run`'s, over HTTP).

    python -m bench.request_overhead [--rounds 21]

For each route measured: the median wall time of the request, minus the median of ``GET /health`` (the HTTP and
routing cost that every request pays, so that what is left is the route's own work), divided by the median of one
moto ``GetItem`` made from here on the stack's emulation in the same rounds (``request_overhead_vs_getitem``). A route
that made only its DynamoDB calls and nothing else would score about its number of calls (1 to 3 here); building AWS
clients or PynamoDB connections per request is what pushes it far above.

Routes, the main writing routes of a commune's journey (``request_overhead_vs_getitem`` is the worst of them, each one
reported): ``POST /password-resets`` for a known address (the domain-model issue's route), ``POST /officials``,
``POST /officials/{id}/photo-uploads`` (with the agent's crop), ``POST /orders`` with its submit, and a back-office move
(``rejetee`` by the card maker, which also releases the officials, so the round can be repeated). The stack's per-address and per-account limits are kept out of the way: each round uses its
own viewer address (the local stack believes ``CloudFront-Viewer-Address``, having no origin secret) and a reset goes
to one of several known accounts made for the run.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import requests

from .common import interleaved, median

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESET_ACCOUNTS = 8  # 5 resets an hour per address: 8 accounts serve 40 rounds


def measure(rounds: int = 21) -> dict:
    sys.path.insert(0, str(PROJECT_DIR))
    from tests.e2e.conftest import start_stack

    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as workdir:
        stack = start_stack(Path(workdir))
        try:
            return _measure(stack.state, rounds)
        finally:
            stack.stop()


def _measure(state: dict, rounds: int) -> dict:
    api = state["api_url"]
    getitem = _getitem_against(state)
    reset_emails = _known_accounts(state)
    counter = {"n": 0}

    def viewer() -> dict:
        counter["n"] += 1
        return {"CloudFront-Viewer-Address": f"198.51.100.{counter['n'] % 250 + 1}:443"}

    def call(method: str, path: str, expected: int, token: str | None = None, body: dict | None = None):
        headers = viewer() | ({"Authorization": f"Bearer {token}"} if token else {})
        # A new connection per request (no Session): on a kept-alive one, chalice local's separate writes of headers
        # and body meet the client's delayed ACK (40 ms on Linux), a delay of the bench, not of the route.
        answer = requests.request(method, api + path, json=body, headers=headers, timeout=60)
        if answer.status_code != expected:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json() if answer.content else None

    agent = call("POST", "/sessions", 201, body={"email": state["demo_agent"]["email"],
                                                  "password": state["demo_agent"]["password"]})["token"]
    maker = state["operators"]["manufacturer"]
    from tests.helpers import otp

    operator = call("POST", "/sessions", 201, body={"email": maker["email"], "password": maker["password"],
                                                     "otp": otp(maker["totp_secret"])})["token"]
    ready = [o["id"] for o in call("GET", "/officials", 200, agent)["items"] if o["photo"]["status"] == "ready"]
    vincent, = call("GET", "/directory?q=VINCENT", 200, agent)["items"]
    pending: dict = {}
    resets = {"n": 0}

    def health():
        call("GET", "/health", 200)

    def password_reset():
        resets["n"] += 1
        call("POST", "/password-resets", 202, body={"email": reset_emails[resets["n"] % len(reset_emails)]})

    def add_official():
        pending["official"] = call("POST", "/officials", 201, agent, {"directory_id": vincent["id"],
                                                                      "function": "maire"})["id"]

    def order():
        created = call("POST", "/orders", 201, agent, {"official_ids": ready})
        call("POST", f"/orders/{created['id']}/submit", 200, agent, {"preview_acknowledged": True})
        pending["order"] = created["id"]

    def move():
        call("POST", f"/admin/orders/{pending.pop('order')}/transitions", 200, operator,
             {"to": "rejetee", "reason": "photo floue"})

    # The writing routes come in pairs that undo each other (add then delete an official; order and submit, then the
    # card maker's rejection, which releases the officials), so that every round starts from the same state.
    def photo_upload():
        call("POST", f"/officials/{ready[0]}/photo-uploads", 201, agent,
             {"crop": {"x": 0, "y": 0, "width": 700, "height": 900}})

    timed = {"health": health, "getitem": getitem, "password_resets": password_reset, "photo_uploads": photo_upload}
    paired = {"post_officials": (add_official, lambda: call("DELETE", f"/officials/{pending.pop('official')}", 204,
                                                            agent)),
              "post_orders": (order, move)}
    times = interleaved(timed, rounds=rounds)
    for name, (first, second) in paired.items():
        times[name], times[f"{name}_undo"] = _in_turn(first, second, rounds)
    medians = {name: median(values) * 1000 for name, values in times.items()}
    base, unit = medians["health"], medians["getitem"]
    overhead = {
        "password_resets": (medians["password_resets"] - base) / unit,
        "post_officials": (medians["post_officials"] - base) / unit,
        "photo_uploads": (medians["photo_uploads"] - base) / unit,
        # POST /orders is timed with its submit (one request each): the figure is per request
        "post_orders": ((medians["post_orders"] / 2) - base) / unit,
        "admin_move": (medians["post_orders_undo"] - base) / unit,
    }
    return {"rounds": rounds, "median_ms": {k: round(v, 2) for k, v in medians.items()},
            "request_overhead_vs_getitem": round(max(overhead.values()), 2),
            "worst_route": max(overhead, key=overhead.get),
            "overhead_vs_getitem": {k: round(v, 2) for k, v in overhead.items()}}


def _in_turn(first, second, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds of ``first`` and of ``second`` over ``rounds`` rounds, always in that order (the second undoes the
    first, so ``common.interleaved``'s shuffled order does not apply)."""
    firsts, seconds = [], []
    for _ in range(2):  # warm-up
        first()
        second()
    for _ in range(rounds):
        started = time.perf_counter()
        first()
        firsts.append(time.perf_counter() - started)
        started = time.perf_counter()
        second()
        seconds.append(time.perf_counter() - started)
    return firsts, seconds


def _getitem_against(state: dict):
    """One GetItem on the stack's emulation, by a warm boto3 client of this process: the unit of DynamoDB work."""
    from local.stack import prepare_environment

    prepare_environment(state["aws_url"], state["site_url"], state["outbox_dir"])  # the stack's own settings
    import boto3

    from chalicelib.aws import reset_settings_and_clients
    from chalicelib.settings import get_settings

    reset_settings_and_clients()
    table = get_settings().table_name("accounts")
    client = boto3.client("dynamodb", region_name="eu-west-3", endpoint_url=state["aws_url"])
    key = {"email": {"S": state["demo_agent"]["email"]}}

    def getitem():
        assert "Item" in client.get_item(TableName=table, Key=key)

    return getitem


def _letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> BA: a distinct name for each index."""
    text = ""
    while True:
        index, digit = divmod(index, 26)
        text = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit] + text
        if not index:
            return text


def _known_accounts(state: dict) -> list[str]:
    """Operators made straight in the stack's tables (as the demo makes the first one): known addresses for resets."""
    from chalicelib.services.accounts import create_operator

    emails = []
    for index in range(RESET_ACCOUNTS):
        email = f"mesure-{index}@cartes-elus.example.fr"
        # names are letters only (domain/names.py): the index spelt as letters
        create_operator(email, "Mesure", f"Compte {_letters(index)}", "prefecture", "74",
                        password="un banc de mesure du portail")
        emails.append(email)
    return emails


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
