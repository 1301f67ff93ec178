"""An elected official that a commune registered for a card, and the life of their photo.

Plain Python (the store maps it to DynamoDB). Each rule below either refuses (``Refused``, with the API's stable code
and a French message) or returns the ``Change`` to write, naming what it relied on so that the write fails if that
changed meanwhile (``domain/changes.py``).

The photo's life (``PHOTO_MOVES``): a photo is *missing* until a first upload; each upload or re-crop is an *attempt*
with a time-ordered id, *processing* while the image function works on it; the attempt ends *ready* (the photo is
kept, replacing the previous one) or *rejected* (the previous photo, if any, stays). The photos are *deleted* by the
retention purge some time after the card's order closed (``domain/orders.py: RETENTION``), and the official is then
shown without a photo, with the reason. While a card is being ordered (``active_order_id``) the photo the commune
acknowledged on the preview cannot change: no new photo, no re-crop, no function change.
"""
from datetime import date, datetime, timedelta
from typing import NamedTuple

from . import cards, functions, photo_checks
from .changes import Below, Change, Refused, entity
from .eligibility import MINIMUM_AGE, adult_on
from .names import InvalidName, person_key, person_name
from .roles import COMMUNE, PREFECTURE, Principal

MISSING, PROCESSING, READY, REJECTED = "missing", "processing", "ready", "rejected"
PHOTO_STATUSES = (MISSING, PROCESSING, READY, REJECTED)  # the preview uses missing, processing and ready

# Who makes a photo move, besides the commune's agents: the image function (S3 and queue events) and the scheduled
# retention purge.
IMAGE_FUNCTION = "image_function"
RETENTION_PURGE = "retention_purge"


class PhotoMove(NamedTuple):
    by: str
    target: str  # the photo status after the move
    rule: str  # when the move is allowed, in words (the method of the same name says it in code)


PHOTO_MOVES = {
    "start_attempt": PhotoMove(IMAGE_FUNCTION, PROCESSING,
                               "a file arrived for an attempt newer than the kept photo"),
    "request_recrop": PhotoMove(COMMUNE, PROCESSING,
                                "an original was sent, and no card is being ordered with the kept photo"),
    "keep_photo": PhotoMove(IMAGE_FUNCTION, READY,
                            "the attempt is newer than the kept photo, and no card is being ordered with it"),
    "reject_attempt": PhotoMove(IMAGE_FUNCTION, REJECTED,
                                "the attempt is still the one being processed (the kept photo stays)"),
    "delete_photos": PhotoMove(RETENTION_PURGE, MISSING,
                               "the photo is still the one the closed order used, and no new order holds it"),
}


# Where an official comes from: the national directory, or the commune's own declaration (an official elected since
# the directory's last snapshot: it lagged the March 2026 elections by about seven weeks).
RNE, DECLARED = "rne", "declared"
# A declaration's life: the procès-verbal is awaited (its upload is checked by the image function), then the
# préfecture of the département validates or refuses it; only a validated one can be ordered.
AWAITING_PROOF, PENDING, VALIDATED, REFUSED = "awaiting_proof", "pending", "validated", "refused"
DECLARATION_LABELS = {
    AWAITING_PROOF: "En attente du procès-verbal",
    PENDING: "En attente de validation par la préfecture",
    VALIDATED: "Validée par la préfecture",
    REFUSED: "Refusée par la préfecture",
}
DECLARATION_GRACE = timedelta(days=90)  # a declared official still absent from the directory is then flagged
MANDATE_YEARS = 6  # a municipal mandate: an election date older than that cannot be a current mandate's


def _check_mover(move: str, by: str) -> None:
    if PHOTO_MOVES[move].by != by:
        raise Refused("forbidden", "Cette action sur la photo n'est pas permise à votre profil.")


def card_in_progress() -> Refused:
    return Refused("card_in_progress",
                   "Une carte est en cours de commande pour cet élu : attendez sa remise ou annulez la demande.")


