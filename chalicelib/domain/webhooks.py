"""Webhooks (docs/api-clients.md, « Webhooks »): what a program registered by an API client hears of, and how.

An event of a commune (an order's move, a photo checked, a card's move in the registry, an official's mandate ended)
is built here once the change is recorded, handed to the fan-out function through a queue, and delivered to each
webhook of the owners concerned (``api_clients.owners_concerned``) that asked for its type: a JSON body POSTed with
a signature (HMAC-SHA256 of ``<timestamp>.<body>`` with the webhook's secret), at least once, retried with an
exponential backoff. Each event has an id derived from the change it reports, so a message delivered twice fans out
to the same deliveries, and a receiver recognises a delivery it already had by that id.
"""
import hashlib
import hmac
import ipaddress
import json
import math
import random
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from . import cards as registry, orders as lifecycle

ORDER_STATUS_CHANGED = "order.status_changed"
PHOTO_CHECKED = "photo.checked"
CARD_STATUS_CHANGED = "card.status_changed"
OFFICIAL_MANDATE_ENDED = "official.mandate_ended"
EVENTS = (ORDER_STATUS_CHANGED, PHOTO_CHECKED, CARD_STATUS_CHANGED, OFFICIAL_MANDATE_ENDED)
EVENT_LABELS = {
    ORDER_STATUS_CHANGED: "Changement de statut d'une demande de cartes",
    PHOTO_CHECKED: "Photo d'un élu vérifiée (retenue ou refusée)",
    CARD_STATUS_CHANGED: "Changement de statut d'une carte dans le registre",
    OFFICIAL_MANDATE_ENDED: "Fin de mandat d'un élu d'après le répertoire national des élus",
}

# What a program must be allowed to read to hear of each event (``api_clients`` scopes): the orders and cards, or
# the officials. A client is registered, and fanned out, only the events its scopes cover.
EVENT_SCOPES = {ORDER_STATUS_CHANGED: "orders:read", CARD_STATUS_CHANGED: "orders:read",
                PHOTO_CHECKED: "officials:read", OFFICIAL_MANDATE_ENDED: "officials:read"}
WRITE_IMPLIES_READ = {"orders:read": "orders:write", "officials:read": "officials:write"}
MAX_WEBHOOKS_PER_CLIENT = 10  # a few receivers (production, a test server); a bound keeps the fan-out small
STATUS_LABELS = {"pending": "En cours (nouvel essai prévu)", "delivered": "Remis", "failed": "Échec"}


def events_not_covered(events, client_scopes) -> list[str]:
    """The events a client with these scopes may not hear of (its scopes read neither the orders nor the officials
    they concern; a write scope reads too), in the order of ``EVENTS``."""
    scopes = set(client_scopes or ())
    return [e for e in EVENTS if e in events
            and EVENT_SCOPES[e] not in scopes and WRITE_IMPLIES_READ[EVENT_SCOPES[e]] not in scopes]


# --- signature ----------------------------------------------------------------------------------------------------

SIGNATURE_HEADER = "X-CartesElus-Signature"
EVENT_ID_HEADER = "X-CartesElus-Event-Id"
EVENT_TYPE_HEADER = "X-CartesElus-Event"
DELIVERY_ID_HEADER = "X-CartesElus-Delivery-Id"
USER_AGENT = "CartesElus-Webhooks/1"
TOLERANCE_SECONDS = 300  # a receiver refuses a signature older (or newer) than this: a captured request replayed later
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A webhook's signing secret: shown once to whoever registers it, kept to sign (docs/security.md)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>`` with the webhook's secret."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify_signature(secret: str, header: str | None, body: bytes, now: int,
                     tolerance: int = TOLERANCE_SECONDS) -> bool:
    """The receiver's side: True when ``header`` (``t=<unix>,v1=<hex>``, several ``v1`` allowed while a secret is
    replaced) signs exactly ``body`` with ``secret`` and its time is within ``tolerance`` seconds of ``now``. The
    comparison takes the same time whatever the signature (``hmac.compare_digest``)."""
    if not header:
        return False
    timestamp, candidates = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


# --- receivers' URLs ----------------------------------------------------------------------------------------------

