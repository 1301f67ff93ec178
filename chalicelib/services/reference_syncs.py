"""The RNE files from data.gouv.fr, daily or on an operator's request: each new version goes through the same import as
an operator's upload (same report, same history), and a file that did not arrive whole is never imported.

A sync is requested (``request_sync``: the daily schedule, or ``POST /admin/reference-syncs``) and then run by the
sync worker, a function of its own reached through a queue (``run_sync``): a 65 MB download does not fit in the
API's 29 seconds. Requesting claims the one ``state`` item of the syncs table with a conditional write, so two syncs
never download at once; a claim whose worker died (Lambda timeout) is taken over once it is ``STALE_AFTER`` old.

The worker reads the dataset's description (``/api/1/datasets/<id>/``), finds each kind's resource by its id (the
settings) and else by its title (the old and new spellings, whatever the case and accents), and downloads a resource
only when its checksum or date differs from the last download of that kind (``state.known``). A download streams the
file into an S3 multipart upload under ``incoming/syncs/`` (never more than one part in memory), hashing and counting
it on the way; only when its size and checksum are the published ones is the upload completed, the import created
(``reference_imports.create_import``, source "sync") and the file copied to the import's key, whose S3 event starts
the import like an upload. A cut connection, a timeout, an HTTP error or a wrong checksum aborts the upload: no
object, no import, the directory unchanged, the resource and the sync ``failed`` with a French reason.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from datetime import timedelta
from typing import NamedTuple
from urllib.parse import quote, urlsplit

import urllib3
from pynamodb.exceptions import TransactWriteError, UpdateError

from .. import aws, clock
from ..domain.changes import Refused
from ..domain.names import search_key
from ..errors import PortalError
from ..settings import get_settings
from ..store import files, queues
from ..store.tables import ReferenceSync, SyncedResource, is_condition_failure, transaction
from . import reference_imports

log = logging.getLogger(__name__)

KINDS = ("rne_maires", "rne_cm")
KIND_LABELS = {"rne_maires": "Élus – maires", "rne_cm": "Élus – conseillers municipaux"}
# The resources' titles, old and new (data.gouv.fr renamed them on 2026-08-11), compared as names are
# (names.search_key: without case, accents or punctuation).
TITLES = {
    "rne_maires": ("elus-maires-mai.csv", "elus-maire-mai.csv"),
    "rne_cm": ("elus-conseillers-municipaux-cm.csv", "elus-conseiller-municipal-cm.csv"),
}
STATE_ID = "state"
SCHEDULE = "schedule"  # requested_by of the daily syncs
SYNCS_PREFIX = "incoming/syncs/"  # downloads being received (not notified: only a verified file is copied on)
STALE_AFTER = timedelta(minutes=20)  # over the worker's 5-minute timeout, under its queue's visibility timeout

CONNECT_TIMEOUT = 10.0  # seconds to open a connection
READ_TIMEOUT = 30.0  # seconds without a byte before a download is given up
DOWNLOAD_SECONDS = 240.0  # a whole download, under the worker's timeout, so that its failure is recorded
CHUNK_BYTES = 64 * 1024
PART_BYTES = 8 * 1024 * 1024  # S3 multipart parts (5 MiB at least, but the last)
MAX_DESCRIPTION_BYTES = 5 * 1024 * 1024
HASHES = ("sha1", "sha256", "md5")  # the checksum types data.gouv.fr publishes (sha1 for uploaded files)
USER_AGENT = "carteselus (portail des cartes d'identité des élus)"


class SyncFailed(Exception):
    """The whole sync cannot go on (configuration, the dataset's description): said in French."""


class DownloadFailed(Exception):
    """One resource's file did not arrive whole: said in French."""


class Published(NamedTuple):
    """One resource of the dataset, as data.gouv.fr describes it."""

    resource_id: str
    title: str
    url: str
    last_modified: str | None
    checksum_type: str | None
    checksum: str | None
    filesize: int | None

    @property
    def checksum_label(self) -> str | None:
        return f"{self.checksum_type}:{self.checksum}" if self.checksum else None


# --- requesting a sync (API, schedule) ----------------------------------------------------------------------------

def request_sync(requested_by: str) -> dict:
    """Claims the sync and hands it to the worker; ``Refused("sync_in_progress")`` if another one runs."""
    now = clock.now()
    sync_id = uuid.uuid4().hex
    before = _state()
    record = ReferenceSync(sync_id, status="running", requested_by=requested_by, started_at=now, resources=[])
    try:
        with transaction() as write:
            write.update(ReferenceSync(STATE_ID), actions=[
                ReferenceSync.running_sync_id.set(sync_id), ReferenceSync.running_since.set(now),
                ReferenceSync.latest_sync_id.set(sync_id)],
                condition=ReferenceSync.running_sync_id.does_not_exist()
                | (ReferenceSync.running_since < now - STALE_AFTER))
            write.save(record, condition=ReferenceSync.sync_id.does_not_exist())
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        raise Refused("sync_in_progress", "Une synchronisation avec data.gouv.fr est déjà en cours : attendez "
                      "qu'elle se termine.", details={"sync_id": _state().running_sync_id}) from None
    if before.running_sync_id:  # the claim was taken over from a sync whose worker died
        _abandon(before.running_sync_id)
    try:
        queues.send(queues.SYNCS_QUEUE, {"sync_id": sync_id})
    except Exception:
        _finish(sync_id, [], "La synchronisation n'a pas pu être lancée. Réessayez dans quelques minutes.")
        raise
    log.info("reference sync requested", extra={"sync_id": sync_id, "requested_by": requested_by})
    return _view(record)


def _abandon(sync_id: str) -> None:
    try:
        ReferenceSync(sync_id).update(actions=[
            ReferenceSync.status.set("failed"), ReferenceSync.finished_at.set(clock.now()),
            ReferenceSync.failure.set("La synchronisation ne s'est pas terminée dans le temps imparti : une "
                                      "nouvelle l'a remplacée.")],
            condition=ReferenceSync.status == "running")
    except UpdateError as error:
        if not is_condition_failure(error):
            raise


def describe_sync(sync_id: str) -> dict:
    try:
        item = ReferenceSync.get(sync_id)
    except ReferenceSync.DoesNotExist:
        item = None
    if item is None or sync_id == STATE_ID:
        raise PortalError(404, "not_found", "Cette synchronisation n'existe pas.")
    return _view(item)


def latest_sync() -> dict:
    latest = _state().latest_sync_id
    if not latest:
        raise PortalError(404, "not_found", "Aucune synchronisation avec data.gouv.fr n'a encore eu lieu.")
    return describe_sync(latest)


def _state() -> ReferenceSync:
    try:
        return ReferenceSync.get(STATE_ID)
    except ReferenceSync.DoesNotExist:
        return ReferenceSync(STATE_ID)


def _view(item: ReferenceSync) -> dict:
    return {
        "id": item.sync_id, "status": item.status, "requested_by": item.requested_by,
        "started_at": clock.iso(item.started_at), "finished_at": clock.iso(item.finished_at),
        "failure": item.failure,
        "resources": [{
            "kind": r.kind, "kind_label": KIND_LABELS.get(r.kind, r.kind), "action": r.action,
            "resource_id": r.resource_id, "title": r.title, "url": r.url, "last_modified": r.last_modified,
            "checksum": r.checksum, "filesize": r.filesize, "import_id": r.import_id, "reason": r.reason,
        } for r in item.resources or []],
    }


# --- the worker -----------------------------------------------------------------------------------------------------

def run_sync(sync_id: str) -> None:
    """Run the requested sync; safe to call twice for the same message (a second worker finds it taken)."""
    requested_by = _take(sync_id)
    if requested_by is None:
        return
    done: list[SyncedResource] = []
    failure = None
    try:
        settings = get_settings()
        if not settings.datagouv_url or not settings.datagouv_dataset:
            raise SyncFailed("La synchronisation n'est pas configurée : l'adresse de data.gouv.fr ou le jeu de "
                             "données manque dans les réglages (DATAGOUV_URL, DATAGOUV_DATASET).")
        published = _dataset(settings.datagouv_url, settings.datagouv_dataset)
        stored = _state().known
        known = stored.as_dict() if stored is not None else {}
        for kind, resource_id in settings.datagouv_resources:
            outcome = _sync_resource(sync_id, kind, _find(published, kind, resource_id), known,
                                     settings.datagouv_url, requested_by)
            done.append(outcome)
            _progress(sync_id, done)
        failed = [r for r in done if r.action == "failed"]
        if failed:
            failure = " ".join(f"{KIND_LABELS[r.kind]} : {r.reason}" for r in failed)
    except SyncFailed as error:
        failure = str(error)
    _finish(sync_id, done, failure)


def _take(sync_id: str) -> str | None:
    """This worker takes the sync, if it still runs and no live worker has it: who requested it, else None."""
    now = clock.now()
    item = ReferenceSync(sync_id)
    try:
        item.update(
            actions=[ReferenceSync.worker_at.set(now)],
            condition=(ReferenceSync.status == "running")
            & (ReferenceSync.worker_at.does_not_exist() | (ReferenceSync.worker_at < now - STALE_AFTER)))
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        log.info("sync already taken, finished or unknown: message ignored", extra={"sync_id": sync_id})
        return None
    return item.requested_by or SCHEDULE


def _sync_resource(sync_id: str, kind: str, resource: Published | None, known: dict, base_url: str,
                   by: str) -> SyncedResource:
    if resource is None:
        return SyncedResource(kind=kind, action="failed", reason=(
            "Le jeu de données ne contient pas ce fichier (ni son identifiant réglé, ni un titre "
            f"« {TITLES[kind][0]} » ou « {TITLES[kind][1]} »)."))
    outcome = SyncedResource(kind=kind, action="unchanged", resource_id=resource.resource_id, title=resource.title,
                             url=resource.url, last_modified=resource.last_modified,
                             checksum=resource.checksum_label, filesize=resource.filesize)
    last = known.get(kind)
    if last and last.get("checksum") == resource.checksum_label \
            and last.get("last_modified") == resource.last_modified:
        return outcome
    try:
        outcome.import_id = _download_and_import(sync_id, kind, resource, base_url, by)
    except DownloadFailed as error:
        outcome.action, outcome.reason = "failed", str(error)
        log.warning("reference download failed", extra={"sync_id": sync_id, "kind": kind, "reason": str(error)})
        return outcome
    outcome.action = "downloaded"
    # The kind's last download: what the next syncs compare with, kept at once (a later resource may fail). Only the
    # worker holding the claim writes it.
    known[kind] = {"checksum": resource.checksum_label, "last_modified": resource.last_modified,
                   "resource_id": resource.resource_id, "import_id": outcome.import_id}
    ReferenceSync(STATE_ID).update(actions=[ReferenceSync.known.set(known)])
    return outcome


def _progress(sync_id: str, done: list[SyncedResource]) -> None:
    ReferenceSync(sync_id).update(actions=[ReferenceSync.resources.set(done)])


def _finish(sync_id: str, done: list[SyncedResource], failure: str | None) -> None:
    now = clock.now()
    actions = [ReferenceSync.status.set("failed" if failure else "done"), ReferenceSync.finished_at.set(now),
               ReferenceSync.resources.set(done)]
    if failure:
        actions.append(ReferenceSync.failure.set(failure))
    ReferenceSync(sync_id).update(actions=actions)
    try:
        ReferenceSync(STATE_ID).update(actions=[ReferenceSync.running_sync_id.remove(),
                                                ReferenceSync.running_since.remove()],
                                       condition=ReferenceSync.running_sync_id == sync_id)
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        # the claim was taken over (this worker was too slow): the newer sync holds it
    log.info("reference sync finished", extra={"sync_id": sync_id, "failure": failure,
                                               "actions": {r.kind: r.action for r in done}})


# --- data.gouv.fr -------------------------------------------------------------------------------------------------

_pool: urllib3.PoolManager | None = None


def http() -> urllib3.PoolManager:
    """One connection pool per container: timeouts on connecting and on each read, a few retries of a refused
    connection or a 502/503/504 before any byte of the body is read (never in the middle of a file)."""
    global _pool
    if _pool is None:
        _pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
            retries=urllib3.Retry(total=3, connect=3, read=0, redirect=3, status=2, backoff_factor=0.5,
                                  status_forcelist=(502, 503, 504), allowed_methods=("GET",), raise_on_status=False),
            headers={"User-Agent": USER_AGENT})
    return _pool


