"""Accent- and case-insensitive search over people's names.

``search_key("N'DIAYE")`` is ``"n diaye"`` and ``search_key("héLÈNE")`` is ``"helene"``: decomposed (NFKD), combining
marks dropped, case folded, ligatures spelt out, and every character that is neither a letter nor a digit (apostrophes,
hyphens, dots, ...) turned into a space, spaces collapsed.

``matches(query, *names)``: every word of the query is the beginning of a word of one of the names. A query word may
also run over the separators of one name, so ``ndiaye`` finds ``N'DIAYE`` and ``jeanbap`` finds ``Jean-Baptiste``.
"""
import hashlib
import re
import unicodedata
from datetime import date

# Letters that NFKD does not decompose into a base letter plus marks.
_SPELT_OUT = str.maketrans({
    "œ": "oe",
    "æ": "ae",
    "ß": "ss",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ı": "i",
})
_SEPARATORS = re.compile(r"[\W_]+")


def search_key(text: str) -> str:
    """The normalised form of ``text`` used to compare names (see the module docstring)."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = bare.casefold().translate(_SPELT_OUT)
    return _SEPARATORS.sub(" ", folded).strip()


def query_words(query: str) -> list[str]:
    return search_key(query).split()


def _name_forms(names) -> list[str]:
    """Each word of each name, and each run of a name's words glued together from that word to the end."""
    forms = []
    for name in names:
        words = search_key(name).split()
        for start in range(len(words)):
            forms.append(words[start])
            if start < len(words) - 1:
                forms.append("".join(words[start:]))
    return forms


def matches(query: str, *names: str) -> bool:
    """True when every word of ``query`` starts a word of one of ``names`` (an empty query matches everyone)."""
    words = query_words(query)
    if not words:
        return True
    forms = _name_forms(names)
    return all(any(form.startswith(word) for form in forms) for word in words)


def person_key(insee_code: str, last_name: str, first_name: str, birth_date: date) -> str:
    """Who a person is within a commune: the same for every row of one person in the directory's two files, and for
    the official a commune declares before the directory lists them (same INSEE code, names folded, birth date)."""
    identity = "|".join((insee_code, search_key(last_name), search_key(first_name), birth_date.isoformat()))
    return hashlib.sha1(identity.encode("utf-8")).hexdigest()[:20]


# --- what a name may be made of ------------------------------------------------------------------------------------

# Apostrophes (typewriter and typographic) and hyphens (ASCII and Unicode's) are a name's only punctuation.
NAME_PUNCTUATION = frozenset("'’-‐")
NAME_MAX_LENGTH = 100
_NO_BREAK_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " "})


class InvalidName(ValueError):
    """The message is the French reason."""


def person_name(value: str, what: str = "Le nom") -> str:
    """A person's (or a place's) name as the portal keeps it, or ``InvalidName``: NFC-normalised, spaces trimmed and
    collapsed; made only of letters, combining marks, spaces, apostrophes and hyphens, in any script. So no line
    break, tab, control, bidirectional or zero-width character, no digit, no « < », « : » or « / »: a name that
    reaches an email or a card is a name, never text or a link of the sender's choosing. ``what`` names the field in
    the refusal (« Le prénom », « Nom de l'élu »)."""
    if not isinstance(value, str):
        raise InvalidName(f"{what} doit être un texte.")
    # No-break spaces (typed by word processors and spreadsheets before a hyphen or inside a name) are spaces.
    text = unicodedata.normalize("NFC", value).translate(_NO_BREAK_SPACES)
    refused = [c for c in text if not (unicodedata.category(c)[0] in "LM" or c == " " or c in NAME_PUNCTUATION)]
    if refused:
        shown = next((c for c in refused if c.isprintable() and not c.isspace()), None)
        detail = f"« {shown} »" if shown else "un retour à la ligne, une tabulation ou un caractère invisible"
        raise InvalidName(f"{what} ne peut contenir que des lettres, des espaces, des apostrophes et des traits "
                          f"d'union (il contient {detail}).")
    text = " ".join(text.split(" ")).strip()
    text = " ".join(part for part in text.split(" ") if part)
    if not any(unicodedata.category(c)[0] == "L" for c in text):
        raise InvalidName(f"{what} doit contenir au moins une lettre.")
    if len(text) > NAME_MAX_LENGTH:
        raise InvalidName(f"{what} ne doit pas dépasser {NAME_MAX_LENGTH} caractères.")
    return text
