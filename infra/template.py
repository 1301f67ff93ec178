"""The template merged into `chalice package`'s SAM template: everything the app needs beside its functions and API.

Generated for one stage from the code (see `infra/project.py`): DynamoDB tables from the PynamoDB models, the private
data bucket with its notifications to the SQS queues the handlers consume, dead-letter queues, per-function IAM
policies (from `infra/access.py`), the SES identity of the sender, the static site behind CloudFront (same origin as
the API), log groups, alarms. It also overrides a few properties of Chalice's resources (function names and runtime,
the SQS event sources pointing at the queues created here, the roles' policies, a regional API with throttling).
"""
import json
import os

from pynamodb.attributes import TTLAttribute

from chalicelib.api.gateway import GATEWAY_RESPONSES
from chalicelib.store.queues import PHOTOS_QUEUE

from .access import ACCESS, Access
from .project import (LAMBDA_RUNTIME, Function, Stage, dead_letter_settings, load_stage, notification_prefixes,
                      site_config, site_headers, to_logical_id)

ARN = "arn:${AWS::Partition}"
ACCOUNT_ARN = "${AWS::Region}:${AWS::AccountId}"
S3_OBJECT_CREATED = "s3:ObjectCreated:*"
INCOMING_EXPIRY_DAYS = 7  # files that were sent but never processed (a failed import, an abandoned photo)
# Generated PDFs are handed out through 10-minute URLs and drawn again on demand; activation letters carry codes.
DOCUMENTS_EXPIRY_DAYS = 1
QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum: two weeks to look at a failed event
VISIBILITY_PER_TIMEOUT = 6  # AWS's advice for SQS event sources: at least six times the function's timeout
MAX_VISIBILITY_SECONDS = 12 * 3600
HSTS_SECONDS = 2 * 365 * 24 * 3600

# CloudFront managed cache policy (same id in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"

DATA_BUCKET_ID = "DataBucket"
SITE_BUCKET_ID = "SiteBucket"
DISTRIBUTION_ID = "SiteDistribution"
# CloudFront adds this secret to every API request; the API refuses requests without it (called directly on its
# execute-api address, a request could forge CloudFront-Viewer-Address and escape the per-source limits).
ORIGIN_SECRET_ID = "OriginVerifySecret"
ORIGIN_HEADER = "X-Origin-Verify"
ALARM_TOPIC_ID = "AlarmTopic"
MAIL_IDENTITY_ID = "MailIdentity"
# Alarms for the post-election wave (docs/performance.md, capacity): what throttles or waits first says so.
DURATION_ALARM_SHARE = 0.8  # a function's longest run past this share of its timeout (the import's 15 minutes)
QUEUE_AGE_ALARM_SECONDS = {PHOTOS_QUEUE: 120}  # the agent waits for the photo
DEFAULT_QUEUE_AGE_ALARM_SECONDS = 3600
REST_API_ID = "RestAPI"  # chalice's name for the API


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def get_att(resource: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [resource, attribute]}


def ref(name: str) -> dict:
    return {"Ref": name}


def tags(stage: Stage) -> list[dict]:
    return [{"Key": "app", "Value": stage.app_name}, {"Key": "stage", "Value": stage.name}]


def retention(stage: Stage) -> dict:
    policy = "Retain" if stage.options.keep_data else "Delete"
    return {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}


# --- names and ARNs -----------------------------------------------------------------------------------------------

def table_name(stage: Stage, model) -> str:
    return f"{stage.table_prefix}{model.BASE_NAME}"


def table_id(model) -> str:
    return f"{to_logical_id(model.BASE_NAME)}Table"


def table_arn(stage: Stage, model, index: str | None = None) -> dict:
    suffix = f"/index/{index}" if index else ""
    return sub(f"{ARN}:dynamodb:{ACCOUNT_ARN}:table/{table_name(stage, model)}{suffix}")


def queue_base(stage: Stage, queue: str) -> str:
    """carteselus-photos -> Photos: the queue's logical id stem."""
    stem = queue[len(stage.app_name) + 1:] if queue.startswith(stage.app_name + "-") else queue
    return to_logical_id(stem)


def queue_id(stage: Stage, queue: str) -> str:
    return f"{queue_base(stage, queue)}Queue"


def dead_letter_id(stage: Stage, queue: str) -> str:
    return f"{queue_base(stage, queue)}DeadLetterQueue"


def queue_arn(queue: str) -> dict:
    return sub(f"{ARN}:sqs:{ACCOUNT_ARN}:{queue}")