@entity
class Official:
    siren: str
    official_id: str  # the person's directory key: a commune registers a person once
    insee_code: str
    last_name: str
    first_name: str
    sex: str
    birth_date: str  # ISO date
    mandate_start: str  # ISO date
    function: str
    eligible_functions: list
    commune_label: str
    department_label: str
    created_at: datetime
    photo_status: str = MISSING  # of the latest attempt
    photo_reason: str | None = None  # why the latest attempt was rejected, or why the photo was deleted
    processing_id: str | None = None  # the attempt being processed
    photo_id: str | None = None  # the attempt whose photo is kept: older attempts never replace it
    photo_key: str | None = None
    original_key: str | None = None
    crop: dict | None = None
    photo_checks: list | None = None  # the photo assistant's verdicts [{code, level, message}]
    proposed_crop: dict | None = None
    preview_status: str = MISSING
    preview_key: str | None = None
    active_order_id: str | None = None  # the card order in progress, if any
    delivered_order_id: str | None = None  # the order whose card was last handed over
    # The official's latest card in the registry (domain/cards.py), kept in step with it in the same writes: an order
    # reads it with the official, and a card still valid is not ordered again without a reason that replaces it.
    held_card_number: str | None = None
    held_card_status: str | None = None
    held_card_handed_over_at: datetime | None = None
    mandate_ended_at: datetime | None = None  # the directory no longer holds the card's function
    # Officials the commune declared before the directory lists them (``declare``); "rne" for the others.
    origin: str = RNE
    department_code: str | None = None  # declared officials: the préfecture that reviews the declaration
    declaration_status: str | None = None  # AWAITING_PROOF -> PENDING -> VALIDATED | REFUSED
    election_date: str | None = None  # ISO date, as the procès-verbal says
    proof_key: str | None = None  # the procès-verbal d'élection (PDF) in the data bucket
    declaration_reason: str | None = None  # why the préfecture refused it, or why the proof was not taken
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    rne_linked_at: datetime | None = None  # a directory import brought the same person
    overdue_flagged_at: datetime | None = None  # still not in the directory DECLARATION_GRACE after the declaration
    # The last write of the record, set by the store on every write (``store/unit_of_work.py``), so that no use case
    # can forget it; None on records written before it existed (``changed_at``: their creation).
    updated_at: datetime | None = None

    @property
    def changed_at(self) -> datetime:
        """When the record last changed, as a program syncing with ``updated_since`` sees it."""
        return self.updated_at or self.created_at

    # --- registration and function ------------------------------------------------------------------------------

    @classmethod
    def register(cls, siren: str, person: dict, function: str, at: datetime) -> "Official":
        """A person of the commune's directory, registered for a card with one of the functions they hold."""
        check_function(function, person["eligible_functions"], person["sex"])
        return cls(siren, person["person_key"], insee_code=person["insee_code"], last_name=person["last_name"],
                   first_name=person["first_name"], sex=person["sex"], birth_date=person["birth_date"],
                   mandate_start=person["mandate_start"], function=function,
                   eligible_functions=list(person["eligible_functions"]), commune_label=person["commune_label"],
                   department_label=person["department_label"] or "", created_at=at)

    @classmethod
    def declare(cls, by: Principal, person: dict, function: str, at: datetime) -> "Official":
        """An official the commune declares by hand, before the directory lists them: ``person`` holds
        last_name, first_name, sex, birth_date and election_date (ISO dates). Their key is the one the directory
        will give the same person (``names.person_key``), so that a later import links them. Refused
        (``invalid_declaration``, field by field) when the declaration cannot be true."""
        problems = {}
        names = {}
        for field, what in (("last_name", "Le nom"), ("first_name", "Le prénom")):
            raw = str(person.get(field) or "")
            try:
                names[field] = person_name(raw, what)  # the raw text: a line break is refused, not made a space
            except InvalidName as invalid:
                problems[field] = "Champ obligatoire." if not raw.strip() else str(invalid)
        last_name, first_name = names.get("last_name", ""), names.get("first_name", "")
        sex = str(person.get("sex") or "").strip().upper()
        if sex not in ("M", "F"):
            problems["sex"] = "Indiquez le sexe de l'élu (M ou F)."
        if function not in functions.FUNCTIONS:
            problems["function"] = "Fonction non ouverte à une carte."
        birth, elected = _iso_date(person.get("birth_date")), _iso_date(person.get("election_date"))
        today = at.date()
        if elected is None:
            problems["election_date"] = "Indiquez une date d'élection valide."
        elif elected > today:
            problems["election_date"] = "La date de l'élection ne peut pas être dans le futur."
        elif elected.year < today.year - MANDATE_YEARS:
            problems["election_date"] = f"Un mandat municipal dure {MANDATE_YEARS} ans : cette élection est trop ancienne."
        if birth is None:
            problems["birth_date"] = "Indiquez une date de naissance valide."
        elif elected is not None and not adult_on(birth, elected):
            problems["birth_date"] = f"L'élu doit avoir au moins {MINIMUM_AGE} ans le jour de l'élection."
        if problems:
            raise Refused("invalid_declaration", "La déclaration de l'élu est incomplète ou incohérente.",
                          details=problems)
        return cls(by.siren, person_key(by.insee_code, last_name, first_name, birth), insee_code=by.insee_code,
                   last_name=last_name, first_name=first_name, sex=sex, birth_date=birth.isoformat(),
                   mandate_start=elected.isoformat(), function=function, eligible_functions=[function],
                   commune_label=by.commune_name or "", department_label=person.get("department_label") or "",
                   created_at=at, origin=DECLARED, department_code=by.department_code,
                   declaration_status=AWAITING_PROOF, election_date=elected.isoformat())

    def registered(self) -> Change:
        return Change(self, kind="create")  # refused if the commune already registered the person

    def change_function(self, function: str) -> Change | None:
        """None when the function is already this one. The preview is redrawn for the new function."""
        check_function(function, self.eligible_functions, self.sex)
        if function == self.function:
            return None
        if self.active_order_id:
            raise card_in_progress()
        sets = {"function": function}
        if self.photo_key:
            sets["preview_status"] = PROCESSING
        return Change(self, sets, {"active_order_id": None, "function": self.function})

    def preview_redrawn(self, preview_key: str) -> Change:
        """The image function drew the preview again; it counts only if the photo is still the one drawn."""
        return Change(self, {"preview_key": preview_key, "preview_status": READY}, {"photo_key": self.photo_key})

    def removable(self) -> Change:
        if self.active_order_id:
            raise card_in_progress()
        return Change(self, expects={"active_order_id": None}, kind="delete")

    @property
    def needs_preview(self) -> bool:
        """A function change was recorded but its preview was not asked for (the request was cut short)."""
        return bool(self.photo_key) and self.preview_status == PROCESSING

    # --- the photo's moves --------------------------------------------------------------------------------------

    def may_start_upload(self) -> None:
        """The commune may send a new photo unless a card is being made from the acknowledged one."""
        if self.active_order_id:
            raise card_in_progress()

    def request_recrop(self, by: str = COMMUNE) -> Change:
        _check_mover("request_recrop", by)
        if not self.original_key:
            raise Refused("no_original", "Aucune photo n'a encore été envoyée pour cet élu.")
        if self.active_order_id:
            raise card_in_progress()
        return Change(self, {"photo_status": PROCESSING, "photo_reason": None}, {"active_order_id": None})

    def start_attempt(self, attempt: str, by: str = IMAGE_FUNCTION) -> Change:
        """The image function starts on an attempt. A stale one (older than the kept photo) is refused."""
        _check_mover("start_attempt", by)
        if self.photo_id is not None and self.photo_id >= attempt:
            raise Refused("stale_attempt", "Une photo plus récente est déjà retenue.")
        return Change(self, {"photo_status": PROCESSING, "processing_id": attempt, "photo_reason": None},
                      {"photo_id": Below(attempt)})

    def start_recrop(self, attempt: str, by: str = IMAGE_FUNCTION) -> Change:
        """The image function starts re-cropping the kept original (the status was set by ``request_recrop``)."""
        _check_mover("start_attempt", by)
        if not self.original_key:
            raise Refused("no_original", "Aucune photo n'a encore été envoyée pour cet élu.")
        if self.photo_id is not None and self.photo_id >= attempt:
            raise Refused("stale_attempt", "Une photo plus récente est déjà retenue.")
        return Change(self, {"processing_id": attempt}, {"photo_id": Below(attempt)})

    def keep_photo(self, attempt: str, *, photo_key: str, original_key: str, preview_key: str, crop: dict,
                   analysis: dict | None, by: str = IMAGE_FUNCTION) -> Change:
        """The attempt's photo becomes the official's photo, with its preview and the assistant's verdicts."""
        _check_mover("keep_photo", by)
        return Change(self, {
            "photo_id": attempt, "photo_status": READY, "photo_reason": None, "photo_key": photo_key,
            "original_key": original_key, "crop": crop, "preview_key": preview_key, "preview_status": READY,
            "photo_checks": analysis["checks"] if analysis else None,
            "proposed_crop": analysis["proposed_crop"] if analysis else None,
        }, {"photo_id": Below(attempt), "active_order_id": None})

    def files_replaced_by(self, original_key: str) -> list[str]:
        """The stored files a kept photo makes useless (the previous photo, preview and original)."""
        replaced = [self.photo_key, self.preview_key]
        if self.original_key != original_key:
            replaced.append(self.original_key)
        return [key for key in replaced if key]

    def reject_attempt(self, attempt: str, reason: str, by: str = IMAGE_FUNCTION) -> Change:
        """Why the attempt failed. A newer attempt in progress has the last word (then the write fails)."""
        _check_mover("reject_attempt", by)
        return Change(self, {"photo_status": REJECTED, "photo_reason": reason}, {"processing_id": attempt})

    def delete_photos(self, photo_key: str, reason: str, by: str = RETENTION_PURGE) -> Change:
        """The retention purge deletes the photo a closed order used, if it is still the official's and no new
        order holds it."""
        _check_mover("delete_photos", by)
        return Change(self, {"photo_status": MISSING, "photo_reason": reason, "photo_key": None,
                             "original_key": None, "preview_key": None, "preview_status": MISSING, "crop": None,
                             "photo_checks": None, "proposed_crop": None},
                      {"photo_key": photo_key, "active_order_id": None})

    def kept_files(self) -> set:
        return {key for key in (self.photo_key, self.original_key, self.preview_key) if key}

    # --- ordering -----------------------------------------------------------------------------------------------

    @property
    def photo_blocks_ordering(self) -> bool:
        return photo_checks.blocks_ordering(self.photo_checks)

    def why_not_orderable(self) -> tuple[str, str] | None:
        """(code, French message) when no card may be ordered for the official now, else None."""
        name = f"{self.first_name} {self.last_name}"
        if self.origin == DECLARED and self.declaration_status != VALIDATED:
            return "declaration_not_validated", name + {
                AWAITING_PROOF: " : la déclaration attend le procès-verbal d'élection.",
                PENDING: " : la déclaration attend la validation de la préfecture.",
                REFUSED: f" : la préfecture a refusé la déclaration ({self.declaration_reason}).",
            }.get(self.declaration_status, " : la déclaration n'est pas validée.")
        if not self.photo_key:
            return "photo_not_ready", f"{name} : la photo n'est pas prête."
        if self.active_order_id:
            return "card_in_progress", f"{name} : une carte est déjà en cours."
        if self.preview_status != READY:
            return "photo_not_ready", (f"{name} : l'aperçu de la carte est en cours de préparation, réessayez dans "
                                       "quelques secondes.")
        if self.photo_blocks_ordering:
            reasons = " ".join(c["message"] for c in photo_checks.blocking_checks(self.photo_checks))
            return "photo_not_conforming", f"{name} : la photo ne convient pas. {reasons}"
        return None

    # --- declarations -------------------------------------------------------------------------------------------

    def proof_received(self, proof_key: str) -> Change:
        """The procès-verbal arrived and is a PDF: the declaration goes to the préfecture. A new proof may replace
        the previous one until the préfecture has decided."""
        self.may_send_proof()
        return Change(self, {"proof_key": proof_key, "declaration_status": PENDING, "declaration_reason": None},
                      {"declaration_status": self.declaration_status})

    def may_send_proof(self) -> None:
        """A procès-verbal is taken until the préfecture has decided."""
        if self.origin != DECLARED:
            raise Refused("not_declared", "Cet élu figure au répertoire national : aucun procès-verbal n'est demandé.")
        if self.declaration_status not in (AWAITING_PROOF, PENDING):
            raise Refused("declaration_reviewed", "La préfecture a déjà examiné cette déclaration.")

    def proof_rejected(self, reason: str) -> Change:
        """The file sent is not a usable proof: the commune sees why (a proof received before stays)."""
        self.may_send_proof()
        return Change(self, {"declaration_reason": reason}, {"declaration_status": self.declaration_status})

    def review_declaration(self, by: Principal, accepted: bool, reason: str | None, at: datetime) -> Change:
        """The préfecture of the official's département validates or refuses (with a reason) a proven declaration."""
        if by.role != PREFECTURE or by.department_code != self.department_code:
            raise Refused("not_found", "Cette déclaration n'existe pas.")  # another département's: not shown
        if self.declaration_status != PENDING:
            raise Refused("declaration_not_pending", {
                AWAITING_PROOF: "Le procès-verbal d'élection n'a pas encore été reçu.",
            }.get(self.declaration_status, "Cette déclaration a déjà été examinée."))
        reason = " ".join((reason or "").split())
        if not accepted and not reason:
            raise Refused("invalid_request", "Indiquez le motif du refus : la commune le recevra.",
                          details={"reason": "Champ obligatoire pour un refus."})
        return Change(self, {"declaration_status": VALIDATED if accepted else REFUSED,
                             "declaration_reason": None if accepted else reason, "reviewed_by": by.email,
                             "reviewed_at": at}, {"declaration_status": PENDING})

    def linked_to_directory(self, person: dict, at: datetime) -> Change | None:
        """A directory import brought the same person: the declaration is linked to the directory's row (and the
        functions the directory gives replace the declared one's eligibility). None when there is nothing to do."""
        if self.origin != DECLARED or self.rne_linked_at is not None:
            return None
        eligible = sorted(set(person["eligible_functions"]) | {self.function}, key=functions.FUNCTIONS.index)
        return Change(self, {"rne_linked_at": at, "eligible_functions": eligible}, {"rne_linked_at": None})

    def declaration_overdue(self, now: datetime) -> Change | None:
        """Still absent from the directory DECLARATION_GRACE after its declaration: flagged (once) to the préfecture."""
        if (self.origin != DECLARED or self.rne_linked_at is not None or self.overdue_flagged_at is not None
                or self.declaration_status == REFUSED or now < self.created_at + DECLARATION_GRACE):
            return None
        return Change(self, {"overdue_flagged_at": now}, {"overdue_flagged_at": None, "rne_linked_at": None})

    def taken_by(self, order_public_id: str, held_card_status: str | None = None) -> Change:
        """The official's card is ordered. The card copies the official as read: nothing of it may have changed
        since (a function changed at the same moment would leave the card with the old function and a preview
        about to be deleted), nor the card they hold. ``held_card_status``: the held card's new status when the new
        one replaces it (to be returned)."""
        sets = {"active_order_id": order_public_id}
        if held_card_status:
            sets["held_card_status"] = held_card_status
        return Change(self, sets, {"active_order_id": None, "photo_key": self.photo_key, "function": self.function,
                                   "preview_key": self.preview_key, "preview_status": READY,
                                   "held_card_status": self.held_card_status})

    def released_by(self, order_public_id: str, handed_over: bool) -> Change:
        return HeldOfficial(self.siren, self.official_id).released_by(order_public_id, handed_over)

    def mandate_ended(self, at: datetime) -> Change:
        return Change(self, {"mandate_ended_at": at})


