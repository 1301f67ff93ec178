"""The simulated users of `make load` (locust, headless; started by ``bench.load.run``, never imported by it: locust
patches the standard library for gevent).

- ``TownHall``: one commune each. Registers with its activation code (the link of the e-mail from the stack's outbox,
  then its password), logs in, registers its officials entitled to a card from the directory, sends each one's photo
  (presigned POST to the emulated S3, then waits until the photo is ``ready``), orders cards for officials whose photo
  is ready (create, look at the preview, submit with the preview acknowledged) and follows its orders and cards.
- ``CardMaker``: two card-maker agents: start production (card numbers taken from the year's counter) and ship.
- ``Prefecture``: one user per préfecture agent (two for the Ain): receive delivered orders, hand cards over, half
  the orders card by card (``/admin/cards/{number}/hand-over``), half at once (the ``remise`` move).

Every request goes to the stack's own addresses (127.0.0.1). Each user sends its own ``CloudFront-Viewer-Address``, as
CloudFront does for each town hall's address, so that per-address abuse limits count each town hall apart. Each
request has a connection of its own (``Connection: close``, and the user's connection pool emptied after each
answer): on a kept-alive connection ``chalice local`` writes headers and body apart and meets Linux's delayed ACK (40
ms a response), a delay of the local server, not of the portal (``docs/performance.md``); and a connection the
server is about to close (it closes a ``Connection: close`` connection after the answer, once its thread runs
again) must not be taken from the pool for the next request, which would get no answer.

What the users were answered goes to a ledger (JSON lines): the check reads the tables against it. A write that got
no answer (the run's stop, a broken connection) is written as ``sent`` without its answer: the check accepts it
either way. Route names are templates (``/orders/[id]``) so that locust groups them; ``409`` answers to a race the
users run on purpose (two card-maker agents, two préfecture agents on the same orders) are counted apart, not as
errors.
"""
import itertools
import json
import os
import random
import re
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

import pyotp
from locust import HttpUser, between, events, task
from locust.exception import StopUser

