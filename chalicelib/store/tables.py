"""PynamoDB models: one table per kind of record, table names bound lazily from the settings.

Every commune-owned key starts with the commune's SIREN, so that a commune's records are found by a query on its key
and can never be read through another commune's key. Tables are created from these models by the local stack and the
tests; the production template declares the same tables (a test keeps them in step).
"""
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import TableError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from .. import aws
from ..settings import get_settings


class TableMeta:
    """Each model's Meta derives from this; the table name is bound from the settings at first use."""

    table_name = "unbound"
    billing_mode = "PAY_PER_REQUEST"


class PortalModel(Model):
    """Binds the table name, region and endpoint from the settings at first use, never at import time."""

    BASE_NAME = ""

    class Meta(TableMeta):
        pass

    @classmethod
    def _get_connection(cls):
        settings = get_settings()
        name = settings.table_name(cls.BASE_NAME)
        meta = cls.Meta
        if (meta.table_name, getattr(meta, "host", None), getattr(meta, "region", None)) != (
            name, settings.aws_endpoint_url, settings.region
        ):
            meta.table_name = name
            meta.host = settings.aws_endpoint_url
            meta.region = settings.region
            cls._connection = None
        shared = aws.dynamodb()
        if cls._connection is None or cls._connection.connection is not shared:
            # PynamoDB's table connection (the table's schema), on the process's one connection and client.
            table = super()._get_connection()
            try:
                shared.get_meta_table(name)
            except TableError:
                shared.add_meta_table(table.get_meta_table())
            table.connection = shared
        return cls._connection


class CommuneDepartmentIndex(GlobalSecondaryIndex):
    """A département's communes, whole (small items): the activation letters of a département in one query."""

    class Meta:
        index_name = "by-department"
        projection = AllProjection()

    department_code = UnicodeAttribute(hash_key=True)
    siren = UnicodeAttribute(range_key=True)


REGISTRATION_SHARDS = tuple(f"registered#{n}" for n in range(10))  # the keys of ``by-registration``


def registration_shard(siren: str) -> str:
    """The ``by-registration`` key of a registered commune."""
    return REGISTRATION_SHARDS[int(siren) % len(REGISTRATION_SHARDS)]


class CommuneRegistrationIndex(GlobalSecondaryIndex):
    """The registered communes (sparse: the key is set when the commune registers), spread over a few shards, with
    their INSEE code: the communes a directory import tells what changed, in a few queries and no scan."""

    class Meta:
        index_name = "by-registration"
        projection = KeysOnlyProjection()

    registered_shard = UnicodeAttribute(hash_key=True)
    insee_code = UnicodeAttribute(range_key=True)


class NoticeLineItem(MapAttribute):
    name = UnicodeAttribute()
    function_label = UnicodeAttribute()
    directory_id = UnicodeAttribute(null=True)
    registered = BooleanAttribute(default=False)
    order_id = UnicodeAttribute(null=True)
    card_number = UnicodeAttribute(null=True)


class DirectoryNoticeItem(MapAttribute):
    """What an import of the directory told a commune (``domain/directory_news.py``)."""

    notice_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    source = UnicodeAttribute()
    newly_eligible = ListAttribute(of=NoticeLineItem, default=list)
    cards_to_return = ListAttribute(of=NoticeLineItem, default=list)
    orders_flagged = ListAttribute(of=NoticeLineItem, default=list)


