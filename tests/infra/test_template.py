"""The packaged template of each stage: valid (cfn-lint), complete (every table, bucket, queue and setting the code
uses) and wired as the code expects (bucket notifications -> queues -> handlers), with no value of another stage."""
import json
import re
from urllib.parse import urlsplit

import pytest
from pynamodb.attributes import TTLAttribute
from pynamodb.indexes import GlobalSecondaryIndex, LocalSecondaryIndex

from chalicelib.store import files, queues
from chalicelib.store.tables import ALL_MODELS
from infra import checks
from infra.project import (LAMBDA_PROVIDED_VARIABLES, LAMBDA_RUNTIME, LOCAL_ONLY_VARIABLES, deployable_stages,
                           settings_variables, site_config)
from tests.infra.conftest import resources_of_type

# What the code expects, written out here rather than taken from the generator: prefix -> (queue, handler).
EXPECTED_WIRING = {
    files.IMPORTS_PREFIX: (queues.IMPORTS_QUEUE, "import_reference_file"),
    files.PHOTOS_PREFIX: (queues.PHOTOS_QUEUE, "process_photo_event"),
}
DEAD_LETTER_MAX_RECEIVES = 3


def resolve(value, template):
    return checks.resolve(value, template)


def functions(template: dict) -> dict:
    return resources_of_type(template, "AWS::Serverless::Function")


def queue_by_name(template: dict, name: str) -> tuple[str, dict]:
    found = [(rid, r) for rid, r in resources_of_type(template, "AWS::SQS::Queue").items()
             if r["Properties"]["QueueName"] == name]
    assert len(found) == 1, f"queue {name}: {len(found)} in the template"
    return found[0]


def data_bucket(template: dict, stage) -> dict:
    buckets = [r for r in resources_of_type(template, "AWS::S3::Bucket").values()
               if r["Properties"].get("BucketName") == stage.data_bucket]
    assert len(buckets) == 1, f"the data bucket {stage.data_bucket} is declared {len(buckets)} times"
    return buckets[0]


# --- validity -----------------------------------------------------------------------------------------------------

def test_cfn_lint_finds_no_error(packaged, stage_name):
    lint = packaged[stage_name]["lint"]
    for line in lint.warnings:
        print(f"cfn-lint warning ({stage_name}): {line}")
    assert lint.errors == []


def test_every_override_of_a_chalice_resource_landed(template):
    assert checks.unmerged_overrides(template) == []


def test_functions_run_on_the_lambda_runtime_the_dependencies_are_built_for(template, stage):
    for function in stage.functions:
        properties = template["Resources"][function.logical_id]["Properties"]
        assert properties["Runtime"] == LAMBDA_RUNTIME
        assert properties["FunctionName"] == f"{stage.app_name}-{stage.name}-{function.name}"


# --- completeness -------------------------------------------------------------------------------------------------

def _indexes(model, kind) -> dict:
    return {value.Meta.index_name: value for value in vars(model).values() if isinstance(value, kind)}


