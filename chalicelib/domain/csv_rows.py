"""Streaming reader for the reference files: tolerant of how real files come, strict about what they say.

The national directory has been published for years with small variations from one snapshot to the next, and files
pass through spreadsheets before they reach us. The reader accepts what changes the form but not the meaning, says in
the import's report what it had to assume, and refuses the rest with a reason a person can act on:

- **Encoding.** Decided on the first ``SAMPLE_BYTES`` of the file: UTF-8, with or without a BOM, when they are UTF-8
  or when one of their lines holds an accent written in UTF-8 (the file is UTF-8, some lines are damaged); else
  Windows-1252, the only 8-bit encoding a French spreadsheet writes (noted in the report: an accented letter in
  Windows-1252 followed by a plain one is never valid UTF-8, so the two are not mistaken for each other). A UTF-16
  text, a workbook (.xlsx, .ods, .xls) or a binary file is refused as a whole. A line the chosen encoding cannot
  read is an error of that line.
- **Separator.** ``;`` (the published one), ``,`` or tab, sniffed on the first lines (``csv.Sniffer``) and confirmed
  by the header: the separator kept is the one whose header is a known layout.
- **Header.** Matched by meaning, not bytes: each column name is compared in its ``names.search_key`` form (Unicode
  decomposed, accents and case dropped, apostrophes — straight or curly —, hyphens and runs of spaces made one space)
  against the layout's names and their known historical spellings (``Column.aliases``); columns may come in any order;
  empty column names (a trailing separator) are ignored. A name one or two typing slips away from exactly one
  expected column (``TYPO_SIMILARITY``) is taken for it, and the report says so. A missing, unknown or doubled column
  refuses the file, the message listing what was expected and what was found.
- **Lines.** Numbered from 1 (the header); blank lines skipped; each line is decoded and split on its own, so memory
  does not grow with the file. A line with the wrong number of fields, an unclosed quote or a bad value becomes a
  ``RowError`` with its number, and the import goes on with the next line.
"""
import csv
import difflib
from itertools import chain, islice
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence, TypeVar, Union

from .names import search_key

T = TypeVar("T")
BOM = b"\xef\xbb\xbf"
SAMPLE_BYTES = 256 * 1024  # enough lines to judge the encoding; a whole-country file is tens of MB
SNIFF_LINES = 20
SEPARATORS = (";", ",", "\t")
SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}
TYPO_SIMILARITY = 0.92  # difflib ratio of folded names: "date de debut du mnadat" 0.96; two real columns at most 0.90


class RowError(NamedTuple):
    line: int
    reason: str  # French, shown to the operator


class RowInvalid(ValueError):
    """Raised by a row converter; its message is the French reason."""


class BadHeader(ValueError):
    """The file cannot be read as one of the expected layouts: the whole file is refused, nothing is written."""


class Column(NamedTuple):
    name: str  # as the format documents it; shown in messages
    aliases: tuple[str, ...] = ()  # other spellings of published files (compared in their search_key form)


class Layout(NamedTuple):
    columns: tuple[Column, ...]  # in the order ``convert`` takes the fields
    convert: Callable[[Sequence[str]], object]


def layout(columns: Sequence[Union[str, Column]], convert: Callable[[Sequence[str]], object]) -> Layout:
    return Layout(tuple(c if isinstance(c, Column) else Column(c) for c in columns), convert)


# --- encoding -----------------------------------------------------------------------------------------------------

