"""The functions printed on a card, and which functions of the national directory (RNE) give the right to one.

CGCT art. L.2122-34-1: mayors, deputy mayors, delegated mayors and arrondissement mayors get a card. Deputies of a
delegated mayor or of an arrondissement mayor, "adjoints spéciaux" and councillors (delegated or not) do not.

RNE labels are matched as whole labels, case- and accent-insensitively, never by substring: "Adjoint au maire délégué"
contains both "adjoint au maire" and "maire délégué" and gives no right to a card. An unknown label gives no right.
"""
import re
from typing import Iterable, Optional

from .names import search_key

MAIRE = "maire"
ADJOINT = "adjoint"
MAIRE_DELEGUE = "maire_delegue"
MAIRE_ARRONDISSEMENT = "maire_arrondissement"

# Stable API codes, in the order the directory and the forms show them.
FUNCTIONS = (MAIRE, ADJOINT, MAIRE_DELEGUE, MAIRE_ARRONDISSEMENT)

_LABELS = {
    MAIRE: {"M": "Maire", "F": "Maire"},
    ADJOINT: {"M": "Adjoint au maire", "F": "Adjointe au maire"},
    MAIRE_DELEGUE: {"M": "Maire délégué", "F": "Maire déléguée"},
    MAIRE_ARRONDISSEMENT: {"M": "Maire d'arrondissement", "F": "Maire d'arrondissement"},
}


def function_label(function: str, sex: str) -> str:
    """The label printed on the card, feminised from the sex ("M" or "F")."""
    try:
        by_sex = _LABELS[function]
    except KeyError:
        raise ValueError(f"Fonction inconnue : « {function} ».") from None
    try:
        return by_sex[sex.strip().upper()]
    except (KeyError, AttributeError):
        raise ValueError(f"Code sexe « {sex} » invalide (M ou F).") from None


# --- RNE labels -------------------------------------------------------------------------------------------------
# Patterns apply to search_key(label): lower case, no accents, apostrophes and hyphens turned into spaces.
_ORDINAL_WORDS = {
    "premier": 1, "premiere": 1, "deuxieme": 2, "second": 2, "seconde": 2, "troisieme": 3, "quatrieme": 4,
    "cinquieme": 5, "sixieme": 6, "septieme": 7, "huitieme": 8, "neuvieme": 9, "dixieme": 10,
}
# "1er", "1ère", "1re", "2ème", "2e", "2eme", "2nd", "2nde", "2ième", "2°" (the ° becomes a separator), or a word.
_ORDINAL = r"(?P<rank>\d{1,3})\s*(?:er|ere|re|eme|ieme|e|nd|nde)?|(?P<word>" + "|".join(_ORDINAL_WORDS) + ")"
_RANKED_ADJOINT = re.compile(r"^(?:" + _ORDINAL + r")\s+(?:adjointe?|maire\s+adjointe?)(?:\s+au\s+maire)?$")
_MAIRE = re.compile(r"^maire$")
_MAIRE_DELEGUE = re.compile(r"^maire\s+delegue(?:e)?$")
# Paris and Lyon have "maires d'arrondissement"; Marseille's are commonly called "maires de secteur".
_MAIRE_ARRONDISSEMENT = re.compile(
    r"^maire\s+(?:d\s+arrondissements?|du\s+\d{1,2}\s*(?:er|e|eme)?\s+arrondissement|de\s+secteur)$"
)


def _adjoint_rank(key: str) -> Optional[int]:
    """The rank of a deputy ("2ème adjoint au Maire" -> 2), 0 for an unranked deputy, None if not a deputy."""
    ranked = _RANKED_ADJOINT.match(key)
    if ranked:
        if ranked.group("rank"):
            return int(ranked.group("rank"))
        return _ORDINAL_WORDS[ranked.group("word")]
    if key in ("adjoint au maire", "adjointe au maire", "maire adjoint", "maire adjointe"):
        return 0
    return None


def card_function(rne_label: str) -> Optional[str]:
    """The card function an RNE "Libellé de la fonction" gives a right to, or None."""
    key = search_key(rne_label or "")
    if not key:
        return None
    if _MAIRE.match(key):
        return MAIRE
    if _adjoint_rank(key) is not None:
        return ADJOINT
    if _MAIRE_DELEGUE.match(key):
        return MAIRE_DELEGUE
    if _MAIRE_ARRONDISSEMENT.match(key):
        return MAIRE_ARRONDISSEMENT
    return None


def eligible_functions(rne_function_labels: Iterable[str], in_mayors_file: bool = False) -> list[str]:
    """The card functions a person may receive, in ``FUNCTIONS`` order, from all their RNE function labels.

    ``in_mayors_file``: the person appears in the mayors file (elus-maires-mai.csv), which carries no function label
    because every row is a mayor.
    """
    found = {card_function(label) for label in rne_function_labels}
    if in_mayors_file:
        found.add(MAIRE)
    return [function for function in FUNCTIONS if function in found]


def is_eligible(function: str, rne_function_labels: Iterable[str], in_mayors_file: bool = False) -> bool:
    return function in eligible_functions(rne_function_labels, in_mayors_file)


# --- Directory order ----------------------------------------------------------------------------------------------
_CONSEILLER_DELEGUE = re.compile(r"^conseill(?:er|ere)\s+(?:municipale?\s+)?delegue(?:e)?$")
_UNRANKED = 999


def function_order(rne_label: str) -> tuple[int, int]:
    """Sort key of one RNE label: mayor, deputies by rank, delegated mayors, arrondissement mayors, delegated
    councillors, anything else (plain councillors last)."""
    key = search_key(rne_label or "")
    if _MAIRE.match(key):
        return (0, 0)
    rank = _adjoint_rank(key)
    if rank is not None:
        return (1, rank or _UNRANKED)
    if _MAIRE_DELEGUE.match(key):
        return (2, 0)
    if _MAIRE_ARRONDISSEMENT.match(key):
        return (3, 0)
    if _CONSEILLER_DELEGUE.match(key):
        return (4, 0)
    return (5, 0)


def person_order(rne_function_labels: Iterable[str], last_name: str = "", first_name: str = "") -> tuple:
    """Sort key of a directory entry: its highest function first, then its name (accent-insensitive)."""
    best = min((function_order(label) for label in rne_function_labels), default=(5, 0))
    return best + (search_key(last_name), search_key(first_name))
