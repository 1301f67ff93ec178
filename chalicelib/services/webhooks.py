"""The webhooks' two functions (docs/decisions.md, « Webhooks »): the fan-out, which turns an event into one delivery
per webhook concerned, and the delivery, which POSTs one attempt and schedules the next.

At least once, never lost quietly: a delivery is written (once per webhook and event: a conditional put) before its
first attempt is queued; each attempt is recorded on the condition that the delivery still counts the attempts before
it, so a message SQS hands over twice is POSTed once as long as the copies come one after the other; after
``MAX_ATTEMPTS`` the delivery is ``failed`` and stays in the log. The wait between attempts grows (``retry_delay``):
SQS holds a message at most 15 minutes, so a longer wait is a few hops through the queue, the message carrying the
moment before which it is not to be POSTed.
"""
import logging
import socket
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import urllib3
from pynamodb.exceptions import UpdateError

from .. import clock
from ..domain import api_clients as client_rules, webhooks
from ..domain.api_clients import owners_concerned
from ..domain.ids import time_ordered_id
from ..domain.roles import COMMUNE, MANUFACTURER, Principal
from ..errors import PortalError
from ..settings import get_settings
from ..store import queues, webhooks as store
from ..store.batch import Wanted, get_many
from ..store.tables import ApiClient, Webhook, is_condition_failure

log = logging.getLogger(__name__)
audit = logging.getLogger("portal.audit")

CONNECT_TIMEOUT = 3
READ_TIMEOUT = 5  # a receiver answers quickly and does its work afterwards (docs/api-clients.md)

_pool: urllib3.PoolManager | None = None


def http() -> urllib3.PoolManager:
    """One connection pool per container; no retry inside an attempt (the queue retries) and no redirect followed
    (a receiver answers where it was registered)."""
    global _pool
    if _pool is None:
        _pool = urllib3.PoolManager(timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
                                    retries=urllib3.Retry(total=0, redirect=0, raise_on_redirect=False),
                                    headers={"User-Agent": webhooks.USER_AGENT})
    return _pool


# --- fan-out ------------------------------------------------------------------------------------------------------

def fan_out(event: dict, now: datetime) -> int:
    """One delivery per enabled webhook of the owners concerned that asked for the event's type and whose client is
    not revoked, each queued for its first attempt. Returns how many were created (0 for an event that came again)."""
    commune = event.get("commune") or {}
    hooks = [hook for hook in store.subscriptions(owners_concerned(commune.get("siren"), event.get("department_code")))
             if event["type"] in (hook.events or ())]
    if not hooks:
        return 0
    clients = store.clients({hook.client_id for hook in hooks})
    body = webhooks.body_of(event).decode()
    delivery_id = webhooks.delivery_id(event)
    created, first_attempts = 0, []
    for hook in hooks:
        client = clients.get(hook.client_id)
        if client is None or client.revoked_at is not None or webhooks.events_not_covered([event["type"]],
                                                                                          client.scopes):
            continue
        if store.create_delivery(hook, event, delivery_id, body, now):
            created += 1
        else:
            # Written by an earlier copy of this event: queued again only if its first attempt may have been lost
            # with that copy (the attempt's condition drops it otherwise).
            delivery = store.delivery_and_hook(hook.client_id, hook.webhook_id, delivery_id)[0]
            if delivery is None or delivery.status != store.PENDING or delivery.attempts:
                continue
        first_attempts.append(attempt_message(hook.client_id, hook.webhook_id, delivery_id, 1))
    # Ten to a call; should SQS refuse some, the event comes back and finds its deliveries written and pending.
    queues.send_batch(queues.WEBHOOK_DELIVERIES_QUEUE, first_attempts)
    return created


def attempt_message(client_id: str, webhook_id: str, delivery_id: str, attempt: int,
                    not_before: datetime | None = None) -> dict:
    message = {"client_id": client_id, "webhook_id": webhook_id, "delivery_id": delivery_id, "attempt": attempt}
    if not_before is not None:
        message["not_before"] = clock.iso(not_before)
    return message


# --- delivery -----------------------------------------------------------------------------------------------------