def bucket_arn(stage: Stage, key_pattern: str | None = None) -> dict:
    return sub(f"{ARN}:s3:::{stage.data_bucket}" + (f"/{key_pattern}" if key_pattern is not None else ""))


def log_group_id(function: Function) -> str:
    return f"{function.logical_id}LogGroup"


def log_group_name(function: Function) -> str:
    return f"/aws/lambda/{function.function_name}"


def mail_identity_arn(stage: Stage) -> dict:
    return sub(f"{ARN}:ses:{ACCOUNT_ARN}:identity/{stage.mail_domain}")


def data_bucket_origins(stage: Stage) -> list[str]:
    """Where the browser sends files (presigned POST) and reads photos (presigned GET): boto3 signs for the global
    virtual-hosted name; the regional one is allowed too."""
    return [f"https://{stage.data_bucket}.s3.amazonaws.com",
            f"https://{stage.data_bucket}.s3.${{AWS::Region}}.amazonaws.com"]


# --- DynamoDB -----------------------------------------------------------------------------------------------------

def all_models():
    from chalicelib.store.tables import ALL_MODELS

    return list(ALL_MODELS)


def _key_schema(entries: list[dict]) -> list[dict]:
    ordered = sorted(entries, key=lambda e: 0 if e["KeyType"] == "HASH" else 1)
    return [{"AttributeName": e["AttributeName"], "KeyType": e["KeyType"]} for e in ordered]


def _projection(projection: dict) -> dict:
    result = {"ProjectionType": projection["ProjectionType"]}
    if projection.get("NonKeyAttributes"):
        result["NonKeyAttributes"] = list(projection["NonKeyAttributes"])
    return result


def ttl_attribute(model) -> str | None:
    names = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
    if len(names) > 1:
        raise SystemExit(f"{model.__name__}: DynamoDB allows one TTL attribute per table, found {names}")
    return names[0] if names else None


def table_resource(stage: Stage, model) -> dict:
    schema = model._get_schema()
    definitions: dict[str, str] = {}
    for source in [schema] + schema.get("global_secondary_indexes", []) + schema.get("local_secondary_indexes", []):
        for definition in source.get("attribute_definitions", []):
            definitions[definition["AttributeName"]] = definition["AttributeType"]
    properties = {
        "TableName": table_name(stage, model),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in definitions.items()],
        "KeySchema": _key_schema(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": stage.options.keep_data,
        "Tags": tags(stage),
    }
    gsis = [{"IndexName": i["index_name"], "KeySchema": _key_schema(i["key_schema"]),
             "Projection": _projection(i["projection"])} for i in schema.get("global_secondary_indexes", [])]
    if gsis:
        properties["GlobalSecondaryIndexes"] = gsis
    lsis = [{"IndexName": i["index_name"], "KeySchema": _key_schema(i["key_schema"]),
             "Projection": _projection(i["projection"])} for i in schema.get("local_secondary_indexes", [])]
    if lsis:
        properties["LocalSecondaryIndexes"] = lsis
    ttl = ttl_attribute(model)
    if ttl:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", **retention(stage), "Properties": properties}


# --- queues and the data bucket -----------------------------------------------------------------------------------

def consumers(stage: Stage) -> dict[str, Function]:
    by_queue: dict[str, Function] = {}
    for function in stage.functions:
        if function.queue:
            if function.queue in by_queue:
                raise SystemExit(f"Queue {function.queue} has two consumers: {by_queue[function.queue].name}, "
                                 f"{function.name}")
            by_queue[function.queue] = function
    return by_queue


def visibility_timeout(function: Function) -> int:
    return min(MAX_VISIBILITY_SECONDS, max(30, VISIBILITY_PER_TIMEOUT * function.timeout))


