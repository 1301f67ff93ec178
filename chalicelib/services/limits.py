"""Abuse limits, in one place so that docs/security.md can list them.

Each use case reads its counters in its first BatchGetItem (``counters.wanted``), refuses with ``check`` while a
limit is reached, and counts the attempt in its own write (``counters.count_in`` inside its transaction).
"""
from ..errors import PortalError
from ..store.counters import Limit, retry_after

# 10 wrong activation codes for one SIREN in a minute slow that SIREN's registration until they leave the minute:
# never more than a minute after the last of them, so that no one can keep a commune out for long (the code's 80
# bits, not this limit, are what makes guessing hopeless; the per-source limit below bounds each address).
ACTIVATION_CODE = Limit("activation", attempts=10, window_seconds=60)
# 20 wrong activation codes for one SIREN in a day: the card maker's operators are told by email (the commune has no
# agent yet: it is not registered); no refusal.
ACTIVATION_ALERT = Limit("activation-alert", attempts=20, window_seconds=86400, refuses=False)
# 10 failed logins for one account from one source address in 15 minutes lock that account's login from that address
# only: an attacker elsewhere cannot lock the real user out. A successful password reset lifts it.
LOGIN_PAIR = Limit("login-pair", attempts=10, window_seconds=900)
# 10 failed logins for one account in 15 minutes, from any addresses: the account's holder is told by email; no
# refusal (a lock per account is what let anyone lock anyone out).
LOGIN_ACCOUNT = Limit("login-account", attempts=10, window_seconds=900, refuses=False)
# One source address may fail 100 logins in 15 minutes (several agents behind a town-hall NAT stay below).
LOGIN_SOURCE = Limit("login-source", attempts=100, window_seconds=900)
# 5 password-link requests per email per hour: stops flooding someone's inbox.
PASSWORD_RESET = Limit("reset", attempts=5, window_seconds=3600)
# One source address may fail 20 registrations an hour whatever the SIREN (guessing codes across communes).
REGISTRATION_SOURCE = Limit("registration-source", attempts=20, window_seconds=3600)
# One source address may ask 30 password resets an hour whatever the email (mail bombing, SES costs).
RESET_SOURCE = Limit("reset-source", attempts=30, window_seconds=3600)
# 10 failed token requests (``POST /oauth/token``) for one client id from one source address in 15 minutes lock that
# client's token requests from that address only, as for logins: a secret of 256 bits cannot be guessed, this stops a
# misconfigured program from hammering the table; a success forgets them.
TOKEN_PAIR = Limit("token-pair", attempts=10, window_seconds=900)
# One source address may fail 100 token requests in 15 minutes whatever the client id.
TOKEN_SOURCE = Limit("token-source", attempts=100, window_seconds=900)
# A commune may invite 50 agents a day.
INVITATIONS = Limit("invitations", attempts=50, window_seconds=86400)


def too_many_attempts(seconds: int) -> PortalError:
    minutes = max(1, round(seconds / 60))
    return PortalError(
        429,
        "too_many_attempts",
        f"Trop de tentatives. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}.",
        headers={"Retry-After": str(seconds)},
    )


def check(*limited: tuple[Limit, dict | None]) -> None:
    """Refuse (429) if any of these limits, each with its counter as read, is reached."""
    waits = [seconds for limit, raw in limited if (seconds := retry_after(limit, raw))]
    if waits:
        raise too_many_attempts(max(waits))