def deliver(message: dict, now: datetime) -> str:
    """One attempt of one delivery; returns what happened (for the log): waiting, skipped, delivered, retry, failed."""
    attempt = message["attempt"]
    not_before = message.get("not_before")
    if not_before and datetime.fromisoformat(not_before) > now:
        wait = (datetime.fromisoformat(not_before) - now).total_seconds()
        queues.send(queues.WEBHOOK_DELIVERIES_QUEUE, message, webhooks.queue_delay(wait))
        return "waiting"
    delivery, hook, client = store.delivery_and_hook(message["client_id"], message["webhook_id"],
                                                     message["delivery_id"])
    if delivery is None or delivery.status != store.PENDING or delivery.attempts != attempt - 1:
        return "skipped"  # another copy of this message, or of an earlier one, got there first
    settings = get_settings()
    if hook is None or hook.disabled_at is not None or client is None or client.revoked_at is not None:
        store.record_attempt(delivery, attempt, now, store.FAILED, None,
                             "Webhook supprimé ou accès révoqué : envoi abandonné.", None)
        return "failed"
    refusal = webhooks.url_refusal(hook.url, settings.webhook_local_receivers)
    http_status, error = (None, refusal) if refusal else post(hook, delivery, now)
    if webhooks.succeeded(http_status):
        store.record_attempt(delivery, attempt, now, store.DELIVERED, http_status, None, None)
        return "delivered"
    if attempt >= webhooks.MAX_ATTEMPTS or refusal:
        store.record_attempt(delivery, attempt, now, store.FAILED, http_status, error, None)
        log.warning("webhook delivery failed for good", extra={"webhook_id": hook.webhook_id,
                                                                "delivery_id": delivery.delivery_id})
        return "failed"
    wait = webhooks.retry_delay(attempt, settings.webhook_retry_base_seconds)
    next_at = now + timedelta(seconds=wait)
    # The next attempt is queued before this one is recorded: should the record fail, the message comes back and
    # this attempt is made again (at least once); the next one's copy is then dropped by its condition.
    queues.send(queues.WEBHOOK_DELIVERIES_QUEUE,
                attempt_message(hook.client_id, hook.webhook_id, delivery.delivery_id, attempt + 1, next_at),
                webhooks.queue_delay(wait))
    store.record_attempt(delivery, attempt, now, store.PENDING, http_status, error, next_at)
    return "retry"


def post(hook, delivery, now: datetime) -> tuple[int | None, str | None]:
    """POSTs the delivery's body, signed; (HTTP status, None) or (None, why it could not be sent, in French)."""
    body = delivery.body.encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        webhooks.SIGNATURE_HEADER: webhooks.signature_header(hook.secret, timestamp, body),
        webhooks.EVENT_ID_HEADER: delivery.event_id,
        webhooks.EVENT_TYPE_HEADER: delivery.event_type,
        webhooks.DELIVERY_ID_HEADER: delivery.delivery_id,
    }
    try:
        target = pinned_target(hook.url)
        if isinstance(target, str):
            return None, target
        pool, path = target
        if pool is None:  # the local stack's http://127.0.0.1 receivers
            response = http().request("POST", hook.url, body=body, headers=headers, preload_content=False,
                                      redirect=False)
        else:
            response = pool.urlopen("POST", path, body=body, headers={**headers, "Host": pool.host_header},
                                    preload_content=False, redirect=False)
    except (urllib3.exceptions.HTTPError, ValueError, OSError) as error:  # an address the URL check let through
        return None, _why(error)  # and that the HTTP library refuses is a failed attempt, not a failed function
    try:
        response.read(1024)  # the answer's start only: a receiver has nothing to tell us
    except urllib3.exceptions.HTTPError:
        pass
    finally:
        response.release_conn()
    if 300 <= response.status < 400:
        return response.status, "Redirection non suivie : enregistrez l'adresse finale du webhook."
    return response.status, None if webhooks.succeeded(response.status) else f"Réponse HTTP {response.status}"


def resolve(host: str, port: int) -> list[str]:
    """The addresses a name resolves to (the system's resolver, as the HTTP library would use it)."""
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except (socket.gaierror, UnicodeError):
        return []


class _PinnedPool(urllib3.HTTPSConnectionPool):
    host_header: str = ""