def queue_resources(stage: Stage) -> dict:
    suffix, max_receives = dead_letter_settings()
    notified = notification_prefixes()
    resources = {}
    for queue, function in consumers(stage).items():
        qid, dlq = queue_id(stage, queue), dead_letter_id(stage, queue)
        resources[dlq] = {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": queue + suffix,
            "MessageRetentionPeriod": DEAD_LETTER_RETENTION_SECONDS,
            "SqsManagedSseEnabled": True,
            "RedriveAllowPolicy": {"redrivePermission": "byQueue", "sourceQueueArns": [queue_arn(queue)]},
            "Tags": tags(stage),
        }}
        resources[qid] = {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": queue,
            "VisibilityTimeout": visibility_timeout(function),
            "MessageRetentionPeriod": QUEUE_RETENTION_SECONDS,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {"deadLetterTargetArn": get_att(dlq, "Arn"), "maxReceiveCount": max_receives},
            "Tags": tags(stage),
        }}
        statements = [{
            "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
            "Resource": get_att(qid, "Arn"), "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }]
        if queue in notified:
            statements.insert(0, {
                "Sid": "DataBucketEvents", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": get_att(qid, "Arn"),
                "Condition": {"ArnEquals": {"aws:SourceArn": bucket_arn(stage)},
                              "StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}},
            })
        resources[f"{qid}Policy"] = {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [ref(qid)],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
        }}
    missing = set(notified) - set(consumers(stage))
    if missing:
        raise SystemExit(f"Bucket notifications to queues that no handler consumes: {sorted(missing)}")
    return resources


def incoming_prefix() -> str:
    """The common folder of every notified prefix (incoming/): what was sent and not yet processed."""
    common = os.path.commonprefix(list(notification_prefixes().values()))
    return common[: common.rfind("/") + 1]


def documents_prefix() -> str:
    from chalicelib.services.documents import DOCUMENTS_PREFIX

    return DOCUMENTS_PREFIX


def data_bucket_resources(stage: Stage) -> dict:
    notified = notification_prefixes()
    incoming = incoming_prefix()
    if not incoming:
        raise SystemExit("The notified prefixes share no folder: the expiry rule of unprocessed uploads needs one")
    bucket = {
        "Type": "AWS::S3::Bucket",
        **retention(stage),
        "DependsOn": sorted(f"{queue_id(stage, q)}Policy" for q in notified),
        "Properties": {
            "BucketName": stage.data_bucket,
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "expire-unprocessed-uploads", "Status": "Enabled", "Prefix": incoming,
                 "ExpirationInDays": INCOMING_EXPIRY_DAYS},
                {"Id": "expire-generated-documents", "Status": "Enabled", "Prefix": documents_prefix(),
                 "ExpirationInDays": DOCUMENTS_EXPIRY_DAYS},
                {"Id": "abort-incomplete-multipart-uploads", "Status": "Enabled",
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
            ]},
            # Only the presigned POSTs of the site are cross-origin (the API shares the site's origin).
            "CorsConfiguration": {"CorsRules": [{"AllowedOrigins": [stage.site_url], "AllowedMethods": ["POST"],
                                                 "AllowedHeaders": ["*"], "MaxAge": 600}]},
            "NotificationConfiguration": {"QueueConfigurations": [
                {"Event": S3_OBJECT_CREATED, "Queue": get_att(queue_id(stage, queue), "Arn"),
                 "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": prefix}]}}}
                for queue, prefix in notified.items()
            ]},
            "Tags": tags(stage),
        },
    }
    policy = {"Type": "AWS::S3::BucketPolicy", "Properties": {
        "Bucket": ref(DATA_BUCKET_ID),
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [_tls_only(DATA_BUCKET_ID)]},
    }}
    return {DATA_BUCKET_ID: bucket, f"{DATA_BUCKET_ID}Policy": policy}


