"""A card's own life, from its number to its destruction (docs/cards.md): the card registry's record, its statuses
and who moves it where, hand-over card by card in the two ways préfectures practise, loss and theft, return and
destruction, and why a card is ordered.

An order (``domain/orders.py``) is what a commune asked for; a card is what exists once the card maker numbers it,
and lives on after its order is closed, as a préfecture's registry of police municipale cards does. Plain Python: the
store maps it to its own table, keyed by the card number. Every move returns the ``Change`` to write, relying on the
status it was read in (two agents handing the same card over at once: one succeeds, the other is refused).
"""
from datetime import date, datetime, timedelta
from typing import NamedTuple

from .changes import Append, Change, Refused, entity
from .roles import COMMUNE, MANUFACTURER, MINISTRY, PREFECTURE, Principal

EN_FABRICATION = "en_fabrication"
LIVREE = "livree"
REMISE = "remise"
A_RESTITUER = "a_restituer"
RESTITUEE = "restituee"
DETRUITE = "detruite"
PERDUE = "perdue"
VOLEE = "volee"

LABELS = {
    EN_FABRICATION: "En fabrication",
    LIVREE: "Livrée en préfecture",
    REMISE: "Remise",
    A_RESTITUER: "À restituer",
    RESTITUEE: "Restituée",
    DETRUITE: "Détruite",
    PERDUE: "Perdue",
    VOLEE: "Volée",
}
STATUSES = tuple(LABELS)

# Why a card is ordered (each card line of an order says it).
PREMIERE_DEMANDE = "premiere_demande"
PERTE = "perte"
VOL = "vol"
DETERIORATION = "deterioration"
CHANGEMENT_DE_FONCTION = "changement_de_fonction"
NOUVEAU_MANDAT = "nouveau_mandat"
REASON_LABELS = {
    PREMIERE_DEMANDE: "Première demande",
    PERTE: "Perte",
    VOL: "Vol",
    DETERIORATION: "Détérioration",
    CHANGEMENT_DE_FONCTION: "Changement de fonction",
    NOUVEAU_MANDAT: "Nouveau mandat",
}
REASONS = tuple(REASON_LABELS)
# Reasons to order while the official still holds a valid card: that card no longer certifies what it should (worn,
# another function, a mandate that ended), so it is to be given back to the préfecture.
REPLACES_VALID_CARD = frozenset({DETERIORATION, CHANGEMENT_DE_FONCTION, NOUVEAU_MANDAT})
# A loss or a theft is declared first (``declare``): the replacement's reason must match the declaration.
DECLARED_AS = {PERTE: PERDUE, VOL: VOLEE}

# Hand-over, in the two ways of the préfectures: to the official in person, who signs a nominative receipt; or to a
# representative of the town hall, who signs a transfer of responsibility.
TITULAIRE = "titulaire"
REPRESENTANT = "representant"
HAND_OVER_MODES = {TITULAIRE: "Au titulaire, en personne", REPRESENTANT: "À un représentant de la mairie"}

# The cards an official may still use: a card ordered again for them needs a reason that replaces it.
VALID = frozenset({REMISE})
# A card whose loss or theft was declared is void for good: never handed over again, only destroyed if found.
DECLARED = frozenset({PERDUE, VOLEE})


class Move(NamedTuple):
    sources: frozenset
    role: str


# Who moves a card, and from where. The moves the order drives (numbered at production, delivered with its order,
# destroyed when its order is rejected in production) are not taken by people and are not listed here.
MOVES = {
    REMISE: Move(frozenset({LIVREE}), PREFECTURE),
    PERDUE: Move(frozenset({REMISE, A_RESTITUER}), COMMUNE),
    VOLEE: Move(frozenset({REMISE, A_RESTITUER}), COMMUNE),
    RESTITUEE: Move(frozenset({REMISE, A_RESTITUER}), PREFECTURE),
    DETRUITE: Move(frozenset({RESTITUEE, PERDUE, VOLEE}), PREFECTURE),
}


