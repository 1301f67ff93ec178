"""What each Lambda function may do: the only hand-written part of the IAM policies.

Each function gets its own role whose policy is generated from its entry below, on the resources of its stage only
(tables and indexes by name, S3 objects by prefix, queues by name, the SES identity of the sender). When a use case
starts calling a new DynamoDB operation, S3 prefix or queue, its function's entry here must say so:
`tests/infra/test_least_privilege.py` runs the portal's journeys on the emulation and fails on any AWS call that the
generated policy of the calling function would refuse, and on any function that has no entry.

DynamoDB transactions need the item actions they contain (PutItem, UpdateItem, DeleteItem, ConditionCheckItem);
batch writes need BatchWriteItem. S3 CopyObject needs GetObject on the source and PutObject on the target; a presigned
POST or GET is allowed by the signer's PutObject or GetObject.
"""
from dataclasses import dataclass, field

from chalicelib.services.cards import KEPT_RECEIPTS_PREFIX, RECEIPTS_PREFIX
from chalicelib.services.documents import DOCUMENTS_PREFIX
from chalicelib.services.reference_syncs import SYNCS_PREFIX
from chalicelib.store import files
from chalicelib.services.exports import EXPORTS_PREFIX
from chalicelib.store.queues import (EXPORTS_QUEUE, MAILS_QUEUE, NOTICES_QUEUE, PHOTOS_QUEUE, STATS_QUEUE,
                                    SYNCS_QUEUE, WEBHOOK_DELIVERIES_QUEUE, WEBHOOK_EVENTS_QUEUE)
from chalicelib.store.tables import (Account, ApiClient, CardOrder, Commune, Counter, DirectoryItem, ListExport,
                                     Official, PhotoUpload, Prefecture, ReferenceImport, ReferenceSync, RegisteredCard,
                                     Token, Webhook, WebhookDelivery)

CARDS_PREFIX = files.CARDS_PREFIX


@dataclass(frozen=True)
class Access:
    tables: dict = field(default_factory=dict)  # model -> DynamoDB actions on its table
    indexes: dict = field(default_factory=dict)  # (model, index name) -> DynamoDB actions on that index
    objects: dict = field(default_factory=dict)  # S3 key prefix of the data bucket -> S3 object actions
    list_prefixes: tuple = ()  # prefixes it may list (s3:ListBucket with an s3:prefix condition)
    sends_to: tuple = ()  # queues it sends messages to
    sends_mail: bool = False  # ses:SendRawEmail from the stage's sender
    # Secrets Manager secrets it reads, each named by a setting of the stage (secretsmanager:GetSecretValue)
    reads_secrets: tuple = ()


