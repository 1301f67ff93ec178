"""Rows of the national directory of elected officials (Répertoire national des élus, RNE).

Two files, published quarterly by the Ministry of the Interior, `;`-separated UTF-8 (sometimes with a BOM; the reader
also takes what spreadsheets and older snapshots make of them, see ``csv_rows``), read with ``csv_rows.read_rows``:

    read_rows(body_lines, RNE_CM_LAYOUTS)      # elus-conseillers-municipaux-cm.csv, 16 columns
    read_rows(body_lines, RNE_MAIRES_LAYOUTS)  # elus-maires-mai.csv, 14 columns, every row is a mayor

Each row becomes a ``DirectoryRow``. A person holding two functions appears on two rows; both rows have the same
``person_key``, by which the directory merges them into one person (``services/directory.merge_persons``). In the
mayors' file a commune keeps one row (``mayor_rank``).

Dates: ``DD/MM/YYYY`` (the published format), ``YYYY-MM-DD`` and ``DD/MM/YY`` are accepted (day and month may have one
digit). A two-digit year is resolved so:
- mandate and function start: 20YY, unless 20YY is later than next year, then 19YY (a current mandate started in
  the past; in 2026, "26" and "27" are 2026 and 2027, "95" is 1995);
- birth date: 20YY if that makes the person at least 18 on the mandate start (the age of eligibility), else 19YY;
  with a 2026 mandate "05" is 2005, "62" is 1962, and "10" is 1910.
Whatever the format, a mandate or function start outside 1900..next year, a birth before 1900, or a person under 18 on
the mandate start is refused: the row is wrong.

Names are kept as published (inner runs of spaces collapsed); codes are upper-cased ("2a004" -> "2A004", sex "f" ->
"F") and checked by ``codes``; an INSEE code or a département code whose leading zero a spreadsheet dropped ("1053",
"1") is restored first.
"""
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Optional

from . import codes
from .csv_rows import Column, RowInvalid, layout
from .eligibility import MINIMUM_AGE, adult_on
from .names import InvalidName, person_key, person_name

# The columns of the councillors' file, in the order of the 2024-2026 snapshots, each with the other spellings that
# published files have used (older snapshots' "Code Insee de la commune" and "profession"; the mayors' file's
# "(Maire)" suffixes). Any spelling is compared accent-, case- and apostrophe-blind (``csv_rows``).
RNE_CM_COLUMNS = (
    Column("Code du département", ("Code du département (Maire)", "Code département")),
    Column("Libellé du département", ("Libellé de département", "Libellé de département (Maires)",
                                      "Libellé du département (Maire)", "Libellé département")),
    Column("Code de la collectivité à statut particulier", ("Code collectivité à statut particulier",)),
    Column("Libellé de la collectivité à statut particulier", ("Libellé collectivité à statut particulier",)),
    Column("Code de la commune", ("Code Insee de la commune", "Code INSEE commune", "Code commune")),
    Column("Libellé de la commune", ("Nom de la commune", "Libellé commune")),
    Column("Nom de l'élu", ("Nom",)),
    Column("Prénom de l'élu", ("Prénom",)),
    Column("Code sexe", ("Sexe",)),
    Column("Date de naissance"),
    Column("Code de la catégorie socio-professionnelle", ("Code profession", "Code de la profession",
                                                          "Code catégorie socio-professionnelle")),
    Column("Libellé de la catégorie socio-professionnelle", ("Libellé de la profession", "Libellé profession",
                                                             "Libellé catégorie socio-professionnelle")),
    Column("Date de début du mandat"),
    Column("Libellé de la fonction", ("Libellé fonction", "Fonction")),
    Column("Date de début de la fonction"),
    Column("Code nationalité", ("Code de la nationalité", "Nationalité")),
)
RNE_MAIRES_COLUMNS = tuple(
    column for column in RNE_CM_COLUMNS if column.name not in ("Libellé de la fonction", "Code nationalité")
)
RNE_CM_HEADER = tuple(column.name for column in RNE_CM_COLUMNS)
RNE_MAIRES_HEADER = tuple(column.name for column in RNE_MAIRES_COLUMNS)
MAYOR_LABEL = "Maire"  # the function label given to every row of the mayors file

