"""The codes that name a commune and its département, one rule each: SIREN, INSEE code, département code.

The reference files (``reference_files``), the national directory's files (``rne``) and the API (the accounts' use
cases, the request schemas) all read codes through here, so that a code one of them accepts the others accept too.
Each function gives the code in its canonical form or raises ``InvalidCode``; the caller words the refusal for its
reader (a line of a file, a field of a form).

- SIREN: 9 digits with a right Luhn key (python-stdnum); the spaces and dots a person may type are dropped.
- INSEE code of a commune: 5 characters, the first two its département's: 01 to 19, 21 to 95, 2A and 2B for Corsica
  (20 no longer exists), or 97x/98x overseas (a 3-digit collectivity code and 2 digits).
- Département code: 01 to 19, 2A, 2B, 21 to 95, and 97x/98x overseas.
Letters are upper-cased ("2a004" is "2A004") and surrounding spaces dropped. Nothing is guessed: a file format that
knows its own artefacts (the directory's leading zeros dropped by a spreadsheet, ``rne``) mends them before asking.
"""
import re

INSEE_CODE = re.compile(r"^(?:(?:0[1-9]|1\d|[3-8]\d|9[0-5])\d{3}|2[1-9]\d{3}|2[AB]\d{3}|9[78]\d{3})$")
DEPARTMENT_CODE = re.compile(r"^(?:0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|9[78]\d)$")


class InvalidCode(ValueError):
    """The value is not a code of that kind."""


def siren(value: str) -> str:
    """The SIREN in its compact 9-digit form."""
    # cold start: python-stdnum 6 ms (its util module loads pydoc); only a registration or an activation code checks
    # a SIREN on the API, and the communes file on the import function
    from stdnum.exceptions import ValidationError
    from stdnum.fr import siren as siren_number

    try:
        return siren_number.validate(value)
    except ValidationError:
        raise InvalidCode(value) from None


def insee_code(value: str) -> str:
    code = value.strip().upper()
    if not INSEE_CODE.match(code):
        raise InvalidCode(value)
    return code


def department_code(value: str) -> str:
    code = value.strip().upper()
    if not DEPARTMENT_CODE.match(code):
        raise InvalidCode(value)
    return code


def is_overseas(insee_code: str) -> bool:
    """A commune of an overseas département or collectivity (97x, 98x)."""
    return insee_code[:2] in ("97", "98")


def department_of_commune(insee_code: str) -> str:
    """The département of a commune from its INSEE code: two characters (01, 2A), three overseas (971)."""
    return insee_code[:3] if is_overseas(insee_code) else insee_code[:2]
