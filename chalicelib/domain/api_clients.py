"""Programs that use the API on behalf of an organisation (OAuth 2.0 client credentials, RFC 6749 §4.4).

A commune's agent in charge creates a client for its software publisher; the card maker creates read-only clients for
a préfecture's tools (one département) or the ministry's (the nation). A client's token acts for its owner only and
only within the scopes it was granted. The owner is written as one key, shared by the clients' records and the
webhooks registered by them (an event of a commune concerns its commune's, its département's and the national owners).
"""
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