class Commune(PortalModel):
    """A commune of the reference file; becomes registered when its first agent signs up with the activation code."""

    BASE_NAME = "communes"

    class Meta(TableMeta):
        pass

    siren = UnicodeAttribute(hash_key=True)
    insee_code = UnicodeAttribute()
    name = UnicodeAttribute()
    department_code = UnicodeAttribute()
    activation_code_hash = UnicodeAttribute(null=True)
    activation_code_expires_at = UTCDateTimeAttribute(null=True)
    registered_at = UTCDateTimeAttribute(null=True)
    # Where the commune's order notifications go: kept with the commune (written in the same transaction as the
    # accounts), so that a move reads it with the order instead of querying the accounts.
    agent_emails = UnicodeSetAttribute(null=True)
    # What the directory listed as eligible when the commune was last told (``services/directory_news.py``): its
    # entries, and the import that told it (present once the commune registered, even when the set is empty,
    # which DynamoDB cannot store).
    directory_seen = UnicodeSetAttribute(null=True)
    directory_seen_import = UnicodeAttribute(null=True)
    directory_notices = ListAttribute(of=DirectoryNoticeItem, null=True)  # newest first, a few kept
    registered_shard = UnicodeAttribute(null=True)  # registration_shard(siren), set with registered_at
    # The commune's first order sent (the stats function, store/stats.py): set once, on condition, with the count of
    # communes that ordered (the dashboards' « communes sans demande »).
    first_order_at = UTCDateTimeAttribute(null=True)
    by_department = CommuneDepartmentIndex()
    by_registration = CommuneRegistrationIndex()


class Prefecture(PortalModel):
    """The delivery point of a département's cards."""

    BASE_NAME = "prefectures"

    class Meta(TableMeta):
        pass

    department_code = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    address = UnicodeAttribute()
    postal_code = UnicodeAttribute()
    city = UnicodeAttribute()


class AccountSirenIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-siren"
        projection = AllProjection()

    siren = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class AccountPrefectureIndex(GlobalSecondaryIndex):
    """Sparse: a préfecture's agents, told when a card of their département is declared lost or stolen."""

    class Meta:
        index_name = "by-prefecture"
        projection = KeysOnlyProjection()

    prefecture_department = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class Account(PortalModel):
    """A person who logs in: a commune agent, a manufacturer operator or a préfecture agent. The email is the login."""

    BASE_NAME = "accounts"

    class Meta(TableMeta):
        pass

    email = UnicodeAttribute(hash_key=True)  # normalised: stripped, lower case
    account_id = UnicodeAttribute()
    role = UnicodeAttribute()  # commune | manufacturer | prefecture
    first_name = UnicodeAttribute()
    last_name = UnicodeAttribute()
    siren = UnicodeAttribute(null=True)  # commune agents only
    department_code = UnicodeAttribute(null=True)  # a préfecture agent's département, or a commune agent's commune's
    insee_code = UnicodeAttribute(null=True)  # commune agents: their commune's, copied so a login reads one item
    commune_name = UnicodeAttribute(null=True)  # commune agents: copied for the emails and the password rules
    password_hash = UnicodeAttribute(null=True)  # None until the person sets it from the emailed link
    password_set_at = UTCDateTimeAttribute(null=True)  # failed logins before it no longer lock (services/sessions.py)
    created_at = UTCDateTimeAttribute()
    prefecture_department = UnicodeAttribute(null=True)  # préfecture agents only: the sparse index's key
    # The second factor (domain/second_factor.py): the TOTP secret, set at enrolment and in use once confirmed
    # (``second_factor_at``); the recovery codes' digests, each removed when spent.
    totp_secret = UnicodeAttribute(null=True)
    second_factor_at = UTCDateTimeAttribute(null=True)
    recovery_codes = UnicodeSetAttribute(null=True)
    # ProConnect (domain/proconnect.py): the identity linked at the first sign-in, and the organisation's SIRET.
    proconnect_sub = UnicodeAttribute(null=True)
    proconnect_siret = UnicodeAttribute(null=True)
    by_siren = AccountSirenIndex()
    by_prefecture = AccountPrefectureIndex()


