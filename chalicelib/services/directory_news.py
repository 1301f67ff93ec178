"""After each import of the directory, each registered commune it concerns is told what changed for it: officials who
can now be ordered a card, cards to return (``domain/directory_news.py`` says what counts).

The import hands the communes it touched over to the notices queue (``announce``, ten to a SendMessageBatch call);
the notices function tells them one by one (``tell``), at most a few at once (the queue's maximum concurrency), so
the national file, some 35,000 communes, never sends a storm of emails: SES's sending rate is what that concurrency
respects. Telling is idempotent: the commune keeps the import that last told it (``directory_seen_import``), and its
notice is written, conditionally on what was read, before the email is sent, so a message delivered twice sends one
email and two imports telling the same commune at once each compare with what the other left.
"""
import logging

from pynamodb.exceptions import UpdateError

from .. import clock
from ..domain import directory_news as news
from ..domain.directory_news import DirectoryNotice, NoticeLine
from ..domain.roles import Principal
from ..errors import PortalError
from ..store import queues
from ..store.tables import REGISTRATION_SHARDS, Commune, DirectoryNoticeItem, NoticeLineItem, is_condition_failure
from ..store.unit_of_work import UnitOfWork
from . import directory, notifications

log = logging.getLogger(__name__)

REGISTRATION = "registration"  # the ``directory_seen_import`` of a commune compared once, when it registered
ATTEMPTS = 3  # a commune written by someone else between the read and the write is read again


# --- the import's side --------------------------------------------------------------------------------------------

def announce(import_id: str, source: str, insee_codes: set[str]) -> int:
    """Queue one message per registered commune among ``insee_codes`` (the communes the import wrote or ended rows
    of); returns how many."""
    sirens = registered_communes(insee_codes)
    messages = [{"import_id": import_id, "source": source, "siren": siren} for siren in sirens]
    queues.send_batch(queues.NOTICES_QUEUE, messages)
    log.info("communes to tell", extra={"import_id": import_id, "communes": len(sirens)})
    return len(sirens)


def registered_communes(insee_codes: set[str]) -> list[str]:
    """Only a registered commune has someone to tell: a few queries of the sparse ``by-registration`` index (the
    keys of some 35,000 communes at most, a few hundred KB)."""
    if not insee_codes:
        return []
    return sorted(c.siren for shard in REGISTRATION_SHARDS for c in Commune.by_registration.query(shard)
                  if c.insee_code in insee_codes)


# --- the notices function -----------------------------------------------------------------------------------------

def tell(siren: str, import_id: str, source: str) -> DirectoryNotice | None:
    """Compare the commune's directory with what it was last told, record the notice, email its agents."""
    for _ in range(ATTEMPTS):
        try:
            commune = Commune.get(siren, consistent_read=True)
        except Commune.DoesNotExist:
            return None
        if commune.directory_seen_import == import_id:
            return None  # this import told it already (a message delivered twice)
        if import_id == REGISTRATION and commune.directory_seen_import is not None:
            return None  # an import compared it first: the first look is taken
        rows, registered = directory.commune_partition(commune.insee_code)
        comparison = news.compare(set(commune.directory_seen or ()), directory.merge_persons(rows))
        notice = None
        if commune.directory_seen_import is not None:  # a commune never compared is only compared, silently
            notice = _notice(commune, import_id, source, comparison, registered)
        if _record(commune, import_id, comparison.seen, notice):
            break
    else:
        raise RuntimeError(f"commune {siren} kept changing while it was told: the message will come back")
    if notice is not None and notice.says_something():
        notifications.directory_changed(commune.name, notice, commune.agent_emails)
        return notice
    return None