# A wrong move is undone by the same role within this time, when nothing depends on it yet (the official was not
# ordered again, no signed receipt was attached): a hand-over to the wrong card, a return or a destruction recorded
# too early, a declaration made by mistake.
UNDO_WINDOW = timedelta(minutes=10)
UNDOABLE = frozenset({REMISE, RESTITUEE, DETRUITE, PERDUE, VOLEE})
UNDONE = "Annulation : "  # the note of the event an undo appends


class CardEvent(NamedTuple):
    status: str
    at: datetime
    by_role: str
    by: str
    note: str | None = None


@entity
class RegisteredCard:
    card_number: str
    siren: str
    order_id: str  # the order's public id
    official_id: str
    last_name: str
    first_name: str
    sex: str
    function: str
    commune_name: str
    department_code: str
    reason: str
    status: str
    created_at: datetime
    updated_at: datetime
    history: list
    hand_over: dict | None = None  # {mode, representative, at, by}
    declaration: dict | None = None  # {kind, date, circumstances, police_report, at, by}
    receipt_key: str | None = None  # the signed receipt's scan (PDF or JPEG)
    replaces: str | None = None  # the number of the card this one replaces

    @classmethod
    def numbered(cls, order, card, reason: str, replaces: str | None, by: Principal, at: datetime) -> "RegisteredCard":
        """Production starts: the card exists from its number on."""
        return cls(card.card_number, order.siren, order.public_id, card.official_id, card.last_name,
                   card.first_name, card.sex, card.function, order.commune_name, order.department_code, reason,
                   EN_FABRICATION, at, at, [CardEvent(EN_FABRICATION, at, by.role, by.email)], replaces=replaces)

    def created(self) -> Change:
        return Change(self, kind="create")

    @property
    def label(self) -> str:
        return LABELS[self.status]

    @property
    def handed_over_at(self) -> datetime | None:
        return self.hand_over["at"] if self.hand_over else None

    def visible_to(self, principal: Principal) -> bool:
        """The commune sees its own cards, the préfecture those of its département, the card maker and the ministry all."""
        if principal.role == COMMUNE:
            return principal.siren == self.siren
        if principal.role == PREFECTURE:
            return principal.department_code == self.department_code
        return principal.role in (MANUFACTURER, MINISTRY)

    # --- moves driven by the order or the directory (the order's are written on a ``CardKey``) -----------------

    def to_return(self, by: Principal, at: datetime, note: str) -> Change | None:
        """The card no longer certifies what it should (mandate ended, function changed, replaced after damage):
        the official gives it back. None when it is not in use (nothing to give back)."""
        if self.status != REMISE:
            return None
        return self._moved(A_RESTITUER, by, at, note, {})

    # --- moves taken by people ----------------------------------------------------------------------------------

    def hand_over_to(self, by: Principal, mode: str, representative: dict | None, at: datetime) -> Change:
        """The préfecture hands the card over, to the official in person or to a representative of the town hall."""
        self._check(REMISE, by)
        if mode == REPRESENTANT:
            representative = {k: " ".join(str((representative or {}).get(k) or "").split())
                              for k in ("last_name", "first_name", "quality")}
            missing = [k for k, v in representative.items() if not v]
            if missing:
                raise Refused("invalid_request", "Indiquez le nom, le prénom et la qualité du représentant de la "
                              "mairie.", details={f"representative.{k}": "Champ obligatoire." for k in missing})
        elif mode == TITULAIRE:
            representative = None
        else:
            raise Refused("invalid_request", "Mode de remise inconnu.", details={"mode": "titulaire ou representant"})
        note = HAND_OVER_MODES[mode] + (
            f" : {representative['first_name']} {representative['last_name']}, {representative['quality']}"
            if representative else "")
        return self._moved(REMISE, by, at, note, {"hand_over": {
            "mode": mode, "representative": representative, "at": at, "by": by.email}})

    def declare(self, by: Principal, kind: str, on: date, circumstances: str, police_report: str | None,
                at: datetime) -> Change:
        """The commune declares the card lost or stolen: void for good (a theft needs the police report's
        reference)."""
        target = DECLARED_AS.get(kind)
        if target is None:
            raise Refused("invalid_request", "Indiquez s'il s'agit d'une perte ou d'un vol.",
                          details={"kind": "perte ou vol"})
        circumstances = " ".join((circumstances or "").split())
        police_report = " ".join((police_report or "").split()) or None
        problems = {}
        if not circumstances:
            problems["circumstances"] = "Décrivez les circonstances."
        if kind == VOL and not police_report:
            problems["police_report"] = "Indiquez la référence du dépôt de plainte (obligatoire pour un vol)."
        if on > at.date():
            problems["date"] = "La date ne peut pas être dans le futur."
        if problems:
            raise Refused("invalid_request", " ".join(problems.values()), details=problems)
        self._check(target, by)
        note = f"{REASON_LABELS[kind]} du {on:%d/%m/%Y}"
        return self._moved(target, by, at, note, {"declaration": {
            "kind": kind, "date": on.isoformat(), "circumstances": circumstances, "police_report": police_report,
            "at": at, "by": by.email}})

    def returned(self, by: Principal, at: datetime) -> Change:
        self._check(RESTITUEE, by)
        return self._moved(RESTITUEE, by, at, None, {})

    def destroyed(self, by: Principal, at: datetime) -> Change:
        self._check(DETRUITE, by)
        return self._moved(DETRUITE, by, at, None, {})

    def receipt_attached(self, by: Principal, key: str) -> Change:
        """The receipt the official or the representative signed, scanned, kept with the card."""
        if not self.visible_to(by) or by.role != PREFECTURE:
            raise not_found()
        if self.status != REMISE and not self.hand_over:
            raise Refused("not_handed_over", f"La carte n° {self.card_number} n'a pas encore été remise : le "
                          "récépissé signé se joint après la remise.")
        return Change(self, {"receipt_key": key}, {"status": self.status})

    # --- undo -----------------------------------------------------------------------------------------------------

    def undoable_by(self, role: str, now: datetime) -> CardEvent | None:
        """The last move, if ``role`` made it less than ``UNDO_WINDOW`` ago and it can be undone; else None."""
        last = self.history[-1]
        if (len(self.history) < 2 or last.status not in UNDOABLE or last.by_role != role
                or (last.note or "").startswith(UNDONE) or now - last.at > UNDO_WINDOW):
            return None
        if last.status == REMISE and self.receipt_key:
            return None  # the signed receipt says it happened
        return last

    def undo(self, by: Principal, now: datetime) -> Change:
        """The last move undone: the card is back in the status it had, the event kept in its history."""
        if not self.visible_to(by):
            raise not_found()
        last = self.undoable_by(by.role, now)
        if last is None:
            raise Refused("not_undoable", f"La dernière opération sur la carte n° {self.card_number} ne peut plus être "
                          "annulée : elle date de plus de 10 minutes, a été faite par un autre profil, ou un récépissé "
                          "signé y est joint.")
        previous = self.history[-2].status
        sets = {"status": previous, "updated_at": now,
                "history": self.history + [CardEvent(previous, now, by.role, by.email, UNDONE + f"« {LABELS[last.status]} »")]}
        if last.status == REMISE:
            sets["hand_over"] = None
        if last.status in DECLARED:
            sets["declaration"] = None
        return Change(self, sets, {"status": self.status, "updated_at": self.updated_at})

    # --- rules ----------------------------------------------------------------------------------------------------

    def _check(self, target: str, by: Principal) -> None:
        if not self.visible_to(by):
            raise not_found()
        move = MOVES[target]
        if by.role != move.role:
            raise Refused("forbidden", "Votre profil ne permet pas cette opération sur une carte.")
        if self.status in move.sources:
            return
        number = f"La carte n° {self.card_number}"
        if target == REMISE and self.status == REMISE:
            raise Refused("already_handed_over", f"{number} a déjà été remise le {self.handed_over_at:%d/%m/%Y}.")
        if target == REMISE and self.status in DECLARED:
            raise Refused("card_declared", f"{number} a été déclarée {LABELS[self.status].lower()} : elle ne peut "
                          "plus être remise. Détruisez-la.")
        if target == DETRUITE:
            raise Refused("card_in_use", f"{number} est « {self.label} » : une carte n'est détruite qu'une fois "
                          "restituée, ou après une déclaration de perte ou de vol.")
        raise Refused("invalid_card_transition",
                      f"{number} est « {self.label} » : impossible de la passer à « {LABELS[target]} ».")

    def _moved(self, status: str, by: Principal, at: datetime, note: str | None, sets: dict) -> Change:
        event = CardEvent(status, at, by.role, by.email, note)
        return Change(self, {"status": status, "updated_at": at, "history": self.history + [event], **sets},
                      {"status": self.status})


