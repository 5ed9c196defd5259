"""CDK entry point: `cdk deploy` runs this (see cdk.json); `python -m infra.cdk.app` synthesises.

Context values (`cdk deploy -c key=value`):
    imageTag              tag of the code-location image in the registry (without it, only the
                          registry stack is defined)
    databaseInstanceType  RDS instance type, default t4g.medium
    databaseMultiAz       true for a standby in a second zone, default false
    webserverCount        webserver tasks, default 1
    codeLocationCount     code-location (gRPC server) tasks, default 1
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from infra.cdk.stacks import PipelineStack, PipelineStackSettings, RegistryStack

CDK_JSON = Path(__file__).with_name("cdk.json")


def cdk_json_context() -> dict[str, Any]:
    """The feature flags in cdk.json, for building the app outside the cdk CLI (tests, scripts)."""
    return json.loads(CDK_JSON.read_text())["context"]


def _flag(value: object) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes"}


def build_app(app: cdk.App | None = None) -> cdk.App:
    """The registry stack, and the pipeline stack when an image tag is given (context values)."""
    app = app or cdk.App()
    environment = None
    if os.environ.get("CDK_DEFAULT_ACCOUNT") and os.environ.get("CDK_DEFAULT_REGION"):
        environment = cdk.Environment(
            account=os.environ["CDK_DEFAULT_ACCOUNT"], region=os.environ["CDK_DEFAULT_REGION"]
        )
    registry = RegistryStack(app, "AiPipelineRegistry", env=environment)
    image_tag = app.node.try_get_context("imageTag")
    if not image_tag:
        # The registry is deployed before any image exists; the pipeline needs an image to run.
        cdk.Annotations.of(registry).add_warning_v2(
            "ai-pipeline:no-image-tag",
            "AiPipeline is only defined with an image: build and push infra/Dockerfile, "
            "then deploy with -c imageTag=<tag>",
        )
        return app
    settings = PipelineStackSettings(
        image_tag=str(image_tag),
        database_instance_type=str(app.node.try_get_context("databaseInstanceType") or "t4g.medium"),
        database_multi_az=_flag(app.node.try_get_context("databaseMultiAz") or False),
        webserver_count=int(app.node.try_get_context("webserverCount") or 1),
        code_location_count=int(app.node.try_get_context("codeLocationCount") or 1),
    )
    PipelineStack(app, "AiPipeline", repository=registry.repository, settings=settings, env=environment)
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