# Some Ministry of the Interior files code overseas departments with letters (ZA Guadeloupe, ZD La Réunion, ...).
OVERSEAS_LETTER_CODE = re.compile(r"^Z[A-Z]$")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class DirectoryRow:
    department_code: str  # "" for overseas collectivities
    department_label: str
    collectivity_code: str
    collectivity_label: str
    insee_code: str  # "01053", "2A004", "97502", "98735"
    commune_label: str
    last_name: str
    first_name: str
    sex: str  # "M" or "F"
    birth_date: date
    mandate_start: date
    function_label: str  # "" for plain councillors; "Maire" on every row of the mayors file
    function_start: Optional[date]

    @property
    def person_key(self) -> str:
        """Stable id of the person within the commune: the same on every row of one person, in both files."""
        return person_key(self.insee_code, self.last_name, self.first_name, self.birth_date)


# --- Field converters ---------------------------------------------------------------------------------------------
def _text(value: str) -> str:
    """Trimmed, inner runs of spaces (tabs, no-break spaces) made one space."""
    return " ".join(value.split())


def _required(value: str, column: str) -> str:
    value = _text(value)
    if not value:
        raise RowInvalid(f"{column} manquant.")
    return value


def _name(value: str, column: str) -> str:
    """A person's name (``names.person_name``): a row whose name holds a line break, a control, bidirectional or
    zero-width character, or no letter, is rejected with its line (it would reach the cards and the emails)."""
    if not value.strip():
        raise RowInvalid(f"{column} manquant.")
    try:
        return person_name(value.replace("\t", " "), column)  # a tab between words is a spreadsheet's space
    except InvalidName as invalid:
        raise RowInvalid(str(invalid)) from None


def _insee_code(value: str) -> str:
    code = value.strip()
    if len(code) == 4 and code.isdigit():  # a spreadsheet dropped the leading zero: "1053" is "01053"
        code = "0" + code
    try:
        return codes.insee_code(code)
    except codes.InvalidCode:
        raise RowInvalid(
            f"Code de la commune « {value} » invalide (code INSEE à 5 caractères, ex. 01053, 2A004, 97502)."
        ) from None


def _department_code(value: str, insee_code: str) -> str:
    code = value.strip().upper()
    if len(code) == 1 and code.isdigit():  # spreadsheet artefact: "1" is "01"
        code = "0" + code
    overseas = codes.is_overseas(insee_code)
    if not code:
        if overseas:
            return ""
        raise RowInvalid("Code du département manquant (il n'est vide que pour les collectivités d'outre-mer).")
    if overseas and OVERSEAS_LETTER_CODE.match(code):
        return code
    try:
        code = codes.department_code(code)
    except codes.InvalidCode:
        raise RowInvalid(f"Code du département « {value} » invalide.") from None
    if not insee_code.startswith(code):
        raise RowInvalid(f"Code du département « {code} » incohérent avec le code de la commune « {insee_code} ».")
    return code


def _sex(value: str) -> str:
    code = value.strip().upper()
    if code not in ("M", "F"):
        raise RowInvalid(f"Code sexe « {value} » invalide (M ou F).")
    return code


@lru_cache(maxsize=65536)
def _date_parts(value: str) -> Optional[tuple[int, int, int, bool]]:
    """(year, month, day, two_digit_year) of an accepted date text, or None. Cached: the files repeat few dates."""
    french = _FR_DATE.match(value)
    if french:
        day, month, year = french.groups()
        parts = (int(year), int(month), int(day), len(year) == 2)
    else:
        iso = _ISO_DATE.match(value)
        if not iso:
            return None
        year, month, day = iso.groups()
        parts = (int(year), int(month), int(day), False)
    try:
        date(parts[0] if not parts[3] else 2000 + parts[0], parts[1], parts[2])
    except ValueError:
        return None
    return parts


def _invalid_date(value: str, column: str) -> RowInvalid:
    return RowInvalid(f"{column} « {value} » invalide (attendu JJ/MM/AAAA, AAAA-MM-JJ ou JJ/MM/AA).")


