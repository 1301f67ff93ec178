"""Who can call the portal: the roles and the principal a bearer token resolves to."""
from typing import NamedTuple

COMMUNE = "commune"  # a town-hall agent (elected official or employee)
MANUFACTURER = "manufacturer"  # the card maker's operator
PREFECTURE = "prefecture"  # an agent of the préfecture of one département
# The ministry's own tools read the whole nation's orders and cards (domain/api_clients.py): a program's role only,
# never a person's account, admitted on the back office's read routes alone. Not in ``ALL_ROLES``, the roles of
# people: the routes every person may call (their session, their account) are no program's.
MINISTRY = "ministry"
ALL_ROLES = frozenset({COMMUNE, MANUFACTURER, PREFECTURE})

ROLE_LABELS = {COMMUNE: "Agent de la commune", MANUFACTURER: "Fabricant des cartes", PREFECTURE: "Agent de préfecture",
               MINISTRY: "Ministère (lecture nationale)"}


class Principal(NamedTuple):
    email: str
    role: str
    siren: str | None  # commune agents
    department_code: str | None  # a préfecture agent's département, or a commune agent's commune's
    token_hash: str
    insee_code: str | None = None  # commune agents: their commune's partition of the directory
    account_id: str | None = None
    commune_name: str | None = None  # commune agents
    enrolment_only: bool = False  # an operator without their second factor yet: the session serves enrolment only
    # A program's token (OAuth client credentials, domain/api_clients.py): its client, whose name the audit log shows,
    # and the scopes it was granted. None for a person's session, which is never limited by scopes.
    client_id: str | None = None
    client_name: str | None = None
    scopes: frozenset | None = None