@entity
class CardKey:
    """A card of the registry as its order knows it (its number and département): enough for the moves the order
    drives, written without reading the card. Each relies on the status the card must still be in, and appends its
    event to the card's history."""

    card_number: str
    department_code: str

    def moved(self, expected: str, status: str, by: Principal, at: datetime, note: str | None = None,
              **sets) -> Change:
        return Change(self, {"status": status, "updated_at": at,
                             "history": Append([CardEvent(status, at, by.role, by.email, note)]), **sets},
                      {"status": expected})

    def handed_over(self, by: Principal, at: datetime) -> Change:
        """To the official in person, with the whole order (« Remise à l'élu » on the order)."""
        return self.moved(LIVREE, REMISE, by, at, HAND_OVER_MODES[TITULAIRE],
                          hand_over={"mode": TITULAIRE, "representative": None, "at": at, "by": by.email})


def not_found() -> Refused:
    return Refused("not_found", "Cette carte n'existe pas.")


# --- why a card is ordered ----------------------------------------------------------------------------------------

def reason_for(official, requested: str | None) -> str:
    """The reason of an official's card line: the one asked, checked against the card the official holds (the
    official's ``held_card_*``, kept in step with the registry), or the one that follows from it. ``Refused`` with
    ``card_already_issued`` when the official holds a valid card and no reason replaces it."""
    name = f"{official.first_name} {official.last_name}"
    status = official.held_card_status
    if requested is not None and requested not in REASON_LABELS:
        raise Refused("invalid_request", f"{name} : motif de la demande inconnu.",
                      details={"reason": ", ".join(REASONS)})
    if status in VALID:
        if requested in REPLACES_VALID_CARD:
            return requested
        held = f"la carte n° {official.held_card_number}, remise le {official.held_card_handed_over_at:%d/%m/%Y}"
        hint = (" Déclarez d'abord sa perte ou son vol depuis la page « Cartes »." if requested in DECLARED_AS else
                " Indiquez le motif d'une nouvelle carte : détérioration, changement de fonction ou nouveau mandat ; "
                "en cas de perte ou de vol, déclarez-la d'abord depuis la page « Cartes ».")
        raise Refused("card_already_issued", f"{name} détient déjà {held}.{hint}",
                      details=[{"official_id": official.official_id, "card_number": official.held_card_number,
                                "handed_over_at": official.held_card_handed_over_at.isoformat()}])
    if requested in DECLARED_AS and status != DECLARED_AS[requested]:
        raise Refused("declaration_required", f"{name} : aucune {REASON_LABELS[requested].lower()} de carte n'a été "
                      "déclarée. Déclarez-la d'abord depuis la page « Cartes ».",
                      details=[{"official_id": official.official_id, "reason": requested}])
    if requested is not None:
        return requested
    return {PERDUE: PERTE, VOLEE: VOL}.get(status, PREMIERE_DEMANDE)


def replaces(official, reason: str) -> str | None:
    """The card number a new card replaces: the official's last card when there is one, else None."""
    return official.held_card_number if reason != PREMIERE_DEMANDE else None
