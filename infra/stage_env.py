"""Running the portal's own code against a deployed stage from an operator's machine (bootstrap commands).

The commands use the caller's AWS credentials (profile, SSO, environment) and the stage's settings from
`.chalice/config.json`, exactly as the stage's Lambda functions see them, so that they go through the same use cases
(same checks, same emails) as the API.
"""
import os

from .project import LOCAL_ONLY_VARIABLES, load_stage


def stage_environment(stage_name: str, region: str | None = None) -> dict[str, str]:
    stage = load_stage(stage_name)
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or stage.options.region
    return {**stage.environment, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}


def use_stage(stage_name: str, region: str | None = None) -> dict[str, str]:
    """Point this process's settings at the deployed stage (never at the local emulation)."""
    environment = stage_environment(stage_name, region)
    os.environ.update(environment)
    for name in LOCAL_ONLY_VARIABLES:
        os.environ.pop(name, None)
    from chalicelib.aws import reset_settings_and_clients

    reset_settings_and_clients()
    return environment
