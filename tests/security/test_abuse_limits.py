"""Abuse limits: each guessing or flooding path ends in 429 `too_many_attempts` with a `Retry-After` in seconds.

Limits live in `chalicelib/services/limits.py` (and `officials.UPLOADS`); docs/security.md lists them all from the code.
The source address is what API Gateway reports (`identity.sourceIp`); the tests set it per attack with chalice's
local event converter. Password hashing is replaced by an equivalent fast check where a test makes a hundred failed
logins: the limits are decided before and after the hash, never by it.
"""
import inspect

import pytest
from stdnum import luhn

from tests.conftest import PROJECT_DIR
from tests.helpers import post_json
from tests.security.conftest import record_figures

ATTACKER = "203.0.113.66"  # TEST-NET-3: never a real address
FIGURES: dict = {}


@pytest.fixture
def from_source(monkeypatch):
    from chalice.local import LambdaEventConverter

    def use(address: str):
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)

    return use


@pytest.fixture
def fast_password_check(monkeypatch):
    """Same answers as Argon2 for these tests (the stored hash of the world's accounts is checked for real once)."""
    from chalicelib.domain import passwords
    from chalicelib.services import sessions

    known = {}

    def verify(password_hash, password):
        if password_hash is None:
            return False
        if password_hash not in known:
            known[password_hash] = None
        if known[password_hash] is None and passwords.verify_password(password_hash, password):
            known[password_hash] = password
        return known[password_hash] == password

    monkeypatch.setattr(sessions, "verify_password", verify)


def valid_sirens(count: int, start: int = 99000000) -> list[str]:
    """SIRENs with a correct Luhn key that no commune has."""
    return [f"{n}{luhn.calc_check_digit(str(n))}" for n in range(start, start + count)]


def assert_limited(response, max_seconds: int):
    assert response.status_code == 429, response.json_body
    assert response.json_body["code"] == "too_many_attempts"
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= max_seconds
    return retry_after


def registration(siren: str, code: str, email: str = "devin@exemple.fr") -> dict:
    return {"siren": siren, "activation_code": code, "last_name": "Devin", "first_name": "Eve", "email": email}


@pytest.fixture
def unregistered_commune(world):
    """A commune of its own, that no other test registers (the reference file's are used elsewhere)."""
    from chalicelib.store.tables import Commune

    siren = valid_sirens(1, start=98_765_000)[0]
    Commune(siren, insee_code="01999", name="Commune d'essai", department_code="01").save()
    yield siren
    Commune(siren).delete()


def test_activation_code_guessing_slows_the_siren_for_a_minute_at_most(world, clean_counters, unregistered_commune):
    from chalicelib.services.accounts import issue_activation_code

    client, siren = world.client, unregistered_commune
    code = issue_activation_code(siren)["activation_code"]
    statuses = [post_json(client, "/registrations", registration(siren, f"AAAA-BBBB-{n:04d}")).status_code
                for n in range(10)]
    assert statuses == [403] * 10
    # the right code is refused too while the SIREN is slowed, never for more than a minute
    locked = post_json(client, "/registrations", registration(siren, code))
    seconds = assert_limited(locked, 60)
    FIGURES["activation_code_per_siren"] = {"attempts_before_429": 10, "retry_after": seconds}


def test_registration_flooding_from_one_source_is_limited(world, clean_counters, from_source):
    """One address trying codes on many SIRENs (5 each would stay under the per-SIREN lock) must be stopped too."""
    from_source(ATTACKER)
    statuses = []
    for siren in valid_sirens(60):
        response = post_json(world.client, "/registrations", registration(siren, "AAAA-BBBB-CCCC"))
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert_limited(response, 24 * 3600)
            break
    FIGURES["registration_per_source"] = {"attempts": len(statuses), "limited": 429 in statuses}
    assert 429 in statuses, f"60 wrong registrations on 60 SIRENs from one address: {set(statuses)}, never 429"


