"""Officials a commune declares before the national directory lists them, and the préfecture's review.

The directory lagged the March 2026 elections by about seven weeks: a newly elected mayor could not be ordered a card
until the next snapshot. The commune declares the official (``Official.declare``: the same key the directory will give
that person) and sends the procès-verbal d'élection as a PDF, through a presigned POST like a photo's; the image
function checks the file (``process_proof``) and the declaration goes to the préfecture of the département, which
validates or refuses it with a reason; the commune's agents are told by e-mail. Only a validated declaration can be
ordered (``Official.why_not_orderable``). A later directory import links the declaration to its row (``link_all``);
one still absent after ``DECLARATION_GRACE`` is flagged to the préfecture.
"""
import logging

from ..domain import file_types
from ..domain.changes import Conflict, Refused
from ..domain.officials import Official
from ..domain.roles import Principal
from . import directory, notifications
from .collaborators import Collaborators
from .officials import UPLOADS, not_found, official_prefix, save_new, start_upload

log = logging.getLogger(__name__)
audit = logging.getLogger("portal.audit")

MAX_PROOF_BYTES = 10 * 1024 * 1024  # a scanned procès-verbal of a few pages
PROOF_SUFFIX = ".pdf"


def declare(c: Collaborators, principal: Principal, person: dict, function: str) -> tuple[Official, dict]:
    """A new declared official and the presigned POST for its procès-verbal."""
    official = Official.declare(principal, person, function, c.now())
    if directory.listed_person(official.insee_code, official.official_id) is not None:
        raise Refused("already_in_directory", "Cet élu figure déjà au répertoire national des élus : choisissez-le "
                      "dans la liste des élus de la commune.")
    save_new(c, official)
    audit.info("official declared", extra={"event": "official_declared", "siren": principal.siren,
                                           "official": official.official_id, "by": principal.email})
    return official, start_proof_upload(c, principal, official.official_id, official)


def start_proof_upload(c: Collaborators, principal: Principal, official_id: str,
                       official: Official | None = None) -> dict:
    uow = c.unit_of_work()
    read, uploads = uow.read([uow.officials.ref(principal.siren, official_id),
                              uow.attempts_ref(UPLOADS, principal.siren)], consistent=official is not None)
    official = official or read
    if official is None:
        raise not_found()
    official.may_send_proof()
    return start_upload(c, uow, principal, official_id, uploads, "proof-{}" + PROOF_SUFFIX, "application/pdf",
                        MAX_PROOF_BYTES)


def is_proof(key: str) -> bool:
    return key.endswith(PROOF_SUFFIX)


def process_proof(c: Collaborators, key: str) -> None:
    """The image function: a procès-verbal arrived. A PDF is kept beside the official's photos and the declaration
    goes to the préfecture; anything else is dropped and the commune sees why."""
    files = c.files
    uow = c.unit_of_work()
    parts = key[len(files.PHOTOS_PREFIX):].split("/")  # <siren>/<official id>/proof-<attempt>.pdf
    upload, official = uow.read([uow.photo_uploads.ref(key), uow.officials.ref(*parts[:2])]) \
        if len(parts) == 3 else (None, None)
    if upload is None or (upload.siren, upload.official_id) != tuple(parts[:2]):
        files.delete_objects([key])  # already processed, or never asked for
        return
    head = files.read_object(key, MAX_PROOF_BYTES)
    kept = f"{official_prefix(files, upload.siren, upload.official_id)}proof-{upload.attempt_id}{PROOF_SUFFIX}"
    work = c.unit_of_work()
    try:
        change = None if official is None else _proof_change(official, head, kept)
    except Refused:
        change = None  # decided meanwhile (or not a declaration): the file is no longer needed
    if change is not None:
        if change.sets.get("proof_key") == kept:
            files.copy_object(key, kept, "application/pdf")
        work.add(change)
    work.add(upload.done())
    try:
        work.commit()
    except Conflict:
        log.info("declaration moved meanwhile: proof dropped", extra={"official": upload.official_id})
        files.delete_objects([kept])
        done = c.unit_of_work()
        done.add(upload.done())
        done.commit()
    files.delete_objects([key])


def _proof_change(official: Official, head: bytes | None, kept: str):
    if head is None:
        return official.proof_rejected(f"Le fichier dépasse {MAX_PROOF_BYTES // (1024 * 1024)} Mo : envoyez un "
                                       "procès-verbal plus léger.")
    if not file_types.is_pdf(head):
        return official.proof_rejected("Le fichier envoyé n'est pas un PDF : envoyez le procès-verbal d'élection au "
                                       "format PDF.")
    return official.proof_received(kept)


# --- the préfecture -----------------------------------------------------------------------------------------------

def list_declarations(c: Collaborators, principal: Principal, status: str, cursor: str | None) -> tuple:
    """A page of the préfecture's declarations in ``status``, and the cursor of the next page."""
    return c.unit_of_work().officials.page_of_declarations(principal.department_code, status, cursor)


def review(c: Collaborators, principal: Principal, siren: str, official_id: str, decision: str,
           reason: str | None) -> Official:
    uow = c.unit_of_work()
    official, commune = uow.read([uow.officials.ref(siren, official_id), uow.communes.ref(siren)])
    if official is None:
        raise Refused("not_found", "Cette déclaration n'existe pas.")
    uow.add(official.review_declaration(principal, decision == "validate", reason, c.now()))
    try:
        uow.commit()
    except Conflict:
        raise Refused("declaration_not_pending", "Cette déclaration a déjà été examinée.") from None
    audit.info("declaration reviewed", extra={"event": "declaration_reviewed", "siren": siren,
                                              "official": official_id, "decision": decision, "by": principal.email})
    notifications.declaration_reviewed(official, commune.agent_emails if commune else frozenset())
    return official


# --- the directory catches up -------------------------------------------------------------------------------------

def link_all(c: Collaborators) -> dict:
    """After a directory import, and daily: each declared official the directory now lists is linked to it; one
    still absent ``DECLARATION_GRACE`` after its declaration is flagged to the préfecture (once)."""
    linked = flagged = 0
    now = c.now()
    for official in c.unit_of_work().officials.awaiting_directory():
        person = directory.listed_person(official.insee_code, official.official_id)
        change = (official.linked_to_directory(person, now) if person is not None
                  else official.declaration_overdue(now))
        if change is None:
            continue
        uow = c.unit_of_work()
        uow.add(change)
        try:
            uow.commit()
        except Conflict:
            continue  # linked or flagged by another run meanwhile
        if person is not None:
            linked += 1
        else:
            flagged += 1
    if linked or flagged:
        log.info("declarations caught up", extra={"linked": linked, "flagged": flagged})
    return {"linked": linked, "flagged": flagged}
