"""Log in, resolve a bearer token to a principal, log out, end every session of an account.

Sessions last 30 minutes without activity and 12 hours at most. A program's token (OAuth client credentials,
``services/api_clients.py``) is read here too: same shape, kind ``client``, an hour without idle deadline. A token is ``<account id>.<secret>``: 256 random
bits after the account's (opaque) id; only the SHA-256 of the whole token is stored. The account id lets a request
read its session and the account's revocation mark in one call (see ``store.tables.Token``).
"""
import logging
import re
from datetime import timedelta

from pynamodb.exceptions import DeleteError, UpdateError

from .. import clock
from ..domain import limits as limit_rules
from ..domain.passwords import verify_password
from ..domain.roles import Principal
from ..domain.second_factor import device_label
from ..domain.secrets_codes import new_token, token_digest
from ..errors import PortalError, unauthenticated
from ..store import counters, queues
from ..store.batch import Wanted, get_many
from ..store.tables import Account, Token, is_condition_failure, transaction
from . import limits, second_factor

audit = logging.getLogger("portal.audit")

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
# Pushing the idle deadline forward costs a write; once a minute is plenty.
REFRESH_AFTER = timedelta(minutes=1)
# A revocation mark must outlive every token it voids: sessions (12 h) and set-password links (24 h).
REVOCATION_LIFETIME = timedelta(hours=25)

_TOKEN = re.compile(r"([0-9a-f]{32})\.[A-Za-z0-9_-]{40,60}")


def normalise_email(email: str) -> str:
    return email.strip().lower()


# --- tokens -------------------------------------------------------------------------------------------------------

def mint(account: Account) -> tuple[str, str]:
    """A new token for the account, and the digest to store."""
    token = f"{account.account_id}.{new_token()}"
    return token, token_digest(token)


def token_account_id(token: str) -> str | None:
    """The account id a well-formed token names, or None: anything else is refused before any read."""
    match = _TOKEN.fullmatch(token)
    return match.group(1) if match else None


def revocation_key(account_id: str) -> str:
    return f"revoked#{account_id}"


def read_token(token: str) -> Token | None:
    """The stored token, if it exists and no revocation of its account came after it (one BatchGetItem)."""
    return _read_token(token, [])[0]


def _read_token(token: str, also: list[Wanted]) -> tuple[Token | None, list]:
    """The stored token (as ``read_token``) and the items ``also`` names, read in the same BatchGetItem; nothing is
    read for a malformed token."""
    account_id = token_account_id(token)
    if account_id is None:
        return None, [None] * len(also)
    stored, mark, *found = get_many([Wanted(Token, token_digest(token)), Wanted(Token, revocation_key(account_id)),
                                     *also])
    if stored is None or stored.account_id != account_id:
        return None, found
    if mark is not None and stored.created_at <= mark.created_at:
        return None, found
    return stored, found


def revoke_all(writes, account: Account) -> None:
    """In the caller's transaction: every session and link of the account made until now stops working."""
    now = clock.now()
    writes.save(Token(revocation_key(account.account_id), kind="revocation", account_id=account.account_id,
                      email=account.email, role=account.role, created_at=now, expires_at=now + REVOCATION_LIFETIME,
                      purge_at=now + REVOCATION_LIFETIME))


# --- logging in and out -------------------------------------------------------------------------------------------

# The last failed logins before a lock say how many are left (``limits.LOGIN_PAIR``).
WARN_WHEN_LEFT = 3


def login_pair(email: str, source_ip: str) -> str:
    """The subject of ``limits.LOGIN_PAIR``: one account from one source address."""
    return f"{email}|{source_ip}"


def invalid_credentials(attempts_left: int) -> PortalError:
    if attempts_left > WARN_WHEN_LEFT:
        return PortalError(401, "invalid_credentials", "Adresse e-mail ou mot de passe incorrect.")
    minutes = limits.LOGIN_PAIR.lock_seconds // 60
    left = (f"encore {attempts_left} essai{'s' if attempts_left > 1 else ''} avant" if attempts_left
            else "c'était le dernier essai avant")
    return PortalError(
        401, "invalid_credentials",
        f"Adresse e-mail ou mot de passe incorrect. Attention : {left} un blocage de {minutes} minutes de la "
        "connexion à ce compte depuis cet appareil. Un nouveau mot de passe, choisi depuis « Mot de passe "
        "oublié », lève ce blocage.",
        details={"attempts_left": attempts_left, "lock_minutes": minutes})


