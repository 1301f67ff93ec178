"""« Mes sessions »: an account's open sessions (device, address, last use), ending one of them, and the card maker
ending every session of an operator.

A session's id in the list is the SHA-256 digest its token is stored under: it names the record and cannot be turned
back into the token. Ending one deletes that record on condition that it is a session of the caller's account, so the
next request made with it is refused at once (``sessions.authenticate`` reads the record on every call).
"""
import logging

from pynamodb.exceptions import DeleteError

from .. import clock
from ..domain import roles
from ..domain.roles import Principal
from ..errors import PortalError
from ..store.batch import Wanted, get_many
from ..store.tables import Account, Token, is_condition_failure, transaction
from . import sessions

audit = logging.getLogger("portal.audit")


def list_sessions(principal: Principal) -> dict:
    """The account's sessions still open, the current one first, then the most recently used."""
    (mark,) = get_many([Wanted(Token, sessions.revocation_key(principal.account_id))])
    now = clock.now()
    items = []
    for session in Token.by_account.query(principal.account_id):
        if (session.kind != "session" or now >= session.expires_at or now >= session.idle_expires_at
                or (mark is not None and session.created_at <= mark.created_at)):
            continue
        items.append({
            "id": session.token_hash,
            "device": session.device or "Appareil inconnu",
            "source_ip": session.source_ip,
            "created_at": clock.iso(session.created_at),
            # The idle deadline is pushed forward at most once a minute (sessions.REFRESH_AFTER): last use to the
            # minute.
            "last_used_at": clock.iso(session.idle_expires_at - sessions.IDLE),
            "current": session.token_hash == principal.token_hash,
            "method": "proconnect" if session.proconnect_id_token else "password",
        })
    items.sort(key=lambda item: item["last_used_at"], reverse=True)
    items.sort(key=lambda item: not item["current"])  # stable: the current one first, the others as they were
    return {"items": items}


def session_not_found() -> PortalError:
    return PortalError(404, "session_not_found", "Cette session n'existe pas ou est déjà fermée.")


def end_session(principal: Principal, session_id: str) -> None:
    """End one of the caller's own sessions (the current one included)."""
    if not session_id or len(session_id) != 64:
        raise session_not_found()
    try:
        Token(session_id).delete(condition=(Token.session_account == principal.account_id)
                                 & (Token.kind == "session"))
    except DeleteError as error:
        if not is_condition_failure(error):
            raise
        raise session_not_found() from None
    audit.info("session_ended", extra={"event": "session_ended", "by": principal.email,
                                       "at": clock.iso(clock.now())})


def unknown_operator() -> PortalError:
    return PortalError(404, "unknown_operator", "Aucun compte d'opérateur (fabricant ou préfecture) n'a cette "
                                                "adresse e-mail.")


def end_operator_sessions(principal: Principal, email: str) -> None:
    """The card maker ends every session of an operator (a lost laptop, someone who left): one write, the account's
    revocation mark (``sessions.revoke_all``), which also voids the set-password links sent until now."""
    (account,) = get_many([Wanted(Account, sessions.normalise_email(email))])
    if account is None or account.role not in (roles.MANUFACTURER, roles.PREFECTURE):
        raise unknown_operator()
    with transaction() as writes:
        sessions.revoke_all(writes, account)
    audit.info("operator_sessions_ended", extra={"event": "operator_sessions_ended", "by": principal.email,
                                                 "target": account.email, "at": clock.iso(clock.now())})
