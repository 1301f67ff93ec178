"""Use cases of accounts: register a commune, set a password from an emailed link, agents, operators, codes."""
import logging
import uuid
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError

from .. import clock
from ..domain import codes, limits as limit_rules, names, passwords, roles
from ..domain.roles import Principal
from ..domain.secrets_codes import IssuedCode, activation_code_matches, issue_activation_code as new_code
from ..errors import PortalError
from ..mail import sender
from ..mail.messages import invitation_refused_mail, set_password_mail
from ..settings import get_settings
from ..store import counters, queues
from ..store.batch import Wanted, get_many
from ..store.tables import (Account, Commune, Prefecture, Token, is_condition_failure, registration_shard,
                            transaction)
from ..store.repositories import PrefectureRepository
from . import directory_news, limits, sessions
from .sessions import normalise_email

log = logging.getLogger(__name__)

PASSWORD_LINK_LIFETIME = timedelta(hours=24)


def invalid_activation_code() -> PortalError:
    return PortalError(
        403,
        "invalid_activation_code",
        "Le numéro SIREN ou le code d'activation est incorrect. Vérifiez le courrier reçu.",
    )


def valid_siren(value: str) -> str:
    try:
        return codes.siren(value)
    except codes.InvalidCode:
        raise PortalError(
            400, "invalid_siren", "Le numéro SIREN doit comporter 9 chiffres et être valide.",
            details={"siren": "Numéro SIREN invalide."},
        ) from None


