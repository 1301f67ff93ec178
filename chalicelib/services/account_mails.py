"""Emails about accounts that a request hands to a queue instead of sending them itself.

``POST /password-resets`` must do the same work and give the same answer whether or not the address has an account:
the request only counts the attempt and queues ``{"kind": "password_link", "email": ...}``
(``store.queues.ask_account_mail``); the mails function
(``events/mails.py``) looks the account up, writes the link and sends it, or does nothing. The same goes for the alerts
of a request that fails (a login, a registration): queued for any address or SIREN alike, so that their timing tells
nothing either, and sent by the function only to people who exist.

- ``password_link``: a set-password link to the account's holder (the « Mot de passe oublié » page);
- ``login_attack``: many failed logins on an account (``limits.LOGIN_ACCOUNT``): its holder is told;
- ``code_guessing``: many wrong activation codes for a SIREN (``limits.ACTIVATION_ALERT``): the commune's registered
  agents are told; a commune that can still be registered has none, so its préfecture's agents are told instead.
"""
import logging

from ..mail import sender
from ..mail.messages import code_guessing_mail, login_attack_mail
from ..settings import get_settings
from ..store.batch import Wanted, get_many
from ..store.tables import Account, Commune
from . import accounts, limits

log = logging.getLogger(__name__)

def deliver(message: dict) -> None:
    kind = message.get("kind")
    if kind == "password_link":
        _password_link(message["email"])
    elif kind == "login_attack":
        _login_attack(message["email"])
    elif kind == "code_guessing":
        _code_guessing(message["siren"])
    else:
        log.error("account mail of an unknown kind: dropped", extra={"kind": str(kind)[:40]})


def _account(email: str) -> Account | None:
    return get_many([Wanted(Account, email)])[0] if email else None


def _password_link(email: str) -> None:
    account = _account(email)
    if account is None:
        return  # no account: nothing to send, and the request that asked could not tell
    accounts.send_new_password_link(account, "reset")


def _login_attack(email: str) -> None:
    account = _account(email)
    if account is None:
        return
    limit = limits.LOGIN_ACCOUNT
    link = f"{get_settings().site_url}/mot-de-passe-oublie.html"
    sender.send(login_attack_mail(account.email, account.first_name, limit.attempts, limit.window_seconds // 60, link))
    log.info("login attack alert sent")


def _code_guessing(siren: str) -> None:
    commune = get_many([Wanted(Commune, siren)])[0]
    if commune is None:
        return
    agents = sorted(commune.agent_emails or [])
    recipients = agents or sorted(a.email for a in Account.by_prefecture.query(commune.department_code))
    limit = limits.ACTIVATION_ALERT
    for email in recipients:
        sender.send(code_guessing_mail(email, commune.name, commune.siren, limit.attempts,
                                       limit.window_seconds // 3600, to_agent=bool(agents)))
    log.info("activation code guessing alert sent", extra={"siren": siren, "recipients": len(recipients)})