class TokenAccountIndex(GlobalSecondaryIndex):
    """Sparse: an account's sessions (``session_account`` is set on sessions only), for « Mes sessions »."""

    class Meta:
        index_name = "by-account"
        projection = AllProjection()

    session_account = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Token(PortalModel):
    """A session, a set-password link, a program's token, or an account's (or API client's) revocation mark. Only the SHA-256 of a token is stored;
    DynamoDB's TTL purges them.

    A token is ``<account id>.<secret>``: the account id names the account's revocation mark
    (``revoked#<account id>``, whose ``created_at`` voids every token of the account made before it), which is read
    with the token in one call. Ending all of an account's sessions is then one write, with no index to query."""

    BASE_NAME = "tokens"

    class Meta(TableMeta):
        pass

    token_hash = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # session | password | revocation | proconnect (a sign-in under way) | client
    account_id = UnicodeAttribute(null=True)
    email = UnicodeAttribute()
    role = UnicodeAttribute()
    siren = UnicodeAttribute(null=True)
    department_code = UnicodeAttribute(null=True)
    insee_code = UnicodeAttribute(null=True)  # commune agents' sessions: the commune's directory partition
    commune_name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()  # absolute end
    idle_expires_at = UTCDateTimeAttribute(null=True)  # sessions: pushed forward while used
    purge_at = TTLAttribute()
    # Sessions: what « Mes sessions » shows (the device from the User-Agent, the address it was opened from), and the
    # account id again as the sparse index's key.
    session_account = UnicodeAttribute(null=True)
    device = UnicodeAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)
    # An operator who has not enrolled their second factor yet: the session serves enrolment only.
    enrolment_only = BooleanAttribute(null=True)
    # Opened with ProConnect: the ID token, sent back as ``id_token_hint`` when the person logs out.
    proconnect_id_token = UnicodeAttribute(null=True)
    # A ProConnect sign-in under way (kind "proconnect", keyed by the state's digest, single use, 10 minutes): what the
    # callback must find again.
    nonce = UnicodeAttribute(null=True)
    code_verifier = UnicodeAttribute(null=True)
    # A program's token (kind "client", services/api_clients.py): ``account_id`` is its client's id, so that revoking
    # the client (its ``revoked#<client id>`` mark) voids it; its client's name and the scopes it was granted travel
    # with it, so that a request needs no client lookup.
    client_name = UnicodeAttribute(null=True)
    scopes = UnicodeSetAttribute(null=True)
    by_account = TokenAccountIndex()


class ApiClientOwnerIndex(GlobalSecondaryIndex):
    """The API clients of one owner (a commune, a département, the nation), oldest first: « Accès pour les logiciels »."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ApiClient(PortalModel):
    """A program's access to the API (domain/api_clients.py): created by a commune's agent for its software publisher,
    or by the card maker for a préfecture's or the ministry's own tools. Only the SHA-256 of the secret is kept; a
    revoked client stays (``revoked_at``) so that the audit log and the webhooks' delivery log still name it."""

    BASE_NAME = "api-clients"

    class Meta(TableMeta):
        pass

    client_id = UnicodeAttribute(hash_key=True)  # 32 hex digits: also the account part of its tokens (sessions.py)
    owner = UnicodeAttribute()  # commune#<siren> | department#<code> | national (domain/api_clients.py)
    name = UnicodeAttribute()  # the publisher's or tool's name, as the audit log shows it
    scopes = UnicodeSetAttribute()  # officials:read | officials:write | orders:read | orders:write
    secret_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()  # the email of the person who created it
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)
    # A commune's client: copied from the creator's session so that a token's principal needs no commune lookup.
    siren = UnicodeAttribute(null=True)
    insee_code = UnicodeAttribute(null=True)
    commune_name = UnicodeAttribute(null=True)
    department_code = UnicodeAttribute(null=True)  # a commune's or a département's client
    by_owner = ApiClientOwnerIndex()


class Counter(PortalModel):
    """A counter: the card numbers of a year (``count``), a rate limit's attempts in time buckets (``b<bucket number>``
    attributes, undeclared here: see ``store.counters``), the dashboards' weekly counters (undeclared too:
    ``store/stats.py``), and their communes: those with an official the directory entitles to a card (``eligible``,
    from the INSEE codes each directory file listed, ``codes``) and those that sent an order (``ordered``)."""

    BASE_NAME = "counters"

    class Meta(TableMeta):
        pass

    key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(null=True)
    purge_at = TTLAttribute(null=True)
    eligible = NumberAttribute(null=True)
    ordered = NumberAttribute(null=True)
    codes = UnicodeSetAttribute(null=True)


class ImportError_(MapAttribute):
    line = NumberAttribute()
    reason = UnicodeAttribute()