def _tls_only(bucket_id: str) -> dict:
    return {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [get_att(bucket_id, "Arn"), sub(f"${{{bucket_id}.Arn}}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


# --- the site: private bucket, CloudFront, security headers --------------------------------------------------------

def response_headers_config(stage: Stage) -> dict:
    """The local site server's headers (local/site_server.py), plus HSTS, as a CloudFront response headers policy."""
    security: dict = {"StrictTransportSecurity": {"AccessControlMaxAgeSec": HSTS_SECONDS, "IncludeSubdomains": True,
                                                  "Preload": False, "Override": True}}
    custom = []
    for name, value in site_headers().items():
        key = name.lower()
        if key == "content-security-policy":
            csp = value.format(files=" ".join(data_bucket_origins(stage)), api="")
            security["ContentSecurityPolicy"] = {"ContentSecurityPolicy": sub(" ".join(csp.split())),
                                                 "Override": True}
        elif key == "x-content-type-options":
            if value != "nosniff":
                raise SystemExit(f"CloudFront only sends X-Content-Type-Options: nosniff, not {value!r}")
            security["ContentTypeOptions"] = {"Override": True}
        elif key == "referrer-policy":
            security["ReferrerPolicy"] = {"ReferrerPolicy": value, "Override": True}
        elif key == "x-frame-options":
            security["FrameOptions"] = {"FrameOption": value.upper(), "Override": True}
        else:
            custom.append({"Header": name, "Value": value, "Override": True})
    # As the local server: the browser revalidates the site's files (unless an object says otherwise).
    custom.append({"Header": "Cache-Control", "Value": "no-cache", "Override": False})
    return {"Name": stage.prefixed("site-headers"), "Comment": f"{stage.app_name} {stage.name}: security headers",
            "SecurityHeadersConfig": security, "CustomHeadersConfig": {"Items": custom}}


def origin_secret_name(stage: Stage) -> str:
    return stage.prefixed("origin-verify")


def origin_secret_value(stage: Stage) -> str:
    """A dynamic reference: CloudFormation puts the secret's value in place when it creates or updates the resource."""
    return f"{{{{resolve:secretsmanager:{origin_secret_name(stage)}}}}}"


SITE_REQUEST_FUNCTION = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === "/" || Object.prototype.hasOwnProperty.call(KNOWN, uri)
      || (uri.indexOf(PASSED_THROUGH) === 0 && uri.charAt(uri.length - 1) !== "/")) {
    return request;
  }
  request.uri = NOT_FOUND;
  request.querystring = {};
  return request;
}
"""
SITE_RESPONSE_FUNCTION = """function handler(event) {
  var response = event.response;
  var marker = response.headers[MARKER];
  if (marker) {
    response.statusCode = parseInt(marker.value, 10);
    response.statusDescription = "Not Found";
    delete response.headers[MARKER];
  }
  return response;
}
"""


def site_routing_functions() -> dict[str, str]:
    """The two CloudFront Functions of the site's behaviour. CloudFront's custom error pages would apply to the API's
    answers too (they are per distribution): instead, viewer-request sends an address the site does not have to its
    404 page, and viewer-response gives that page the status its object's metadata names."""
    from .publish_site import NOT_FOUND_METADATA, NOT_FOUND_PAGE, PASSED_THROUGH, known_paths

    (name, _), = NOT_FOUND_METADATA.items()
    known = json.dumps({path: 1 for path in known_paths()}, separators=(",", ":"))
    request = (f"var KNOWN = {known};\nvar PASSED_THROUGH = {json.dumps('/' + PASSED_THROUGH)};\n"
               f"var NOT_FOUND = {json.dumps('/' + NOT_FOUND_PAGE)};\n" + SITE_REQUEST_FUNCTION)
    response = f"var MARKER = {json.dumps('x-amz-meta-' + name)};\n" + SITE_RESPONSE_FUNCTION
    return {"viewer-request": request, "viewer-response": response}


def site_function_resources(stage: Stage) -> dict:
    resources = {}
    for event, code in site_routing_functions().items():
        resources[site_function_id(event)] = {"Type": "AWS::CloudFront::Function", "Properties": {
            "Name": stage.prefixed(f"site-{event}"), "AutoPublish": True, "FunctionCode": code,
            "FunctionConfig": {"Comment": f"{stage.app_name} {stage.name}: the site's 404 page ({event})",
                               "Runtime": "cloudfront-js-2.0"}}}
    return resources


def site_function_id(event: str) -> str:
    return "SiteFunction" + "".join(part.title() for part in event.split("-"))


def site_resources(stage: Stage) -> dict:
    api_prefix = site_config()["api_url"]
    if api_prefix != f"/{stage.api_gateway_stage}":
        raise SystemExit(f"The site calls the API at {api_prefix} but its API Gateway stage is "
                         f"{stage.api_gateway_stage!r}: CloudFront maps /<stage>/* to it unchanged")
    api_domain = sub(f"${{{REST_API_ID}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}")
    api_path = f"/{stage.api_gateway_stage}/*"
    return {
        ORIGIN_SECRET_ID: {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Name": origin_secret_name(stage),
            "Description": f"Sent by CloudFront to the API in {ORIGIN_HEADER}: the API answers only requests that "
                           "came through the site's distribution",
            "GenerateSecretString": {"PasswordLength": 48, "ExcludePunctuation": True},
            "Tags": tags(stage)}},
        **site_function_resources(stage),
        SITE_BUCKET_ID: {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete",
                         "Properties": {
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "Tags": tags(stage),
        }},
        f"{SITE_BUCKET_ID}Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": ref(SITE_BUCKET_ID),
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "CloudFrontReads", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                 "Action": "s3:GetObject", "Resource": sub(f"${{{SITE_BUCKET_ID}.Arn}}/*"),
                 "Condition": {"StringEquals": {"AWS:SourceArn": sub(
                     f"{ARN}:cloudfront::${{AWS::AccountId}}:distribution/${{{DISTRIBUTION_ID}}}")}}},
                # A missing file is then S3's 404, not a 403 (only vendor/ reaches S3 unchecked).
                {"Sid": "CloudFrontLists", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                 "Action": "s3:ListBucket", "Resource": get_att(SITE_BUCKET_ID, "Arn"),
                 "Condition": {"StringEquals": {"AWS:SourceArn": sub(
                     f"{ARN}:cloudfront::${{AWS::AccountId}}:distribution/${{{DISTRIBUTION_ID}}}")}}},
                _tls_only(SITE_BUCKET_ID),
            ]},
        }},
        "SiteOriginAccessControl": {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {
            "OriginAccessControlConfig": {"Name": stage.prefixed("site"), "OriginAccessControlOriginType": "s3",
                                          "SigningBehavior": "always", "SigningProtocol": "sigv4"}}},
        "SiteHeadersPolicy": {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {
            "ResponseHeadersPolicyConfig": response_headers_config(stage)}},
        # The API is never cached; the bearer token is part of the key anyway, so no answer can reach another person.
        "ApiCachePolicy": {"Type": "AWS::CloudFront::CachePolicy", "Properties": {"CachePolicyConfig": {
            "Name": stage.prefixed("api-no-cache"), "DefaultTTL": 0, "MinTTL": 0, "MaxTTL": 1,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": False, "EnableAcceptEncodingBrotli": False,
                "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["Authorization"]},
                "CookiesConfig": {"CookieBehavior": "none"},
                "QueryStringsConfig": {"QueryStringBehavior": "all"}}}}},
        # API Gateway needs its own Host header: forward what the API reads, and the viewer's address.
        "ApiOriginRequestPolicy": {"Type": "AWS::CloudFront::OriginRequestPolicy", "Properties": {
            "OriginRequestPolicyConfig": {
                "Name": stage.prefixed("api-origin"),
                "HeadersConfig": {"HeaderBehavior": "whitelist",
                                  "Headers": ["Accept", "Accept-Language", "Content-Type",
                                              "CloudFront-Viewer-Address"]},
                "CookiesConfig": {"CookieBehavior": "none"},
                "QueryStringsConfig": {"QueryStringBehavior": "all"}}}},
        DISTRIBUTION_ID: {"Type": "AWS::CloudFront::Distribution", "DependsOn": [ORIGIN_SECRET_ID],
                          "Properties": {"DistributionConfig": {
            "Enabled": True,
            "Comment": f"{stage.app_name} {stage.name}",
            "Aliases": [stage.site_host],
            "ViewerCertificate": {"AcmCertificateArn": ref("SiteCertificateArn"), "SslSupportMethod": "sni-only",
                                  "MinimumProtocolVersion": "TLSv1.2_2021"},
            "HttpVersion": "http2and3",
            "IPV6Enabled": True,
            "PriceClass": "PriceClass_100",
            "DefaultRootObject": "index.html",
            "Origins": [
                {"Id": "site", "DomainName": get_att(SITE_BUCKET_ID, "RegionalDomainName"),
                 "S3OriginConfig": {"OriginAccessIdentity": ""},
                 "OriginAccessControlId": get_att("SiteOriginAccessControl", "Id")},
                # No origin path: the API's stage is named like the site's API prefix, so /api/* maps 1:1.
                {"Id": "api", "DomainName": api_domain,
                 "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"],
                                        "HTTPSPort": 443},
                 "OriginCustomHeaders": [{"HeaderName": ORIGIN_HEADER, "HeaderValue": origin_secret_value(stage)}]},
            ],
            "DefaultCacheBehavior": {
                "TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https", "Compress": True,
                "AllowedMethods": ["GET", "HEAD"], "CachedMethods": ["GET", "HEAD"],
                "CachePolicyId": CACHING_OPTIMIZED, "ResponseHeadersPolicyId": ref("SiteHeadersPolicy"),
                "FunctionAssociations": [{"EventType": event, "FunctionARN": get_att(site_function_id(event),
                                                                                     "FunctionMetadata.FunctionARN")}
                                         for event in site_routing_functions()],
            },
            "CacheBehaviors": [{
                "PathPattern": api_path, "TargetOriginId": "api", "ViewerProtocolPolicy": "https-only",
                "Compress": True,
                "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                "CachedMethods": ["GET", "HEAD"],
                "CachePolicyId": ref("ApiCachePolicy"), "OriginRequestPolicyId": ref("ApiOriginRequestPolicy"),
                "ResponseHeadersPolicyId": ref("SiteHeadersPolicy"),
            }],
        }, "Tags": tags(stage)}},
    }


