"""Abuse limits, in one place so that docs/security.md can list them."""
from ..errors import PortalError
from ..store.counters import Limit, record_failure, retry_after

# 5 wrong activation codes for one SIREN lock that SIREN's registration for an hour.
ACTIVATION_CODE = Limit("activation", attempts=5, window_seconds=3600, lock_seconds=3600)
# 10 failed logins for one account in 15 minutes lock that account's login for 15 minutes.
LOGIN_ACCOUNT = Limit("login-account", attempts=10, window_seconds=900, lock_seconds=900)
# One source address may fail 100 logins in 15 minutes (several agents behind a town-hall NAT stay below).
LOGIN_SOURCE = Limit("login-source", attempts=100, window_seconds=900, lock_seconds=900)
# 5 password-reset requests per email per hour: stops flooding someone's inbox.
PASSWORD_RESET = Limit("reset", attempts=5, window_seconds=3600, lock_seconds=3600)
# One source address may fail 20 registrations an hour whatever the SIREN (guessing codes across communes).
REGISTRATION_SOURCE = Limit("registration-source", attempts=20, window_seconds=3600, lock_seconds=3600)
# One source address may ask 30 password resets an hour whatever the email (mail bombing, SES costs).
RESET_SOURCE = Limit("reset-source", attempts=30, window_seconds=3600, lock_seconds=3600)
# A commune may invite 50 agents a day.
INVITATIONS = Limit("invitations", attempts=50, window_seconds=86400, lock_seconds=86400)


def too_many_attempts(seconds: int) -> PortalError:
    minutes = max(1, round(seconds / 60))
    return PortalError(
        429,
        "too_many_attempts",
        f"Trop de tentatives. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}.",
        headers={"Retry-After": str(seconds)},
    )


def refuse_if_locked(limit: Limit, subject: str) -> None:
    seconds = retry_after(limit, subject)
    if seconds:
        raise too_many_attempts(seconds)


def forget(limit: Limit, subject: str) -> None:
    """Best effort: the work is done; a counter left behind only expires later."""
    from ..store.counters import clear

    try:
        clear(limit, subject)
    except Exception:  # noqa: BLE001
        import logging

        logging.getLogger(__name__).warning("rate-limit counter not cleared", exc_info=True)


def count_attempt(limit: Limit, subject: str) -> None:
    """Count an attempt that is limited whether it succeeds or not (e.g. reset requests)."""
    refuse_if_locked(limit, subject)
    record_failure(limit, subject)


def clear_activation_lock(siren: str) -> None:
    """A new code was issued: the failures counted against the old one no longer matter."""
    forget(ACTIVATION_CODE, siren)