POPULATION = json.loads(Path(os.environ["LOAD_POPULATION"]).read_text())
EXTRA_FILE = os.environ.get("LOAD_EXTRA")
_ledger = open(POPULATION["ledger"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the whole run
_communes = iter(POPULATION["communes"])
_prefectures = iter(POPULATION["prefectures"])
_card_makers = itertools.count()
_viewers = itertools.count(1)
_request_ids = itertools.count(1)
_photos = [Path(p).read_bytes() for p in POPULATION["photos"]]
EXTRA = {"conflicts": Counter(), "server_errors": Counter(), "unexpected": Counter(), "no_answer": Counter(),
         "photo_ready_seconds": [], "photo_rejected": 0, "photo_timeouts": 0, "registration_seconds": []}
PHOTO_TIMEOUT = float(os.environ.get("LOAD_PHOTO_TIMEOUT", "150"))
PHOTO_BATCH = 1  # officials whose photos a town hall sends before waiting for them (and ordering their cards)
POLL_SECONDS = 3


def record(kind: str, **fields) -> None:
    _ledger.write(json.dumps({"t": time.time(), "kind": kind, **fields}, ensure_ascii=False) + "\n")


@events.quitting.add_listener
def _write_extra(environment, **_):
    _ledger.flush()
    if EXTRA_FILE:
        Path(EXTRA_FILE).write_text(json.dumps({k: (dict(v) if isinstance(v, Counter) else v)
                                                for k, v in EXTRA.items()}, indent=1))


class PortalUser(HttpUser):
    abstract = True
    host = POPULATION["api_url"]

    def on_start(self):
        number = next(_viewers)
        self.client.headers.update({"CloudFront-Viewer-Address": f"10.{number // 250}.{number % 250}.20:443",
                                    "Connection": "close"})

    def call(self, method: str, path: str, name: str, expected: int = 200, conflicts=(409,), write: bool = False,
             **kwargs):
        """The answer's JSON (or {}) when ``expected``; None for a conflict of the race or a failure."""
        request_id = next(_request_ids) if write else None
        if write:
            record("sent", id=request_id, method=method, path=path, body=kwargs.get("json"))
        with self.client.request(method, path, name=name, catch_response=True, timeout=120, **kwargs) as response:
            self.client.close()  # a connection of its own for each request (the module's docstring)
            status = response.status_code
            if write and status:
                record("answered", id=request_id, status=status)
            if status == expected:
                response.success()
                return response.json() if response.content else {}
            if status in conflicts:
                EXTRA["conflicts"][f"{name} {status} {_code(response)}"] += 1
                response.success()
                return None
            if status >= 500:
                EXTRA["server_errors"][f"{name} {status}"] += 1
            elif status == 0:  # no answer: the connection failed or broke
                EXTRA["no_answer"][f"{name} {type(response.error).__name__}: {str(response.error)[:120]}"] += 1
            else:
                EXTRA["unexpected"][f"{name} {status} {_code(response)}"] += 1
            response.failure(f"{status} {response.text[:200]}")
            return None

    def log_in(self, email: str, password: str, totp_secret: str | None = None) -> bool:
        """``totp_secret``: an operator's second factor, whose current code is sent as ``"otp"``."""
        body = {"email": email, "password": password}
        if totp_secret:
            body["otp"] = pyotp.TOTP(totp_secret).now()
        session = self.call("POST", "/sessions", "POST /sessions", 201, json=body)
        if session is None:
            return False
        self.client.headers["Authorization"] = f"Bearer {session['token']}"
        return True


def _code(response) -> str:
    try:
        return response.json().get("code", "")
    except ValueError:
        return ""


def _link_token(outbox: Path, to: str, timeout: float = 60) -> str | None:
    """The token of the newest e-mail to ``to`` (the stack names each .eml after its recipient)."""
    safe_to = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in to)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(outbox.glob(f"*-{safe_to}.eml"))
        if found:
            message = message_from_bytes(found[-1].read_bytes(), policy=policy.default)
            text = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(r"[?&]token=([A-Za-z0-9_.\-]+)", text).group(1)
        time.sleep(0.2)
    return None


class TownHall(PortalUser):
    weight = 1
    wait_time = between(3, 8)  # a person reading a page before the next click

    def on_start(self):
        super().on_start()
        self.commune = next(_communes, None)
        if self.commune is None:
            raise StopUser()  # more town halls than communes: the extra users stay idle
        self.ready: list[str] = []  # officials whose photo is ready and who are not in an order
        self.orders: list[str] = []
        self.candidates: list[dict] = []
        c = self.commune
        started = time.monotonic()
        if self.call("POST", "/registrations", "POST /registrations", 201, write=True, json={
                "siren": c["siren"], "activation_code": c["activation_code"], "last_name": "Secrétaire",
                "first_name": "Camille", "email": c["email"]}) is None:
            raise StopUser()
        token = _link_token(Path(POPULATION["outbox_dir"]), c["email"])
        if token is None or self.call("POST", "/password", "POST /password", 204,
                                      json={"token": token, "password": c["password"]}) is None:
            raise StopUser()
        if not self.log_in(c["email"], c["password"]):
            raise StopUser()
        EXTRA["registration_seconds"].append(time.monotonic() - started)
        directory = self.call("GET", "/directory", "GET /directory") or {"items": []}
        self.candidates = [entry for entry in directory["items"]
                           if entry["eligible_functions"] and not entry["registered"]]
        random.shuffle(self.candidates)

    @task(3)
    def add_officials_with_photos(self):
        """Up to PHOTO_BATCH officials registered and their photos sent, then each one's page looked at every
        POLL_SECONDS until its photo is ready. The site's form does the same every 0.7 s; 3 s here, since on the
        local stack those looks share the one process with the photo work they wait for."""
        if not self.candidates:
            return self.follow_orders()
        pending = []
        while self.candidates and len(pending) < PHOTO_BATCH:
            sent = self._register_and_send(self.candidates.pop())
            if sent:
                pending.append(sent)
        while pending:
            time.sleep(POLL_SECONDS)
            for official_id, sent_at in list(pending):
                seen = self.call("GET", f"/officials/{official_id}", "GET /officials/[id] (waiting for the photo)")
                status = seen and seen["photo"] and seen["photo"]["status"]
                waited = time.monotonic() - sent_at
                if status == "ready":
                    EXTRA["photo_ready_seconds"].append(waited)
                    events.request.fire(request_type="WAIT", name="photo sent -> ready", response_time=waited * 1000,
                                        response_length=0, exception=None, context={})
                    self.ready.append(official_id)
                    pending.remove((official_id, sent_at))
                elif status == "rejected":
                    EXTRA["photo_rejected"] += 1
                    pending.remove((official_id, sent_at))
                elif waited > PHOTO_TIMEOUT:
                    EXTRA["photo_timeouts"] += 1
                    pending.remove((official_id, sent_at))

    def _register_and_send(self, entry: dict) -> tuple[str, float] | None:
        official = self.call("POST", "/officials", "POST /officials", 201, write=True, json={
            "directory_id": entry["id"], "function": entry["eligible_functions"][0]["code"]})
        if official is None:
            return None
        upload = self.call("POST", f"/officials/{official['id']}/photo-uploads",
                           "POST /officials/[id]/photo-uploads", 201, write=True,
                           json={"crop": {"x": 0, "y": 0, "width": 1050, "height": 1350}})
        if upload is None:
            return None
        sent_at = time.monotonic()
        with self.client.post(upload["url"], data=upload["fields"], name="S3 POST (photo, presigned)",
                              files={"file": ("photo.jpg", random.choice(_photos), "image/jpeg")},
                              headers={"Authorization": "", "CloudFront-Viewer-Address": ""},
                              catch_response=True, timeout=120) as sent:
            self.client.close()
            if sent.status_code not in (200, 201, 204):
                kind = "no_answer" if not sent.status_code else "server_errors" if sent.status_code >= 500 \
                    else "unexpected"
                EXTRA[kind][f"S3 POST {sent.status_code} {str(sent.error or '')[:120]}"] += 1
                sent.failure(f"{sent.status_code} {sent.text[:200]}")
                return None
            sent.success()
        return official["id"], sent_at

    @task(2)
    def order(self):
        if not self.ready:
            return self.follow_orders()
        chosen, self.ready = self.ready[:4], self.ready[4:]
        order = self.call("POST", "/orders", "POST /orders", 201, write=True, json={"official_ids": chosen})
        if order is None:
            return
        record("order_created", order=order["id"], siren=self.commune["siren"], officials=chosen)
        self.orders.append(order["id"])
        self.call("GET", f"/orders/{order['id']}", "GET /orders/[id]")  # the preview of each card
        submitted = self.call("POST", f"/orders/{order['id']}/submit", "POST /orders/[id]/submit", write=True,
                              json={"preview_acknowledged": True})
        if submitted is not None:
            record("moved", order=order["id"], to=submitted["status"])

    @task(3)
    def follow_orders(self):
        self.call("GET", "/orders", "GET /orders")
        if self.orders:
            self.call("GET", f"/orders/{random.choice(self.orders)}", "GET /orders/[id]")
        if random.random() < 0.3:
            self.call("GET", "/cards", "GET /cards")

    @task(1)
    def me(self):
        self.call("GET", "/me", "GET /me")


class BackOffice(PortalUser):
    abstract = True

    def move(self, order_id: str, to: str, role: str, label: str) -> dict | None:
        moved = self.call("POST", f"/admin/orders/{order_id}/transitions",
                          f"POST /admin/orders/[id]/transitions ({label})", write=True, json={"to": to})
        if moved is not None:
            record("moved", order=order_id, to=moved["status"], by=role,
                   numbers=[c.get("card_number") for c in moved["cards"] if c.get("card_number")])
        return moved

    def listed(self, status: str) -> list[dict]:
        page = self.call("GET", f"/admin/orders?status={status}", f"GET /admin/orders?status={status} ({self.who})")
        return page["items"] if page else []


class CardMaker(BackOffice):
    fixed_count = 2
    wait_time = between(1, 3)

    def on_start(self):
        super().on_start()
        self.number = next(_card_makers)
        self.who = "card maker"
        m = POPULATION["manufacturer"]
        if not self.log_in(m["email"], m["password"], m["totp_secret"]):
            raise StopUser()

    def _pick(self, items: list[dict], how_many: int) -> list[dict]:
        # The first agent takes the oldest, the second any: they meet on some orders (409) and take numbers together.
        return items[-how_many:] if self.number == 0 else random.sample(items, min(how_many, len(items)))

    @task(2)
    def produce(self):
        for order in self._pick(self.listed("en_preparation"), 3):
            self.move(order["id"], "en_production", "manufacturer", "en_production")

    @task(2)
    def ship(self):
        for order in self._pick(self.listed("en_production"), 3):
            self.call("GET", f"/admin/orders/{order['id']}", "GET /admin/orders/[id]")
            self.move(order["id"], "en_livraison", "manufacturer", "en_livraison")


class Prefecture(BackOffice):
    fixed_count = len(POPULATION["prefectures"])
    wait_time = between(1, 3)

    def on_start(self):
        super().on_start()
        self.agent = next(_prefectures)
        self.who = f"préfecture {self.agent['department_code']}"
        if not self.log_in(self.agent["email"], self.agent["password"], self.agent["totp_secret"]):
            raise StopUser()

    @task(2)
    def receive(self):
        for order in self.listed("en_livraison")[:3]:
            self.move(order["id"], "livree", "prefecture", "livree")

    @task(2)
    def hand_over(self):
        waiting = self.listed("livree") + self.listed("remise_partielle")
        if not waiting:
            return
        order = random.choice(waiting)
        if sum(map(ord, order["id"])) % 2:  # the same way for both agents of the Ain: they meet card by card
            self.move(order["id"], "remise", "prefecture", "remise")
            return
        for card in order["cards"]:
            if card.get("card_number") and not card.get("handed_over_at"):
                handed = self.call("POST", f"/admin/cards/{card['card_number']}/hand-over",
                                   "POST /admin/cards/[number]/hand-over", write=True, json={"mode": "titulaire"})
                if handed is not None:
                    record("handed_over", order=order["id"], card=card["card_number"])

    @task(1)
    def registry(self):
        self.call("GET", "/admin/cards?status=livree", "GET /admin/cards?status=livree")
