"""The age of eligibility to a municipal council (Code électoral, art. L.228: 18 years), checked where a birth date is
read: the directory's rows (``rne``) and the officials a commune declares (``officials.Official.declare``)."""
from datetime import date

MINIMUM_AGE = 18


def adult_on(birth: date, when: date) -> bool:
    """At least ``MINIMUM_AGE`` on ``when`` (someone born on 29 February comes of age on 1 March)."""
    try:
        return birth.replace(year=birth.year + MINIMUM_AGE) <= when
    except ValueError:
        return date(birth.year + MINIMUM_AGE, 3, 1) <= when