# --- functions: names, runtime, log groups, event sources, roles ---------------------------------------------------

def policy_document(stage: Stage, function: Function, access: Access) -> dict:
    statements = [{
        "Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": sub(f"{ARN}:logs:{ACCOUNT_ARN}:log-group:{log_group_name(function)}:*"),
    }]
    models = {m.BASE_NAME: m for m in all_models()}
    for model, actions in access.tables.items():
        if models.get(model.BASE_NAME) is not model:
            raise SystemExit(f"{function.name}: {model.__name__} is not in ALL_MODELS")
        statements.append({"Sid": f"{to_logical_id(model.BASE_NAME)}Table", "Effect": "Allow",
                           "Action": [f"dynamodb:{a}" for a in actions], "Resource": table_arn(stage, model)})
    for (model, index), actions in access.indexes.items():
        if index not in {i["index_name"] for i in model._get_schema().get("global_secondary_indexes", [])}:
            raise SystemExit(f"{function.name}: {model.__name__} has no index {index!r}")
        statements.append({"Sid": f"{to_logical_id(model.BASE_NAME)}{to_logical_id(index)}Index",
                           "Effect": "Allow", "Action": [f"dynamodb:{a}" for a in actions],
                           "Resource": table_arn(stage, model, index)})
    for prefix, actions in access.objects.items():
        if not prefix.endswith("/"):
            raise SystemExit(f"{function.name}: S3 prefix {prefix!r} must be a folder (end with /)")
        statements.append({"Sid": f"Objects{to_logical_id(prefix.replace('/', '-'))}", "Effect": "Allow",
                           "Action": [f"s3:{a}" for a in actions], "Resource": bucket_arn(stage, prefix + "*")})
    if access.list_prefixes:
        statements.append({"Sid": "ListOwnPrefixes", "Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": bucket_arn(stage),
                           "Condition": {"StringLike": {"s3:prefix": [p + "*" for p in access.list_prefixes]}}})
    if function.queue:
        statements.append({"Sid": "ConsumeOwnQueue", "Effect": "Allow",
                           "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                           "Resource": queue_arn(function.queue)})
    for queue in access.sends_to:
        if queue not in consumers(stage):
            raise SystemExit(f"{function.name} sends to {queue}, which no function consumes")
        statements.append({"Sid": f"SendTo{queue_base(stage, queue)}", "Effect": "Allow",
                           "Action": ["sqs:GetQueueUrl", "sqs:SendMessage"], "Resource": queue_arn(queue)})
    for setting in access.reads_secrets:
        name = stage.environment.get(setting)
        if not name:
            raise SystemExit(f"{function.name} reads the secret named by {setting}, unset for stage {stage.name}")
        # Secrets Manager adds six random characters to a secret's name in its ARN.
        statements.append({"Sid": f"ReadSecret{to_logical_id(setting.lower().replace('_', '-'))}", "Effect": "Allow",
                           "Action": ["secretsmanager:GetSecretValue"],
                           "Resource": sub(f"{ARN}:secretsmanager:{ACCOUNT_ARN}:secret:{name}-??????")})
    if access.sends_mail:
        statements.append({"Sid": "SendMail", "Effect": "Allow", "Action": ["ses:SendRawEmail"],
                           "Resource": mail_identity_arn(stage),
                           "Condition": {"StringEquals": {"ses:FromAddress": stage.mail_sender}}})
    return {"Version": "2012-10-17", "Statement": statements}


def function_resources(stage: Stage) -> dict:
    resources = {}
    missing = [f.name for f in stage.functions if f.name not in ACCESS]
    if missing:
        raise SystemExit(f"No access entry in infra/access.py for: {', '.join(missing)}")
    for function in stage.functions:
        log_group = log_group_id(function)
        resources[log_group] = {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": log_group_name(function), "RetentionInDays": stage.options.log_retention_days,
            "Tags": tags(stage)}}
        properties: dict = {"FunctionName": function.function_name, "Runtime": LAMBDA_RUNTIME,
                            "Tags": {"app": stage.app_name, "stage": stage.name},
                            # Every setting on every function (the API is the one that checks it).
                            "Environment": {"Variables": {"ORIGIN_SECRET": origin_secret_value(stage)}}}
        if function.queue:
            # Chalice names the queue's ARN with an Fn::Sub; replacing its string (the merge merges dictionaries)
            # with the queue's Arn ties the event source to the queue created here, after it.
            properties["Events"] = {function.event_source_id: {"Properties": {
                "Queue": sub(f"${{{queue_id(stage, function.queue)}.Arn}}")}}}
        resources[function.logical_id] = {"DependsOn": [log_group, ORIGIN_SECRET_ID], "Properties": properties}
        resources[function.role_logical_id] = {"Properties": {"Policies": [{
            "PolicyName": f"{function.role_logical_id}Policy",
            "PolicyDocument": policy_document(stage, function, ACCESS[function.name]),
        }]}}
    resources[REST_API_ID] = {"Properties": {
        # CloudFront is in front: a regional endpoint, not a second (edge-optimised) CloudFront.
        "EndpointConfiguration": "REGIONAL",
        "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*",
                            "ThrottlingRateLimit": stage.options.api_rate_limit,
                            "ThrottlingBurstLimit": stage.options.api_burst_limit}],
        # In the API's definition, so that every deployment of the API carries them.
        "DefinitionBody": {"x-amazon-apigateway-gateway-responses": gateway_responses()},
    }}
    return resources


