"""A populated portal on moto for the security tests: two communes in two départements, every role, objects of each.

Built once per test session of this package (``tests/security/conftest.py``) through the same HTTP API and S3 path as
a person would use (registration with an activation code, password from the emailed link, photos through presigned
POSTs and the photo trigger, orders moved by the card maker and the préfecture), so that every id is real.

Tenant A: Bourg-en-Bresse (SIREN 210100533, Ain 01). Tenant B: Annecy (SIREN 200063402, Haute-Savoie 74).
Each tenant has an agent, three officials with a ready photo and three orders: a draft, a submitted one and one
delivered to the préfecture, whose card is in the registry. Operators: the card maker, the préfecture of the Ain (01) and that of Haute-Savoie (74).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.domain.api_clients import SCOPES
from tests.conftest import REFERENCE_DATA
from tests.helpers import (OPERATOR_TOTP_SECRET, auth, import_file, link_token, load_directory, log_in, outbox_messages,
                           post_json, register_official, upload_photo)

MANUFACTURER = ("fabricant@securite.example.fr", "presse a cartes du controle 2026")
PREFECTURES = {"01": ("guichet@ain.securite.example.fr", "le guichet des elus de l'Ain ouvre"),
               "74": ("guichet@haute-savoie.securite.example.fr", "le lac d'Annecy gele en hiver")}

GOOD_SIZE = (700, 900)


@dataclass
class Tenant:
    key: str  # "A" or "B"
    siren: str
    insee_code: str
    department_code: str
    commune_name: str
    agent_email: str
    agent_password: str
    official_names: tuple[str, ...]
    free_name: str  # registered, no photo, no order: for tests that need an official nobody holds
    token: str = ""
    free_official: str = ""
    agent_id: str = ""
    officials: dict[str, str] = field(default_factory=dict)  # last name -> official id
    directory_ids: dict[str, str] = field(default_factory=dict)  # last name -> directory id
    orders: dict[str, str] = field(default_factory=dict)  # draft | submitted | delivered -> public order id
    cards: dict[str, str] = field(default_factory=dict)  # delivered -> the number of its card, at the préfecture
    api_client: str = ""  # the id of its API client (all four scopes), whose token is the role program_<key>
    webhook: str = ""  # the id of that client's webhook

    def markers(self) -> set[str]:
        """Strings that only this tenant's data contains: finding one in another tenant's answer is a leak."""
        found = {self.siren, self.agent_email, self.agent_id, self.commune_name}
        found |= set(self.officials.values()) | set(self.officials) | set(self.directory_ids.values())
        found |= {self.free_official, self.free_name}
        found |= set(self.orders.values()) | {o.split("-", 1)[1] for o in self.orders.values()}
        found |= set(self.cards.values()) | {self.api_client, self.webhook, f"logiciel-{self.key.lower()}.example.fr"}
        return {m for m in found if m}


@dataclass
class World:
    client: object
    settings: object
    A: Tenant
    B: Tenant
    tokens: dict[str, str]  # role name -> token (commune_A, commune_B, manufacturer, prefecture_01, prefecture_74,
    # program_A: commune A's API client)
    import_id: str

    def tenant(self, key: str) -> Tenant:
        return self.A if key == "A" else self.B

    @property
    def outbox(self) -> Path:
        return Path(self.settings.outbox_dir)


TENANT_A = dict(key="A", siren="210100533", insee_code="01053", department_code="01", commune_name="Bourg-en-Bresse",
                agent_email="agent@mairie-bourg.securite.example.fr",
                agent_password="une tartine de comte au petit matin",
                official_names=("MARCHAND", "GIRAUD", "FONTAINE"), free_name="N'DIAYE")
TENANT_B = dict(key="B", siren="200063402", insee_code="74010", department_code="74", commune_name="Annecy",
                agent_email="agent@mairie-annecy.securite.example.fr",
                agent_password="le lac bleu sous les montagnes",
                official_names=("DUMAS", "FAVRE", "MERMILLOD"), free_name="PACCARD")
FUNCTIONS = {"MARCHAND": "maire", "DUMAS": "maire"}


def build_world(client, settings) -> World:
    from chalicelib.services.accounts import issue_activation_code
    from tests.helpers import create_operator
    from tests.unit import photo_corpus as corpus

    create_operator(MANUFACTURER[0], "Farid", "Fabre", "manufacturer", None, password=MANUFACTURER[1])
    manufacturer = log_in(client, *MANUFACTURER, OPERATOR_TOTP_SECRET)
    imported = None
    for kind, name in (("communes", "communes.csv"), ("prefectures", "prefectures.csv")):
        imported = import_file(client, manufacturer, kind, (REFERENCE_DATA / name).read_bytes())
        assert imported["status"] == "done" and imported["rejected"] == 0, imported
    load_directory(client, manufacturer, REFERENCE_DATA)
    tokens = {"manufacturer": manufacturer}
    for department, (email, password) in PREFECTURES.items():
        # names are letters only (domain/names.person_name): the département's code spelt out
        spelt = "".join("zéro un deux trois quatre cinq six sept huit neuf".split()[int(d)] if d.isdigit() else d
                        for d in department)
        create_operator(email, "Paula", f"Guichet {spelt}", "prefecture", department, password=password)
        tokens[f"prefecture_{department}"] = log_in(client, email, password, OPERATOR_TOTP_SECRET)

    tenants = {}
    for spec in (TENANT_A, TENANT_B):
        tenant = Tenant(**spec)
        code = issue_activation_code(tenant.siren)["activation_code"]
        response = post_json(client, "/registrations", {"siren": tenant.siren, "activation_code": code,
                                                        "last_name": "Agent", "first_name": "Camille",
                                                        "email": tenant.agent_email})
        assert response.status_code == 201, response.json_body
        link = link_token(outbox_messages(Path(settings.outbox_dir), tenant.agent_email)[-1])
        assert post_json(client, "/password", {"token": link, "password": tenant.agent_password}).status_code == 204
        tenant.token = log_in(client, tenant.agent_email, tenant.agent_password)
        tenant.agent_id = client.http.get("/agents", headers=auth(tenant.token)).json_body["items"][0]["id"]
        directory = client.http.get("/directory", headers=auth(tenant.token)).json_body["items"]
        for name in tenant.official_names:
            official = register_official(client, tenant.token, name, FUNCTIONS.get(name, "adjoint"))
            assert official.status_code == 201, official.json_body
            official_id = official.json_body["id"]
            ready = upload_photo(client, tenant.token, official_id, corpus.portrait_jpeg(GOOD_SIZE),
                                 corpus.full_crop(GOOD_SIZE))
            assert ready["photo"]["status"] == "ready", ready
            tenant.officials[name] = official_id
            tenant.directory_ids[name] = next(e["id"] for e in directory if e["last_name"] == name)
        free = register_official(client, tenant.token, tenant.free_name, "adjoint" if tenant.key == "A" else
                                 "maire_delegue")
        assert free.status_code == 201, free.json_body
        tenant.free_official = free.json_body["id"]
        tokens[f"commune_{tenant.key}"] = tenant.token
        tenants[tenant.key] = tenant

    for tenant in tenants.values():
        first, second, third = (tenant.officials[n] for n in tenant.official_names)
        tenant.orders["draft"] = _order(client, tenant.token, [first])
        tenant.orders["submitted"] = _order(client, tenant.token, [second], submit=True)
        delivered = _order(client, tenant.token, [third], submit=True)
        prefecture = tokens[f"prefecture_{tenant.department_code}"]
        for token, to in ((manufacturer, "en_production"), (manufacturer, "en_livraison"), (prefecture, "livree")):
            moved = post_json(client, f"/admin/orders/{delivered}/transitions", {"to": to}, token)
            assert moved.status_code == 200, moved.json_body
        tenant.orders["delivered"] = delivered
        tenant.cards["delivered"] = moved.json_body["cards"][0]["card_number"]
        created = post_json(client, "/api-clients", {"name": f"Logiciel {tenant.commune_name}",
                                                     "scopes": list(SCOPES)}, tenant.token)
        assert created.status_code == 201, created.json_body
        tenant.api_client = created.json_body["client_id"]
        hook = post_json(client, f"/api-clients/{tenant.api_client}/webhooks",
                         {"url": f"https://logiciel-{tenant.key.lower()}.example.fr/webhooks",
                          "events": ["order.status_changed", "card.status_changed"]}, tenant.token)
        assert hook.status_code == 201, hook.json_body
        tenant.webhook = hook.json_body["id"]
        if tenant.key == "A":
            tokens["program_A"] = _client_token(client, created.json_body)
    return World(client, settings, tenants["A"], tenants["B"], tokens, imported["id"])


def _client_token(client, created: dict) -> str:
    """A token of the client (RFC 6749 §4.4): form body, HTTP Basic."""
    basic = base64.b64encode(f"{created['client_id']}:{created['client_secret']}".encode()).decode()
    response = client.http.post("/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded",
                                                         "Authorization": f"Basic {basic}"},
                                body=b"grant_type=client_credentials")
    assert response.status_code == 200, response.json_body
    return response.json_body["access_token"]


def _order(client, token: str, official_ids: list[str], submit: bool = False) -> str:
    created = post_json(client, "/orders", {"official_ids": official_ids}, token)
    assert created.status_code == 201, created.json_body
    order_id = created.json_body["id"]
    if submit:
        submitted = post_json(client, f"/orders/{order_id}/submit", {"preview_acknowledged": True}, token)
        assert submitted.status_code == 200, submitted.json_body
    return order_id


# --- snapshots: what "no data changed" means ---------------------------------------------------------------------

# Items that legitimately change without any state change of the portal: a session's idle deadline is pushed forward
# at most once a minute, rate-limit counters count attempts (that is their job).
def snapshot(include_counters: bool = False) -> dict:
    """Every item of every table and every object key of the bucket, for before/after comparisons.

    Read straight from the emulation's memory (moto's backends), not through the API: a snapshot is taken before and
    after hundreds of requests, and it must not itself count as AWS calls of the code under test.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends

    from chalicelib.settings import get_settings
    from chalicelib.store.tables import ALL_MODELS

    settings = get_settings()
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.region]
    tables = {}
    for model in ALL_MODELS:
        items = [item.to_json()["Attributes"] for item in backend.tables[settings.table_name(model.BASE_NAME)]
                 .all_items()]
        if model.BASE_NAME == "tokens":
            for item in items:
                item.pop("idle_expires_at", None)
        if model.BASE_NAME == "counters" and not include_counters:
            items = [i for i in items if i["key"]["S"].startswith("card-number#")]
        tables[model.BASE_NAME] = sorted(json.dumps(i, sort_keys=True) for i in items)
    bucket = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets[settings.data_bucket]
    # generated PDFs (receipts, letters) are new objects by design on every call
    tables["s3"] = sorted(k for k in bucket.keys.keys() if not k.startswith("documents/"))
    return tables


def difference(before: dict, after: dict) -> dict:
    changed = {}
    for name in sorted(set(before) | set(after)):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            changed[name] = {"removed": sorted(old - new)[:3], "added": sorted(new - old)[:3],
                             "count": len(old ^ new)}
    return changed