def log_in(email: str, password: str, source_ip: str, otp: str | None = None, device: str | None = None) -> dict:
    email = normalise_email(email)
    pair = login_pair(email, source_ip)
    # Same checks and the same work whether the account exists or not: no way to tell them apart. The counters and
    # the account come in one read. Failures lock one account from one source only (``limits.LOGIN_PAIR``): from
    # elsewhere, its holder still signs in; the failures of all sources together only alert the holder.
    wanted = [counters.wanted(limits.LOGIN_SOURCE, source_ip), counters.wanted(limits.LOGIN_PAIR, pair),
              counters.wanted(limits.LOGIN_ACCOUNT, email)]
    source_count, pair_count, account_count, *found = get_many(wanted + ([Wanted(Account, email)] if email else []))
    account = found[0] if found else None
    # A password set since (a reset) lifts the lock: the failures before it no longer count.
    pair_count = limit_rules.since(limits.LOGIN_PAIR, pair_count, account.password_set_at if account else None)
    limits.check((limits.LOGIN_SOURCE, source_count), (limits.LOGIN_PAIR, pair_count))
    if not verify_password(account.password_hash if account else None, password):
        with transaction() as writes:
            counters.count_in(writes, limits.LOGIN_PAIR, pair)
            counters.count_in(writes, limits.LOGIN_ACCOUNT, email)
            counters.count_in(writes, limits.LOGIN_SOURCE, source_ip)
        audit.warning("login_failed", extra={"event": "login_failed", "by": email, "source": source_ip,
                                             "at": clock.iso(clock.now())})
        if limit_rules.attempts_in_window(limits.LOGIN_ACCOUNT, account_count) + 1 == limits.LOGIN_ACCOUNT.attempts:
            # Queued for a known or an unknown address alike: the mails function tells the holder, if any.
            queues.ask_account_mail("login_attack", email)
        raise invalid_credentials(limits.LOGIN_PAIR.attempts - 1
                                  - limit_rules.attempts_in_window(limits.LOGIN_PAIR, pair_count))
    # The second factor, once the password is right (services/second_factor.py): no session without it.
    enrolment_only = second_factor.check_at_login(account, otp)
    # A successful login forgets this source's failures on the account, in the same write as the session.
    session = open_session(account, forget=(limits.LOGIN_PAIR, pair) if pair_count is not None else None,
                           device=device, source_ip=source_ip, enrolment_only=enrolment_only)
    audit.info("login", extra={"event": "login", "by": email, "role": account.role, "source": source_ip,
                               "at": clock.iso(clock.now())})
    return session


def open_session(account: Account, forget: tuple | None = None, device: str | None = None,
                 source_ip: str | None = None, enrolment_only: bool = False,
                 proconnect_id_token: str | None = None) -> dict:
    """``forget``: a (limit, subject) whose counter the same write deletes."""
    now = clock.now()
    token, digest = mint(account)
    expires_at = now + ABSOLUTE
    # The commune's INSEE code, name and département travel with the session: requests need no commune lookup. The
    # device and address are what « Mes sessions » shows.
    session = Token(digest, kind="session", account_id=account.account_id, email=account.email, role=account.role,
                    siren=account.siren, department_code=account.department_code, insee_code=account.insee_code,
                    commune_name=account.commune_name, created_at=now, expires_at=expires_at,
                    idle_expires_at=now + IDLE, purge_at=expires_at, session_account=account.account_id,
                    device=device_label(device), source_ip=source_ip, enrolment_only=enrolment_only or None,
                    proconnect_id_token=proconnect_id_token)
    if forget:
        with transaction() as writes:
            writes.save(session)
            counters.clear_in(writes, *forget)
    else:
        session.save()
    answer = {
        "token": token,
        "expires_at": clock.iso(expires_at),
        "idle_timeout_seconds": int(IDLE.total_seconds()),
        "role": account.role,
    }
    if enrolment_only:
        answer["second_factor_enrolment_required"] = True
    if proconnect_id_token:
        answer["proconnect"] = True
    return answer


def authenticate(token: str) -> Principal:
    return authenticate_reading(token, [])[0]


def authenticate_reading(token: str, also: list[Wanted]) -> tuple[Principal, list]:
    """The principal, and the items ``also`` names read in the session's own call (a route whose URL names the record
    it works on saves a round trip: ``api.routing.endpoint(read_ahead=...)``). The items are handed over only once
    the session is valid; whether the principal may see them is the use case's to decide."""
    session, found = _read_token(token, also)
    now = clock.now()
    if session is not None and session.kind == "client" and now < session.expires_at:
        return client_principal(session), found
    if session is None or session.kind != "session" or now >= session.expires_at or now >= session.idle_expires_at:
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
    return Principal(session.email, session.role, session.siren, session.department_code, session.token_hash,
                     session.insee_code, session.account_id, session.commune_name, bool(session.enrolment_only)), found


def client_principal(token: Token) -> Principal:
    """A program's token (services/api_clients.py): it acts for its client's owner, within its scopes. It has no idle
    deadline to push (it lives an hour, then the program asks for another): reading it costs no write."""
    return Principal(token.email, token.role, token.siren, token.department_code, token.token_hash, token.insee_code,
                     None, token.commune_name, False, token.account_id, token.client_name,
                     frozenset(token.scopes or ()))


def log_out(principal: Principal) -> None:
    try:
        Token(principal.token_hash).delete(condition=Token.token_hash.exists())
    except DeleteError as error:
        if not is_condition_failure(error):
            raise
        raise unauthenticated() from None


def log_out_everywhere(principal: Principal) -> None:
    """Every session of the person ends, on every device, this one included (a lost phone, a shared computer); so do
    the set-password links sent until now. One write: the account's revocation mark (``revoke_all``)."""
    account = Account(principal.email, account_id=principal.account_id, role=principal.role)
    with transaction() as writes:
        revoke_all(writes, account)
        writes.delete(Token(principal.token_hash))
    audit.info("logout_everywhere", extra={"event": "logout_everywhere", "by": principal.email,
                                           "role": principal.role, "at": clock.iso(clock.now())})