class HeldCard(NamedTuple):
    number: str
    status: str
    handed_over_at: datetime | None


@entity
class HeldOfficial:
    """An official as an order knows them (its key): enough to release them when the order closes."""

    siren: str
    official_id: str

    def released_by(self, order_public_id: str, handed_over: bool) -> Change:
        sets = {"active_order_id": None}
        if handed_over:
            sets["delivered_order_id"] = order_public_id
        return Change(self, sets, {"active_order_id": order_public_id})

    def card_handed_over(self, order_public_id: str, card_number: str, at: datetime) -> Change:
        """The official's card of this order is handed over: the order no longer holds them, and the card is the
        one they hold."""
        return Change(self, {"active_order_id": None, "delivered_order_id": order_public_id,
                             "held_card_number": card_number, "held_card_status": cards.REMISE,
                             "held_card_handed_over_at": at}, {"active_order_id": order_public_id})

    def photo_refused(self, order_public_id: str, reason: str) -> Change:
        """The card maker refused the photo of this official's card: the order no longer holds them, and the photo
        can no longer be ordered (the commune sends a new one; the refused files go with the order's retention)."""
        return Change(self, {"active_order_id": None, "photo_status": REJECTED,
                             "photo_reason": f"Photo refusée par le fabricant : {reason}", "photo_key": None,
                             "preview_key": None, "preview_status": MISSING, "photo_checks": None,
                             "proposed_crop": None}, {"active_order_id": order_public_id})

    def hand_over_undone(self, order_public_id: str, card_number: str, previous: "HeldCard | None") -> Change:
        """A hand-over undone: the order holds the official again and the card they held before is theirs again.
        Relies on nothing having been ordered for them since (no order holds them, this card is still the one)."""
        return Change(self, {"active_order_id": order_public_id,
                             "held_card_number": previous.number if previous else None,
                             "held_card_status": previous.status if previous else None,
                             "held_card_handed_over_at": previous.handed_over_at if previous else None},
                      {"active_order_id": None, "held_card_number": card_number})

    def held_card_moved(self, card_number: str, status: str) -> Change:
        """The card the official holds changed status in the registry (declared, to return, returned, destroyed)."""
        return Change(self, {"held_card_status": status}, {"held_card_number": card_number})


