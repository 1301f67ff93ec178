"""Random secrets given to people: session tokens, set-password links, activation codes.

Tokens carry 256 bits from the OS CSPRNG and are stored only as their SHA-256 (a fast hash is enough for a
high-entropy secret). Activation codes are typed from a paper letter, so they use an unambiguous alphabet
(Crockford base32: no I, L, O, U) in groups of four; they carry fewer bits than tokens, so they are hashed with
Argon2id. A new activation code always comes with its hash (what is stored) and its expiry: ``issue_activation_code``
is that one rule, whether the card maker asks one commune's code or a département's letters.
"""
import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# 16 symbols x 5 bits = 80 bits (« 8E4R-Y9EP-5K3G-7HQM »): still four groups of four to copy from a letter, and
# hopeless to guess. The limits (services/limits.py) bound one address to 20 wrong codes an hour and one SIREN to 10
# a minute: an attacker with unlimited addresses, trying all 35,000 communes for the 120 days a code lives, makes at
# most 10 x 60 x 24 x 120 x 35,000 = 6e10 (2^36) guesses, each right with a chance of 2^-80: about 2^-44 in all.
CODE_GROUPS = 4
CODE_GROUP_LENGTH = 4
CODE_BITS = CODE_GROUPS * CODE_GROUP_LENGTH * 5
ACTIVATION_CODE_LIFETIME = timedelta(days=120)  # a letter by post, then a town-hall agenda


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_activation_code() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH)) for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def canonical_activation_code(typed: str) -> str:
    """What the person typed, as printed: case, spaces and dashes ignored, Crockford's look-alikes mapped."""
    cleaned = "".join(c for c in typed.upper() if c.isalnum())
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    size = CODE_GROUP_LENGTH
    return "-".join(cleaned[i : i + size] for i in range(0, len(cleaned), size))


class IssuedCode(NamedTuple):
    code: str  # given once: printed on the letter or shown to the card maker, never stored
    code_hash: str  # what the commune keeps
    expires_at: datetime


def issue_activation_code(now: datetime) -> IssuedCode:
    """A new activation code, its hash and its expiry."""
    code = new_activation_code()
    return IssuedCode(code, hash_activation_code(code), now + ACTIVATION_CODE_LIFETIME)


@lru_cache(maxsize=1)
def _code_hasher():
    # cold start: argon2-cffi 3 ms, only registration and the card maker's codes hash an activation code
    from argon2 import PasswordHasher

    # Lighter than passwords (a few ms): a code is 80 random bits, its guessing is slowed per SIREN and per source,
    # and the card maker issues codes for a whole département in one request. Still Argon2id, so a leaked table is
    # useless.
    return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def hash_activation_code(code: str) -> str:
    return _code_hasher().hash(canonical_activation_code(code))


def activation_code_matches(stored_hash: str | None, typed: str) -> bool:
    """Same work whether or not there is a code to compare with: an unknown SIREN costs what a wrong code costs."""
    # cold start: argon2-cffi 3 ms (loaded by _code_hasher below anyway), only registration checks a code
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        ok = _code_hasher().verify(stored_hash or _dummy_code_hash(), canonical_activation_code(typed))
    except (VerificationError, InvalidHashError):
        return False
    return ok and stored_hash is not None


@lru_cache(maxsize=1)
def _dummy_code_hash() -> str:
    return _code_hasher().hash("no commune has this code")
