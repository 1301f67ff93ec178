"""A card order and its lifecycle (docs/orders.md): statuses, their French labels, who may move an order where, the
card numbers, and how long the photos behind a closed order are kept.

Plain Python (the store maps it to DynamoDB). A rule refuses (``Refused``) or returns the ``Change`` to write with what
it relied on (``domain/changes.py``): a move relies on the status it was read in, so two concurrent moves give one
success and one conflict, never a lost update.
"""
from datetime import datetime, timedelta
from typing import NamedTuple

from . import cards as registry, functions
from .changes import PRESENT, Change, Refused, entity
from .french import de
from .ids import time_ordered_id
from .officials import HeldOfficial, Official
from .roles import COMMUNE, MANUFACTURER, MINISTRY, PREFECTURE, Principal

BROUILLON = "brouillon"
EN_PREPARATION = "en_preparation"
ANNULEE = "annulee"
EN_PRODUCTION = "en_production"
REJETEE = "rejetee"
EN_LIVRAISON = "en_livraison"
LIVREE = "livree"
REMISE_PARTIELLE = "remise_partielle"
REMISE = "remise"

LABELS = {
    BROUILLON: "Brouillon",
    EN_PREPARATION: "En préparation",
    ANNULEE: "Annulée",
    EN_PRODUCTION: "En production",
    REJETEE: "Rejetée",
    EN_LIVRAISON: "En livraison",
    LIVREE: "Livrée en préfecture",
    REMISE_PARTIELLE: "Remise partielle",
    REMISE: "Remise à l'élu",
}
STATUSES = tuple(LABELS)

# An order in one of these statuses no longer holds its officials: they may be ordered again.
FINAL = frozenset({ANNULEE, REJETEE, REMISE})
# When the directory ends an official's mandate: an order whose card is not made yet is flagged, a delivered card is
# to be returned (``CardOrder.mandate_ended``).
NOT_YET_PRODUCED = frozenset({BROUILLON, EN_PREPARATION})
BEING_MADE = frozenset({EN_PRODUCTION, EN_LIVRAISON})
DELIVERED = frozenset({LIVREE, REMISE_PARTIELLE, REMISE})
# The préfecture hands the cards over one by one (services/cards.py): the order is « Remise partielle » until the last.
HANDING_OVER = frozenset({LIVREE, REMISE_PARTIELLE})


class Move(NamedTuple):
    to: str
    sources: frozenset
    role: str
    reason_required: bool = False


MOVES = {
    EN_PREPARATION: Move(EN_PREPARATION, frozenset({BROUILLON}), COMMUNE),
    ANNULEE: Move(ANNULEE, frozenset({BROUILLON, EN_PREPARATION}), COMMUNE),
    EN_PRODUCTION: Move(EN_PRODUCTION, frozenset({EN_PREPARATION}), MANUFACTURER),
    REJETEE: Move(REJETEE, frozenset({EN_PREPARATION, EN_PRODUCTION}), MANUFACTURER, reason_required=True),
    EN_LIVRAISON: Move(EN_LIVRAISON, frozenset({EN_PRODUCTION}), MANUFACTURER),
    LIVREE: Move(LIVREE, frozenset({EN_LIVRAISON}), PREFECTURE),
    # The whole order at once: every card not handed over yet, to its official in person (the mayor and the deputies
    # come together). Card by card, and to a representative, is services/cards.py.
    REMISE: Move(REMISE, HANDING_OVER, PREFECTURE),
}


# A DynamoDB transaction holds 100 writes: production writes the order, the year's counter and one registry record
# per card.
MAX_CARDS = 98

# Long enough for a card lost or faulty at hand-over to be reported and drawn again from the same photo; short enough
# that a town hall's photos do not outlive their use (docs/orders.md, docs/security.md). The purge is
# services/retention.py.
RETENTION = timedelta(days=30)
PURGE_DUE = "due"  # the one value of the purge queue's index key