def _why(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    text = type(reason).__name__
    return {"ReadTimeoutError": "plus rien reçu depuis 30 s", "ConnectTimeoutError": "connexion impossible",
            "NewConnectionError": "connexion refusée", "ProtocolError": "connexion coupée",
            "IncompleteRead": "connexion coupée", "MaxRetryError": "connexion impossible"}.get(text, text)


def _dataset(base_url: str, dataset_id: str) -> list[Published]:
    url = f"{base_url}/api/1/datasets/{quote(dataset_id, safe='')}/"
    try:
        response = http().request("GET", url, headers={"Accept": "application/json"}, preload_content=False)
        try:
            body = response.read(MAX_DESCRIPTION_BYTES + 1)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as error:
        raise SyncFailed(f"data.gouv.fr n'a pas répondu ({_why(error)}) : réessayez plus tard.") from None
    if response.status != 200:
        raise SyncFailed(f"data.gouv.fr a répondu {response.status} pour le jeu de données {dataset_id} : "
                         "réessayez plus tard, ou vérifiez son identifiant (DATAGOUV_DATASET).")
    try:
        if len(body) > MAX_DESCRIPTION_BYTES:
            raise ValueError("too large")
        resources = json.loads(body)["resources"]
        return [_published(r) for r in resources if isinstance(r, dict) and r.get("url")]
    except (ValueError, KeyError, TypeError):
        raise SyncFailed("La description du jeu de données reçue de data.gouv.fr est illisible.") from None


def _published(resource: dict) -> Published:
    checksum = resource.get("checksum") if isinstance(resource.get("checksum"), dict) else {}
    kind = str(checksum.get("type") or "").lower()
    value = str(checksum.get("value") or "").lower() or None
    size = resource.get("filesize")
    return Published(
        resource_id=str(resource.get("id") or ""), title=str(resource.get("title") or ""), url=str(resource["url"]),
        last_modified=str(resource["last_modified"]) if resource.get("last_modified") else None,
        checksum_type=kind if value and kind in HASHES else None, checksum=value if kind in HASHES else None,
        filesize=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None)


def _find(published: list[Published], kind: str, resource_id: str) -> Published | None:
    """The kind's resource: by its configured id, else by one of its titles (the newest, if several)."""
    by_id = [r for r in published if resource_id and r.resource_id == resource_id]
    if by_id:
        return by_id[0]
    titles = {search_key(t) for t in TITLES[kind]}
    by_title = [r for r in published if search_key(r.title) in titles
                or search_key(urlsplit(r.url).path.rsplit("/", 1)[-1]) in titles]
    if by_title and resource_id:
        log.warning("resource found by its title, not by its id: update the setting",
                    extra={"kind": kind, "configured": resource_id, "found": by_title[0].resource_id})
    return max(by_title, key=lambda r: r.last_modified or "", default=None)


def _allowed(url: str, base_url: str) -> bool:
    """A file of data.gouv.fr: the API's host or one of its domain's (static.data.gouv.fr for www.data.gouv.fr)."""
    target, base = urlsplit(url), urlsplit(base_url)
    if target.scheme not in ("https", base.scheme) or not target.hostname or not base.hostname:
        return False
    if target.hostname == base.hostname:
        return True
    labels = base.hostname.split(".")
    if len(labels) < 3 or labels[-1].isdigit():  # no parent domain to share (or an IP address: the same one only)
        return False
    return target.hostname.endswith("." + ".".join(labels[1:]))


def _download_and_import(sync_id: str, kind: str, resource: Published, base_url: str, by: str) -> str:
    if not _allowed(resource.url, base_url):
        raise DownloadFailed(f"L'adresse du fichier ({resource.url}) n'est pas sur data.gouv.fr : il n'est pas "
                             "téléchargé.")
    staging = f"{SYNCS_PREFIX}{sync_id}/{kind}.csv"
    download(resource, staging)
    import_id = reference_imports.create_import(kind, by, "sync")
    files.copy_object(staging, reference_imports.upload_key(import_id, kind), "text/csv")  # its S3 event starts the import
    files.delete_objects([staging])
    log.info("reference file downloaded", extra={"sync_id": sync_id, "kind": kind, "import_id": import_id})
    return import_id


def download(resource: Published, key: str) -> int:
    """Streams the resource's file into the data bucket at ``key`` and returns its size; the object exists only if
    the file arrived whole, with the published size and checksum (``DownloadFailed`` otherwise)."""
    deadline = time.monotonic() + DOWNLOAD_SECONDS
    try:
        response = http().request("GET", resource.url, preload_content=False)
    except urllib3.exceptions.HTTPError as error:
        raise DownloadFailed(f"Le fichier n'a pas pu être téléchargé ({_why(error)}).") from None
    try:
        if response.status != 200:
            raise DownloadFailed(f"data.gouv.fr a répondu {response.status} au téléchargement du fichier.")
        announced = response.headers.get("Content-Length")
        if announced and announced.isdigit() and int(announced) > reference_imports.MAX_FILE_BYTES:
            raise DownloadFailed(_too_large())
        return _stream_to_s3(response, resource, key, deadline)
    except urllib3.exceptions.HTTPError as error:
        raise DownloadFailed(f"Le téléchargement a été interrompu ({_why(error)}) : le fichier n'est pas "
                             "importé.") from None
    finally:
        response.release_conn()


def _too_large() -> str:
    return f"Le fichier dépasse {reference_imports.MAX_FILE_BYTES // (1024 * 1024)} Mo : il n'est pas importé."


def _stream_to_s3(response, resource: Published, key: str, deadline: float) -> int:
    s3 = aws.client("s3")
    bucket = get_settings().data_bucket
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="text/csv")["UploadId"]
    try:
        digest = hashlib.new(resource.checksum_type) if resource.checksum_type else None
        parts: list[dict] = []
        buffer = bytearray()
        size = 0

        def send_part():
            number = len(parts) + 1
            answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(buffer))
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
            buffer.clear()

        for chunk in response.stream(CHUNK_BYTES):
            size += len(chunk)
            if size > reference_imports.MAX_FILE_BYTES:
                raise DownloadFailed(_too_large())
            if time.monotonic() > deadline:
                raise DownloadFailed(f"Le téléchargement a duré plus de {int(DOWNLOAD_SECONDS)} s : il est "
                                     "abandonné, le fichier n'est pas importé.")
            if digest is not None:
                digest.update(chunk)
            buffer += chunk
            if len(buffer) >= PART_BYTES:
                send_part()
        if size == 0:
            raise DownloadFailed("Le fichier téléchargé est vide : il n'est pas importé.")
        if resource.filesize is not None and size != resource.filesize:
            raise DownloadFailed(f"Le fichier reçu fait {size} octets au lieu des {resource.filesize} annoncés : "
                                 "il est incomplet ou altéré, il n'est pas importé.")
        if digest is not None and digest.hexdigest() != resource.checksum:
            raise DownloadFailed(f"Le fichier reçu ne correspond pas à sa somme de contrôle publiée "
                                 f"({resource.checksum_type}) : il est incomplet ou altéré, il n'est pas importé.")
        if buffer:
            send_part()
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
        return size
    except BaseException:
        try:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:  # noqa: BLE001 - the bucket's lifecycle rule aborts it after a day anyway
            log.warning("multipart upload not aborted", exc_info=True, extra={"key": key})
        raise