class ReferenceImport(PortalModel):
    """One reference file sent by an operator, and how its import went."""

    BASE_NAME = "imports"

    class Meta(TableMeta):
        pass

    import_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | running | done | failed
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    rows = NumberAttribute(default=0)
    imported = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)
    errors = ListAttribute(of=ImportError_, default=list)
    # Rows read but not kept, with why (a commune listed twice in the mayors file: the earlier mayor's row), and
    # what the reader had to assume about the file (read as Windows-1252): said to the operator, not errors.
    warnings = ListAttribute(of=ImportError_, default=list)
    notes = ListAttribute(null=True)
    failure = UnicodeAttribute(null=True)  # why the whole file was refused
    source = UnicodeAttribute(null=True)  # "upload" (an operator's file) or "sync" (downloaded from data.gouv.fr)
    # directory files: the registered communes it touched, handed over to be told what changed for them (each gets a
    # notice and an e-mail only if something did: services/directory_news.py)
    communes_checked = NumberAttribute(null=True)
    latest_import_id = UnicodeAttribute(null=True)  # on the "latest:<kind>" item: the last completed import


class SyncedResource(MapAttribute):
    """What one sync did with one of the dataset's resources (``services/reference_syncs.py``)."""

    kind = UnicodeAttribute()  # rne_maires | rne_cm
    action = UnicodeAttribute()  # downloaded | unchanged | failed
    resource_id = UnicodeAttribute(null=True)  # null: the dataset holds no such resource
    title = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)
    last_modified = UnicodeAttribute(null=True)  # as data.gouv.fr gives it
    checksum = UnicodeAttribute(null=True)  # "sha1:<hex>"
    filesize = NumberAttribute(null=True)
    import_id = UnicodeAttribute(null=True)  # downloaded: the import it started
    reason = UnicodeAttribute(null=True)  # failed: why, in French


class ReferenceSync(PortalModel):
    """One sync of the RNE files with data.gouv.fr, and the one ``state`` item: the sync that holds the claim
    (``running_sync_id``, so that two syncs never download at once), the latest sync, and per kind what the last
    download was (``known``: kind -> {checksum, last_modified, resource_id, import_id}), against which "changed" is
    judged."""

    BASE_NAME = "reference-syncs"

    class Meta(TableMeta):
        pass

    sync_id = UnicodeAttribute(hash_key=True)  # or "state"
    status = UnicodeAttribute(null=True)  # running | done | failed
    requested_by = UnicodeAttribute(null=True)  # the operator's email, or "schedule"
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    worker_at = UTCDateTimeAttribute(null=True)  # when a worker took it (a dead worker's is taken over once old)
    resources = ListAttribute(of=SyncedResource, null=True)
    failure = UnicodeAttribute(null=True)
    # On the "state" item only:
    running_sync_id = UnicodeAttribute(null=True)
    running_since = UTCDateTimeAttribute(null=True)
    latest_sync_id = UnicodeAttribute(null=True)
    known = MapAttribute(null=True)


class DirectoryGenerationIndex(GlobalSecondaryIndex):
    """Rows written by one import, spread over a few shards so no index partition runs hot during an import."""

    class Meta:
        index_name = "by-generation"
        projection = KeysOnlyProjection()

    generation = UnicodeAttribute(hash_key=True)
    row_key = UnicodeAttribute(range_key=True)


class DirectoryItem(PortalModel):
    """The national directory (RNE), partitioned by commune (INSEE code): one item per published row, plus one
    ``registered#<person>`` marker per official that the commune has registered, so that a single query on the commune
    gives both the directory and what is already registered."""

    BASE_NAME = "directory"

    class Meta(TableMeta):
        pass

    insee_code = UnicodeAttribute(hash_key=True)
    row_key = UnicodeAttribute(range_key=True)  # <person>#<source>#<function> or registered#<person>
    person_key = UnicodeAttribute()
    source = UnicodeAttribute(null=True)  # rne_cm | rne_maires
    last_name = UnicodeAttribute(null=True)
    first_name = UnicodeAttribute(null=True)
    sex = UnicodeAttribute(null=True)
    birth_date = UnicodeAttribute(null=True)  # ISO date
    mandate_start = UnicodeAttribute(null=True)  # ISO date
    function_label = UnicodeAttribute(null=True)
    department_code = UnicodeAttribute(null=True)
    department_label = UnicodeAttribute(null=True)
    commune_label = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)  # active | ended
    ended_at = UTCDateTimeAttribute(null=True)
    generation = UnicodeAttribute(null=True)
    siren = UnicodeAttribute(null=True)  # on registered# markers: the commune that registered the person
    by_generation = DirectoryGenerationIndex()


