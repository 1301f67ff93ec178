"""What the deployment template is generated from: the Chalice app, its stage configuration, the models and queues.

Nothing here is written by hand twice: the functions and their queues come from the Chalice app's registrations, their
memory, timeout and environment from `.chalice/config.json` (read through Chalice's own Config, so the values are the
ones `chalice package` writes), the tables from `chalicelib.store.tables.ALL_MODELS`, the queue names and the bucket
prefixes from `chalicelib.store`, the notification filters from `local/resources.py` (the same table the local stack
uses), the site's security headers from `local/site_server.py`. infra imports local, never the reverse: the local stack
is the reference that production reproduces.
"""
import json
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from local.site_server import API_PREFIX, SITE_HEADERS

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_FILE = PROJECT_DIR / ".chalice" / "config.json"

# Python 3.11's Lambda runtime runs on Amazon Linux 2 (glibc 2.26), for which Pillow 13 publishes no wheel: Lambda
# runs the functions on Python 3.12 (Amazon Linux 2023, glibc 2.34). `infra.deps` builds the dependencies for it.
LAMBDA_RUNTIME = "python3.12"
LAMBDA_ARCHITECTURE = "x86_64"

# Stages that run on the AWS emulation only: nothing to deploy.
LOCAL_STAGES = {"local"}

# Read by the code, set by Lambda itself or by the local stack only: never in a deployed function's environment.
LAMBDA_PROVIDED_VARIABLES = {"AWS_REGION", "AWS_DEFAULT_REGION"}
# PROCONNECT_CLIENT_SECRET: the local provider's secret itself; deployed, the secret is read from Secrets Manager.
# WEBHOOK_LOCAL_RECEIVERS: plain HTTP to 127.0.0.1 as a webhook receiver, for the local stack's tests only.
LOCAL_ONLY_VARIABLES = {"AWS_ENDPOINT_URL", "OUTBOX_DIR", "PROCONNECT_CLIENT_SECRET", "WEBHOOK_LOCAL_RECEIVERS"}

API_FUNCTION = "api_handler"


@dataclass(frozen=True)
class StageOptions:
    """What only the deployment needs per stage (the rest is in `.chalice/config.json`)."""

    region: str
    log_retention_days: int
    keep_data: bool  # tables and buckets survive a stack deletion, tables refuse deletion
    api_rate_limit: int  # API Gateway throttling: steady requests per second...
    api_burst_limit: int  # ...and burst
    alarm_period_seconds: int = 300
    api_error_threshold: int = 5  # 5xx answers in one alarm period


STAGE_OPTIONS = {
    "dev": StageOptions(region="eu-west-3", log_retention_days=14, keep_data=False, api_rate_limit=50,
                        api_burst_limit=100),
    # CNIL's recommendation for access logs: six months to a year.
    "prod": StageOptions(region="eu-west-3", log_retention_days=365, keep_data=True, api_rate_limit=300,
                         api_burst_limit=600),
}


@dataclass(frozen=True)
class Function:
    """One Lambda function of the app, as `chalice package` names it."""

    name: str  # chalice's function name: api_handler, or the handler's name for an event handler
    logical_id: str  # its AWS::Serverless::Function in the SAM template
    role_logical_id: str
    function_name: str  # the deployed name (also the log group's)
    timeout: int
    memory: int
    environment: dict
    queue: str | None = None  # the SQS queue it consumes
    event_source_id: str | None = None  # the SQS event of the function in the SAM template
    batch_size: int | None = None
    schedule: str | None = None  # a scheduled function's expression, e.g. rate(1 hour)


@dataclass(frozen=True)
class Stage:
    name: str
    app_name: str
    options: StageOptions
    environment: dict  # the stage's environment variables (same for every function)
    functions: list[Function] = field(default_factory=list)
    api_gateway_stage: str = "api"

    @property
    def table_prefix(self) -> str:
        return self.environment["TABLE_PREFIX"]

    @property
    def data_bucket(self) -> str:
        return self.environment["DATA_BUCKET"]

    @property
    def mail_sender(self) -> str:
        return self.environment["MAIL_SENDER"]

    @property
    def mail_domain(self) -> str:
        return self.mail_sender.rpartition("@")[2]

    @property
    def site_url(self) -> str:
        return self.environment["SITE_URL"].rstrip("/")

    @property
    def site_host(self) -> str:
        return urlsplit(self.site_url).hostname

    def function(self, name: str) -> Function:
        return next(f for f in self.functions if f.name == name)

    def prefixed(self, suffix: str) -> str:
        """A stage-owned name: carteselus-prod-<suffix>."""
        return f"{self.app_name}-{self.name}-{suffix}"


