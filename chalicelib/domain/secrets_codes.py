"""Random secrets given to people: session tokens, set-password links, activation codes.

Tokens carry 256 bits from the OS CSPRNG and are stored only as their SHA-256 (a fast hash is enough for a
high-entropy secret). Activation codes are typed from a paper letter, so they use an unambiguous alphabet
(Crockford base32: no I, L, O, U) in groups of four; they are hashed like passwords since they carry fewer bits.
"""
import hashlib
import secrets

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS = 3
CODE_GROUP_LENGTH = 4  # 12 symbols x 5 bits = 60 bits


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
