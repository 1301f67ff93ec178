"""Creates, in the AWS emulation, what the production template creates on AWS: tables, bucket, queues, notifications,
the verified sender. Used by the local stack and by the tests."""

from chalicelib import aws
from chalicelib.events.uploads import IMPORTS_QUEUE
from chalicelib.settings import Settings
from chalicelib.store.files import IMPORTS_PREFIX
from chalicelib.store.tables import create_missing_tables

# Which queue receives the S3 events of which prefix; the production template declares the same filters.
NOTIFICATIONS = {IMPORTS_QUEUE: IMPORTS_PREFIX}


def create_resources(settings: Settings) -> dict[str, str]:
    """Returns the queue URLs by queue name."""
    create_missing_tables()
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=settings.data_bucket,
                     CreateBucketConfiguration={"LocationConstraint": settings.region})
    aws.client("ses").verify_email_identity(EmailAddress=settings.mail_sender)
    sqs = aws.client("sqs")
    queue_urls = {}
    configurations = []
    for queue, prefix in NOTIFICATIONS.items():
        url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_urls[queue] = url
        configurations.append({
            "QueueArn": arn,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
        })
    s3.put_bucket_notification_configuration(
        Bucket=settings.data_bucket, NotificationConfiguration={"QueueConfigurations": configurations}
    )
    return queue_urls


