"""Password policy and hashing.

Policy (NIST SP 800-63B / OWASP ASVS): 12 to 256 characters, any Unicode (normalised NFKC so the same password typed on
another keyboard still matches), no composition rules, refuse guessable passwords. Guessability comes from zxcvbn
(dictionaries of common passwords, names, words, keyboard patterns), taught French (``_french_zxcvbn``: the French
words, given names and surnames of the npm package ``@zxcvbn-ts/language-fr``, vendored in ``wordlists/``, and the
AZERTY keyboard's walks) and fed with what an attacker knows of this account: the commune's name and SIREN, the
person's names and email. A refusal says in French what made the password guessable.
Hashing: Argon2id with parameters above OWASP's minimum (m=19 MiB, t=2).
"""
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

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
    result = _french_zxcvbn()(password[:ANALYSED_LENGTH], user_inputs=words)
    if result["score"] < MIN_ZXCVBN_SCORE:
        raise WeakPassword(
            f"Ce mot de passe est trop facile à deviner : {_why_guessable(result['sequence'])}. "
            "Choisissez par exemple une phrase de plusieurs mots sans lien entre eux."
        )


WORDLISTS = Path(__file__).parent / "wordlists"
# French words that are passwords in their own right, whatever their rank among words: what "password" is in French
# (the English list knows "password" but not "motdepasse"); AZERTY walks are the keyboard graph's (below).
FRENCH_PASSWORDS = ["motdepasse", "soleil", "bonjour", "doudou", "loulou", "chouchou",
                    "jetaime", "coucou", "marseille", "nicolas", "camille"]
# The French (AZERTY) keyboard as zxcvbn's slanted graphs see it: each key as (unshifted, shifted), each row's first
# key at the column of the key above-left of it; the ISO key « < » is left of W.
AZERTY_ROWS = (
    ["²", "&1", "é2", '"3', "'4", "(5", "-6", "è7", "_8", "ç9", "à0", ")°", "=+"],
    ["aA", "zZ", "eE", "rR", "tT", "yY", "uU", "iI", "oO", "pP", "^¨", "$£"],
    ["qQ", "sS", "dD", "fF", "gG", "hH", "jJ", "kK", "lL", "mM", "ù%", "*µ"],
    ["<>", "wW", "xX", "cC", "vV", "bB", "nN", ",?", ";.", ":/", "!§"],
)
AZERTY_FIRST_COLUMN = (0, 1, 1, 0)


def azerty_graph() -> dict[str, list[str | None]]:
    """Each character's neighbours in zxcvbn's order: left, up-left, up-right, right, down-right, down-left."""
    keys = {(AZERTY_FIRST_COLUMN[y] + x, y): key for y, row in enumerate(AZERTY_ROWS) for x, key in enumerate(row)}
    graph = {}
    for (x, y), key in keys.items():
        around = [keys.get(spot) for spot in ((x - 1, y), (x, y - 1), (x + 1, y - 1), (x + 1, y), (x, y + 1),
                                              (x - 1, y + 1))]
        for char in key:
            graph[char] = around
    return graph


def _words(file_name: str) -> list[str]:
    return (WORDLISTS / file_name).read_text(encoding="utf-8").split()


@lru_cache(maxsize=1)
def _french_zxcvbn():
    """zxcvbn with the French lists and the AZERTY keyboard added to its own (English, QWERTY) ones.

    zxcvbn (Python) takes extra dictionaries and keyboards only through its module-level tables: they are added
    once per process, here, and nowhere else. The AZERTY graph is scored like a keypad (zxcvbn's formula knows the
    QWERTY and Dvorak keyboards by name): a walk on it counts as fewer guesses, so it is refused rather than accepted.
    """
    # cold start: zxcvbn 22 ms (its dictionaries; 146 ms on a loaded 2-core machine) and the French lists 46 ms,
    # only the routes that set a password
    from zxcvbn import matching, zxcvbn

    matching.add_frequency_lists({
        "fr_passwords": FRENCH_PASSWORDS,
        "fr_words": _words("fr_common_words.txt"),
        "fr_surnames": _words("fr_surnames.txt"),
        "fr_given_names": _words("fr_given_names.txt"),
    })
    matching.GRAPHS["azerty"] = azerty_graph()
    return zxcvbn


def _why_guessable(sequence: list[dict]) -> str:
    """The patterns that make the password guessable, in French, most telling first."""
    reasons = []
    for match in sequence:
        pattern = match.get("pattern")
        if pattern == "spatial":
            reasons.append("une suite de touches voisines du clavier (comme « azerty »)")
        elif pattern == "dictionary" and match.get("dictionary_name") == "user_inputs":
            reasons.append("vos nom, prénom ou adresse, ou le nom de votre commune")
        elif pattern == "dictionary" and match.get("dictionary_name") in ("fr_passwords", "passwords"):
            reasons.append("un mot de passe très répandu")
        elif pattern == "dictionary" and "names" in match.get("dictionary_name", ""):
            reasons.append("un prénom ou un nom de famille courant")
        elif pattern == "dictionary":
            reasons.append("un mot courant" + (" écrit à l'envers" if match.get("reversed") else ""))
        elif pattern in ("repeat", "sequence"):
            reasons.append("une répétition ou une suite de caractères (« aaa », « 1234 »)")
        elif pattern in ("date", "regex"):
            reasons.append("une date ou une année")
    unique = list(dict.fromkeys(reasons)) or ["trop peu de caractères imprévisibles"]
    return "il contient " + (", ".join(unique[:-1]) + " et " + unique[-1] if len(unique) > 1 else unique[0])


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