# A draft (« Brouillon ») holds its officials: no other order may take them. A draft never sent is cancelled by the
# portal this long after it was made, and its officials released (``CardOrder.expire_draft``; the scheduled function is
# events/schedule.py). A draft cannot be changed after its creation: its age is that of ``created_at``.
DRAFT_LIFETIME = timedelta(days=7)
# Who made a move the portal made by itself (the history's ``by_role`` and ``by``).
PORTAL = "portail"
DRAFT_EXPIRED_REASON = ("Brouillon jamais envoyé, annulé automatiquement {days} jours après sa création : ses élus "
                        "peuvent être commandés à nouveau.")


def check_move(current: str, target: str, role: str, reason: str | None) -> Move:
    """The move if ``role`` may take an order from ``current`` to ``target``, else ``Refused`` (nothing changes)."""
    move = MOVES.get(target)
    if move is None or move.role != role or current not in move.sources:
        raise Refused(
            "invalid_transition",
            f"Impossible de passer une demande « {LABELS.get(current, current)} » à "
            f"« {LABELS.get(target, target)} »" + ("" if move is None or move.role == role else " avec votre profil")
            + ".",
        )
    if move.reason_required and not (reason or "").strip():
        raise Refused("reason_required", "Indiquez le motif du rejet (par exemple « photo non conforme »).")
    return move


def allowed_moves(current: str, role: str) -> list[str]:
    return [target for target, move in MOVES.items() if move.role == role and current in move.sources]


def card_number(year: int, sequence: int) -> str:
    """Unique nationwide: the year production started and the year's sequence."""
    return f"{year}-{sequence:07d}"


@entity
class CardNumbers:
    """How many card numbers a year has given: production takes the next ones in the move's own transaction, under
    the condition that the count is still the one read, so two productions starting together never share numbers
    and a refused move takes none."""

    year: int
    count: int = 0
    exists: bool = False

    @staticmethod
    def key_of(year: int) -> str:
        return f"card-number#{year}"

    def take(self, how_many: int) -> Change:
        return Change(self, {"count": self.count + how_many},
                      {"count": self.count} if self.exists else {"key": None})


@entity
class Card:
    """One card of an order: the official as they were when ordered (the card must not change under the order)."""

    official_id: str
    last_name: str
    first_name: str
    sex: str
    function: str
    mandate_start: str
    department_label: str
    photo_key: str | None = None  # None once the photos are purged
    preview_key: str | None = None
    card_number: str | None = None
    card_key: str | None = None  # the final card, drawn with its number when production starts
    reason: str = registry.PREMIERE_DEMANDE  # why it is ordered (domain/cards.py)
    replaces: str | None = None  # the number of the card it replaces
    handed_over_at: datetime | None = None
    handed_over_to: dict | None = None  # a representative of the town hall {last_name, first_name, quality}, or None
    # The photo assistant's verdicts on the photo ordered, shown to the card maker beside it.
    photo_checks: list | None = None
    # The card maker refused this card's photo (the others of the order go on): why, and when.
    photo_rejected_reason: str | None = None
    photo_rejected_at: datetime | None = None

    @property
    def going_on(self) -> bool:
        """Still to be made and handed over: not taken out of its order by a rejected photo."""
        return self.photo_rejected_at is None

    @classmethod
    def of(cls, official: Official, reason: str) -> "Card":
        return cls(official.official_id, official.last_name, official.first_name, official.sex, official.function,
                   official.mandate_start, official.department_label, official.photo_key, official.preview_key,
                   reason=reason, replaces=registry.replaces(official, reason),
                   photo_checks=[dict(c) for c in official.photo_checks] if official.photo_checks else None)


class HistoryEntry(NamedTuple):
    status: str
    at: datetime
    by_role: str
    by: str
    reason: str | None = None


class Alert(NamedTuple):
    official_id: str
    code: str  # mandate_ended | card_to_return
    message: str
    at: datetime


class Moved(NamedTuple):
    """What a move did: the change to write, and what the service must do besides."""

    change: Change
    source: str
    entry: HistoryEntry
    releases_officials: bool  # the order is closed: its officials may be ordered again
    handed_over: bool
    tells_commune: bool = True  # the commune's agents are emailed the move (``tells_commune``)


def tells_commune(source: str, target: str) -> bool:
    """Whether the commune's agents are emailed a move. Every move is, but the cancellation of a draft: the draft was
    never sent, nobody but the agent who made it knew of it, and « Annulée » would tell of an order that never was."""
    return not (source == BROUILLON and target == ANNULEE)