def _notice(commune: Commune, import_id: str, source: str, comparison: news.Comparison,
            registered: set[str]) -> DirectoryNotice:
    notice = DirectoryNotice(import_id, clock.now(), source)
    for person, function in comparison.gained:
        notice.newly_eligible.append(NoticeLine.of_person(
            person, function, directory_id=directory.directory_id(commune.insee_code, person["person_key"]),
            registered=person["person_key"] in registered))
    lost_persons = sorted({key for key, _ in comparison.lost if key in registered})
    if not lost_persons:
        return notice
    # A commune loses a few officials an import at most: one read each (GetItem), not worth a batch.
    uow = UnitOfWork()
    officials = [o for o in (uow.get(uow.officials.ref(commune.siren, key)) for key in lost_persons)
                 if o is not None and news.function_lost(comparison.lost, o)]
    for official in officials:
        if not official.delivered_order_id:
            continue
        order = uow.get(uow.orders.ref(*official.delivered_order_id.split("-", 1)))
        card = next((c for c in (order.cards if order else []) if c.official_id == official.official_id), None)
        notice.cards_to_return.append(NoticeLine.of_person(
            vars(official), official.function, order_id=official.delivered_order_id,
            card_number=card.card_number if card else None))
    for official in officials:
        if official.active_order_id:
            notice.orders_flagged.append(NoticeLine.of_person(vars(official), official.function,
                                                              order_id=official.active_order_id))
    return notice


def _record(commune: Commune, import_id: str, seen: set[str], notice: DirectoryNotice | None) -> bool:
    """Write what the commune was told; False when the commune changed since it was read."""
    actions = [Commune.directory_seen.set(seen) if seen else Commune.directory_seen.remove(),
               Commune.directory_seen_import.set(import_id)]
    if notice is not None and notice.says_something():
        notices = news.kept([_notice_of(item) for item in commune.directory_notices or []], notice)
        actions.append(Commune.directory_notices.set([_item_of(n) for n in notices]))
    previous = commune.directory_seen_import
    condition = (Commune.directory_seen_import == previous) if previous is not None \
        else Commune.directory_seen_import.does_not_exist()
    try:
        commune.update(actions=actions, condition=condition & Commune.siren.exists())
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        return False
    return True


def ask_first_look(siren: str) -> None:
    """At registration: what the directory lists then is what the commune knows, later imports tell what changes.
    Taken by the notices function (a message, not two more DynamoDB calls in the registration's request)."""
    queues.send(queues.NOTICES_QUEUE, {"siren": siren, "import_id": REGISTRATION, "source": REGISTRATION})


# --- the commune's space ------------------------------------------------------------------------------------------

def list_notices(principal: Principal) -> list[DirectoryNotice]:
    commune = Commune.get(principal.siren, attributes_to_get=["siren", "directory_notices"])
    return [_notice_of(item) for item in commune.directory_notices or []]


def mark_read(principal: Principal, notice_id: str) -> None:
    """The agent has read the notice: it leaves the commune's space (the email stays in the agents' inboxes)."""
    for _ in range(ATTEMPTS):
        commune = Commune.get(principal.siren, consistent_read=True)
        items = commune.directory_notices or []
        remaining = [item for item in items if item.notice_id != notice_id]
        if len(remaining) == len(items):
            raise PortalError(404, "not_found", "Cette information n'existe pas ou a déjà été marquée comme lue.")
        try:
            commune.update(actions=[Commune.directory_notices.set(remaining)],
                           condition=Commune.directory_seen_import == commune.directory_seen_import)
            return
        except UpdateError as error:
            if not is_condition_failure(error):
                raise
    raise PortalError(409, "notices_changed", "Le répertoire de votre commune vient d'être mis à jour : rechargez la page.")


# --- items and entities -------------------------------------------------------------------------------------------

_LINE_FIELDS = ("name", "function_label", "directory_id", "registered", "order_id", "card_number")
_LISTS = ("newly_eligible", "cards_to_return", "orders_flagged")


def _item_of(notice: DirectoryNotice) -> DirectoryNoticeItem:
    return DirectoryNoticeItem(
        notice_id=notice.notice_id, created_at=notice.created_at, source=notice.source,
        **{name: [NoticeLineItem(**{f: getattr(line, f) for f in _LINE_FIELDS}) for line in getattr(notice, name)]
           for name in _LISTS})


def _notice_of(item: DirectoryNoticeItem) -> DirectoryNotice:
    return DirectoryNotice(
        item.notice_id, item.created_at, item.source,
        **{name: [NoticeLine(**{f: getattr(line, f) for f in _LINE_FIELDS}) for line in getattr(item, name) or []]
           for name in _LISTS})
