"""The second factor of an account: RFC 6238 time-based codes, recovery codes, and who must have one.

Codes are those of every authenticator app: HMAC-SHA1, 30-second steps, 6 digits, on a 160-bit base32 secret
(``pyotp``). A code of the step before or after is accepted too (one step of clock drift, as RFC 6238 section 5.2
recommends). Recovery codes replace a lost phone once each: ten, shown once at enrolment, stored as SHA-256 digests
(each holds 50 random bits and is spent on first use, under the login limits: a hash that resists guessing like a
password's is not needed).
"""
import hashlib
import hmac
import re
import secrets

from . import roles

ISSUER = "Cartes des élus"
DIGITS = 6
STEP_SECONDS = 30
RECOVERY_CODES = 10
# Crockford's base32 without I, L, O, U: nothing to misread when typing a code from paper.
_RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE = re.compile(r"\d{6}")
_RECOVERY = re.compile(r"[0-9A-Z]{5}-?[0-9A-Z]{5}")

# The accounts that reach the back office: their second factor is required (an operator who has not enrolled yet gets
# a session that serves enrolment only). Commune agents may enrol; they are not made to.
REQUIRED_FOR = frozenset({roles.MANUFACTURER, roles.PREFECTURE})


def required(role: str) -> bool:
    return role in REQUIRED_FOR


def _totp(secret: str):
    # cold start: pyotp 3 ms, only operators' logins and enrolment check a code
    import pyotp

    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def new_secret() -> str:
    """160 random bits in base32 (RFC 4226 recommends at least 128; 160 is SHA-1's block output)."""
    import pyotp  # cold start: pyotp 3 ms, only an enrolment makes a secret

    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return _totp(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def code_at(secret: str, at: float) -> str:
    """The code of the step holding ``at`` (a Unix time): what the authenticator shows."""
    return _totp(secret).at(at)


def verify_code(secret: str, code: str, at: float) -> bool:
    code = (code or "").replace(" ", "")
    if not _CODE.fullmatch(code):
        return False
    return _totp(secret).verify(code, for_time=at, valid_window=1)


def looks_like_recovery_code(code: str) -> bool:
    return bool(_RECOVERY.fullmatch(normalise_recovery(code)))


def normalise_recovery(code: str) -> str:
    return (code or "").strip().upper().replace(" ", "")


def new_recovery_codes() -> list[str]:
    """Ten codes of 10 characters of base32 (50 bits each), shown as two groups of five (``ABCDE-23456``)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_digest(code: str) -> str:
    return hashlib.sha256(normalise_recovery(code).replace("-", "").encode()).hexdigest()


def matching_recovery_digest(stored: set[str] | None, code: str) -> str | None:
    """The stored digest this recovery code matches, or None (compared in constant time)."""
    if not stored or not looks_like_recovery_code(code):
        return None
    digest = recovery_digest(code)
    found = None
    for candidate in stored:
        if hmac.compare_digest(candidate, digest):
            found = candidate
    return found


def device_label(user_agent: str | None) -> str:
    """A short French description of the device a session was opened from (« Firefox sous Windows »), from its
    User-Agent; « Programme » for a script, « Appareil inconnu » when nothing is said."""
    agent = (user_agent or "").strip()
    if not agent:
        return "Appareil inconnu"
    browsers = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"), ("Safari/", "Safari"))
    systems = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
               ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))
    browser = next((name for marker, name in browsers if marker in agent), None)
    system = next((name for marker, name in systems if marker in agent), None)
    if browser is None:
        program = agent.split("/", 1)[0].split(" ", 1)[0][:40]
        return f"Programme ({program})" if program else "Programme"
    return f"{browser} sous {system}" if system else browser