@entity
class CardOrder:
    siren: str
    order_id: str
    status: str
    department_code: str
    commune_name: str
    created_at: datetime
    updated_at: datetime
    cards: list
    history: list
    delivery_address: dict | None = None
    alerts: list | None = None
    purge_after: datetime | None = None  # when the photos behind the closed order go
    purge_keys: list | None = None
    photos_deleted_at: datetime | None = None

    @property
    def public_id(self) -> str:
        return f"{self.siren}-{self.order_id}"

    @classmethod
    def create(cls, by: Principal, officials: list, delivery_address: dict | None, at: datetime,
               order_id: str | None = None, reasons: list | None = None) -> "CardOrder":
        """A draft order of one card per official, each with its reason (``reasons``, None: the one that follows
        from the card they hold, ``cards.reason_for``). Refused, and nothing written, when an official's mandate
        ended (``mandate_ended``), when one holds a valid card that no reason replaces (``card_already_issued``), or
        when one is not orderable now (``officials_not_ready``, ``Official.why_not_orderable``); each refusal lists
        every official concerned."""
        if not 1 <= len(officials) <= MAX_CARDS:
            raise Refused("invalid_request", f"Une demande compte de 1 à {MAX_CARDS} élus.")
        ended = [o for o in officials if o.mandate_ended_at is not None]
        if ended:
            raise Refused("mandate_ended", " ".join(
                f"{o.first_name} {o.last_name} n'est plus {functions.function_label(o.function, o.sex).lower()} "
                "d'après le répertoire national des élus : aucune carte ne peut être commandée." for o in ended),
                details=[{"official_id": o.official_id, "code": "mandate_ended"} for o in ended])
        chosen, refusals = [], []
        for official, reason in zip(officials, reasons or [None] * len(officials)):
            try:
                chosen.append(registry.reason_for(official, reason))
            except Refused as refused:
                refusals.append(refused)
        if refusals:
            first = refusals[0]
            raise Refused(first.code, " ".join(r.message for r in refusals if r.code == first.code),
                          details=[d for r in refusals if r.code == first.code for d in r.details or []])
        problems = problems_of(officials)
        if problems:
            raise officials_not_ready(problems)
        return cls(by.siren, order_id or time_ordered_id(), BROUILLON, by.department_code,
                   officials[0].commune_label, at, at, [Card.of(o, r) for o, r in zip(officials, chosen)],
                   [HistoryEntry(BROUILLON, at, by.role, by.email)], delivery_address)

    def created(self) -> Change:
        return Change(self, kind="create")

    def takes(self, officials: list) -> list:
        """The officials' changes that go with the order's creation, in the same transaction: each is held by the
        order, and a valid card the new one replaces is to be returned."""
        return [official.taken_by(self.public_id, registry.A_RESTITUER if self.replaces_valid_card(official) else None)
                for official in officials]

    def replaces_valid_card(self, official: Official) -> bool:
        card = self.card_of(official.official_id)
        return official.held_card_status in registry.VALID and card.reason in registry.REPLACES_VALID_CARD

    def visible_to(self, principal: Principal) -> bool:
        """The commune sees its own orders, the préfecture those of its département, the card maker and the ministry all."""
        if principal.role == COMMUNE:
            return principal.siren == self.siren
        if principal.role == PREFECTURE:
            return principal.department_code == self.department_code
        return principal.role in (MANUFACTURER, MINISTRY)

    def allowed_moves(self, role: str) -> list[str]:
        return allowed_moves(self.status, role)

    def move(self, target: str, by: Principal, reason: str | None, at: datetime) -> Moved:
        """One move of the lifecycle, if ``by`` may make it from the current status (else ``Refused``). Closing the
        order (cancelled, rejected, handed over) sets when its photos are to be deleted."""
        if not self.visible_to(by):
            raise Refused("not_found", "Cette demande n'existe pas.")
        check_move(self.status, target, by.role, reason)
        entry = HistoryEntry(target, at, by.role, by.email, reason.strip() if reason else None)
        sets = {"status": target, "updated_at": at, "history": self.history + [entry]}
        if target in FINAL:
            sets.update(purge_after=at + RETENTION)
        return Moved(Change(self, sets, {"status": self.status}), self.status, entry, target in FINAL,
                     target == REMISE, tells_commune(self.status, target))

    def draft_expired(self, now: datetime) -> bool:
        return self.status == BROUILLON and now - self.created_at >= DRAFT_LIFETIME

    def expire_draft(self, now: datetime) -> Moved:
        """The portal cancels a draft never sent, ``DRAFT_LIFETIME`` after it was made: « Annulée » like a cancellation
        by the commune (its officials released in the same write, its photos' retention starts), with the portal as
        its author and no email (``tells_commune``). Relies on the order being still the draft read: a draft sent
        meanwhile is left alone (``Conflict``)."""
        if not self.draft_expired(now):
            raise Refused("invalid_transition", "Seul un brouillon de plus de "
                          f"{DRAFT_LIFETIME.days} jours est annulé automatiquement.")
        entry = HistoryEntry(ANNULEE, now, PORTAL, PORTAL, DRAFT_EXPIRED_REASON.format(days=DRAFT_LIFETIME.days))
        sets = {"status": ANNULEE, "updated_at": now, "history": self.history + [entry],
                "purge_after": now + RETENTION}
        return Moved(Change(self, sets, {"status": BROUILLON, "updated_at": self.updated_at}), BROUILLON, entry,
                     releases_officials=True, handed_over=False, tells_commune=False)

    def number_cards(self, year: int, taken: int) -> int:
        """Production starts: the cards still going on take the year's numbers after the ``taken`` ones already
        given; how many were taken."""
        going_on = [card for card in self.cards if card.going_on]
        for offset, card in enumerate(going_on):
            card.card_number = card_number(year, taken + 1 + offset)
        return len(going_on)

    def reject_photo(self, official_id: str, by: Principal, reason: str | None, at: datetime) -> Change:
        """The card maker refuses one card's photo; the other cards of the order go on. The card leaves the order
        (its official is released by the service, in the same write, to send a new photo); an order whose every
        photo was refused is rejected."""
        if not self.visible_to(by) or by.role != MANUFACTURER:
            raise Refused("not_found", "Cette demande n'existe pas.")
        reason = " ".join((reason or "").split())
        if not reason:
            raise Refused("reason_required", "Indiquez le motif du refus de la photo (par exemple « visage flou »).",
                          details={"reason": "Champ obligatoire."})
        if self.status not in (EN_PREPARATION, EN_PRODUCTION):
            raise Refused("invalid_transition", f"La demande est « {LABELS[self.status]} » : une photo ne peut être "
                          "refusée qu'en préparation ou en production.")
        card = self.card_of(official_id)
        if card is None:
            raise Refused("not_found", "Cette carte n'existe pas dans la demande.")
        whose = de(f"{card.first_name} {card.last_name}")
        if not card.going_on:
            raise Refused("invalid_transition", f"La photo {whose} a déjà été refusée.")
        cards = [Card(**{**vars(c), "photo_rejected_reason": reason, "photo_rejected_at": at})
                 if c.official_id == official_id else c for c in self.cards]
        alert = Alert(official_id, "photo_rejected", f"La photo {whose} a été refusée par le fabricant : {reason}. "
                      "Envoyez une nouvelle photo, puis commandez sa carte à nouveau.", at)
        sets = {"cards": cards, "updated_at": at, "alerts": list(self.alerts or []) + [alert]}
        if not any(c.going_on for c in cards):
            sets.update(status=REJETEE, purge_after=at + RETENTION, history=self.history + [
                HistoryEntry(REJETEE, at, by.role, by.email, f"Toutes les photos refusées ({reason})")])
        return Change(self, sets, {"status": self.status, "updated_at": self.updated_at})

    def releases(self, moved: Moved) -> list:
        """The officials' changes that go with a closing move, in the same transaction. The officials need not be
        read: each release relies on the official still being held by this order (a card whose photo was refused
        released its official then)."""
        return [HeldOfficial(self.siren, card.official_id).released_by(self.public_id, moved.handed_over)
                for card in self.cards if card.going_on]

    def cards_drawn(self) -> Change:
        """The drawn cards' keys, recorded (drawing the same card twice gives the same file: no condition)."""
        return Change(self, {"cards": self.cards})

    def cards_to_draw(self) -> list:
        """Numbered cards not drawn yet, whose photo is still kept."""
        return [c for c in self.cards if c.going_on and c.card_number and not c.card_key and c.photo_key]

    def waits_for_drawing(self, now: datetime, after_seconds: int = 120) -> bool:
        """Production started a while ago and some cards are still undrawn (the request was lost)."""
        return self.status in (EN_PRODUCTION, EN_LIVRAISON) and \
            any(c.card_number and not c.card_key for c in self.cards) and \
            (now - self.updated_at).total_seconds() > after_seconds

    def mandate_ended(self, official: Official, at: datetime) -> Change | None:
        """The directory no longer gives the official the card's function. A card not yet made is flagged for the
        commune and the card maker (it would certify a function the person no longer holds); a card delivered is to
        be returned to the préfecture. None when the order is past the one and before the other (being made)."""
        name = f"{official.first_name} {official.last_name}"
        label = functions.function_label(official.function, official.sex).lower()
        sets: dict = {}
        if self.status in NOT_YET_PRODUCED:
            alert = Alert(official.official_id, "mandate_ended", f"{name} n'est plus {label} d'après le répertoire "
                          "national des élus : vérifiez la demande avant sa fabrication.", at)
        elif self.status in BEING_MADE:
            alert = Alert(official.official_id, "mandate_ended", f"{name} n'est plus {label} d'après le répertoire "
                          "national des élus : la carte est en fabrication, elle ne doit pas être remise.", at)
        elif self.status in DELIVERED:
            alert = Alert(official.official_id, "card_to_return", f"Le mandat {de(name)} ({label}) a pris fin : la "
                          "carte est à restituer à la préfecture.", at)
        else:
            return None
        sets["alerts"] = list(self.alerts or []) + [alert]
        return Change(self, sets, {"status": self.status})

    def cards_handed_over(self, card_numbers: set, by: Principal, at: datetime,
                          representative: dict | None = None) -> Change:
        """Cards of the order were handed over (``cards.RegisteredCard.hand_over_to``): the order is « Remise
        partielle » until its last card, then « Remise à l'élu », closed (its photos' retention starts). Relies on
        the order as read (``updated_at``): two cards of one order handed over at once never lose each other's line."""
        if self.status not in HANDING_OVER:
            raise Refused("invalid_transition", f"La demande est « {LABELS[self.status]} » : ses cartes ne peuvent "
                          "pas être remises.")
        cards = [Card(**{**vars(c), "handed_over_at": at, "handed_over_to": representative})
                 if c.card_number in card_numbers else c for c in self.cards]
        status = REMISE if all(c.handed_over_at for c in cards if c.going_on) else REMISE_PARTIELLE
        sets: dict = {"cards": cards, "updated_at": at}
        if status != self.status:
            sets.update(status=status, history=self.history + [HistoryEntry(status, at, by.role, by.email)])
            if status in FINAL:
                sets["purge_after"] = at + RETENTION
        return Change(self, sets, {"status": self.status, "updated_at": self.updated_at})

    def hand_over_undone(self, card_number: str, by: Principal, at: datetime) -> Change:
        """A card's hand-over undone: its line is to hand over again, and the order back to « Remise partielle » or
        « Livrée en préfecture » (no longer closed: its photos' retention waits again)."""
        cards = [Card(**{**vars(c), "handed_over_at": None, "handed_over_to": None}) if c.card_number == card_number
                 else c for c in self.cards]
        status = REMISE_PARTIELLE if any(c.handed_over_at for c in cards) else LIVREE
        sets: dict = {"cards": cards, "updated_at": at}
        if status != self.status:
            sets.update(status=status, purge_after=None, history=self.history + [
                HistoryEntry(status, at, by.role, by.email, "Annulation d'une remise")])
        return Change(self, sets, {"status": self.status, "updated_at": self.updated_at})

    # An order's move undone by the same role within ``cards.UNDO_WINDOW``: only those nothing depends on yet
    # (production gave card numbers, a rejection or a hand-over released officials who may be ordered again).
    UNDOABLE = {EN_LIVRAISON: EN_PRODUCTION, LIVREE: EN_LIVRAISON}

    def undoable_by(self, role: str, now: datetime) -> HistoryEntry | None:
        last = self.history[-1]
        if (self.status not in self.UNDOABLE or last.status != self.status or last.by_role != role
                or (last.reason or "").startswith("Annulation") or now - last.at > registry.UNDO_WINDOW):
            return None
        return last

    def undo(self, by: Principal, now: datetime) -> Change:
        if not self.visible_to(by):
            raise Refused("not_found", "Cette demande n'existe pas.")
        last = self.undoable_by(by.role, now)
        if last is None:
            raise Refused("not_undoable", "La dernière étape de cette demande ne peut plus être annulée : elle date de "
                          "plus de 10 minutes, a été faite par un autre profil, ou d'autres opérations en dépendent.")
        previous = self.UNDOABLE[self.status]
        entry = HistoryEntry(previous, now, by.role, by.email, f"Annulation de « {LABELS[self.status]} »")
        return Change(self, {"status": previous, "updated_at": now, "history": self.history + [entry]},
                      {"status": self.status, "updated_at": self.updated_at})

    def card_number_label(self, card: Card) -> str | None:
        """What stands for the card's number while it has none, from the order's real history: a number is given
        when production starts, so only an order that may still get there says so; an order rejected or cancelled
        before production, or a card whose photo was refused, never claims a step it did not reach."""
        if card.card_number:
            return None
        if not card.going_on:
            return "Aucun : photo refusée par le fabricant"
        if self.status in (BROUILLON, EN_PREPARATION):
            return "Attribué à la fabrication"
        if self.status == REJETEE:
            return "Aucun : demande rejetée avant la fabrication"
        if self.status == ANNULEE:
            return "Aucun : demande annulée avant la fabrication"
        return "Aucun"

    def cards_left_to_hand_over(self) -> list:
        return [c for c in self.cards if c.going_on and c.card_number and c.handed_over_at is None]

    def card_of(self, official_id: str) -> Card | None:
        return next((card for card in self.cards if card.official_id == official_id), None)

    # --- retention ----------------------------------------------------------------------------------------------

    def files_forgotten(self, officials: list, reason: str) -> tuple[Change, list, list]:
        """Step 1 of the purge: the order forgets its files and records which to delete; each official whose photo
        is still the one this order used (and whom no new order holds) loses it. Returns the order's change, the
        officials' changes and the keys to delete."""
        keys: list = []
        official_changes = []
        for card, official in zip(self.cards, officials):
            current = official.kept_files() if official else set()
            keys.append(card.card_key)
            if official is not None and card.photo_key and official.photo_key == card.photo_key \
                    and not official.active_order_id:
                keys += sorted(official.kept_files())
                official_changes.append(official.delete_photos(card.photo_key, reason))
            else:
                # The official is gone (their files went with them), has a newer photo, or a new order holds it.
                keys += [key for key in (card.photo_key, card.preview_key) if key not in current]
        keys = sorted({key for key in keys if key})
        cards = [Card(**{**vars(card), "photo_key": None, "preview_key": None, "card_key": None})
                 for card in self.cards]
        change = Change(self, {"cards": cards, "purge_keys": keys}, {"purge_after": PRESENT, "purge_keys": None})
        return change, official_changes, keys

    def photos_purged(self, at: datetime) -> Change:
        """Step 3: the files are deleted; the order leaves the purge's queue."""
        return Change(self, {"purge_after": None, "purge_keys": None, "photos_deleted_at": at},
                      {"purge_after": PRESENT})


def problems_of(officials: list) -> list[dict]:
    """Why each of these officials cannot be ordered now (``Official.why_not_orderable``), in their order."""
    problems = []
    for official in officials:
        problem = official.why_not_orderable()
        if problem:
            problems.append({"official_id": official.official_id, "code": problem[0], "message": problem[1]})
    return problems


def officials_not_ready(problems: list) -> Refused:
    return Refused("officials_not_ready", "Certains élus ne peuvent pas être commandés pour l'instant.",
                   details=problems)