_pinned: dict[tuple[str, int, str], _PinnedPool] = {}


def pinned_target(url: str) -> tuple[_PinnedPool | None, str] | str:
    """Where to POST: the receiver's name resolved once, every address checked (``addresses_refusal``), and the
    connection made to the checked address, TLS still verified for the name (SNI and certificate), so that a second
    resolution cannot swap in another address (DNS rebinding). (None, url) for a local receiver of the local stack;
    a French reason when refused."""
    parts = urlsplit(url)
    if parts.scheme == "http":  # only ever let through by url_refusal for 127.0.0.1/localhost in the local stack
        return None, url
    host, port = parts.hostname or "", parts.port or 443
    addresses = resolve(host, port)
    refusal = webhooks.addresses_refusal(addresses)
    if refusal:
        return refusal
    key = (addresses[0], port, host)
    pool = _pinned.get(key)
    if pool is None:
        if len(_pinned) > 100:  # a container serves few receivers; never grow without end
            _pinned.clear()
        pool = _PinnedPool(addresses[0], port, server_hostname=host, assert_hostname=host,
                           timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
                           retries=urllib3.Retry(total=0, redirect=0, raise_on_redirect=False),
                           headers={"User-Agent": webhooks.USER_AGENT})
        pool.host_header = host if port == 443 else f"{host}:{port}"
        _pinned[key] = pool
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return pool, path


