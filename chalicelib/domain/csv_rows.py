"""Streaming reader for the `;`-separated reference files.

Files are read line by line from a byte stream (an S3 body), so memory does not grow with the file. Each line is
decoded on its own: a line that is not UTF-8, has the wrong number of columns or a bad value becomes a ``RowError``
with its line number, and the import goes on with the next line.
"""
import csv
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence, TypeVar, Union

T = TypeVar("T")
BOM = "\ufeff"


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str  # French, shown to the operator


class RowInvalid(ValueError):
    """Raised by a row converter; its message is the French reason."""


class BadHeader(ValueError):
    """The first line is not a header this reader knows: the whole file is refused."""


def decoded_lines(byte_lines: Iterable[bytes]) -> Iterator[tuple[int, Union[str, RowError]]]:
    """Number and decode lines; strip the BOM and line ends; skip blank lines."""
    for number, raw in enumerate(byte_lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, RowError(number, "Ligne illisible : le fichier doit être encodé en UTF-8.")
            continue
        if number == 1:
            text = text.lstrip(BOM)
        text = text.rstrip("\r\n")
        if text.strip():
            yield number, text


def split_fields(text: str) -> list[str]:
    if '"' not in text:  # the common case, and three times cheaper than the csv module
        return [field.strip() for field in text.split(";")]
    # strict: an unclosed quote is an error for this line, not a silent merge of its columns
    return [field.strip() for field in next(csv.reader([text], delimiter=";", strict=True))]


def read_rows(
    byte_lines: Iterable[bytes],
    headers: dict[tuple[str, ...], Callable[[Sequence[str]], T]],
) -> Iterator[tuple[int, Union[T, RowError]]]:
    """Yield ``(line, record or RowError)`` for every data line.

    ``headers`` maps each accepted header (the exact column names) to the converter for rows of that layout; a file
    whose header is none of them raises ``BadHeader`` before any row is read.
    """
    lines = decoded_lines(byte_lines)
    convert = None
    width = 0
    for number, text in lines:
        if isinstance(text, RowError):
            if convert is None:
                raise BadHeader("La première ligne (en-tête) est illisible : le fichier doit être encodé en UTF-8.")
            yield number, text
            continue
        if convert is None:
            header = tuple(split_fields(text))
            convert = headers.get(header)
            if convert is None:
                expected = " ou ".join("« " + ";".join(h) + " »" for h in headers)
                raise BadHeader(f"En-tête inattendu. Attendu : {expected}.")
            width = len(header)
            continue
        try:
            fields = split_fields(text)
        except csv.Error:
            yield number, RowError(number, "Ligne mal formée (guillemets non fermés).")
            continue
        if len(fields) != width:
            yield number, RowError(number, f"{len(fields)} colonnes au lieu de {width}.")
            continue
        try:
            yield number, convert(fields)
        except RowInvalid as problem:
            yield number, RowError(number, str(problem))
    if convert is None:
        raise BadHeader("Le fichier est vide.")