def gateway_responses() -> dict:
    """API Gateway's own answers (unknown path or method, throttling, ...) in the portal's error shape, in French
    (chalicelib/api/gateway.py; the local stack answers the same)."""
    responses = {}
    for kind, answer in GATEWAY_RESPONSES.items():
        response = {"responseParameters": {"gatewayresponse.header.Content-Type": "'application/json'",
                                           "gatewayresponse.header.Cache-Control": "'no-store'"},
                    "responseTemplates": {"application/json": answer.body()}}
        if answer.status is not None:
            response["statusCode"] = str(answer.status)
        responses[kind] = response
    return responses


# --- mail, alarms -------------------------------------------------------------------------------------------------

def mail_resources(stage: Stage) -> dict:
    return {MAIL_IDENTITY_ID: {"Type": "AWS::SES::EmailIdentity", "Properties": {
        "EmailIdentity": stage.mail_domain,
        "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
        "FeedbackAttributes": {"EmailForwardingEnabled": True},
    }}}


def _alarm(stage: Stage, description: str, namespace: str, metric: str, dimensions: list, statistic: str,
           threshold: int) -> dict:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": description, "Namespace": namespace, "MetricName": metric, "Dimensions": dimensions,
        "Statistic": statistic, "Period": stage.options.alarm_period_seconds, "EvaluationPeriods": 1,
        "Threshold": threshold, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching", "AlarmActions": [ref(ALARM_TOPIC_ID)], "OKActions": [ref(ALARM_TOPIC_ID)],
    }}