def test_login_guessing_locks_the_account_from_that_source_only(world, clean_counters, fast_password_check,
                                                                 from_source, monkeypatch):
    from datetime import timedelta

    from chalicelib import clock

    later = clock.now() + timedelta(minutes=1)  # failures in the quarter-minute of a password's setting don't count
    monkeypatch.setattr(clock, "now", lambda: later)
    client, email = world.client, world.B.agent_email
    from_source(ATTACKER)
    statuses = [post_json(client, "/sessions", {"email": email, "password": f"essai {n}"}).status_code
                for n in range(10)]
    assert statuses == [401] * 10
    seconds = assert_limited(post_json(client, "/sessions", {"email": email, "password": world.B.agent_password}),
                             900)
    # the account's holder, from their own address, is not locked out
    from_source("198.51.100.8")
    assert post_json(client, "/sessions", {"email": email, "password": world.B.agent_password}).status_code == 201
    FIGURES["login_per_account_and_source"] = {"attempts_before_429": 10, "retry_after": seconds}


def test_login_guessing_from_one_source_is_limited_across_accounts(world, clean_counters, from_source,
                                                                   fast_password_check):
    from_source(ATTACKER)
    client = world.client
    statuses = [post_json(client, "/sessions", {"email": f"personne{n}@exemple.fr", "password": "essai"}).status_code
                for n in range(100)]
    assert statuses == [401] * 100
    # then even a good password of a real account is refused from that address...
    seconds = assert_limited(post_json(client, "/sessions", {"email": world.A.agent_email,
                                                            "password": world.A.agent_password}), 900)
    # ...but not from another one
    from_source("198.51.100.7")
    assert post_json(client, "/sessions", {"email": world.A.agent_email,
                                           "password": world.A.agent_password}).status_code == 201
    FIGURES["login_per_source"] = {"attempts_before_429": 100, "retry_after": seconds}


def test_password_reset_flooding_one_inbox_is_limited(world, clean_counters):
    statuses = [post_json(world.client, "/password-resets", {"email": world.A.agent_email}).status_code
                for _ in range(5)]
    assert statuses == [202] * 5
    seconds = assert_limited(post_json(world.client, "/password-resets", {"email": world.A.agent_email}), 3600)
    FIGURES["password_reset_per_email"] = {"attempts_before_429": 5, "retry_after": seconds}