def _refused_format(head: bytes) -> str | None:
    """Why a file whose first bytes are ``head`` is not a text this reader can take, or None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ("Le fichier est enregistré en UTF-16 (« Texte Unicode » d'un tableur) : enregistrez-le au format "
                "« CSV UTF-8 » et envoyez-le à nouveau.")
    if head.startswith(b"PK\x03\x04"):
        return "Ce fichier est un classeur (.xlsx ou .ods), pas un fichier CSV : exportez-le au format « CSV UTF-8 »."
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "Ce fichier est un classeur Excel (.xls), pas un fichier CSV : exportez-le au format « CSV UTF-8 »."
    if b"\x00" in head:
        return "Ce fichier n'est pas un texte (octets nuls) : envoyez le fichier CSV publié."
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decoded_lines(byte_lines: Iterable[bytes], notes: list[str]) -> Iterator[tuple[int, Union[str, RowError]]]:
    """Number and decode lines, in the encoding the file's first ``SAMPLE_BYTES`` show; strip the BOM and line ends;
    skip blank lines."""
    raw_lines = iter(byte_lines)
    sample: list[bytes] = []
    size = 0
    for raw in raw_lines:
        sample.append(raw)
        size += len(raw)
        if size >= SAMPLE_BYTES:
            break
    if sample and sample[0].startswith(BOM):
        sample[0] = sample[0][len(BOM):]
    head = b"".join(sample)
    refused = _refused_format(head[:4096])
    if refused:
        raise BadHeader(refused)
    encoding = "utf-8"
    if not _is_utf8(head) and not any(not raw.isascii() and _is_utf8(raw) for raw in sample):
        # Not one line with an accent written in UTF-8: the file is in another encoding, not a UTF-8 file with
        # a few damaged lines (those are errors of their lines, below).
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            raise BadHeader("Encodage du fichier non reconnu (ni UTF-8, ni Windows-1252) : enregistrez-le au format "
                            "« CSV UTF-8 ».") from None
        encoding = "cp1252"
        notes.append("Fichier lu en Windows-1252 (il n'est pas en UTF-8) : vérifiez les accents des noms importés.")
    unreadable = ("Ligne illisible : le fichier doit être encodé en UTF-8." if encoding == "utf-8"
                  else "Ligne illisible en Windows-1252, l'encodage du début du fichier.")
    for number, raw in enumerate(chain(sample, raw_lines), start=1):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            yield number, RowError(number, unreadable)
            continue
        text = text.rstrip("\r\n")
        if text.strip():
            yield number, text


# --- separator and header -----------------------------------------------------------------------------------------

def split_fields(text: str, separator: str = ";") -> list[str]:
    if '"' not in text:  # the common case, and three times cheaper than the csv module
        return [field.strip() for field in text.split(separator)]
    # strict: an unclosed quote is an error for this line, not a silent merge of its columns
    return [field.strip() for field in next(csv.reader([text], delimiter=separator, strict=True))]


def _sniffed_separator(lines: Sequence[str]) -> str:
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:  # a single line, or no consistent separator: the one the header holds most of
        return max(SEPARATORS, key=lines[0].count)


class _Match(NamedTuple):
    layout: Layout
    positions: tuple[int, ...]  # for each of the layout's columns, its index in the file's lines
    width: int
    notes: tuple[str, ...]  # columns taken despite a typing slip
    missing: tuple[str, ...]
    unknown: tuple[str, ...]
    doubled: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not (self.missing or self.unknown or self.doubled)


def _match(header: list[str], candidate: Layout) -> _Match:
    wanted = {}
    for index, column in enumerate(candidate.columns):
        for spelling in (column.name, *column.aliases):
            wanted.setdefault(search_key(spelling), index)
    found: dict[int, int] = {}
    unknown, doubled, notes, unmatched = [], [], [], []
    for position, name in enumerate(header):
        if not search_key(name):
            continue  # an empty column name: a trailing separator
        index = wanted.get(search_key(name))
        if index is None:
            unmatched.append((position, name))
        elif index in found:
            doubled.append(name)
        else:
            found[index] = position
    for position, name in unmatched:
        index = _typo_of(search_key(name), wanted, found)
        if index is None:
            unknown.append(name)
        else:
            found[index] = position
            notes.append(f"Colonne « {name} » lue comme « {candidate.columns[index].name} ».")
    missing = tuple(c.name for i, c in enumerate(candidate.columns) if i not in found)
    positions = tuple(found.get(i, -1) for i in range(len(candidate.columns)))
    return _Match(candidate, positions, len(header), tuple(notes), missing, tuple(unknown), tuple(doubled))


def _typo_of(folded: str, wanted: dict[str, int], found: dict[int, int]) -> int | None:
    """The one column not yet found whose spelling ``folded`` is a typing slip away from, if there is exactly one."""
    close = {index for spelling, index in wanted.items()
             if index not in found and difflib.SequenceMatcher(None, folded, spelling).ratio() >= TYPO_SIMILARITY}
    return close.pop() if len(close) == 1 else None


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"« {name} »" for name in names)


def _refusal(best: _Match, layouts: Sequence[Layout], separator: str) -> str:
    problems = []
    if best.missing:
        problems.append(("colonne manquante : " if len(best.missing) == 1 else "colonnes manquantes : ")
                        + _quoted(best.missing))
    if best.unknown:
        problems.append(("colonne inconnue : " if len(best.unknown) == 1 else "colonnes inconnues : ")
                        + _quoted(best.unknown))
    if best.doubled:
        problems.append("colonne en double : " + _quoted(best.doubled))
    expected = " ou ".join("« " + ";".join(c.name for c in lay.columns) + " »" for lay in layouts)
    return (f"En-tête inattendu ({' ; '.join(problems)}). Lu avec le séparateur {SEPARATOR_NAMES[separator]}. "
            f"Attendu : {expected}.")


def _header_match(lines: Sequence[str], layouts: Sequence[Layout]) -> tuple[_Match, str]:
    sniffed = _sniffed_separator(lines)
    attempts = []
    for separator in (sniffed, *(s for s in SEPARATORS if s != sniffed)):
        try:
            header = split_fields(lines[0], separator)
        except csv.Error:
            continue
        for candidate in layouts:
            match = _match(header, candidate)
            if match.complete:
                return match, separator
            attempts.append((len(match.missing) + len(match.unknown) + len(match.doubled), separator, match))
    if not attempts:
        raise BadHeader("La première ligne (en-tête) est mal formée (guillemets non fermés).")
    _, separator, best = min(attempts, key=lambda attempt: attempt[0])
    raise BadHeader(_refusal(best, layouts, separator))


# --- rows ---------------------------------------------------------------------------------------------------------

def read_rows(
    byte_lines: Iterable[bytes],
    layouts: Sequence[Layout],
    notes: list[str] | None = None,
) -> Iterator[tuple[int, Union[T, RowError]]]:
    """Yield ``(line, record or RowError)`` for every data line.

    A file that is not one of ``layouts`` (or not a text this reader takes) raises ``BadHeader`` before any row is
    yielded. ``notes`` receives, in French, what the reader assumed (encoding, separator, columns read despite a slip).
    """
    notes = [] if notes is None else notes
    lines = _decoded_lines(byte_lines, notes)
    first = next(lines, None)
    if first is None:
        raise BadHeader("Le fichier est vide.")
    if isinstance(first[1], RowError):
        raise BadHeader("La première ligne (en-tête) est illisible.")
    ahead = list(islice(lines, SNIFF_LINES))
    match, separator = _header_match([first[1]] + [t for _, t in ahead if isinstance(t, str)], layouts)
    if separator != ";":
        notes.append(f"Séparateur : {SEPARATOR_NAMES[separator]}.")
    notes.extend(match.notes)
    positions, width, convert = match.positions, match.width, match.layout.convert
    for number, text in chain(ahead, lines):
        if isinstance(text, RowError):
            yield number, text
            continue
        try:
            fields = split_fields(text, separator)
        except csv.Error:
            yield number, RowError(number, "Ligne mal formée (guillemets non fermés).")
            continue
        if len(fields) != width:
            yield number, RowError(number, f"{len(fields)} colonnes au lieu de {width}.")
            continue
        try:
            yield number, convert([fields[position] for position in positions])
        except RowInvalid as problem:
            yield number, RowError(number, str(problem))
