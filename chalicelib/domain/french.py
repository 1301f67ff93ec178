"""French typography and grammar for the texts the portal writes around a name, a place or a date: the emails
(``mail/messages.py``), the PDFs (``printing/pdf.py``), the card and, through its twin ``site/js/typography.js`` (kept
in step by ``tests/unit/test_french.py`` on the cases of ``tests/unit/french_cases.json``), the site.

Elision
-------
« de », « le », « la », « que » (and « je, me, te, se, ne, jusque, lorsque, puisque ») lose their vowel and take an
apostrophe before a word that starts with a vowel sound: « d'Anne-Sophie », « d'Ophélie », « l'Isère », « qu'Yves ».

- **A vowel** (a, e, i, o, u with or without accent, æ, œ): elision, except before « onze », « onzième » and « oui »
  (« le onze », « de oui »), which behave as if they began with a consonant.
- **A mute h** (h muet): elision. Most French words and first names that begin with an h have a mute h: « d'Hélène »,
  « d'Henri », « d'Hugo », « d'Hervé », « d'Hubert », « l'hôtel de ville ».
- **An aspirated h** (h aspiré): no elision, the h acts as a consonant: « de Hazebrouck », « la Haute-Savoie »,
  « le hameau ». Nothing in the spelling tells them apart: the words are listed in ``ASPIRATED_H`` (the départements
  and regions whose name starts with « Haut », common words of the portal's texts, and first names of foreign origin
  whose h is pronounced, « de Harry », « de Heidi »). A word not listed takes the elision, the usual case.
- **A y**: before a consonant it is the vowel [i] and elides (« d'Yves », « d'Yvonne », « d'Yvetot »); before a vowel
  it is the consonant [j] and does not (« de Yann », « de Yasmine », « le yaourt »), except the place names of
  ``ELIDING_Y`` (« l'Yonne », « l'île d'Yeu », « d'Yerres »).
- A digit or any other sign: no elision (« de 11 élus »).

Only the first word is looked at (« Haute » in « Haute-Savoie »); letter case and accents do not matter.

« de » before a place name also contracts with the article that starts it: « de Le Havre » is « du Havre », « de Les
Abymes » is « des Abymes » (``de(name, place=True)``). Never for a person: « de Marine Le Pen ».

The apostrophe is the straight one ('), as in every other text of the portal: one kind of apostrophe everywhere, and
the one a person types when searching a page.

Dates
-----
Written in words, the first day of a month is an ordinal: « 1er janvier 2026 », the others cardinal: « 2 janvier 2026 »
(``date_in_words``). Numeric dates (« 01/01/2026 ») stay as they are.

Spaces around punctuation
-------------------------
After the *Lexique des règles typographiques en usage à l'Imprimerie nationale*, the reference of the State's texts:

- a **narrow no-break space** (U+202F, « espace fine insécable ») before « ; », « ! » and « ? »: these signs are tall
  and thin, a thin space is enough to set them apart, and it must not break;
- a **no-break space** (U+00A0, « espace-mot insécable ») before « : » and inside « » (after « and before »): the
  colon and the quotation marks take a whole word space, like the space after them, but one that never lets the sign
  start a line alone.

``punctuate`` only turns the space already written before a sign into its no-break kind (and adds it inside « »):
« http://… » or « ?id=… » in a link have no space before their sign and are left alone. Both spaces are in DejaVu
Sans, the font of the card and the PDFs.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

APOSTROPHE = "'"
NO_BREAK_SPACE = "\u00a0"
NARROW_NO_BREAK_SPACE = "\u202f"

# The particles that elide, and what they become before the apostrophe.
ELIDED = {"de": "d", "le": "l", "la": "l", "que": "qu", "je": "j", "me": "m", "te": "t", "se": "s", "ne": "n",
          "jusque": "jusqu", "lorsque": "lorsqu", "puisque": "puisqu"}

VOWELS = frozenset("aeiouæœ")

# Words starting with a vowel that take no elision.
NO_ELISION = frozenset({"onze", "onzième", "onzièmes", "oui"})

# Words whose h is aspirated (no elision), lower case. The first word of a compound name is what is looked up.
ASPIRATED_H = frozenset({
    # Départements and regions: Haute-Corse, Haute-Garonne, Haute-Loire, Haute-Marne, Haute-Saône, Haute-Savoie,
    # Haute-Vienne, Hautes-Alpes, Hautes-Pyrénées, Haut-Rhin, Hauts-de-Seine, Hauts-de-France.
    "haut", "haute", "hauts", "hautes",
    # Communes and countries the texts may name.
    "hazebrouck", "haguenau", "hayange", "hagondange", "ham", "hem", "havre", "hollande", "hongrie", "hambourg",
    # Common words of administrative texts.
    "hall", "hameau", "hameaux", "handicap", "handicapé", "handicapée", "hasard", "hausse", "hauteur", "héros",
    "hiérarchie", "hiérarchique", "hors", "honte", "huit", "huitième", "haie", "haine", "hangar", "housse",
    # First names whose h is pronounced (of foreign origin).
    "hans", "harry", "heidi", "hamid", "hassan", "hakim", "hamza", "hicham", "hocine", "habib", "halima", "hanane",
    "hafsa", "hamed", "heinz", "helmut", "hilda", "howard",
})

# Place names starting with y and a vowel that take the elision all the same.
ELIDING_Y = frozenset({"yonne", "yeu", "yerres", "yenne", "yères"})

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")

_FIRST_WORD = re.compile(r"[^\s\-'’]+")


def _base_letters(word: str) -> str:
    """``word`` in lower case without accents (« Œ » stays « œ », a vowel of its own)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def elides(word: str) -> bool:
    """True when a particle before ``word`` takes the elision (see the module's docstring for the rule)."""
    found = _FIRST_WORD.search((word or "").strip())
    if not found:
        return False
    first = unicodedata.normalize("NFC", found.group().lower())
    bare = _base_letters(first)
    if not bare or not bare[0].isalpha():
        return False
    letter = bare[0]
    if letter in VOWELS:
        return first not in NO_ELISION
    if letter == "h":
        return first not in ASPIRATED_H
    if letter == "y":
        return (len(bare) > 1 and bare[1] not in VOWELS and bare[1] != "y") or first in ELIDING_Y
    return False


