"""Rows of the commune and préfecture reference files (formats in docs/api.md of the design).

Their SIREN, INSEE and département codes follow the same rules as everywhere else (``codes``).
"""
import re
from dataclasses import dataclass

from . import codes
from .csv_rows import RowInvalid, layout
from .names import InvalidName, person_name

COMMUNES_HEADER = ("siren", "code_insee", "nom", "code_departement")
PREFECTURES_HEADER = ("code_departement", "nom", "adresse", "code_postal", "ville")

POSTAL_CODE = re.compile(r"^\d{5}$")


@dataclass(frozen=True)
class CommuneRow:
    siren: str
    insee_code: str
    name: str
    department_code: str


@dataclass(frozen=True)
class PrefectureRow:
    department_code: str
    name: str
    address: str
    postal_code: str
    city: str


def valid_siren(value: str) -> str:
    try:
        return codes.siren(value)
    except codes.InvalidCode:
        raise RowInvalid(f"SIREN « {value} » invalide (9 chiffres, clé de contrôle).") from None


def department_code(value: str) -> str:
    try:
        return codes.department_code(value)
    except codes.InvalidCode:
        raise RowInvalid(f"Code de département « {value.upper()} » invalide.") from None


def insee_code(value: str) -> str:
    try:
        return codes.insee_code(value)
    except codes.InvalidCode:
        raise RowInvalid(f"Code INSEE « {value.upper()} » invalide.") from None


def required(value: str, label: str) -> str:
    if not value:
        raise RowInvalid(f"{label} manquant.")
    return value


def place_name(value: str, label: str) -> str:
    """A commune's name is a name (``names.person_name``: letters, marks, spaces, apostrophes, hyphens): it reaches
    the cards, the letters and the emails. A row with anything else is rejected with its line."""
    if not value.strip():
        raise RowInvalid(f"{label} manquant.")
    try:
        return person_name(value, label)
    except InvalidName as invalid:
        raise RowInvalid(str(invalid)) from None


def commune_row(fields) -> CommuneRow:
    siren, insee, name, department = fields
    insee = insee_code(insee)  # checked first: its reason is the one a line with two bad codes reports
    return CommuneRow(valid_siren(siren), insee, place_name(name, "Nom de la commune"), department_code(department))


def prefecture_row(fields) -> PrefectureRow:
    department, name, address, postal_code, city = fields
    if not POSTAL_CODE.match(postal_code):
        raise RowInvalid(f"Code postal « {postal_code} » invalide.")
    return PrefectureRow(
        department_code(department),
        required(name, "Nom de la préfecture"),
        required(address, "Adresse"),
        postal_code,
        required(city, "Ville"),
    )


COMMUNE_LAYOUTS = (layout(COMMUNES_HEADER, commune_row),)
PREFECTURE_LAYOUTS = (layout(PREFECTURES_HEADER, prefecture_row),)