class DeclarationQueueIndex(GlobalSecondaryIndex):
    """The declarations a préfecture reviews: one query a département and status, oldest first (sparse: only
    declared officials carry the key)."""

    class Meta:
        index_name = "by-declaration-queue"
        projection = AllProjection()

    declaration_queue = UnicodeAttribute(hash_key=True)  # <département>#<declaration status>
    created_at = UTCDateTimeAttribute(range_key=True)


class AwaitingDirectoryIndex(GlobalSecondaryIndex):
    """The declared officials the directory does not list yet (sparse): what each directory import and the daily
    pass look for, in one query."""

    class Meta:
        index_name = "by-awaiting-directory"
        projection = AllProjection()

    awaiting_directory = UnicodeAttribute(hash_key=True)  # "declared" while not linked, absent once linked
    created_at = UTCDateTimeAttribute(range_key=True)


class Official(PortalModel):
    """An elected official that a commune registered for a card, with their photo and card preview."""

    BASE_NAME = "officials"

    class Meta(TableMeta):
        pass

    siren = UnicodeAttribute(hash_key=True)
    official_id = UnicodeAttribute(range_key=True)  # the person's directory key: registering twice is impossible
    insee_code = UnicodeAttribute()
    last_name = UnicodeAttribute()
    first_name = UnicodeAttribute()
    sex = UnicodeAttribute()
    birth_date = UnicodeAttribute()
    mandate_start = UnicodeAttribute()
    function = UnicodeAttribute()
    eligible_functions = ListAttribute(of=UnicodeAttribute)
    commune_label = UnicodeAttribute()
    department_label = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # Set by the store on every write of the official (store/unit_of_work.py); absent on records written before it:
    # they count as changed when created.
    updated_at = UTCDateTimeAttribute(null=True)
    photo_status = UnicodeAttribute(default="missing")  # missing | processing | ready | rejected (latest attempt)
    photo_reason = UnicodeAttribute(null=True)
    processing_id = UnicodeAttribute(null=True)  # the attempt being processed
    photo_id = UnicodeAttribute(null=True)  # time-ordered id of the kept photo: older events never replace it
    photo_key = UnicodeAttribute(null=True)
    original_key = UnicodeAttribute(null=True)
    crop = MapAttribute(null=True)
    photo_checks = ListAttribute(null=True)  # the photo assistant's verdicts: [{code, level, message}]
    proposed_crop = MapAttribute(null=True)  # the assistant's framing, offered in the cropper
    preview_status = UnicodeAttribute(default="missing")  # missing | processing | ready
    preview_key = UnicodeAttribute(null=True)
    active_order_id = UnicodeAttribute(null=True)  # the card order in progress, if any
    delivered_order_id = UnicodeAttribute(null=True)  # the order whose card was last handed over
    held_card_number = UnicodeAttribute(null=True)  # the official's latest card in the registry, kept in step with it
    held_card_status = UnicodeAttribute(null=True)
    held_card_handed_over_at = UTCDateTimeAttribute(null=True)
    mandate_ended_at = UTCDateTimeAttribute(null=True)  # the directory no longer holds the card's function
    # Officials the commune declared before the directory lists them (domain/officials.py: Official.declare)
    origin = UnicodeAttribute(default="rne")  # rne | declared
    department_code = UnicodeAttribute(null=True)
    declaration_status = UnicodeAttribute(null=True)  # awaiting_proof | pending | validated | refused
    election_date = UnicodeAttribute(null=True)
    proof_key = UnicodeAttribute(null=True)
    declaration_reason = UnicodeAttribute(null=True)
    reviewed_by = UnicodeAttribute(null=True)
    reviewed_at = UTCDateTimeAttribute(null=True)
    rne_linked_at = UTCDateTimeAttribute(null=True)
    overdue_flagged_at = UTCDateTimeAttribute(null=True)
    declaration_queue = UnicodeAttribute(null=True)  # index keys, derived by the store (store/repositories.py)
    awaiting_directory = UnicodeAttribute(null=True)
    by_declaration_queue = DeclarationQueueIndex()
    by_awaiting_directory = AwaitingDirectoryIndex()