def test_password_reset_flooding_from_one_source_is_limited(world, clean_counters, from_source):
    """One address asking resets for many addresses (mail bombing, account enumeration by timing, SES costs)."""
    from_source(ATTACKER)
    statuses = []
    for n in range(60):
        response = post_json(world.client, "/password-resets", {"email": f"cible{n}@exemple.fr"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert_limited(response, 24 * 3600)
            break
    FIGURES["password_reset_per_source"] = {"attempts": len(statuses), "limited": 429 in statuses}
    assert 429 in statuses, f"60 reset requests from one address: {set(statuses)}, never 429"


def test_photo_upload_flooding_is_limited_per_commune(world, clean_counters):
    from chalicelib.services.officials import UPLOADS

    crop = {"crop": {"x": 0, "y": 0, "width": 700, "height": 900}}
    path = f"/officials/{world.B.free_official}/photo-uploads"
    statuses = [post_json(world.client, path, crop, world.B.token).status_code for _ in range(UPLOADS.attempts)]
    assert set(statuses) == {201}, set(statuses)
    seconds = assert_limited(post_json(world.client, path, crop, world.B.token), UPLOADS.lock_seconds)
    # another commune is not affected
    other = f"/officials/{world.A.free_official}/photo-uploads"
    assert post_json(world.client, other, crop, world.A.token).status_code == 201
    FIGURES["uploads_per_commune"] = {"attempts_before_429": UPLOADS.attempts, "retry_after": seconds}
    record_figures("limits", FIGURES)


def test_agent_invitations_are_limited_per_commune(world, clean_counters):
    """Each invitation e-mails any address the commune types: a commune may invite 50 agents a day."""
    from chalicelib.services.limits import INVITATIONS

    invited = []
    for n in range(INVITATIONS.attempts):
        response = post_json(world.client, "/agents", {"email": f"invite{n}@mairie-annecy.securite.example.fr",
                                                       "last_name": "Invité", "first_name": "Agent"}, world.B.token)
        assert response.status_code == 201, response.json_body
        invited.append(response.json_body["id"])
    seconds = assert_limited(post_json(world.client, "/agents", {"email": "encore@mairie-annecy.securite.example.fr",
                                                                 "last_name": "Invité", "first_name": "Agent"},
                                       world.B.token), INVITATIONS.lock_seconds)
    # another commune is not affected
    other = post_json(world.client, "/agents", {"email": "collegue@mairie-bourg.securite.example.fr",
                                                "last_name": "Collègue", "first_name": "Agent"}, world.A.token)
    assert other.status_code == 201, other.json_body
    invited_a = other.json_body["id"]
    FIGURES["invitations_per_commune"] = {"attempts_before_429": INVITATIONS.attempts, "retry_after": seconds}
    # The world's communes keep only their own agents for the other tests.
    for agent_id in invited:
        assert world.client.http.delete(f"/agents/{agent_id}", headers={"Authorization": f"Bearer {world.B.token}"}
                                        ).status_code == 204
    assert world.client.http.delete(f"/agents/{invited_a}", headers={"Authorization": f"Bearer {world.A.token}"}
                                    ).status_code == 204


def test_token_guessing_locks_the_client_from_that_source_only(world, clean_counters, from_source):
    """An API client's secret (256 bits) cannot be guessed; the limit stops a program that hammers the token endpoint
    with a wrong secret: 10 failures from one address lock that client's token requests from there only."""
    import base64

    created = post_json(world.client, "/api-clients", {"name": "Logiciel essai", "scopes": ["orders:read"]},
                        world.A.token).json_body

    def ask(secret: str):
        basic = base64.b64encode(f"{created['client_id']}:{secret}".encode()).decode()
        return world.client.http.post("/oauth/token", body=b"grant_type=client_credentials",
                                      headers={"Content-Type": "application/x-www-form-urlencoded",
                                               "Authorization": f"Basic {basic}"})

    try:
        from_source(ATTACKER)
        for _ in range(10):
            assert ask("faux").status_code == 401
        locked = ask(created["client_secret"])  # the right secret, from the locked address
        assert_limited(locked, 900)
        assert locked.json_body["error"] == "too_many_attempts"
        from_source("198.51.100.7")  # the program's own address is not affected
        assert ask(created["client_secret"]).status_code == 200
    finally:
        world.client.http.delete(f"/api-clients/{created['client_id']}",
                                 headers={"Authorization": f"Bearer {world.A.token}"})


def all_limits() -> dict:
    """Every Limit the code defines (a new one is picked up here, and must then be documented)."""
    from chalicelib.services import limits, officials
    from chalicelib.store.counters import Limit

    found = {}
    for module in (limits, officials):
        for name, value in inspect.getmembers(module):
            if isinstance(value, Limit):
                found[f"{module.__name__}.{name}"] = value
    return found


def test_every_limit_is_documented_in_security_md():
    text = (PROJECT_DIR / "docs" / "security.md").read_text()
    missing = [name for name, limit in all_limits().items() if f"`{limit.name}`" not in text]
    assert not missing, f"limits missing from docs/security.md (run make security): {missing}"


def test_limited_operations_document_429_in_openapi(world):
    document = world.client.http.get("/openapi.json").json_body
    for path, method in (("/registrations", "post"), ("/sessions", "post"), ("/password-resets", "post"),
                         ("/officials/{official_id}/photo-uploads", "post"), ("/agents", "post"),
                         ("/oauth/token", "post")):
        assert "429" in document["paths"][path][method]["responses"], path
