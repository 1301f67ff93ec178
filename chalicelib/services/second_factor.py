"""The second factor: checked at login, enrolled from a session that serves enrolment only.

The rules (which roles must have one, the codes) are in ``domain/second_factor.py``. At login, once the password is
right: an account with a second factor gets no session without a valid code (``401 otp_required`` when none is sent,
``401 invalid_otp`` when it is wrong, counted per account: 5 wrong codes in 15 minutes refuse the next ones until the
first leave the window); an operator without one yet gets a session whose only use is to enrol
(``api/routing.py`` answers ``403 second_factor_required`` on every other route).
"""
import base64
import logging

from pynamodb.exceptions import TransactWriteError, UpdateError

from .. import clock
from ..domain import second_factor as rules
from ..domain.roles import Principal
from ..errors import PortalError, unauthenticated
from ..store import counters
from ..store.batch import Wanted, get_many
from ..store.counters import Limit
from ..store.tables import Account, Token, is_condition_failure, transaction
from . import limits

audit = logging.getLogger("portal.audit")

# 5 wrong second-factor codes for one account in 15 minutes refuse its next codes until they leave the window (only
# someone who has the password gets this far; 5 guesses of 3 valid codes in a million).
OTP_ACCOUNT = Limit("otp-account", attempts=5, window_seconds=900)


def otp_required() -> PortalError:
    return PortalError(401, "otp_required",
                       "Saisissez le code à 6 chiffres affiché par votre application d'authentification (ou un code "
                       "de secours).")


def invalid_otp() -> PortalError:
    return PortalError(401, "invalid_otp", "Ce code n'est pas valide. Saisissez le code à 6 chiffres affiché en ce "
                                           "moment par votre application (ou un code de secours).")


def check_at_login(account: Account, otp: str | None) -> bool:
    """After the right password: refuse without a valid code for an account that has a second factor. Returns True
    when the session must serve enrolment only (an operator who has not enrolled yet)."""
    if account.second_factor_at is None:
        return rules.required(account.role)
    if not otp or not otp.strip():
        raise otp_required()
    check_code(account, otp)
    return False


def check_code(account: Account, otp: str) -> None:
    (raw,) = get_many([counters.wanted(OTP_ACCOUNT, account.email)])
    limits.check((OTP_ACCOUNT, raw))
    now = clock.now().timestamp()
    if rules.verify_code(account.totp_secret, otp, now):
        return
    digest = rules.matching_recovery_digest(account.recovery_codes, otp)
    if digest is not None and _spend_recovery_code(account, digest):
        audit.info("recovery_code_used", extra={"event": "recovery_code_used", "by": account.email,
                                                "at": clock.iso(clock.now())})
        return
    _count(account.email)
    audit.warning("otp_failed", extra={"event": "otp_failed", "by": account.email, "at": clock.iso(clock.now())})
    raise invalid_otp()


def _count(email: str) -> None:
    with transaction() as writes:
        counters.count_in(writes, OTP_ACCOUNT, email)


def _spend_recovery_code(account: Account, digest: str) -> bool:
    """Remove the code's digest, on condition that it is still there: a code works once, even for two requests at
    the same instant."""
    try:
        account.update(actions=[Account.recovery_codes.delete({digest})],
                       condition=Account.recovery_codes.contains(digest))
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        return False
    return True


# --- enrolment ----------------------------------------------------------------------------------------------------

def _account(principal: Principal) -> Account:
    (account,) = get_many([Wanted(Account, principal.email)])
    if account is None or account.account_id != principal.account_id:
        raise unauthenticated()
    return account


def already_enabled() -> PortalError:
    return PortalError(409, "second_factor_already_enabled",
                       "Votre double authentification est déjà activée.")


def qr_code_svg(uri: str) -> str:
    """The enrolment QR code as an SVG data URI (segno: no image library, a few kB; imported here, at enrolment)."""
    import segno  # cold start: segno 7 ms, only an enrolment draws a QR code

    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000091", light="#ffffff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def start_enrolment(principal: Principal) -> dict:
    """A new secret for the account, not in use until confirmed with a code from it. Starting again replaces it."""
    account = _account(principal)
    if account.second_factor_at is not None:
        raise already_enabled()
    secret = rules.new_secret()
    try:
        account.update(actions=[Account.totp_secret.set(secret)], condition=Account.second_factor_at.does_not_exist())
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        raise already_enabled() from None
    uri = rules.provisioning_uri(secret, account.email)
    return {"secret": secret, "otpauth_uri": uri, "qr_code": qr_code_svg(uri), "digits": rules.DIGITS,
            "period_seconds": rules.STEP_SECONDS, "algorithm": "SHA1"}


def confirm_enrolment(principal: Principal, code: str) -> dict:
    """A code from the new secret turns the second factor on; the ten recovery codes are returned, once."""
    account = _account(principal)
    if account.second_factor_at is not None:
        raise already_enabled()
    if account.totp_secret is None:
        raise PortalError(409, "enrolment_not_started", "Commencez par afficher le QR code de votre double "
                                                        "authentification.")
    if not rules.verify_code(account.totp_secret, code, clock.now().timestamp()):
        # 400, not 401: the session is fine, the code is not (a 401 would tell the site the session ended).
        wrong = invalid_otp()
        wrong.status = 400
        raise wrong
    recovery = rules.new_recovery_codes()
    now = clock.now()
    # One transaction: the second factor turns on, and this session then serves everything (the others of an
    # enrolment-only kind stay so: log in again there). A session ended meanwhile turns nothing on.
    try:
        with transaction() as writes:
            writes.update(account, actions=[Account.second_factor_at.set(now),
                                             Account.recovery_codes.set({rules.recovery_digest(c) for c in recovery})],
                          condition=Account.second_factor_at.does_not_exist()
                          & (Account.totp_secret == account.totp_secret))
            if principal.token_hash:
                writes.update(Token(principal.token_hash), actions=[Token.enrolment_only.remove()],
                              condition=Token.token_hash.exists())
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        reasons = getattr(error, "cancellation_reasons", None) or []
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            raise already_enabled() from None
        raise unauthenticated() from None
    audit.info("second_factor_enabled", extra={"event": "second_factor_enabled", "by": account.email,
                                               "at": clock.iso(now)})
    return {"enabled_at": clock.iso(now), "recovery_codes": recovery}


def status(principal: Principal) -> dict:
    account = _account(principal)
    return {"enabled": account.second_factor_at is not None, "required": rules.required(account.role),
            "enabled_at": clock.iso(account.second_factor_at) if account.second_factor_at else None,
            "recovery_codes_left": len(account.recovery_codes or ())}


def enrol_at_seed(email: str, secret: str) -> None:
    """The local stack and the tests: an operator enrolled at creation with a known secret (scripts compute their
    codes from it). Never called by a route."""
    Account(email).update(actions=[Account.totp_secret.set(secret), Account.second_factor_at.set(clock.now())],
                          condition=Account.email.exists())