def _make_date(year: int, month: int, day: int, value: str, column: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # 29/02/YY: a leap year in one century, not in the other
        raise _invalid_date(value, column) from None


def _recent_date(value: str, column: str, today: date) -> date:
    """A mandate or function start date."""
    parts = _date_parts(value.strip())
    if parts is None:
        raise _invalid_date(value, column)
    year, month, day, two_digit = parts
    if two_digit:
        year = 2000 + year if 2000 + year <= today.year + 1 else 1900 + year
    elif not 1900 <= year <= today.year + 1:
        raise RowInvalid(f"{column} « {value} » invraisemblable (année entre 1900 et {today.year + 1} attendue).")
    return _make_date(year, month, day, value, column)


def _birth_date(value: str, mandate_start: date) -> date:
    column = "Date de naissance"
    parts = _date_parts(value.strip())
    if parts is None:
        raise _invalid_date(value, column)
    year, month, day, two_digit = parts
    if two_digit:
        recent = date(2000 + year, month, day)  # _date_parts checked it exists
        if adult_on(recent, mandate_start):
            return recent
        year = 1900 + year
    birth = _make_date(year, month, day, value, column)
    if birth.year < 1900:
        raise RowInvalid(f"{column} « {value} » invraisemblable (avant 1900).")
    if not adult_on(birth, mandate_start):
        raise RowInvalid(
            f"{column} « {value} » incohérente : l'élu aurait moins de {MINIMUM_AGE} ans au début du mandat."
        )
    return birth


def _optional_recent_date(value: str, column: str, today: date) -> Optional[date]:
    return _recent_date(value, column, today) if value.strip() else None


def _directory_row(
    department,
    department_label,
    collectivity_code,
    collectivity_label,
    insee,
    commune_label,
    last_name,
    first_name,
    sex,
    birth,
    mandate_start,
    function_label,
    function_start,
    today: date,
) -> DirectoryRow:
    insee_code = _insee_code(insee)
    mandate = _recent_date(mandate_start, "Date de début du mandat", today)
    return DirectoryRow(
        department_code=_department_code(department, insee_code),
        department_label=_text(department_label),
        collectivity_code=_text(collectivity_code),
        collectivity_label=_text(collectivity_label),
        insee_code=insee_code,
        commune_label=_required(commune_label, "Libellé de la commune"),
        last_name=_name(last_name, "Nom de l'élu"),
        first_name=_name(first_name, "Prénom de l'élu"),
        sex=_sex(sex),
        birth_date=_birth_date(birth, mandate),
        mandate_start=mandate,
        function_label=function_label,
        function_start=_optional_recent_date(function_start, "Date de début de la fonction", today),
    )


def cm_row(fields, today: Optional[date] = None) -> DirectoryRow:
    """A row of elus-conseillers-municipaux-cm.csv (16 columns)."""
    (department, department_label, collectivity_code, collectivity_label, insee, commune_label, last_name, first_name,
     sex, birth, _csp_code, _csp_label, mandate_start, function_label, function_start, _nationality) = fields
    return _directory_row(
        department, department_label, collectivity_code, collectivity_label, insee, commune_label, last_name,
        first_name, sex, birth, mandate_start, _text(function_label), function_start, today or date.today(),
    )


def mayor_row(fields, today: Optional[date] = None) -> DirectoryRow:
    """A row of elus-maires-mai.csv (14 columns): the function label is always "Maire"."""
    (department, department_label, collectivity_code, collectivity_label, insee, commune_label, last_name, first_name,
     sex, birth, _csp_code, _csp_label, mandate_start, function_start) = fields
    return _directory_row(
        department, department_label, collectivity_code, collectivity_label, insee, commune_label, last_name,
        first_name, sex, birth, mandate_start, MAYOR_LABEL, function_start, today or date.today(),
    )


RNE_CM_LAYOUTS = (layout(RNE_CM_COLUMNS, cm_row),)
RNE_MAIRES_LAYOUTS = (layout(RNE_MAIRES_COLUMNS, mayor_row),)


# --- One mayor a commune ------------------------------------------------------------------------------------------

def mayor_rank(row: DirectoryRow, line: int) -> tuple:
    """A commune has one mayor; the mayors' file may still list two for one commune (the outgoing and the incoming
    one, between an election and the snapshot's clean-up). The row kept is the greatest rank: the later start of
    the function (else of the mandate), then the later line."""
    return row.function_start or row.mandate_start, row.mandate_start, line


def mayor_described(row: DirectoryRow) -> str:
    since = (row.function_start or row.mandate_start).strftime("%d/%m/%Y")
    return f"{row.last_name} {row.first_name}, maire depuis le {since}"


def set_aside_mayor(commune_label: str, insee_code: str, described: str, kept_line: int, kept_described: str) -> str:
    """The warning of the import's report for a mayor's row not kept, in French."""
    return (f"{commune_label} ({insee_code}) figure deux fois dans le fichier des maires : ligne écartée "
            f"({described}) au profit de la ligne {kept_line} ({kept_described}), plus récente.")