def _why(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    kind = type(reason).__name__
    return {"ReadTimeoutError": f"Pas de réponse en {READ_TIMEOUT} s",
            "ConnectTimeoutError": "Connexion impossible (délai dépassé)",
            "NewConnectionError": "Connexion refusée", "NameResolutionError": "Nom de serveur inconnu",
            "ProtocolError": "Connexion coupée", "SSLError": "Certificat TLS refusé"}.get(kind, "Erreur réseau")


# --- the webhooks of a client: registered, listed, deleted, their delivery log ---------------------------------------

def not_found() -> PortalError:
    return PortalError(404, "not_found", "Cet accès ou ce webhook n'existe pas.")


def _well_formed(identifier: str, length: int) -> bool:
    return len(identifier) == length and all(c in "0123456789abcdef" for c in identifier)


def may_manage(principal: Principal, client: ApiClient) -> bool:
    """Who manages a client's webhooks: the program itself (its own client, with its own token), the owner's people
    (a commune's agents for its clients, the card maker for the préfectures' and the ministry's); anyone else is
    answered as if the client did not exist."""
    if principal.client_id is not None:
        return principal.client_id == client.client_id
    if principal.role == COMMUNE:
        return client.owner == client_rules.commune_owner(principal.siren)
    if principal.role == MANUFACTURER:
        return not client.owner.startswith("commune#")
    return False


def _client(principal: Principal, client_id: str, webhook_id: str | None = None):
    """The client (and the webhook) if the principal may manage them, in one read; else 404."""
    if not _well_formed(client_id, 32) or (webhook_id is not None and not (
            len(webhook_id) == 21 and webhook_id.isalnum())):
        raise not_found()
    wanted = [Wanted(ApiClient, client_id)] + ([Wanted(Webhook, client_id, webhook_id)] if webhook_id else [])
    client, *hook = get_many(wanted)
    if client is None or not may_manage(principal, client) or (webhook_id is not None and hook[0] is None):
        raise not_found()
    return client, (hook[0] if hook else None)


def view(hook: Webhook) -> dict:
    """What a list shows of a webhook: never its secret."""
    return {"id": hook.webhook_id, "url": hook.url, "events": [e for e in webhooks.EVENTS if e in (hook.events or ())],
            "created_at": clock.iso(hook.created_at), "created_by": hook.created_by,
            "disabled": hook.disabled_at is not None, "disabled_at": clock.iso(hook.disabled_at)}


def register(principal: Principal, client_id: str, url: str, events: list[str]) -> dict:
    """A receiver for some events of a client that is not revoked; its signing secret is in this answer only."""
    client, _ = _client(principal, client_id)
    if client.revoked_at is not None:
        raise PortalError(409, "client_revoked", "Cet accès est révoqué : il ne reçoit plus rien.")
    refusal = webhooks.url_refusal(url, get_settings().webhook_local_receivers)
    if refusal:
        raise PortalError(400, "invalid_url", refusal, details={"url": refusal})
    chosen = [e for e in webhooks.EVENTS if e in set(events)]
    if not chosen:
        raise PortalError(400, "invalid_events", "Choisissez au moins un événement.",
                          details={"events": "Au moins un événement."})
    uncovered = webhooks.events_not_covered(chosen, client.scopes)
    if uncovered:
        needed = webhooks.EVENT_SCOPES[uncovered[0]]
        raise PortalError(400, "invalid_events", f"L'accès n'a pas l'autorisation « {needed} » "
                          f"({client_rules.SCOPE_LABELS[needed]}) qu'il faut pour recevoir « {uncovered[0]} ».",
                          details={"events": uncovered})
    active = sum(1 for hook in Webhook.query(client_id) if hook.disabled_at is None)
    if active >= webhooks.MAX_WEBHOOKS_PER_CLIENT:
        raise PortalError(409, "too_many_webhooks", f"{webhooks.MAX_WEBHOOKS_PER_CLIENT} webhooks au plus par "
                          "accès : supprimez d'abord un webhook qui ne sert plus.")
    secret = webhooks.new_secret()
    now = clock.now()
    hook = Webhook(client_id, time_ordered_id(), owner=client.owner, url=url, events=set(chosen), secret=secret,
                   created_at=now, created_by=principal.email)
    hook.save(condition=Webhook.webhook_id.does_not_exist())
    audit.info("webhook_created", extra={"event": "webhook_created", "by": principal.email, "client_id": client_id,
                                         "webhook_id": hook.webhook_id, "url": url, "events": chosen,
                                         "at": clock.iso(now)})
    return {**view(hook), "secret": secret}


def list_webhooks(principal: Principal, client_id: str) -> dict:
    """A client's webhooks, oldest first, the deleted ones included (marked: their delivery log still reads)."""
    _client(principal, client_id)
    return {"items": [view(hook) for hook in Webhook.query(client_id)], "next": None}


def delete(principal: Principal, client_id: str, webhook_id: str) -> None:
    """The webhook gets nothing more (its pending deliveries end ``failed`` at their next attempt); kept, marked, for
    its log. Deleting a deleted webhook changes nothing."""
    _client_record, hook = _client(principal, client_id, webhook_id)
    if hook.disabled_at is not None:
        return
    now = clock.now()
    try:
        hook.update(actions=[Webhook.disabled_at.set(now), Webhook.disabled_by.set(principal.email)],
                    condition=Webhook.disabled_at.does_not_exist())
    except UpdateError as error:
        if is_condition_failure(error):
            return  # deleted meanwhile: what was asked holds
        raise
    audit.info("webhook_deleted", extra={"event": "webhook_deleted", "by": principal.email, "client_id": client_id,
                                         "webhook_id": webhook_id, "at": clock.iso(now)})


def delivery_view(delivery) -> dict:
    return {"id": delivery.delivery_id, "event_id": delivery.event_id, "event_type": delivery.event_type,
            "event_label": webhooks.EVENT_LABELS.get(delivery.event_type, delivery.event_type),
            "status": delivery.status, "status_label": webhooks.STATUS_LABELS.get(delivery.status, delivery.status),
            "attempts": int(delivery.attempts), "created_at": clock.iso(delivery.created_at),
            "last_attempt_at": clock.iso(delivery.last_attempt_at),
            "last_http_status": int(delivery.last_http_status) if delivery.last_http_status is not None else None,
            "last_error": delivery.last_error, "next_attempt_at": clock.iso(delivery.next_attempt_at),
            "delivered_at": clock.iso(delivery.delivered_at),
            "history": [{"at": clock.iso(a.at), "http_status": int(a.http_status) if a.http_status is not None else None,
                         "error": a.error} for a in (delivery.history or [])]}


def deliveries(principal: Principal, client_id: str, webhook_id: str, cursor: str | None) -> dict:
    """A webhook's delivery log, newest first, a page at a time."""
    _client(principal, client_id, webhook_id)
    items, next_cursor = store.deliveries_page(webhook_id, cursor)
    return {"items": [delivery_view(d) for d in items], "next": next_cursor}