class PhotoUpload(PortalModel):
    """A presigned upload handed to the browser, keyed by its S3 key: the crop chosen in the browser waits here for
    the file."""

    BASE_NAME = "photo-uploads"

    class Meta(TableMeta):
        pass

    object_key = UnicodeAttribute(hash_key=True)
    siren = UnicodeAttribute()
    official_id = UnicodeAttribute()
    attempt_id = UnicodeAttribute()
    crop = MapAttribute(null=True)  # none: the photo assistant proposes the framing
    created_at = UTCDateTimeAttribute()
    purge_at = TTLAttribute()


class OrderStatusIndex(GlobalSecondaryIndex):
    """The card maker's work queues: orders of one status across communes, oldest first."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute(range_key=True)


class OrderDepartmentStatusIndex(GlobalSecondaryIndex):
    """A préfecture's orders of one status (or the card maker's, filtered by département)."""

    class Meta:
        index_name = "by-department-status"
        projection = AllProjection()

    department_status = UnicodeAttribute(hash_key=True)  # <département>#<status>
    order_id = UnicodeAttribute(range_key=True)


class OrderDepartmentIndex(GlobalSecondaryIndex):
    """Every order of a département, in time order (monthly checks)."""

    class Meta:
        index_name = "by-department"
        projection = AllProjection()

    department_code = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute(range_key=True)


class OrderDepartmentUpdatedIndex(GlobalSecondaryIndex):
    """A département's orders by their last change (``updated_since`` of the préfecture's and the ministry's tools):
    the key condition reads only what changed, where a filter on ``by-department`` would read the whole wave."""

    class Meta:
        index_name = "by-department-updated"
        projection = AllProjection()

    department_code = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class OrderPurgeIndex(GlobalSecondaryIndex):
    """Sparse: closed orders whose photos are still kept, by the moment they must go (the scheduled purge)."""

    class Meta:
        index_name = "by-purge"
        projection = AllProjection()

    purge_queue = UnicodeAttribute(hash_key=True)  # one value ("due"): a few thousand orders a month at most
    purge_after = UTCDateTimeAttribute(range_key=True)


class Alert(MapAttribute):
    official_id = UnicodeAttribute()
    code = UnicodeAttribute()  # mandate_ended | card_to_return
    message = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class CardLine(MapAttribute):
    official_id = UnicodeAttribute()
    last_name = UnicodeAttribute()
    first_name = UnicodeAttribute()
    sex = UnicodeAttribute()
    function = UnicodeAttribute()
    mandate_start = UnicodeAttribute()
    department_label = UnicodeAttribute()
    photo_key = UnicodeAttribute(null=True)  # None once the photos are purged (services/retention.py)
    preview_key = UnicodeAttribute(null=True)
    card_number = UnicodeAttribute(null=True)
    card_key = UnicodeAttribute(null=True)  # the final card, drawn with its number when production starts
    reason = UnicodeAttribute(default="premiere_demande")  # why it is ordered (domain/cards.py)
    replaces = UnicodeAttribute(null=True)
    handed_over_at = UTCDateTimeAttribute(null=True)
    handed_over_to = MapAttribute(null=True)  # the town hall's representative who took the card, if not the official
    photo_checks = ListAttribute(null=True)  # the photo assistant's verdicts when ordered: [{code, level, message}]
    photo_rejected_reason = UnicodeAttribute(null=True)  # the card maker refused this card's photo
    photo_rejected_at = UTCDateTimeAttribute(null=True)


class HistoryEntry(MapAttribute):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    by_role = UnicodeAttribute()
    by = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)


class CardOrder(PortalModel):
    """One order of cards by a commune, and every move it went through."""

    BASE_NAME = "orders"

    class Meta(TableMeta):
        pass

    siren = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute(range_key=True)  # time-ordered: a query in reverse gives the newest first
    status = UnicodeAttribute()
    department_code = UnicodeAttribute()
    department_status = UnicodeAttribute()
    commune_name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    cards = ListAttribute(of=CardLine)
    history = ListAttribute(of=HistoryEntry)
    delivery_address = MapAttribute(null=True)
    alerts = ListAttribute(of=Alert, null=True)
    # The photos' retention once the order is closed (services/retention.py): set by the closing move, removed by
    # the purge, which records what it still has to delete in purge_keys until it is done.
    purge_queue = UnicodeAttribute(null=True)
    purge_after = UTCDateTimeAttribute(null=True)
    purge_keys = ListAttribute(of=UnicodeAttribute, null=True)
    photos_deleted_at = UTCDateTimeAttribute(null=True)
    by_status = OrderStatusIndex()
    by_department_status = OrderDepartmentStatusIndex()
    by_department = OrderDepartmentIndex()
    by_department_updated = OrderDepartmentUpdatedIndex()
    by_purge = OrderPurgeIndex()


class CardCommuneIndex(GlobalSecondaryIndex):
    """A commune's cards (« Cartes »), by number."""

    class Meta:
        index_name = "by-commune"
        projection = AllProjection()

    siren = UnicodeAttribute(hash_key=True)
    card_number = UnicodeAttribute(range_key=True)