def elide(particle: str, word: str) -> str:
    """``particle`` and ``word`` as French writes them: « de Anne » → « d'Anne », « De Hugo » → « D'Hugo »,
    « le Havre » stays « le Havre ». A particle that never elides is joined with a space."""
    short = ELIDED.get(particle.lower())
    if short is None or not elides(word):
        return f"{particle} {word}" if word else particle
    if particle.isupper() and len(particle) > 1:
        short = short.upper()
    elif particle[:1].isupper():
        short = short[:1].upper() + short[1:]
    return f"{short}{APOSTROPHE}{word.lstrip()}"


_PLACE_ARTICLE = re.compile(r"^(Le|Les|LE|LES) (?=\S)")


def de(word: str, place: bool = False) -> str:
    """« de » before ``word``: « d'Hélène », « de Hazebrouck ». With ``place``, the article that starts a place name
    contracts: « du Havre » (Le Havre), « des Abymes » (Les Abymes); « de La Rochelle », « de L'Haÿ-les-Roses »."""
    if place:
        article = _PLACE_ARTICLE.match(word or "")
        if article:
            rest = word[article.end():]
            return ("du " if article.group(1).lower() == "le" else "des ") + rest
    return elide("de", word)


def ordinal_day(day: int) -> str:
    """The day of a date in words: « 1er », then « 2 », « 3 »…"""
    return "1er" if day == 1 else str(day)


def date_in_words(day: date) -> str:
    """« 1er janvier 2026 », « 15 mars 2026 »."""
    return f"{ordinal_day(day.day)} {MONTHS[day.month - 1]} {day.year}"


_SPACE = f"[ {NO_BREAK_SPACE}{NARROW_NO_BREAK_SPACE}\t]"
_BEFORE_TALL = re.compile(f"{_SPACE}+([;!?])")
_BEFORE_COLON = re.compile(f"{_SPACE}+:")
_AFTER_OPENING = re.compile(f"«{_SPACE}*")
_BEFORE_CLOSING = re.compile(f"{_SPACE}*»")


def punctuate(text: str) -> str:
    """``text`` with the no-break spaces of French punctuation (see the module's docstring): the space before « ; ! ? »
    becomes U+202F, the space before « : » U+00A0, and « » hold U+00A0 inside. Idempotent."""
    if not text:
        return text
    text = _BEFORE_TALL.sub(lambda m: NARROW_NO_BREAK_SPACE + m.group(1), text)
    text = _BEFORE_COLON.sub(NO_BREAK_SPACE + ":", text)
    text = _AFTER_OPENING.sub("«" + NO_BREAK_SPACE, text)
    return _BEFORE_CLOSING.sub(NO_BREAK_SPACE + "»", text)
