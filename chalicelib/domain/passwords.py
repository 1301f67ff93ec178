"""Password policy and hashing.

Policy (NIST SP 800-63B / OWASP ASVS): 12 to 256 characters, any Unicode (normalised NFKC so the same password typed on
another keyboard still matches), no composition rules, refuse guessable passwords. Guessability comes from zxcvbn
(dictionaries of common passwords, names, words, keyboard patterns), fed with what an attacker knows of this account:
the commune's name and SIREN, the person's names and email.
Hashing: Argon2id with parameters above OWASP's minimum (m=19 MiB, t=2).
"""
import re
import unicodedata
from functools import lru_cache

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn's cost grows with length; past this many characters a password is long enough that its guess count is not
# what makes it weak, so only the beginning is analysed.
ANALYSED_LENGTH = 64
MIN_ZXCVBN_SCORE = 3  # "safely unguessable: moderate protection from offline slow-hash scenario"


class WeakPassword(ValueError):
    """The message is the French reason shown to the person."""


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def check_strength(password: str, personal_words: list[str]) -> None:
    """Raise WeakPassword with the reason in French, or return if the password is acceptable."""
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Le mot de passe doit contenir au moins {MIN_LENGTH} caractères.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Le mot de passe ne doit pas dépasser {MAX_LENGTH} caractères.")
    folded = _fold(password)
    words = [w for w in (_fold(x) for x in personal_words if x) for w in re.split(r"[\s@.\-'’_]+", w) if len(w) >= 4]
    for word in words:
        if word in folded:
            raise WeakPassword(
                "Le mot de passe ne doit contenir ni vos nom, prénom ou adresse e-mail, ni le nom ou le SIREN de "
                "votre commune."
            )
    # cold start: zxcvbn 22 ms (its dictionaries), only the routes that set a password need it
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:ANALYSED_LENGTH], user_inputs=words)
    if result["score"] < MIN_ZXCVBN_SCORE:
        raise WeakPassword(
            "Ce mot de passe est trop facile à deviner (mot courant, suite de caractères, répétition ou date). "
            "Choisissez par exemple une phrase de plusieurs mots sans lien entre eux."
        )


@lru_cache(maxsize=1)
def _hasher():
    # cold start: argon2-cffi 3 ms, only the routes that log in or set a password hash one
    from argon2 import PasswordHasher
    from argon2.profiles import RFC_9106_LOW_MEMORY

    # RFC 9106 "low memory" profile: Argon2id, t=3, m=64 MiB, p=4 — above OWASP's m=19 MiB, t=2 floor.
    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def hash_password(password: str) -> str:
    return _hasher().hash(normalise(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account has a password: an unknown email costs the same as a wrong password."""
    # cold start: argon2-cffi 3 ms (loaded by _hasher below anyway), only the login route verifies a password
    from argon2.exceptions import InvalidHashError, VerificationError

    target = password_hash or _dummy_hash()
    try:
        ok = _hasher().verify(target, normalise(password))
    except (VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("no account has this password: it only costs the same time")