def _index_keys(index) -> list[dict]:
    keys = []
    for attribute in index.Meta.attributes.values():
        if attribute.is_hash_key:
            keys.insert(0, {"AttributeName": attribute.attr_name, "KeyType": "HASH"})
        elif attribute.is_range_key:
            keys.append({"AttributeName": attribute.attr_name, "KeyType": "RANGE"})
    return keys


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_model_has_its_table(template, stage, model):
    tables = {r["Properties"]["TableName"]: r for r in resources_of_type(template, "AWS::DynamoDB::Table").values()}
    name = stage.environment["TABLE_PREFIX"] + model.BASE_NAME
    assert name in tables, f"{model.__name__}: no table {name}"
    table = tables[name]["Properties"]
    attributes = model.get_attributes()
    keys = [{"AttributeName": model._hash_keyname, "KeyType": "HASH"}]
    if model._range_keyname:
        keys.append({"AttributeName": model._range_keyname, "KeyType": "RANGE"})
    assert table["KeySchema"] == keys
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    declared_types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    gsis = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    expected_gsis = _indexes(model, GlobalSecondaryIndex)
    assert set(gsis) == set(expected_gsis), f"{model.__name__}: indexes"
    for index_name, index in expected_gsis.items():
        assert gsis[index_name]["KeySchema"] == _index_keys(index), f"{model.__name__}.{index_name}"
        assert gsis[index_name]["Projection"]["ProjectionType"] == index.Meta.projection.projection_type
        assert "ProvisionedThroughput" not in gsis[index_name]
    assert not _indexes(model, LocalSecondaryIndex) or table.get("LocalSecondaryIndexes")
    key_names = {k["AttributeName"] for k in keys} | {k["AttributeName"] for i in gsis.values() for k in i["KeySchema"]}
    assert set(declared_types) == key_names, "exactly the key attributes are declared"
    by_attr_name = {a.attr_name: a for a in attributes.values()}
    for attr_name, attribute_type in declared_types.items():
        assert attribute_type == by_attr_name[attr_name].attr_type, attr_name
    ttl = [a.attr_name for a in attributes.values() if isinstance(a, TTLAttribute)]
    if ttl:
        assert table["TimeToLiveSpecification"] == {"AttributeName": ttl[0], "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in table


def test_no_table_without_a_model(template, stage):
    names = {r["Properties"]["TableName"] for r in resources_of_type(template, "AWS::DynamoDB::Table").values()}
    assert names == {stage.environment["TABLE_PREFIX"] + m.BASE_NAME for m in ALL_MODELS}


def test_every_queue_of_the_code_exists_with_a_dead_letter_queue(template, stage):
    constants = {value for name, value in vars(queues).items() if name.endswith("_QUEUE") and isinstance(value, str)}
    assert constants, "no queue constant found in chalicelib/store/queues.py"
    timeouts = {f["Properties"]["Events"][e]["Properties"]["Queue"]["Fn::Sub"]: f["Properties"]["Timeout"]
                for f in functions(template).values() for e in f["Properties"].get("Events", {})
                if f["Properties"]["Events"][e]["Type"] == "SQS"}
    for name in constants:
        queue_id, queue = queue_by_name(template, name)
        properties = queue["Properties"]
        redrive = properties["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == DEAD_LETTER_MAX_RECEIVES
        dead_letters = template["Resources"][redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]
        assert dead_letters["Type"] == "AWS::SQS::Queue"
        assert properties.get("SqsManagedSseEnabled") and dead_letters["Properties"].get("SqsManagedSseEnabled")
        consumer_timeout = timeouts.get(f"${{{queue_id}.Arn}}")
        assert consumer_timeout, f"{name}: no function consumes it"
        assert properties["VisibilityTimeout"] >= consumer_timeout, f"{name}: visibility below the function's timeout"


def test_every_setting_the_code_reads_is_set_on_every_function(template, stage):
    read = settings_variables()
    assert {"STAGE", "TABLE_PREFIX", "DATA_BUCKET", "MAIL_SENDER", "SITE_URL"} <= read  # the parser found them
    required = read - LAMBDA_PROVIDED_VARIABLES - LOCAL_ONLY_VARIABLES
    for name, function in functions(template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert required <= set(variables), f"{name} lacks {required - set(variables)}"
        assert not (LOCAL_ONLY_VARIABLES & set(variables)), f"{name}: local-only settings deployed"


def test_the_settings_name_the_resources_of_the_template(template, stage):
    tables = {r["Properties"]["TableName"] for r in resources_of_type(template, "AWS::DynamoDB::Table").values()}
    identities = [r["Properties"]["EmailIdentity"] for r in resources_of_type(template, "AWS::SES::EmailIdentity")
                  .values()]
    distribution = next(iter(resources_of_type(template, "AWS::CloudFront::Distribution").values()))
    for name, function in functions(template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["STAGE"] == stage.name
        assert all(t.startswith(variables["TABLE_PREFIX"]) for t in tables)
        assert data_bucket(template, stage)["Properties"]["BucketName"] == variables["DATA_BUCKET"]
        assert variables["MAIL_SENDER"].rpartition("@")[2] in identities
        site = urlsplit(variables["SITE_URL"])
        assert site.scheme == "https" and site.path in ("", "/")
        assert distribution["Properties"]["DistributionConfig"]["Aliases"] == [site.hostname]


# --- the data bucket and its triggers -----------------------------------------------------------------------------

def test_the_data_bucket_is_private_encrypted_tls_only_and_purges_uploads(template, stage):
    bucket = data_bucket(template, stage)["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                        "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert any(r.get("Prefix") == "incoming/" and r["ExpirationInDays"] == 7 for r in rules)
    assert any("AbortIncompleteMultipartUpload" in r and not r.get("Prefix") for r in rules)
    assert all(r["Status"] == "Enabled" for r in rules)
    cors = bucket["CorsConfiguration"]["CorsRules"]
    assert cors == [{"AllowedOrigins": [stage.site_url], "AllowedMethods": ["POST"], "AllowedHeaders": ["*"],
                     "MaxAge": 600}]
    policies = [p for p in resources_of_type(template, "AWS::S3::BucketPolicy").values()
                if resolve(p["Properties"]["Bucket"], template) == stage.data_bucket]
    statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)


def test_the_data_bucket_keeps_no_older_version_of_a_deleted_photo(template, stage):
    # services/retention.py and the removal of an official delete each photo once: with versioning on, S3 would keep
    # the deleted photos as non-current versions.
    assert "VersioningConfiguration" not in data_bucket(template, stage)["Properties"]


def test_the_photo_purge_runs_every_hour(template, stage):
    purge = template["Resources"][stage.function("purge_personal_data").logical_id]["Properties"]
    assert [event["Properties"]["Schedule"] for event in purge["Events"].values()
            if event["Type"] == "Schedule"] == ["rate(1 hour)"]


def test_the_communes_are_told_ten_a_call_and_two_calls_at_a_time(template, stage):
    """The national file must not send a storm of emails: the queue is drained by at most two functions at once."""
    queue_id, _ = queue_by_name(template, queues.NOTICES_QUEUE)
    function = template["Resources"][stage.function("tell_communes").logical_id]["Properties"]
    events = [e["Properties"] for e in function["Events"].values() if e["Type"] == "SQS"]
    assert events == [{"Queue": {"Fn::Sub": f"${{{queue_id}.Arn}}"}, "BatchSize": 10,
                       "MaximumBatchingWindowInSeconds": 0, "ScalingConfig": {"MaximumConcurrency": 2}}]


@pytest.mark.parametrize("prefix", sorted(EXPECTED_WIRING))
def test_object_creations_under_each_prefix_reach_the_handler_the_code_expects(template, stage, prefix):
    queue_name, handler = EXPECTED_WIRING[prefix]
    bucket = data_bucket(template, stage)
    configurations = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    matching = [c for c in configurations if c["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": prefix}]]
    assert len(matching) == 1, f"{prefix}: {len(matching)} notifications"
    notification = matching[0]
    assert notification["Event"] == "s3:ObjectCreated:*"
    queue_id, _ = queue_by_name(template, queue_name)
    assert notification["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    # S3 may send to the queue (from this bucket only), and S3 checks that when the bucket is created: after.
    policy = next(p for p in resources_of_type(template, "AWS::SQS::QueuePolicy").values()
                  if {"Ref": queue_id} in p["Properties"]["Queues"])
    allow = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow == [{
        "Sid": "DataBucketEvents", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
        "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{stage.data_bucket}"}},
                      "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
    }]
    policy_id = next(name for name, r in template["Resources"].items() if r is policy)
    assert policy_id in bucket["DependsOn"]
    # The queue feeds the handler, one message at a time (and a bounded number of functions at once: below).
    function = template["Resources"][stage.function(handler).logical_id]["Properties"]
    assert function["Handler"] == f"chalicelib.events.uploads.{handler}"
    events = [{k: v for k, v in e["Properties"].items() if k != "ScalingConfig"}
              for e in function["Events"].values() if e["Type"] == "SQS"]
    assert events == [{"Queue": {"Fn::Sub": f"${{{queue_id}.Arn}}"}, "BatchSize": 1,
                       "MaximumBatchingWindowInSeconds": 0}]


def test_only_the_expected_prefixes_trigger_anything(template, stage):
    configurations = data_bucket(template, stage)["Properties"]["NotificationConfiguration"]
    prefixes = [c["Filter"]["S3Key"]["Rules"][0]["Value"] for c in configurations["QueueConfigurations"]]
    assert sorted(prefixes) == sorted(EXPECTED_WIRING)
    assert set(configurations) == {"QueueConfigurations"}


# --- the site -----------------------------------------------------------------------------------------------------

def _csp_directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}


def test_the_site_is_private_behind_cloudfront_with_the_api_on_the_same_origin(template, stage):
    distribution = next(iter(resources_of_type(template, "AWS::CloudFront::Distribution").values()))
    config = distribution["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    site_origin = origins[config["DefaultCacheBehavior"]["TargetOriginId"]]
    site_bucket_id = site_origin["DomainName"]["Fn::GetAtt"][0]
    site_bucket = template["Resources"][site_bucket_id]["Properties"]
    assert all(site_bucket["PublicAccessBlockConfiguration"].values())
    assert site_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""} and site_origin["OriginAccessControlId"]
    policy = next(p for p in resources_of_type(template, "AWS::S3::BucketPolicy").values()
                  if p["Properties"]["Bucket"] == {"Ref": site_bucket_id})
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    # CloudFront only (reading files, listing so that a missing one is a 404), and only this distribution.
    assert {s["Action"] for s in allows} == {"s3:GetObject", "s3:ListBucket"}
    assert all(s["Principal"] == {"Service": "cloudfront.amazonaws.com"} for s in allows)
    assert all("AWS:SourceArn" in s["Condition"]["StringEquals"] for s in allows)
    # /api/* goes to API Gateway's stage of the same name, path unchanged, never cached across people.
    api_prefix = site_config()["api_url"]
    behaviours = [b for b in config["CacheBehaviors"] if b["PathPattern"] == f"{api_prefix}/*"]
    assert len(behaviours) == 1
    api_origin = origins[behaviours[0]["TargetOriginId"]]
    assert api_origin["DomainName"] == {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert not api_origin.get("OriginPath")
    assert template["Resources"]["RestAPI"]["Properties"]["StageName"] == api_prefix.strip("/")
    assert set(behaviours[0]["AllowedMethods"]) >= {"GET", "POST", "PUT", "PATCH", "DELETE"}
    cache = template["Resources"][behaviours[0]["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]
    assert cache["DefaultTTL"] == 0 and "Authorization" in \
        cache["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"].startswith("TLSv1.2")
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"


def test_the_site_gets_its_security_headers(template, stage):
    import boto3
    from botocore.config import Config

    policy = next(iter(resources_of_type(template, "AWS::CloudFront::ResponseHeadersPolicy").values()))
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = _csp_directives(resolve(security["ContentSecurityPolicy"]["ContentSecurityPolicy"], template))
    assert csp["script-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    assert not any("'unsafe-inline'" in v or "'unsafe-eval'" in v for v in csp.values())
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    # The browser posts files and reads photos where boto3 presigns them, in the stage's region.
    s3 = boto3.client("s3", region_name=stage.options.region, aws_access_key_id="x", aws_secret_access_key="y",
                      config=Config(signature_version="s3v4"))
    post = s3.generate_presigned_post(Bucket=stage.data_bucket, Key=files.PHOTOS_PREFIX + "x.jpg")["url"]
    get = s3.generate_presigned_url("get_object", Params={"Bucket": stage.data_bucket, "Key": "officials/x.jpg"})
    for url, directive in ((post, "connect-src"), (get, "img-src")):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        assert origin in csp[directive], f"{origin} missing from {directive}"
    behaviours = [policy_ref for d in resources_of_type(template, "AWS::CloudFront::Distribution").values()
                  for policy_ref in [d["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
                                     ["ResponseHeadersPolicyId"]]]
    assert behaviours and all(b["Ref"] in template["Resources"] for b in behaviours)


# --- alarms ------------------------------------------------------------------------------------------------------

def test_errors_and_dead_letters_raise_alarms(template, stage):
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm").values()
    topics = resources_of_type(template, "AWS::SNS::Topic")
    assert all(a["Properties"]["AlarmActions"][0]["Ref"] in topics for a in alarms)
    watched = {(a["Properties"]["MetricName"], json.dumps(a["Properties"]["Dimensions"])) for a in alarms
               if "MetricName" in a["Properties"]}
    for function in stage.functions:
        assert ("Errors", json.dumps([{"Name": "FunctionName", "Value": {"Ref": function.logical_id}}])) in watched
    for name, queue in resources_of_type(template, "AWS::SQS::Queue").items():
        if "RedrivePolicy" in queue["Properties"]:
            dead_letters = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            dimensions = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}}]
            assert ("ApproximateNumberOfMessagesVisible", json.dumps(dimensions)) in watched


def test_the_waves_first_limits_raise_alarms(template, stage):
    """What throttles or waits first in the post-election wave (docs/performance.md, capacity): a table refusing
    requests, a queue whose messages wait (the photos: two minutes), a function close to its timeout (the national
    import's 15 minutes)."""
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm").values()
    simple = {(a["Properties"]["MetricName"], json.dumps(a["Properties"]["Dimensions"])): a["Properties"]
              for a in alarms if "MetricName" in a["Properties"]}
    for function in stage.functions:
        duration = simple[("Duration", json.dumps([{"Name": "FunctionName", "Value": {"Ref": function.logical_id}}]))]
        assert (duration["Statistic"], duration["Threshold"]) == ("Maximum", int(0.8 * function.timeout * 1000))
    photos_queue, _ = queue_by_name(template, queues.PHOTOS_QUEUE)
    age = simple[("ApproximateAgeOfOldestMessage",
                  json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": [photos_queue, "QueueName"]}}]))]
    assert (age["Statistic"], age["Threshold"]) == ("Maximum", 120)
    for queue_id, queue in resources_of_type(template, "AWS::SQS::Queue").items():
        if "RedrivePolicy" in queue["Properties"]:  # every queue a function consumes
            assert ("ApproximateAgeOfOldestMessage",
                    json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}])) in simple
    throttled = {}
    for alarm in alarms:
        metrics = alarm["Properties"].get("Metrics") or []
        names = {m["MetricStat"]["Metric"]["MetricName"] for m in metrics if "MetricStat" in m}
        if names == {"ReadThrottleEvents", "WriteThrottleEvents"}:
            tables = {m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"] for m in metrics if "MetricStat" in m}
            assert len(tables) == 1 and alarm["Properties"]["Threshold"] == 1
            throttled[tables.pop()] = [m for m in metrics if m.get("ReturnData")]
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    assert set(throttled) == set(tables) and all(len(returned) == 1 for returned in throttled.values())


def test_the_queues_drive_a_bounded_number_of_functions(template, stage):
    """Past its maximum concurrency a queue keeps its messages (no throttling, no dead letters): a burst of photos
    cannot take the account's concurrency from the API."""
    limits = {}
    for name in ("process_photo_event", "import_reference_file", "deliver_webhooks"):
        function = template["Resources"][stage.function(name).logical_id]["Properties"]
        (event,) = [e["Properties"] for e in function["Events"].values() if e["Type"] == "SQS"]
        limits[name] = (event["BatchSize"], event["ScalingConfig"]["MaximumConcurrency"])
    # the webhooks' deliveries wait on the receivers (5 s at most each): ten functions at once, whatever the burst
    assert limits == {"process_photo_event": (1, 10), "import_reference_file": (1, 2), "deliver_webhooks": (10, 10)}


# --- stages -------------------------------------------------------------------------------------------------------

def test_no_value_of_one_stage_appears_in_another(packaged):
    """A stage's own values (table prefix, buckets, site) never show in another stage's template. Values that every
    stage inherits from the project-wide `environment_variables` (today MAIL_SENDER, hence its domain) are shared,
    not another stage's."""
    stages = deployable_stages()
    for stage_name in stages:
        own = packaged[stage_name]["stage"]
        text = json.dumps(packaged[stage_name]["template"])
        for other_name in stages:
            if other_name == stage_name:
                continue
            other = packaged[other_name]["stage"]
            shared = [v for k, v in other.environment.items() if own.environment.get(k) == v]
            visible = text
            for value in sorted(shared, key=len, reverse=True):
                visible = visible.replace(value, "").replace(value.rpartition("@")[2] if "@" in value else value, "")
            for key, value in other.environment.items():
                if value in shared:
                    continue
                token = urlsplit(value).hostname if key == "SITE_URL" else json.dumps(value)[1:-1]
                pattern = r"(?<![\w.-])" + re.escape(token) + r"(?![\w.])"
                assert not re.search(pattern, visible), f"{stage_name}'s template holds {other_name}'s {key}={value}"
            assert f"{other.app_name}-{other_name}-" not in text


def test_cloudfront_sends_the_origin_secret_that_the_functions_check(template, stage):
    from infra.template import ORIGIN_HEADER, ORIGIN_SECRET_ID, origin_secret_value

    secret = template["Resources"][ORIGIN_SECRET_ID]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    reference = origin_secret_value(stage)
    assert reference.startswith("{{resolve:secretsmanager:") and secret["Properties"]["Name"] in reference
    distribution = next(iter(resources_of_type(template, "AWS::CloudFront::Distribution").values()))
    api_origin = next(o for o in distribution["Properties"]["DistributionConfig"]["Origins"] if o["Id"] == "api")
    assert api_origin["OriginCustomHeaders"] == [{"HeaderName": ORIGIN_HEADER, "HeaderValue": reference}]
    assert ORIGIN_SECRET_ID in distribution["DependsOn"]
    for name, function in functions(template).items():
        assert function["Properties"]["Environment"]["Variables"]["ORIGIN_SECRET"] == reference, name
        assert ORIGIN_SECRET_ID in function["DependsOn"], f"{name} may be created before the secret"