class CardStatusIndex(GlobalSecondaryIndex):
    """The card maker's registry search: cards of one status across départements."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    card_number = UnicodeAttribute(range_key=True)


class CardDepartmentStatusIndex(GlobalSecondaryIndex):
    """A préfecture's cards of one status: to hand over, to return, declared lost or stolen."""

    class Meta:
        index_name = "by-department-status"
        projection = AllProjection()

    department_status = UnicodeAttribute(hash_key=True)  # <département>#<status>
    card_number = UnicodeAttribute(range_key=True)


class CardDepartmentUpdatedIndex(GlobalSecondaryIndex):
    """A département's cards by their last change (``updated_since`` of the préfecture's and the ministry's tools)."""

    class Meta:
        index_name = "by-department-updated"
        projection = AllProjection()

    department_code = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class CardEvent(MapAttribute):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    by_role = UnicodeAttribute()
    by = UnicodeAttribute()
    note = UnicodeAttribute(null=True)


class Representative(MapAttribute):
    last_name = UnicodeAttribute()
    first_name = UnicodeAttribute()
    quality = UnicodeAttribute()


class HandOver(MapAttribute):
    mode = UnicodeAttribute()  # titulaire | representant
    representative = Representative(null=True)
    at = UTCDateTimeAttribute()
    by = UnicodeAttribute()


class Declaration(MapAttribute):
    kind = UnicodeAttribute()  # perte | vol
    date = UnicodeAttribute()  # ISO date of the loss or theft
    circumstances = UnicodeAttribute()
    police_report = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    by = UnicodeAttribute()


class RegisteredCard(PortalModel):
    """The card registry: one record per card made, from its number to its destruction (domain/cards.py)."""

    BASE_NAME = "cards"

    class Meta(TableMeta):
        pass

    card_number = UnicodeAttribute(hash_key=True)
    siren = UnicodeAttribute()
    order_id = UnicodeAttribute()  # the order's public id
    official_id = UnicodeAttribute()
    last_name = UnicodeAttribute()
    first_name = UnicodeAttribute()
    sex = UnicodeAttribute()
    function = UnicodeAttribute()
    commune_name = UnicodeAttribute()
    department_code = UnicodeAttribute()
    department_status = UnicodeAttribute()
    reason = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    history = ListAttribute(of=CardEvent)
    hand_over = HandOver(null=True)
    declaration = Declaration(null=True)
    receipt_key = UnicodeAttribute(null=True)
    replaces = UnicodeAttribute(null=True)
    by_commune = CardCommuneIndex()
    by_status = CardStatusIndex()
    by_department_status = CardDepartmentStatusIndex()
    by_department_updated = CardDepartmentUpdatedIndex()


