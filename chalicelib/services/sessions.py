"""Log in, resolve a bearer token to a principal, log out.

Sessions last 30 minutes without activity and 12 hours at most. Tokens are random (256 bits) and stored as SHA-256.
"""
import logging
from datetime import timedelta

from pynamodb.exceptions import DeleteError, UpdateError

from .. import clock
from ..domain.passwords import verify_password
from ..domain.roles import Principal
from ..domain.secrets_codes import new_token, token_digest
from ..errors import PortalError
from ..store import counters
from ..store.tables import Account, Commune, Token, is_condition_failure
from . import limits

audit = logging.getLogger("portal.audit")

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
# Pushing the idle deadline forward costs a write; once a minute is plenty.
REFRESH_AFTER = timedelta(minutes=1)


def unauthenticated() -> PortalError:
    return PortalError(401, "unauthenticated", "Votre session a expiré ou n'est pas valide. Veuillez vous reconnecter.")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def log_in(email: str, password: str, source_ip: str) -> dict:
    email = normalise_email(email)
    # Same checks and the same work whether the account exists or not: no way to tell them apart.
    counters_now = counters.current([(limits.LOGIN_SOURCE, source_ip), (limits.LOGIN_ACCOUNT, email)])
    for limit, subject in ((limits.LOGIN_SOURCE, source_ip), (limits.LOGIN_ACCOUNT, email)):
        seconds = counters.wait_for(limit, counters_now.get((limit.name, subject)))
        if seconds:
            raise limits.too_many_attempts(seconds)
    account = _find_account(email) if email else None
    password_hash = account.password_hash if account else None
    if not verify_password(password_hash, password):
        counters.record_failure(limits.LOGIN_ACCOUNT, email)
        counters.record_failure(limits.LOGIN_SOURCE, source_ip)
        audit.warning("login_failed", extra={"event": "login_failed", "by": email, "source": source_ip,
                                             "at": clock.iso(clock.now())})
        raise PortalError(401, "invalid_credentials", "Adresse e-mail ou mot de passe incorrect.")
    if (limits.LOGIN_ACCOUNT.name, email) in counters_now:
        limits.forget(limits.LOGIN_ACCOUNT, email)
    session = open_session(account)
    audit.info("login", extra={"event": "login", "by": email, "role": account.role, "source": source_ip,
                               "at": clock.iso(clock.now())})
    return session


def _find_account(email: str) -> Account | None:
    try:
        return Account.get(email)
    except Account.DoesNotExist:
        return None


def open_session(account: Account) -> dict:
    now = clock.now()
    # The commune's INSEE code and département travel with the session: requests then need no commune lookup.
    # They are copied on the account; accounts made before that copy existed read the commune.
    commune = Commune.get(account.siren) if account.siren and not account.insee_code else None
    token = new_token()
    expires_at = now + ABSOLUTE
    Token(
        token_digest(token),
        kind="session",
        email=account.email,
        role=account.role,
        siren=account.siren,
        department_code=commune.department_code if commune else account.department_code,
        insee_code=commune.insee_code if commune else account.insee_code,
        created_at=now,
        expires_at=expires_at,
        idle_expires_at=now + IDLE,
        purge_at=expires_at,
    ).save()
    return {
        "token": token,
        "expires_at": clock.iso(expires_at),
        "idle_timeout_seconds": int(IDLE.total_seconds()),
        "role": account.role,
    }


def authenticate(token: str) -> Principal:
    if len(token) > 200:
        raise unauthenticated()
    digest = token_digest(token)
    try:
        session = Token.get(digest)
    except Token.DoesNotExist:
        raise unauthenticated() from None
    now = clock.now()
    if session.kind != "session" or now >= session.expires_at or now >= session.idle_expires_at:
        raise unauthenticated()
    if session.idle_expires_at - IDLE + REFRESH_AFTER <= now:
        try:
            session.update(
                actions=[Token.idle_expires_at.set(min(now + IDLE, session.expires_at))],
                condition=Token.token_hash.exists(),
            )
        except UpdateError as error:
            if not is_condition_failure(error):
                raise
            raise unauthenticated() from None  # logged out meanwhile
    return Principal(session.email, session.role, session.siren, session.department_code, digest, session.insee_code)


def log_out(principal: Principal) -> None:
    try:
        Token(principal.token_hash).delete(condition=Token.token_hash.exists())
    except DeleteError as error:
        if not is_condition_failure(error):
            raise
        raise unauthenticated() from None


def revoke_tokens(email: str, keep: str | None = None) -> int:
    """End every session and link of an account (password changed, agent removed), except ``keep``."""
    revoked = 0
    with Token.batch_write() as batch:
        for entry in Token.by_email.query(email):
            if entry.token_hash != keep:
                batch.delete(Token(entry.token_hash))
                revoked += 1
    return revoked