MAX_URL_LENGTH = 2000
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def url_refusal(url: str, local_receivers: bool) -> str | None:
    """Why a receiver's URL is refused (a French sentence), or None. HTTPS only, to a name or a public address; plain
    HTTP to 127.0.0.1 or localhost only where ``local_receivers`` (the local stack's setting, read by the caller at
    each call). No credentials in the URL, no fragment."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH or any(
            ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "L'adresse du webhook est invalide."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "L'adresse du webhook est invalide."
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        return "L'adresse du webhook doit être de la forme https://serveur/chemin, sans identifiants ni fragment."
    if parts.scheme == "http" and local_receivers and host in LOCAL_HOSTS:
        return None
    if parts.scheme != "https":
        return "L'adresse du webhook doit commencer par https://."
    if port == 0:
        return "L'adresse du webhook est invalide."
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")) or "." not in host:
            return "L'adresse du webhook doit désigner un serveur joignable sur internet."
        return None
    if not address.is_global:
        return "L'adresse du webhook doit désigner un serveur joignable sur internet."
    return None


def addresses_refusal(addresses: list[str]) -> str | None:
    """Why the addresses a receiver's name resolves to are refused, or None: every one must be on the internet (a
    public name may point at 127.0.0.1, at a private network or at the link-local range where a cloud's metadata and
    runtime services answer; checking the text of the URL alone would let it through)."""
    if not addresses:
        return "Nom de serveur inconnu."
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            return "Nom de serveur inconnu."
        if not address.is_global:
            return "L'adresse du webhook désigne un serveur qui n'est pas sur internet : envoi refusé."
    return None


# --- retries ------------------------------------------------------------------------------------------------------

MAX_ATTEMPTS = 8
BACKOFF_FACTOR = 3
JITTER = 0.2  # each wait is drawn within ±20 % of its nominal value: receivers that failed together are not retried
# together
MAX_QUEUE_DELAY_SECONDS = 900  # SQS's DelaySeconds limit: a longer wait is several hops through the queue


def retry_delay(attempts_made: int, base_seconds: float, rng: random.Random | None = None) -> float:
    """The wait before the next attempt after ``attempts_made`` failed ones: ``base × 3^(n-1)`` ±20 %. With the
    deployed base of 60 s, eight attempts span about 18 hours (1, 3, 9, 27 min, 1 h 21, 4 h, 12 h); the local stack's
    base of 1 s retries within seconds."""
    nominal = base_seconds * BACKOFF_FACTOR ** (attempts_made - 1)
    return nominal * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def queue_delay(seconds: float) -> int:
    """The SQS DelaySeconds for a wait: the wait itself up to SQS's 15 minutes; beyond, the message comes back after
    15 minutes and is queued again for the rest. Rounded up: a message back early is queued again for what is left,
    and a rest under half a second rounded down to 0 came straight back, again and again, until the time came."""
    return max(0, min(MAX_QUEUE_DELAY_SECONDS, math.ceil(seconds)))


def succeeded(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


# --- events -------------------------------------------------------------------------------------------------------

def _event(event_type: str, key: str, at: datetime, siren: str, insee_code: str | None, commune_name: str | None,
           department_code: str | None, data: dict) -> dict:
    return {
        "id": hashlib.sha256(f"{event_type}|{key}".encode()).hexdigest()[:32],
        "type": event_type,
        "occurred_at": at.isoformat().replace("+00:00", "Z"),
        "commune": {"siren": siren, "insee_code": insee_code, "name": commune_name},
        "department_code": department_code,
        "data": data,
    }


def order_status_changed(order, commune=None) -> dict | None:
    """An order's move, from the order as the move left it (its last history entry is the move): the id names the
    order and the move's place in its history, so a message delivered twice is the same event."""
    if not order.history:
        return None
    last = order.history[-1]
    if last.status != order.status:
        return None
    previous = order.history[-2].status if len(order.history) > 1 else None
    return _event(ORDER_STATUS_CHANGED, f"{order.public_id}#{len(order.history)}", last.at, order.siren,
                  commune.insee_code if commune else None, order.commune_name, order.department_code, {
                      "order_id": order.public_id, "old_status": previous, "new_status": last.status,
                      "new_status_label": lifecycle.LABELS[last.status], "reason": last.reason,
                      "cards": sum(1 for card in order.cards if card.going_on)})


def photo_checked(official, commune, attempt: str, at: datetime, accepted: bool, reason: str | None) -> dict:
    """The image function checked a photo: kept (``accepted``), or refused with its reason."""
    return _event(PHOTO_CHECKED, f"{official.siren}#{official.official_id}#{attempt}", at, official.siren,
                  official.insee_code, commune.name if commune else official.commune_label,
                  commune.department_code if commune else official.department_code, {
                      "official_id": official.official_id, "attempt_id": attempt,
                      "result": "accepted" if accepted else "rejected", "reason": None if accepted else reason})


def card_status_changed(card_number: str, siren: str, commune_name: str | None, department_code: str,
                        order_id: str | None, official_id: str | None, old_status: str | None, new_status: str,
                        at: datetime, insee_code: str | None = None) -> dict:
    """A card's move in the registry; its id names the card, its new status and the move's time (a card never enters
    the same status twice at the same instant)."""
    return _event(CARD_STATUS_CHANGED, f"{card_number}#{new_status}#{at.isoformat()}", at, siren, insee_code,
                  commune_name, department_code, {
                      "card_number": card_number, "order_id": order_id, "official_id": official_id,
                      "old_status": old_status, "new_status": new_status, "new_status_label": registry.LABELS[new_status]})


def official_mandate_ended(official, department_code: str | None, at: datetime) -> dict:
    """The national directory no longer holds the function the official's card certifies."""
    return _event(OFFICIAL_MANDATE_ENDED, f"{official.siren}#{official.official_id}#{at.isoformat()}", at,
                  official.siren, official.insee_code, official.commune_label, department_code, {
                      "official_id": official.official_id, "function": official.function,
                      "held_card_number": official.held_card_number})


def body_of(event: dict) -> bytes:
    """The exact bytes POSTed and signed (compact JSON, UTF-8)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def delivery_id(event: dict) -> str:
    """A delivery's key under its webhook: time-ordered by the event's moment, and named after the event so that a
    second fan-out of the same event finds it (a conditional put then writes nothing)."""
    at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    return f"{int(at.timestamp() * 1000):013d}-{event['id'][:16]}"
