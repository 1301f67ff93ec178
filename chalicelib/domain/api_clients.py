"""Programs that use the API on behalf of an organisation (OAuth 2.0 client credentials, RFC 6749 §4.4).

A commune's agent in charge creates a client for its software publisher; the card maker creates read-only clients for
a préfecture's tools (one département) or the ministry's (the nation). A client's token acts for its owner only and
only within the scopes it was granted. The owner is written as one key, shared by the clients' records and the
webhooks registered by them (an event of a commune concerns its commune's, its département's and the national owners).
"""
from .roles import COMMUNE, MINISTRY, PREFECTURE

OFFICIALS_READ = "officials:read"
OFFICIALS_WRITE = "officials:write"
ORDERS_READ = "orders:read"
ORDERS_WRITE = "orders:write"
SCOPES = (OFFICIALS_READ, OFFICIALS_WRITE, ORDERS_READ, ORDERS_WRITE)
READ_SCOPES = (OFFICIALS_READ, ORDERS_READ)  # all a préfecture's or the ministry's tools may be granted

SCOPE_LABELS = {
    OFFICIALS_READ: "Lire les élus",
    OFFICIALS_WRITE: "Enregistrer et modifier les élus",
    ORDERS_READ: "Lire les demandes et les cartes",
    ORDERS_WRITE: "Créer et valider les demandes",
}

NATIONAL = "national"


def commune_owner(siren: str) -> str:
    return f"commune#{siren}"


def department_owner(department_code: str) -> str:
    return f"department#{department_code}"


def owners_concerned(siren: str | None, department_code: str | None) -> list[str]:
    """Whose programs hear of an event of this commune: the commune's, its département's and the nation's."""
    owners = [commune_owner(siren)] if siren else []
    if department_code:
        owners.append(department_owner(department_code))
    return owners + [NATIONAL]


# --- rules of the clients themselves ------------------------------------------------------------------------------

# An owner keeps at most this many clients that are not revoked: one per publisher and a spare while rotating a
# secret is a handful; a bound stops a stolen session from filling the table (a revoked client no longer counts).
ACTIVE_CLIENTS_PER_OWNER = 20
# A client's token lives an hour (RFC 6749 §4.4.3: no refresh token; the program asks again with its secret).
TOKEN_LIFETIME_SECONDS = 3600
# What histories and the audit log call a client: « API : <name> » (a person's email stands there otherwise).
API_LABEL_PREFIX = "API : "


def label(name: str) -> str:
    return f"{API_LABEL_PREFIX}{name}"


def owner_of(role: str, siren: str | None, department_code: str | None) -> str:
    """The owner key a principal acts for: a commune agent's commune, a préfecture's département, else the nation."""
    if role == COMMUNE:
        return commune_owner(siren)
    if role == PREFECTURE:
        return department_owner(department_code)
    return NATIONAL


def role_of_owner(owner: str) -> str:
    """The role a client's token acts with: its owner's (a commune's agent, a préfecture, the ministry)."""
    if owner.startswith("commune#"):
        return COMMUNE
    if owner.startswith("department#"):
        return PREFECTURE
    return MINISTRY


def allowed_scopes(owner: str) -> tuple:
    """A commune's programs may read and write; a préfecture's or the ministry's tools only read."""
    return SCOPES if owner.startswith("commune#") else READ_SCOPES


def refused_scopes(owner: str, scopes) -> list[str]:
    """The scopes asked for that this owner's clients may not have, in the order of ``SCOPES``."""
    allowed = allowed_scopes(owner)
    return [scope for scope in scopes if scope not in allowed]


def granted_scopes(requested: str | None, client_scopes) -> frozenset | None:
    """The scopes of a token (RFC 6749 §3.3): the client's when none is asked, else the space-separated subset asked
    for; None when the request names a scope the client does not have (``invalid_scope``)."""
    if requested is None or not requested.strip():
        return frozenset(client_scopes)
    asked = frozenset(requested.split())
    return asked if asked <= frozenset(client_scopes) else None