def valid_email(value: str) -> str:
    # cold start: email-validator 31 ms (it loads dnspython), only the routes that create an account need it
    from email_validator import EmailNotValidError, validate_email

    try:
        return normalise_email(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError:
        raise PortalError(
            400, "invalid_email", "L'adresse e-mail n'est pas valide.", details={"email": "Adresse e-mail invalide."}
        ) from None


def valid_name(value: str, field: str) -> str:
    """A person's name as kept (``names.person_name``), or 400 ``invalid_name`` on that field."""
    what = {"last_name": "Le nom", "first_name": "Le prénom"}[field]
    try:
        return names.person_name(value, what)
    except names.InvalidName as invalid:
        raise PortalError(400, "invalid_name", str(invalid), details={field: str(invalid)}) from None


def email_taken() -> PortalError:
    return PortalError(409, "email_already_used", "Cette adresse e-mail a déjà un compte sur le portail.",
                       details={"email": "Adresse déjà utilisée."})


# --- registration -------------------------------------------------------------------------------------------------

def register_commune(siren: str, activation_code: str, last_name: str, first_name: str, email: str,
                     source_ip: str = "unknown") -> dict:
    siren = valid_siren(siren)
    email = valid_email(email)
    last_name, first_name = valid_name(last_name, "last_name"), valid_name(first_name, "first_name")
    # One read: the limits, the commune and whether the email has an account.
    source_count, code_count, alert_count, reset_count, commune, existing = get_many([
        counters.wanted(limits.REGISTRATION_SOURCE, source_ip), counters.wanted(limits.ACTIVATION_CODE, siren),
        counters.wanted(limits.ACTIVATION_ALERT, siren), counters.wanted(limits.PASSWORD_RESET, email),
        Wanted(Commune, siren), Wanted(Account, email)])
    limits.check((limits.REGISTRATION_SOURCE, source_count), (limits.ACTIVATION_CODE, code_count))
    # The code first, whatever the commune's state: a wrong code gets the same answer, and sends nothing, for a
    # registered commune, an unregistered one or an unknown SIREN (a registered commune keeps its spent code's hash,
    # so that the very registration sent again is still recognised below).
    if not _activation_code_matches(commune, activation_code):
        with transaction() as writes:
            counters.count_in(writes, limits.ACTIVATION_CODE, siren)
            counters.count_in(writes, limits.ACTIVATION_ALERT, siren)
            counters.count_in(writes, limits.REGISTRATION_SOURCE, source_ip)
        if limit_rules.attempts_in_window(limits.ACTIVATION_ALERT, alert_count) + 1 == limits.ACTIVATION_ALERT.attempts:
            queues.ask_account_mail("code_guessing", siren)  # queued for any SIREN alike; the function tells who exists
        raise invalid_activation_code()
    if commune.registered_at is not None:
        if _resend_first_link(existing, siren, "registration", reset_count):
            return {"siren": siren, "commune_name": commune.name, "email": email}
        raise PortalError(409, "already_registered",
                          "Cette commune est déjà inscrite. Connectez-vous, ou demandez à un agent déjà inscrit de "
                          "vous ajouter.")
    if existing is not None:
        raise email_taken()
    now = clock.now()
    account = Account(email, account_id=uuid.uuid4().hex, role=roles.COMMUNE, first_name=first_name,
                      last_name=last_name, siren=siren, department_code=commune.department_code,
                      insee_code=commune.insee_code, commune_name=commune.name, created_at=now)
    link_token, link = _password_link(account, now)
    try:
        with transaction() as writes:
            # The code is spent in the same write that registers the commune: used once, even by two at once. Its
            # hash stays (a registered commune gets no new code), to recognise the same registration sent again.
            writes.update(
                commune,
                actions=[Commune.registered_at.set(now), Commune.registered_shard.set(registration_shard(siren)),
                         Commune.agent_emails.add({email})],
                condition=Commune.registered_at.does_not_exist()
                & (Commune.activation_code_hash == commune.activation_code_hash),
            )
            writes.save(account, condition=Account.email.does_not_exist())
            writes.save(link)
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        raise PortalError(409, "already_registered", "Cette commune vient d'être inscrite par une autre personne.") \
            from None
    _first_look_at_directory(commune)
    # If sending fails (503), the same registration sent again resends the link (_resend_first_link). The failed
    # guesses of the spent code are left to expire with their window.
    _send_password_mail(account, link_token, "registration")
    return {"siren": siren, "commune_name": commune.name, "email": email}


def _first_look_at_directory(commune: Commune) -> None:
    """From now on the commune is told what each directory import changes for it (services/directory_news.py)."""
    try:
        directory_news.ask_first_look(commune.siren)
    except Exception:  # noqa: BLE001 - the registration is done; without a first look the next import takes it
        log.exception("first look at the directory not taken", extra={"siren": commune.siren})


def _resend_first_link(account: Account | None, siren: str, reason: str, reset_count: dict | None,
                       also_count: tuple | None = None) -> bool:
    """The same person registering (or invited) again before setting a password: their first email was lost or a
    503 interrupted the request after the account was made. Send a new link rather than refuse."""
    if account is None or account.siren != siren or account.password_hash is not None:
        return False
    limits.check((limits.PASSWORD_RESET, reset_count))
    token, link = _password_link(account, clock.now())
    with transaction() as writes:
        counters.count_in(writes, limits.PASSWORD_RESET, account.email)
        if also_count:
            counters.count_in(writes, *also_count)
        writes.save(link)
    _send_password_mail(account, token, reason)
    return True


def _activation_code_matches(commune: Commune | None, typed: str) -> bool:
    stored = commune.activation_code_hash if commune else None
    if commune is not None and commune.activation_code_expires_at and commune.activation_code_expires_at <= clock.now():
        stored = None
    return activation_code_matches(stored, typed)


# --- passwords ----------------------------------------------------------------------------------------------------

def _password_link(account: Account, now) -> tuple[str, Token]:
    token, digest = sessions.mint(account)
    expires_at = now + PASSWORD_LINK_LIFETIME
    item = Token(digest, kind="password", account_id=account.account_id, email=account.email, role=account.role,
                 siren=account.siren, department_code=account.department_code, created_at=now,
                 expires_at=expires_at, purge_at=expires_at)
    return token, item


def _send_password_mail(account: Account, token: str, reason: str) -> None:
    link = f"{get_settings().site_url}/mot-de-passe.html?token={token}"
    hours = int(PASSWORD_LINK_LIFETIME.total_seconds() // 3600)
    sender.send(set_password_mail(account.email, account.first_name, account.commune_name, link, reason, hours))


def invalid_token() -> PortalError:
    return PortalError(400, "invalid_token",
                       "Ce lien n'est plus valable (déjà utilisé ou expiré). Demandez un nouveau lien depuis la page "
                       "« Mot de passe oublié ».")


def set_password(token: str, password: str) -> None:
    link = sessions.read_token(token) if 0 < len(token) <= 200 else None
    if link is None or link.kind != "password" or link.expires_at <= clock.now():
        raise invalid_token()
    account = _find(Account, link.email)
    if account is None or account.account_id != link.account_id:
        raise invalid_token()
    try:
        passwords.check_strength(password, _personal_words(account))
    except passwords.WeakPassword as weak:
        raise PortalError(400, "weak_password", str(weak), details={"password": str(weak)}) from None
    try:
        with transaction() as writes:
            writes.delete(link, condition=Token.token_hash.exists())  # single use, even when sent twice at once
            # The moment the password is set lifts any login lock of the account (services/sessions.py).
            writes.update(account, actions=[Account.password_hash.set(passwords.hash_password(password)),
                                            Account.password_set_at.set(clock.now())],
                          condition=Account.account_id == account.account_id)
            # A new password ends every session and every other link of the account, in the same write.
            sessions.revoke_all(writes, account)
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        raise invalid_token() from None


def _personal_words(account: Account) -> list[str]:
    words = [account.first_name, account.last_name, account.email.split("@")[0]]
    if account.siren:
        words += [account.siren] + ([account.commune_name] if account.commune_name else [])
    return words


def request_password_reset(email: str, source_ip: str = "unknown") -> None:
    """The same work and the same answer whether or not the address has an account: one read (the limits; the
    account is not even read), one write (the counters), one message to the mails function, which writes and sends
    the link if the account exists (``services/account_mails.py``)."""
    email = normalise_email(email)
    source_count, email_count = get_many([counters.wanted(limits.RESET_SOURCE, source_ip),
                                          counters.wanted(limits.PASSWORD_RESET, email)])
    limits.check((limits.RESET_SOURCE, source_count), (limits.PASSWORD_RESET, email_count))
    with transaction() as writes:
        counters.count_in(writes, limits.RESET_SOURCE, source_ip)
        counters.count_in(writes, limits.PASSWORD_RESET, email)
    if email:
        queues.ask_account_mail("password_link", email)


def send_new_password_link(account: Account, reason: str) -> None:
    """A new set-password link for the account, written then emailed (the mails function's work for a reset)."""
    token, link = _password_link(account, clock.now())
    link.save()
    _send_password_mail(account, token, reason)


# --- who am I -----------------------------------------------------------------------------------------------------

def describe_me(principal: Principal) -> dict:
    wanted = [Wanted(Account, principal.email)]
    if principal.role == roles.COMMUNE:
        wanted += [Wanted(Commune, principal.siren), Wanted(Prefecture, principal.department_code)]
    account, *commune_and_prefecture = get_many(wanted, consistent=False)
    if account is None:
        raise sessions.unauthenticated()
    me = {"email": account.email, "first_name": account.first_name, "last_name": account.last_name,
          "role": account.role, "role_label": roles.ROLE_LABELS[account.role]}
    if account.role == roles.COMMUNE:
        commune, prefecture = commune_and_prefecture
        me["commune"] = {
            "siren": commune.siren,
            "name": commune.name,
            "insee_code": commune.insee_code,
            "department_code": commune.department_code,
            "delivery_address": PrefectureRepository().to_entity(prefecture).as_dict() if prefecture else None,
        }
    if account.role == roles.PREFECTURE:
        me["department_code"] = account.department_code
    return me


# --- agents of a commune ------------------------------------------------------------------------------------------

def _agent_view(account: Account) -> dict:
    return {"id": account.account_id, "email": account.email, "first_name": account.first_name,
            "last_name": account.last_name, "password_set": account.password_hash is not None,
            "created_at": clock.iso(account.created_at)}


def list_agents(principal: Principal) -> dict:
    agents = [a for a in Account.by_siren.query(principal.siren) if a.role == roles.COMMUNE]
    return {"items": [_agent_view(a) for a in agents], "next": None}


def invite_agent(principal: Principal, email: str, last_name: str, first_name: str) -> dict:
    email = valid_email(email)
    last_name, first_name = valid_name(last_name, "last_name"), valid_name(first_name, "first_name")
    invitations, resets, existing = get_many([counters.wanted(limits.INVITATIONS, principal.siren),
                                              counters.wanted(limits.PASSWORD_RESET, email), Wanted(Account, email)])
    limits.check((limits.INVITATIONS, invitations))
    if existing is not None and existing.siren == principal.siren and existing.role == roles.COMMUNE:
        # One of the commune's own agents, whom the inviter sees in the list anyway.
        if _resend_first_link(existing, principal.siren, "invitation", resets,
                              also_count=(limits.INVITATIONS, principal.siren)):
            return _agent_view(existing)
        raise email_taken()
    now = clock.now()
    if existing is not None:
        return _invitation_of_someone_elses_address(principal, existing, email, last_name, first_name, now)
    account = Account(email, account_id=uuid.uuid4().hex, role=roles.COMMUNE, first_name=first_name,
                      last_name=last_name, siren=principal.siren, department_code=principal.department_code,
                      insee_code=principal.insee_code, commune_name=principal.commune_name, created_at=now)
    token, link = _password_link(account, now)
    try:
        with transaction() as writes:
            counters.count_in(writes, limits.INVITATIONS, principal.siren)
            writes.save(account, condition=Account.email.does_not_exist())
            writes.save(link)
            writes.update(Commune(principal.siren), actions=[Commune.agent_emails.add({email})],
                          condition=Commune.siren.exists())
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        raise email_taken() from None
    _send_password_mail(account, token, "invitation")
    return _agent_view(account)


def _invitation_of_someone_elses_address(principal: Principal, existing: Account, email: str, last_name: str,
                                         first_name: str, now) -> dict:
    """The address has an account elsewhere (an operator, another commune's agent). The answer is the one a new
    invitation gets (201, an agent's view of what was typed), so that it tells the inviter nothing about the address;
    the work is alike too (the invitation counted in one write, one email sent): the address's holder is told that
    the commune tried to add them, instead of getting a link. Nothing else changes; the commune's list of agents
    does not show the address (it never did hold it)."""
    with transaction() as writes:
        counters.count_in(writes, limits.INVITATIONS, principal.siren)
    sender.send(invitation_refused_mail(existing.email, principal.commune_name or principal.siren,
                                        get_settings().site_url))
    log.info("invitation of an address with an account elsewhere", extra={"siren": principal.siren})
    return {"id": uuid.uuid4().hex, "email": email, "first_name": first_name, "last_name": last_name,
            "password_set": False, "created_at": clock.iso(now)}


def remove_agent(principal: Principal, agent_id: str) -> None:
    agents = [a for a in Account.by_siren.query(principal.siren) if a.role == roles.COMMUNE]
    target = next((a for a in agents if a.account_id == agent_id), None)
    if target is None:
        raise PortalError(404, "not_found", "Cet agent n'existe pas.")
    if len(agents) <= 1:
        raise PortalError(409, "last_agent", "Impossible de retirer le dernier agent de la commune.")
    try:
        with transaction() as writes:
            writes.delete(target, condition=Account.account_id == target.account_id)
            sessions.revoke_all(writes, target)  # the agent's sessions and links end with the account
            writes.update(Commune(principal.siren), actions=[Commune.agent_emails.delete({target.email})])
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        raise PortalError(404, "not_found", "Cet agent n'existe pas.") from None


# --- back office --------------------------------------------------------------------------------------------------

def create_operator(email: str, first_name: str, last_name: str, role: str, department_code: str | None,
                    password: str | None = None) -> dict:
    """A manufacturer operator or a préfecture agent. ``password`` is only for seeding the local stack and bootstrap."""
    email = valid_email(email)
    last_name, first_name = valid_name(last_name, "last_name"), valid_name(first_name, "first_name")
    if role == roles.PREFECTURE:
        if not department_code or _find(Prefecture, department_code) is None:
            raise PortalError(422, "unknown_department", "Aucune préfecture n'est connue pour ce département.",
                              details={"department_code": "Département inconnu."})
    else:
        department_code = None
    now = clock.now()
    account = Account(email, account_id=uuid.uuid4().hex, role=role, first_name=first_name, last_name=last_name,
                      department_code=department_code, created_at=now,
                      prefecture_department=department_code if role == roles.PREFECTURE else None)
    token, link = (None, None) if password is not None else _password_link(account, now)
    if password is not None:
        account.password_hash = passwords.hash_password(password)
    try:
        with transaction() as writes:
            writes.save(account, condition=Account.email.does_not_exist())
            if link is not None:
                writes.save(link)
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        raise email_taken() from None
    if link is not None:
        _send_password_mail(account, token, "operator")
    return {"id": account.account_id, "email": email, "role": role, "department_code": department_code}


def new_code_update(issued: IssuedCode) -> tuple[list, object]:
    """The actions and condition of the update that gives a commune a new code. Overwriting the hash is what makes
    any earlier code stop working; only a commune of the reference files that is not yet registered gets one."""
    return ([Commune.activation_code_hash.set(issued.code_hash),
             Commune.activation_code_expires_at.set(issued.expires_at)],
            Commune.siren.exists() & Commune.registered_at.does_not_exist())


def issue_activation_code(siren: str) -> dict:
    siren = valid_siren(siren)
    issued = new_code(clock.now())
    actions, condition = new_code_update(issued)
    commune = Commune(siren)
    try:
        commune.update(actions=actions, condition=condition)  # the update returns the commune
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        if get_many([Wanted(Commune, siren)])[0] is None:
            raise PortalError(404, "not_found", "Aucune commune ne porte ce numéro SIREN dans le référentiel.") \
                from None
        raise PortalError(409, "already_registered",
                          "Cette commune est déjà inscrite : ses agents peuvent en inviter d'autres.") from None
    forget_code_failures(siren)
    return {"siren": siren, "commune_name": commune.name, "activation_code": issued.code,
            "expires_at": clock.iso(issued.expires_at)}


def forget_code_failures(siren: str) -> None:
    """A new code was issued: the wrong guesses of the old one no longer matter. Best effort: a counter left behind
    only delays the commune until its window ends."""
    try:
        counters.clear(limits.ACTIVATION_CODE, siren)
    except Exception:  # noqa: BLE001
        log.warning("activation-code counter not cleared", exc_info=True)


def _find(model, key):
    try:
        return model.get(key)
    except model.DoesNotExist:
        return None