def _throttle_alarm(stage: Stage, table: str) -> dict:
    """Read or write requests of a table (its indexes included) refused for throughput, in one alarm period."""
    def events(metric_id: str, metric: str) -> dict:
        return {"Id": metric_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": "AWS/DynamoDB", "MetricName": metric,
                       "Dimensions": [{"Name": "TableName", "Value": ref(table)}]},
            "Period": stage.options.alarm_period_seconds, "Stat": "Sum"}}

    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": f"{table}: DynamoDB refused requests for throughput (hot key or on-demand maximum)",
        "Metrics": [events("reads", "ReadThrottleEvents"), events("writes", "WriteThrottleEvents"),
                    {"Id": "throttled", "Expression": "FILL(reads, 0) + FILL(writes, 0)",
                     "Label": "ReadThrottleEvents + WriteThrottleEvents", "ReturnData": True}],
        "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching", "AlarmActions": [ref(ALARM_TOPIC_ID)], "OKActions": [ref(ALARM_TOPIC_ID)],
    }}


def metrics_namespace(stage: Stage) -> str:
    return f"{stage.app_name}/{stage.name}"


def alarm_resources(stage: Stage) -> dict:
    resources = {
        ALARM_TOPIC_ID: {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": stage.prefixed("alarms"), "Tags": tags(stage)}},
        "AlarmEmailSubscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasAlarmEmail", "Properties": {
            "TopicArn": ref(ALARM_TOPIC_ID), "Protocol": "email", "Endpoint": ref("AlarmEmail")}},
    }
    for function in stage.functions:
        resources[f"{function.logical_id}ErrorsAlarm"] = _alarm(
            stage, f"{function.function_name}: the function failed (exception, timeout or out of memory)",
            "AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": ref(function.logical_id)}], "Sum", 1)
        resources[f"{function.logical_id}ThrottlesAlarm"] = _alarm(
            stage, f"{function.function_name}: invocations refused for lack of concurrency",
            "AWS/Lambda", "Throttles", [{"Name": "FunctionName", "Value": ref(function.logical_id)}], "Sum", 1)
    for function in stage.functions:
        resources[f"{function.logical_id}DurationAlarm"] = _alarm(
            stage, f"{function.function_name}: a run took more than {DURATION_ALARM_SHARE:.0%} of its "
                   f"{function.timeout} s timeout", "AWS/Lambda", "Duration",
            [{"Name": "FunctionName", "Value": ref(function.logical_id)}], "Maximum",
            int(DURATION_ALARM_SHARE * function.timeout * 1000))
    for queue in consumers(stage):
        age = QUEUE_AGE_ALARM_SECONDS.get(queue, DEFAULT_QUEUE_AGE_ALARM_SECONDS)
        resources[f"{queue_id(stage, queue)}AgeAlarm"] = _alarm(
            stage, f"{queue}: a message has waited {age} s or more (the functions do not keep up, or their maximum "
                   "concurrency is reached)", "AWS/SQS", "ApproximateAgeOfOldestMessage",
            [{"Name": "QueueName", "Value": get_att(queue_id(stage, queue), "QueueName")}], "Maximum", age)
    for model in all_models():
        # On-demand tables throttle too: past a partition's 1,000 WRU / 3,000 RRU a second (a hot key: the card
        # numbers' counter, a département's index) or the table's on-demand maximum.
        table = table_id(model)
        resources[f"{table}ThrottlesAlarm"] = _throttle_alarm(stage, table)
    for queue in consumers(stage):
        dlq = dead_letter_id(stage, queue)
        resources[f"{dlq}Alarm"] = _alarm(
            stage, f"{queue}: events failed {dead_letter_settings()[1]} times and wait in the dead-letter queue",
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", [{"Name": "QueueName", "Value": get_att(dlq, "QueueName")}],
            "Maximum", 1)
    # The API answers its own errors (a 500 is a response, not a Lambda error): counted from its access log.
    api = next((f for f in stage.functions if f.logical_id == "APIHandler"), None)
    if api is not None:
        resources["ApiServerErrorsMetric"] = {"Type": "AWS::Logs::MetricFilter", "Properties": {
            "LogGroupName": ref(log_group_id(api)),
            "FilterPattern": '{ $.logger = "portal.access" && $.status >= 500 }',
            "MetricTransformations": [{"MetricNamespace": metrics_namespace(stage), "MetricName": "ApiServerErrors",
                                       "MetricValue": "1", "DefaultValue": 0}],
        }}
        resources["ApiServerErrorsAlarm"] = _alarm(
            stage, f"{stage.app_name} {stage.name}: the API answered 5xx errors", metrics_namespace(stage),
            "ApiServerErrors", [], "Sum", stage.options.api_error_threshold)
    return resources


