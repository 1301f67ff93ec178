"""Creates, in the AWS emulation, what the production template creates on AWS: tables, bucket, queues, notifications,
the verified sender. Used by the local stack and by the tests."""
import json

from chalicelib import aws
from chalicelib.store.queues import (EXPORTS_QUEUE, IMPORTS_QUEUE, MAILS_QUEUE, NOTICES_QUEUE, PHOTOS_QUEUE,
                                     STATS_QUEUE, SYNCS_QUEUE, WEBHOOK_DELIVERIES_QUEUE, WEBHOOK_EVENTS_QUEUE)
from chalicelib.settings import Settings
from chalicelib.store.files import IMPORTS_PREFIX, PHOTOS_PREFIX
from chalicelib.store.tables import create_missing_tables

# Which queue receives the S3 events of which prefix; the production template declares the same filters.
NOTIFICATIONS = {IMPORTS_QUEUE: IMPORTS_PREFIX, PHOTOS_QUEUE: PHOTOS_PREFIX}
# Which Lambda handler consumes which queue (the relay's routing table).
HANDLERS_BY_QUEUE = {IMPORTS_QUEUE: "import_reference_file", PHOTOS_QUEUE: "process_photo_event",
                     SYNCS_QUEUE: "run_reference_sync", NOTICES_QUEUE: "tell_communes",
                     MAILS_QUEUE: "send_account_mails", STATS_QUEUE: "count_order_events",
                     WEBHOOK_EVENTS_QUEUE: "fan_out_webhook_events", WEBHOOK_DELIVERIES_QUEUE: "deliver_webhooks",
                     EXPORTS_QUEUE: "write_list_exports"}
DEAD_LETTER_SUFFIX = "-dlq"
MAX_RECEIVES = 3


def create_resources(settings: Settings, site_origin: str | None = None) -> dict[str, str]:
    """Returns the queue URLs by queue name."""
    create_missing_tables()
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=settings.data_bucket,
                     CreateBucketConfiguration={"LocationConstraint": settings.region})
    if site_origin:
        # The browser posts files straight to the bucket with a presigned POST.
        s3.put_bucket_cors(Bucket=settings.data_bucket, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": [site_origin], "AllowedMethods": ["POST"], "AllowedHeaders": ["*"],
            "MaxAgeSeconds": 600}]})
    aws.client("ses").verify_email_identity(EmailAddress=settings.mail_sender)
    sqs = aws.client("sqs")
    queue_urls = {}
    configurations = []
    for queue in HANDLERS_BY_QUEUE:
        dead_letters = sqs.create_queue(QueueName=queue + DEAD_LETTER_SUFFIX)["QueueUrl"]
        dead_letters_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName=queue, Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letters_arn, "maxReceiveCount": MAX_RECEIVES}),
        })["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_urls[queue] = url
        if queue not in NOTIFICATIONS:
            continue  # fed by the code only (the data.gouv.fr syncs)
        configurations.append({
            "QueueArn": arn,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": NOTIFICATIONS[queue]}]}},
        })
    s3.put_bucket_notification_configuration(
        Bucket=settings.data_bucket, NotificationConfiguration={"QueueConfigurations": configurations}
    )
    return queue_urls