def to_logical_id(name: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return to_cfn_resource_name(name)


def project_config() -> dict:
    return json.loads(CONFIG_FILE.read_text())


def deployable_stages() -> list[str]:
    return [name for name in project_config()["stages"] if name not in LOCAL_STAGES]


@lru_cache(maxsize=1)
def chalice_app():
    """The Chalice app object (importing it touches no AWS and reads no setting)."""
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    import app as app_module

    return app_module.app


def sqs_handlers() -> list:
    from chalice.app import SQSEventConfig

    return [source for source in chalice_app().event_sources if isinstance(source, SQSEventConfig)]


def scheduled_handlers() -> list:
    from chalice.app import ScheduledEventConfig

    return [source for source in chalice_app().event_sources if isinstance(source, ScheduledEventConfig)]


def load_stage(name: str) -> Stage:
    from chalice.cli.factory import CLIFactory

    config_file = project_config()
    if name in LOCAL_STAGES or name not in config_file["stages"]:
        raise SystemExit(f"Unknown or local-only stage {name!r}: deployable stages are {deployable_stages()}")
    if name not in STAGE_OPTIONS:
        raise SystemExit(f"Stage {name!r} has no deployment options in infra/project.py STAGE_OPTIONS")
    config = CLIFactory(str(PROJECT_DIR)).create_config_obj(chalice_stage_name=name)
    app_name = config.app_name

    def scoped(function: str):
        return config.scope(name, function)

    functions = []
    api = scoped(API_FUNCTION)
    if chalice_app().routes:
        functions.append(Function(
            name=API_FUNCTION, logical_id="APIHandler", role_logical_id=to_logical_id(f"{API_FUNCTION}_role"),
            function_name=f"{app_name}-{name}-{API_FUNCTION}", timeout=api.lambda_timeout,
            memory=api.lambda_memory_size, environment=dict(api.environment_variables),
        ))
    for handler in sqs_handlers():
        if handler.queue is None:
            raise SystemExit(f"{handler.name}: the template wires queues by name (queue=...), not queue_arn")
        scope = scoped(handler.name)
        functions.append(Function(
            name=handler.name, logical_id=to_logical_id(handler.name),
            role_logical_id=to_logical_id(f"{handler.name}_role"), function_name=f"{app_name}-{name}-{handler.name}",
            timeout=scope.lambda_timeout, memory=scope.lambda_memory_size,
            environment=dict(scope.environment_variables), queue=handler.queue,
            event_source_id=f"{to_logical_id(handler.name)}SqsEventSource", batch_size=handler.batch_size,
        ))
    for handler in scheduled_handlers():
        scope = scoped(handler.name)
        expression = handler.schedule_expression
        functions.append(Function(
            name=handler.name, logical_id=to_logical_id(handler.name),
            role_logical_id=to_logical_id(f"{handler.name}_role"), function_name=f"{app_name}-{name}-{handler.name}",
            timeout=scope.lambda_timeout, memory=scope.lambda_memory_size,
            environment=dict(scope.environment_variables),
            schedule=expression if isinstance(expression, str) else expression.to_string(),
        ))
    return Stage(name=name, app_name=app_name, options=STAGE_OPTIONS[name],
                 environment=dict(config.environment_variables), functions=functions,
                 api_gateway_stage=config.api_gateway_stage)


def settings_variables() -> set[str]:
    """Every environment variable that `chalicelib/settings.py` reads (the one place that reads configuration)."""
    import ast

    tree = ast.parse((PROJECT_DIR / "chalicelib" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and node.args[0].value.isupper():
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            if called in ("get", "_require", "getenv"):
                names.add(node.args[0].value)
    return names


def notification_prefixes() -> dict[str, str]:
    """Queue name -> the S3 key prefix whose object creations it receives (the local stack uses the same table)."""
    from local.resources import NOTIFICATIONS

    return dict(NOTIFICATIONS)


def dead_letter_settings() -> tuple[str, int]:
    from local.resources import DEAD_LETTER_SUFFIX, MAX_RECEIVES

    return DEAD_LETTER_SUFFIX, MAX_RECEIVES


def site_headers() -> dict[str, str]:
    return dict(SITE_HEADERS)


def site_config() -> dict:
    """The site's config.json, as the local site server serves it: the API on the same origin."""
    return {"api_url": API_PREFIX}