# --- the whole merge template -------------------------------------------------------------------------------------

def merge_template(stage: Stage) -> dict:
    resources: dict = {}
    for model in all_models():
        resources[table_id(model)] = table_resource(stage, model)
    for part in (queue_resources, data_bucket_resources, mail_resources, site_resources, function_resources,
                 alarm_resources):
        for name, resource in part(stage).items():
            if name in resources:
                raise SystemExit(f"Two resources named {name}")
            resources[name] = resource
    return {
        "Description": f"{stage.app_name} ({stage.name}): the portal for the ID cards of elected officials. "
                       f"Generated by `python -m infra.package --stage {stage.name}`; do not edit.",
        "Parameters": {
            "SiteCertificateArn": {
                "Type": "String",
                "Description": f"ACM certificate (in us-east-1, for CloudFront) covering {stage.site_host}",
                "AllowedPattern": r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$",
            },
            "AlarmEmail": {"Type": "String", "Default": "",
                           "Description": "Who receives the alarms (confirm the subscription email); empty: nobody"},
        },
        "Conditions": {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [ref("AlarmEmail"), ""]}]}},
        "Resources": resources,
        "Outputs": {
            "Stage": {"Value": stage.name},
            "SiteUrl": {"Value": stage.site_url},
            "SiteBucketName": {"Value": ref(SITE_BUCKET_ID)},
            "SiteDistributionId": {"Value": ref(DISTRIBUTION_ID)},
            "SiteDistributionDomainName": {"Description": f"Point {stage.site_host} here (CNAME or alias)",
                                           "Value": get_att(DISTRIBUTION_ID, "DomainName")},
            "DataBucketName": {"Value": ref(DATA_BUCKET_ID)},
            "AlarmTopicArn": {"Value": ref(ALARM_TOPIC_ID)},
            **{f"MailDkimRecord{i}": {
                "Description": f"DNS CNAME {i} of 3 for {stage.mail_domain} (DKIM of the sender)",
                "Value": {"Fn::Join": [" CNAME ", [get_att(MAIL_IDENTITY_ID, f"DkimDNSTokenName{i}"),
                                                   get_att(MAIL_IDENTITY_ID, f"DkimDNSTokenValue{i}")]]}}
               for i in (1, 2, 3)},
        },
    }


def generate(stage_name: str) -> dict:
    return merge_template(load_stage(stage_name))


def write(stage_name: str, path) -> dict:
    template = generate(stage_name)
    with open(path, "w") as handle:
        json.dump(template, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    return template