class WebhookOwnerIndex(GlobalSecondaryIndex):
    """The webhooks of one owner (a commune, a département, the nation): the fan-out's query for each event."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    webhook_id = UnicodeAttribute(range_key=True)


class Webhook(PortalModel):
    """A receiver an API client registered for some events (domain/webhooks.py). The signing secret must be read to
    sign each delivery, so it is kept as data (encrypted at rest by DynamoDB, as every table), like a payment
    provider's webhook secret; it is shown once, when the webhook is registered. A deleted webhook stays, disabled,
    so that its delivery log still reads."""

    BASE_NAME = "webhooks"

    class Meta(TableMeta):
        pass

    client_id = UnicodeAttribute(hash_key=True)
    webhook_id = UnicodeAttribute(range_key=True)  # time-ordered: a client's webhooks list oldest first
    owner = UnicodeAttribute()  # the client's owner (domain/api_clients.py)
    url = UnicodeAttribute()
    events = UnicodeSetAttribute()
    secret = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()  # a person's email, or the client's name when the program registered it
    disabled_at = UTCDateTimeAttribute(null=True)
    disabled_by = UnicodeAttribute(null=True)
    by_owner = WebhookOwnerIndex()


class WebhookAttempt(MapAttribute):
    at = UTCDateTimeAttribute()
    http_status = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)


class WebhookDelivery(PortalModel):
    """One event for one webhook and its attempts: the delivery log a commune reads (newest first), purged by
    DynamoDB's TTL 30 days after the event."""

    BASE_NAME = "webhook-deliveries"

    class Meta(TableMeta):
        pass

    webhook_id = UnicodeAttribute(hash_key=True)
    delivery_id = UnicodeAttribute(range_key=True)  # <event's epoch ms>-<event id's start>: newest last
    client_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    body = UnicodeAttribute()  # the event as POSTed (compact JSON): every attempt sends the same bytes
    status = UnicodeAttribute()  # pending | delivered | failed
    attempts = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    last_attempt_at = UTCDateTimeAttribute(null=True)
    last_http_status = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    history = ListAttribute(of=WebhookAttempt, null=True)  # every attempt: at, HTTP status or error (8 at most)
    purge_at = TTLAttribute()


class ListExport(PortalModel):
    """A national list's file written in the background (services/exports.py): who asked for it (``owner``, and the
    principal the worker acts as, with the same rights as the request), the list and its filters, then where the file
    is. Purged by DynamoDB's TTL a day after it was asked for, as its file is by the bucket's rule."""

    BASE_NAME = "exports"

    class Meta(TableMeta):
        pass

    export_id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()  # account#<id> or client#<id>: only its owner reads it
    principal = MapAttribute()  # the requester's Principal fields, as JSON values
    list_name = UnicodeAttribute()  # a key of api/exports.py's LISTS
    filters = MapAttribute()  # the list route's filters, strings
    file_format = UnicodeAttribute()
    status = UnicodeAttribute()  # running | ready | failed
    rows = NumberAttribute(default=0)  # written so far, then in the file
    attempts = NumberAttribute(default=0)  # workers that took it (the queue gives it again when one dies)
    created_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    key = UnicodeAttribute(null=True)
    filename = UnicodeAttribute(null=True)
    truncated = BooleanAttribute(default=False)
    failure = UnicodeAttribute(null=True)
    purge_at = TTLAttribute()


ALL_MODELS = [Commune, Prefecture, Account, Token, ApiClient, Counter, ReferenceImport, ReferenceSync, DirectoryItem,
              Official, PhotoUpload, CardOrder, RegisteredCard, Webhook, WebhookDelivery,
              ListExport]


def create_missing_tables() -> None:
    """Local stack and tests only: production tables come from the deployment template."""
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)


def transaction():
    """A DynamoDB transaction (all writes or none), on the process's one connection."""
    return TransactWrite(connection=aws.dynamodb())


def is_condition_failure(error: Exception) -> bool:
    """True when DynamoDB refused a write because its condition did not hold (a business answer: 409, 422, ...),
    False for anything else — throttling, a service error — which must propagate (the API answers 503)."""
    code = getattr(error, "cause_response_code", None)
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = [r.code for r in (getattr(error, "cancellation_reasons", None) or []) if r is not None]
        return bool(reasons) and all(reason in ("ConditionalCheckFailed", "None") for reason in reasons) \
            and "ConditionalCheckFailed" in reasons
    return False
