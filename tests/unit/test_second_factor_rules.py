"""The second factor's and ProConnect's rules (domain/second_factor.py, domain/proconnect.py)."""
from types import SimpleNamespace

import pyotp
import pytest

from chalicelib.domain import proconnect as rules
from chalicelib.domain import second_factor as factor
from chalicelib.domain.changes import Refused

# RFC 6238 appendix B's SHA-1 secret ("12345678901234567890") and its 8-digit codes, whose last 6 digits are ours.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_VECTORS = {59: "94287082", 1111111109: "07081804", 1234567890: "89005924", 2000000000: "69279037"}


@pytest.mark.parametrize("at,code", RFC_VECTORS.items())
def test_codes_are_rfc_6238_s(at, code):
    assert factor.code_at(RFC_SECRET, at) == code[-6:]
    assert factor.verify_code(RFC_SECRET, code[-6:], at)


def test_one_step_of_drift_is_accepted_two_are_not():
    now = 1_800_000_000
    assert factor.verify_code(RFC_SECRET, factor.code_at(RFC_SECRET, now - 30), now)
    assert factor.verify_code(RFC_SECRET, factor.code_at(RFC_SECRET, now + 30), now)
    assert not factor.verify_code(RFC_SECRET, factor.code_at(RFC_SECRET, now - 60), now)
    for junk in ("", "12345", "1234567", "abcdef", None):
        assert not factor.verify_code(RFC_SECRET, junk, now)


def test_secrets_are_160_bits_and_the_uri_names_the_service():
    secret = factor.new_secret()
    assert len(secret) == 32 and secret != factor.new_secret()
    uri = factor.provisioning_uri(secret, "guichet@ain.gouv.fr")
    assert uri.startswith("otpauth://totp/Cartes%20des%20%C3%A9lus:guichet%40ain.gouv.fr?secret=" + secret)
    assert pyotp.parse_uri(uri).now() == pyotp.TOTP(secret).now()


def test_recovery_codes_match_once_typed_loosely():
    codes = factor.new_recovery_codes()
    assert len(set(codes)) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes)
    stored = {factor.recovery_digest(c) for c in codes}
    assert factor.matching_recovery_digest(stored, codes[3].lower().replace("-", " ")) == \
        factor.recovery_digest(codes[3])
    assert factor.matching_recovery_digest(stored, "AAAAA-AAAAA") is None
    assert factor.matching_recovery_digest(set(), codes[0]) is None


def test_required_for_the_back_office_only():
    assert factor.required("manufacturer") and factor.required("prefecture") and not factor.required("commune")


@pytest.mark.parametrize("agent,label", [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 "
     "Edg/131.0", "Edge sous Windows"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
     "Chrome sous Linux"),
    ("python-requests/2.34.2", "Programme (python-requests)"),
    ("", "Appareil inconnu"), (None, "Appareil inconnu"),
])
def test_device_labels(agent, label):
    assert factor.device_label(agent) == label


def account(role="commune", siren="210100533", sub=None):
    return SimpleNamespace(role=role, siren=siren, proconnect_sub=sub)


def commune(siren="210100533", registered=True, name="Bourg-en-Bresse"):
    return SimpleNamespace(siren=siren, name=name, registered_at=object() if registered else None)


IDENTITY = rules.Identity("sub-1", "agent@mairie-bourg.fr", "21010053300011")


def refusal(identity, acc, com) -> str:
    with pytest.raises(Refused) as refused:
        rules.authorise(identity, acc, com)
    return refused.value.code


def test_the_siret_s_siren_must_be_the_agent_s_commune():
    rules.authorise(IDENTITY, account(), commune())
    assert refusal(IDENTITY, account(siren="216901231"), commune()) == "other_commune"
    assert refusal(IDENTITY, account(siren="216901231"), commune(registered=False)) == "other_commune"
    assert refusal(IDENTITY, None, commune()) == "not_an_agent"
    assert refusal(IDENTITY, account(role="prefecture", siren=None), commune()) == "not_an_agent"
    assert refusal(IDENTITY, account(), commune(registered=False)) == "commune_not_registered"
    assert refusal(IDENTITY, account(sub="another"), commune()) == "other_identity"
    rules.authorise(IDENTITY, account(sub="sub-1"), commune())


def test_a_prefecture_is_a_state_siret_and_a_prefecture_account():
    state = IDENTITY._replace(siret="17010001400019")
    rules.authorise(state, account(role="prefecture", siren=None), None)
    assert refusal(state, None, None) == "organisation_not_registered"
    assert refusal(state, account(role="manufacturer", siren=None), None) == "organisation_not_registered"
    assert refusal(IDENTITY._replace(siret="35600000000048"), account(role="prefecture"), None) \
        == "organisation_not_registered"


def test_claims_are_checked():
    identity = rules.identity_from_claims({"sub": "s", "email": " Agent@Mairie.fr ", "siret": "210 100 533 00011"})
    assert identity.email == "agent@mairie.fr" and identity.siret == "21010053300011"
    for claims in ({"email": "a@b.fr", "siret": "21010053300011"}, {"sub": "s", "siret": "21010053300011"},
                   {"sub": "s", "email": "a@b.fr"}, {"sub": "s", "email": "a@b.fr", "siret": "2101005330001"}):
        with pytest.raises(Refused):
            rules.identity_from_claims(claims)
