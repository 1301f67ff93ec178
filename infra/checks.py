"""Offline checks of a packaged template: cfn-lint, and the rules the IAM policies must follow.

Used by `infra.package` (which refuses to produce a template that fails them) and by the tests in tests/infra/.
"""
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .project import Stage

# The rules of least privilege for the functions' roles.
ALLOWED_RESOURCE_WILDCARDS = (
    re.compile(r"^arn:aws:s3:::[a-z0-9.-]+/[^*]+/\*$"),  # objects under a named folder of a bucket
    re.compile(r"^arn:aws:logs:[a-z0-9-]+:\d{12}:log-group:[^*]+:\*$"),  # the streams of one log group
)


@dataclass(frozen=True)
class LintResult:
    errors: list[str]
    warnings: list[str]
    informational: list[str]


def cfn_lint(template_path: Path, regions: tuple[str, ...] = ("eu-west-3",)) -> LintResult:
    import logging

    logging.getLogger("cfnlint").setLevel(logging.WARNING)  # its INFO lines dump the whole template
    try:
        from cfnlint.api import ManualArgs, lint_file
    except ImportError:
        raise SystemExit("cfn-lint is not installed (pip install cfn-lint==1.58.0, listed in constraints.txt)") \
            from None
    matches = lint_file(Path(template_path), config=ManualArgs(regions=list(regions)))
    errors, warnings, informational = [], [], []
    for match in matches:
        line = f"{match.rule.id} {match.message} ({Path(match.filename).name}:{match.linenumber})"
        {"E": errors, "W": warnings}.get(match.rule.id[0], informational).append(line)
    return LintResult(errors, warnings, informational)


# --- resolving intrinsic functions, for the checks ----------------------------------------------------------------

FAKE_ACCOUNT = "123456789012"


def resolve(value, template: dict, region: str = "eu-west-3"):
    """A policy value with its Fn::Sub, Ref and Fn::GetAtt replaced by what they would be in one account."""
    pseudo = {"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": FAKE_ACCOUNT,
              "AWS::URLSuffix": "amazonaws.com"}
    if isinstance(value, list):
        return [resolve(v, template, region) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            def replace(match):
                name = match.group(1)
                if name in pseudo:
                    return pseudo[name]
                return str(resolve({"Fn::GetAtt": name.split(".", 1)} if "." in name else {"Ref": name},
                                   template, region))
            return re.sub(r"\$\{([^}!]+)\}", replace, value["Fn::Sub"])
        if set(value) == {"Ref"}:
            name = value["Ref"]
            return pseudo.get(name) or _physical_name(name, template, region)
        if set(value) == {"Fn::GetAtt"}:
            name, attribute = value["Fn::GetAtt"]
            if attribute == "Arn":
                return _arn(name, template, region)
            return f"{name}.{attribute}"
        return {k: resolve(v, template, region) for k, v in value.items()}
    return value


def _physical_name(name: str, template: dict, region: str) -> str:
    resource = template["Resources"].get(name, {})
    properties = resource.get("Properties", {})
    for key in ("TableName", "QueueName", "BucketName", "LogGroupName", "FunctionName", "TopicName"):
        if key in properties and isinstance(properties[key], str):
            return properties[key]
    return name


def _arn(name: str, template: dict, region: str) -> str:
    resource = template["Resources"][name]
    kind, physical = resource["Type"], _physical_name(name, template, region)
    prefix = f"arn:aws:{{}}:{region}:{FAKE_ACCOUNT}:"
    return {
        "AWS::DynamoDB::Table": prefix.format("dynamodb") + f"table/{physical}",
        "AWS::SQS::Queue": prefix.format("sqs") + physical,
        "AWS::S3::Bucket": f"arn:aws:s3:::{physical}",
        "AWS::Logs::LogGroup": prefix.format("logs") + f"log-group:{physical}:*",
        "AWS::SNS::Topic": prefix.format("sns") + physical,
    }.get(kind, f"{name}.Arn")


# --- the roles of the functions -----------------------------------------------------------------------------------

def function_roles(template: dict, stage: Stage) -> dict[str, dict]:
    """Function name -> its role's resource in the packaged template."""
    roles = {}
    for function in stage.functions:
        properties = template["Resources"][function.logical_id]["Properties"]
        role = properties.get("Role")
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise AssertionError(f"{function.name}: its role is not one of the template's roles: {role!r}")
        roles[function.name] = template["Resources"][role["Fn::GetAtt"][0]]
    return roles


def role_statements(role: dict, template: dict) -> list[dict]:
    statements = []
    for policy in role["Properties"].get("Policies", []):
        document = resolve(policy["PolicyDocument"], template)
        for statement in document["Statement"]:
            statements.append(statement)
    return statements


def least_privilege_problems(template: dict, stage: Stage) -> list[str]:
    """What breaks the rules: a shared role, a managed policy, a wildcard action, a wildcard resource, NotAction."""
    problems = []
    roles = function_roles(template, stage)
    seen: dict[int, str] = {}
    for function, role in roles.items():
        if id(role) in seen:
            problems.append(f"{function} shares its role with {seen[id(role)]}")
        seen[id(role)] = function
        if role["Properties"].get("ManagedPolicyArns"):
            problems.append(f"{function}: managed policies {role['Properties']['ManagedPolicyArns']}")
        for statement in role_statements(role, template):
            sid = statement.get("Sid", "?")
            if "NotAction" in statement or "NotResource" in statement:
                problems.append(f"{function}/{sid}: NotAction or NotResource")
            if statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action", [])
            for action in [actions] if isinstance(actions, str) else actions:
                if "*" in action:
                    problems.append(f"{function}/{sid}: wildcard action {action}")
            resources = statement.get("Resource", [])
            for resource in [resources] if isinstance(resources, str) else resources:
                if not isinstance(resource, str):
                    problems.append(f"{function}/{sid}: unresolved resource {resource!r}")
                elif "*" in resource and not any(p.match(resource) for p in ALLOWED_RESOURCE_WILDCARDS):
                    problems.append(f"{function}/{sid}: wildcard resource {resource}")
    # Outside the functions' roles, a role without a function (chalice's default role) would be unused power.
    role_ids = {name for name, r in template["Resources"].items() if r.get("Type") == "AWS::IAM::Role"}
    used = {template["Resources"][f.logical_id]["Properties"]["Role"]["Fn::GetAtt"][0] for f in stage.functions}
    for extra in sorted(role_ids - used):
        problems.append(f"role {extra} is used by no function")
    return problems


def unmerged_overrides(template: dict) -> list[str]:
    """Resources that the merge template meant to override but that Chalice did not create (they have no Type)."""
    return sorted(name for name, resource in template["Resources"].items() if "Type" not in resource)


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text())