def check_function(function: str, eligible: list[str], sex: str) -> None:
    """CGCT art. L.2122-34-1, as the directory says it for this person (``domain/functions.py``)."""
    if function not in eligible:
        allowed = ", ".join(functions.function_label(f, sex) for f in eligible) or "aucune"
        raise Refused("function_not_eligible",
                      f"Cet élu ne peut pas recevoir de carte pour cette fonction. Fonctions possibles : {allowed}.",
                      details={"function": "Fonction non ouverte à cet élu."})


def _iso_date(value) -> date | None:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        return None


def display_order(official: Official) -> tuple:
    """How a commune's list shows its officials: mayor first, then deputies, then by name."""
    return functions.FUNCTIONS.index(official.function), official.last_name, official.first_name


@entity
class Registration:
    """The mark, in the commune's directory partition, that the person is registered (the directory shows it): its
    row key is ``KEY_PREFIX`` and the person's key, so one query on the commune gives the directory and the marks."""

    KEY_PREFIX = "registered#"

    insee_code: str
    person_key: str
    siren: str

    @property
    def row_key(self) -> str:
        return self.KEY_PREFIX + self.person_key

    @classmethod
    def of(cls, official: Official) -> "Registration":
        return cls(official.insee_code, official.official_id, official.siren)

    def added(self) -> Change:
        return Change(self, kind="put")  # the official's own creation is what refuses a second registration

    def removed(self) -> Change:
        return Change(self, kind="delete")


@entity
class PhotoUpload:
    """A presigned upload handed to the browser: the crop chosen in the browser waits here for the file."""

    object_key: str
    siren: str
    official_id: str
    attempt_id: str
    crop: dict | None  # none: the photo assistant proposes the framing
    created_at: datetime
    purge_at: datetime

    def started(self) -> Change:
        return Change(self, kind="create")

    def done(self) -> Change:
        return Change(self, kind="delete")