ACCESS = {
    # The HTTP API: every route of app.py.
    "api_handler": Access(
        tables={
            Commune: ("GetItem", "BatchGetItem", "UpdateItem"),
            Prefecture: ("GetItem", "BatchGetItem"),
            Account: ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem"),
            Token: ("BatchGetItem", "PutItem", "UpdateItem", "DeleteItem"),
            Counter: ("BatchGetItem", "UpdateItem", "DeleteItem"),
            ReferenceImport: ("GetItem", "PutItem"),
            # A sync requested by an operator: the claim and the record in one transaction, then followed.
            ReferenceSync: ("GetItem", "PutItem", "UpdateItem"),
            DirectoryItem: ("Query", "PutItem", "DeleteItem"),
            Official: ("GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"),
            PhotoUpload: ("PutItem",),
            CardOrder: ("GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem"),
            # The card registry: numbered at production, moved card by card.
            RegisteredCard: ("GetItem", "BatchGetItem", "PutItem", "UpdateItem"),
            # API clients: created (conditional put), read with the token request's counters, revoked in a
            # transaction with their revocation mark (a Token).
            ApiClient: ("BatchGetItem", "PutItem", "UpdateItem"),
            # A client's webhooks: read with their client, registered (conditional put), listed and counted by the
            # client's key, deleted (marked); their delivery log by the webhook's key.
            Webhook: ("BatchGetItem", "PutItem", "Query", "UpdateItem"),
            WebhookDelivery: ("Query",),
            # A national list's file: asked for, then followed. (Were the queue to refuse the request, the API
            # answers 503 and the record, never taken by a worker, shows failed after an hour.)
            ListExport: ("GetItem", "PutItem"),
        },
        indexes={
            (Commune, "by-department"): ("Query",),
            (ApiClient, "by-owner"): ("Query",),  # « Accès pour les logiciels »: an owner's clients
            (Account, "by-siren"): ("Query",),
            (Account, "by-prefecture"): ("Query",),  # a préfecture's agents, told of a loss or a theft
            (Token, "by-account"): ("Query",),  # « Mes sessions »: an account's open sessions
            (RegisteredCard, "by-commune"): ("Query",),
            (RegisteredCard, "by-status"): ("Query",),
            (RegisteredCard, "by-department-status"): ("Query",),
            (CardOrder, "by-status"): ("Query",),
            (CardOrder, "by-department-status"): ("Query",),
            (CardOrder, "by-department"): ("Query",),
            # updated_since of the back office's lists (docs/api.md)
            (CardOrder, "by-department-updated"): ("Query",),
            (RegisteredCard, "by-department-updated"): ("Query",),
            (Official, "by-declaration-queue"): ("Query",),  # the préfecture's declarations to review
        },
        objects={
            files.IMPORTS_PREFIX: ("PutObject",),  # presigned POST of reference files
            files.PHOTOS_PREFIX: ("PutObject", "DeleteObject"),  # presigned POST of photos; deleting an official
            files.OFFICIALS_PREFIX: ("GetObject", "DeleteObject"),  # presigned GET of photos and previews
            CARDS_PREFIX: ("GetObject",),  # presigned GET of the numbered cards
            DOCUMENTS_PREFIX: ("PutObject", "GetObject"),  # PDFs written, then handed out by presigned GET
            # signed receipts: presigned POST, checked and copied beside the card, the upload deleted
            RECEIPTS_PREFIX: ("PutObject", "GetObject", "DeleteObject"),
            KEPT_RECEIPTS_PREFIX: ("PutObject", "GetObject", "DeleteObject"),
        },
        list_prefixes=(files.OFFICIALS_PREFIX, files.PHOTOS_PREFIX),
        # re-crop and re-render requests to the image function; syncs with data.gouv.fr to the sync worker; a
        # registered commune's first look at the directory to the notices function; set-password links and alerts
        # to the mails function; each order move to the stats function (the dashboards' counters); each order's or
        # card's move to the webhooks' fan-out; a national list's file to its writer
        sends_to=(PHOTOS_QUEUE, SYNCS_QUEUE, NOTICES_QUEUE, MAILS_QUEUE, STATS_QUEUE, WEBHOOK_EVENTS_QUEUE,
                  EXPORTS_QUEUE),
        sends_mail=True,
        # ProConnect's client secret, read at the first sign-in of a container (services/proconnect.py)
        reads_secrets=("PROCONNECT_SECRET_NAME",),
    ),
    # Reference files: S3 -> imports queue -> here.
    "import_reference_file": Access(
        tables={
            ReferenceImport: ("GetItem", "PutItem", "UpdateItem"),
            Commune: ("UpdateItem",),
            Prefecture: ("BatchWriteItem",),
            DirectoryItem: ("BatchWriteItem", "UpdateItem", "GetItem", "Query"),
            # A newer directory that ends a registered official's function flags the official and their orders;
            # one that lists an official the commune declared links the declaration.
            Official: ("GetItem", "UpdateItem"),
            CardOrder: ("GetItem", "UpdateItem"),
            RegisteredCard: ("GetItem", "UpdateItem"),  # the card the official holds is to be returned
            # the communes each file entitles, per département, and the dashboards' counts of them (store/stats.py)
            Counter: ("BatchGetItem", "BatchWriteItem", "UpdateItem"),
        },
        # and the registered communes to tell what a directory file changed for them
        indexes={(DirectoryItem, "by-generation"): ("Query",), (Official, "by-awaiting-directory"): ("Query",),
                 (Commune, "by-registration"): ("Query",)},
        objects={files.IMPORTS_PREFIX: ("GetObject",)},
        # and the mandates ended, and the cards to return, to the webhooks' fan-out
        sends_to=(NOTICES_QUEUE, WEBHOOK_EVENTS_QUEUE),
    ),
    # The notices function (services/directory_news.py): after a directory import, a commune's directory compared
    # with what it was last told, the notice written on the commune, its agents emailed.
    "tell_communes": Access(
        tables={
            Commune: ("GetItem", "UpdateItem"),
            DirectoryItem: ("Query",),
            Official: ("GetItem",),
            CardOrder: ("GetItem",),
        },
        sends_mail=True,
    ),
    # The mails function (services/account_mails.py): a set-password link written and sent to an account that
    # exists, an alert to an account's holder, to a commune's agents or to its préfecture's agents.
    "send_account_mails": Access(
        tables={Account: ("BatchGetItem",), Token: ("PutItem",), Commune: ("BatchGetItem",)},
        indexes={(Account, "by-prefecture"): ("Query",)},
        sends_mail=True,
    ),
    # The stats function (store/stats.py): each order event once, a marker put on condition and the weekly counters
    # added to, in one transaction; nothing read.
    "count_order_events": Access(
        # and a commune's first order: its marker set on condition, with the count of communes that ordered
        tables={Counter: ("PutItem", "UpdateItem"), Commune: ("UpdateItem",)},
    ),
    # The image function: photos arriving in S3, and the API's requests (re-crop, re-render a preview, draw the cards
    # of an order going into production), through the photos queue.
    "process_photo_event": Access(
        tables={
            PhotoUpload: ("BatchGetItem", "DeleteItem"),
            Official: ("BatchGetItem", "UpdateItem"),
            Commune: ("BatchGetItem",),
            CardOrder: ("GetItem", "UpdateItem"),
        },
        objects={
            files.PHOTOS_PREFIX: ("GetObject", "DeleteObject"),
            files.OFFICIALS_PREFIX: ("GetObject", "PutObject", "DeleteObject"),
            CARDS_PREFIX: ("PutObject",),
        },
        sends_to=(WEBHOOK_EVENTS_QUEUE,),  # each photo checked, to the webhooks' fan-out
    ),
    # The webhooks' fan-out (services/webhooks.py): the enabled webhooks of the owners concerned, their clients (a
    # revoked one gets nothing), one delivery put on condition per webhook (read again when the event came twice),
    # each queued for its first attempt.
    "fan_out_webhook_events": Access(
        tables={ApiClient: ("BatchGetItem",), Webhook: ("BatchGetItem",),
                WebhookDelivery: ("PutItem", "BatchGetItem")},
        indexes={(Webhook, "by-owner"): ("Query",)},
        sends_to=(WEBHOOK_DELIVERIES_QUEUE,),
    ),
    # The delivery function: the delivery, its webhook and client read in one call, the attempt POSTed to the
    # receiver on the internet (with the sync worker, the only functions that reach it), recorded on condition, the
    # next attempt queued with its delay.
    "deliver_webhooks": Access(
        tables={ApiClient: ("BatchGetItem",), Webhook: ("BatchGetItem",),
                WebhookDelivery: ("BatchGetItem", "UpdateItem")},
        sends_to=(WEBHOOK_DELIVERIES_QUEUE,),
    ),
    # The national lists' writer (services/exports.py): the request taken (the update answers it) and finished on
    # condition, its count of rows written as it goes; the whole country's list read as its route reads it (pages of
    # orders or cards by status: a national list has no département); the file written under documents/exports/.
    "write_list_exports": Access(
        tables={ListExport: ("UpdateItem",)},
        indexes={(CardOrder, "by-status"): ("Query",), (RegisteredCard, "by-status"): ("Query",)},
        # managed upload: in parts above 8 MiB (PutObject covers them; an upload cut short is cleared by the
        # bucket's rule for incomplete uploads)
        objects={EXPORTS_PREFIX: ("PutObject",)},
        sends_to=(EXPORTS_QUEUE,),  # a failed attempt, queued again for a minute later
    ),
    # The hourly purge of the photos of closed orders (services/retention.py), after the cancellation of the drafts
    # never sent for a week, which releases their officials (services/orders.py: expire_drafts).
    "purge_personal_data": Access(
        tables={
            CardOrder: ("UpdateItem",),
            Official: ("BatchGetItem", "UpdateItem"),
        },
        indexes={(CardOrder, "by-purge"): ("Query",), (CardOrder, "by-status"): ("Query",)},
        objects={
            files.OFFICIALS_PREFIX: ("DeleteObject",),
            CARDS_PREFIX: ("DeleteObject",),
        },
    ),
    # The daily sync with data.gouv.fr: claims it and hands it to the worker, as the API does.
    "sync_reference_files": Access(
        # and the daily pass over the declared officials the directory does not list yet (linked, or flagged)
        tables={ReferenceSync: ("GetItem", "PutItem", "UpdateItem"), Official: ("UpdateItem",),
                DirectoryItem: ("Query",)},
        indexes={(Official, "by-awaiting-directory"): ("Query",)},
        sends_to=(SYNCS_QUEUE,),
    ),
    # The sync worker (services/reference_syncs.py): with the webhooks' delivery, the only functions that reach the
    # internet (here data.gouv.fr).
    # It streams each new file into a multipart upload under incoming/syncs/ (PutObject covers the upload's parts
    # and completion), creates the import and copies the verified file to the import's key (GetObject on the
    # source, PutObject on the target), then deletes its own copy.
    "run_reference_sync": Access(
        tables={ReferenceSync: ("GetItem", "UpdateItem"), ReferenceImport: ("PutItem",)},
        objects={
            SYNCS_PREFIX: ("PutObject", "AbortMultipartUpload", "GetObject", "DeleteObject"),
            files.IMPORTS_PREFIX: ("PutObject",),
        },
    ),
}
