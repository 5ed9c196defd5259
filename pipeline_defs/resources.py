"""The one place where each resource's implementation (local or cloud) is chosen from the settings."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from assets.documents.asset import IntakeLimits
from pipeline_core.links import Links
from pipeline_core.settings import Settings
from pipeline_defs.jobs import PIPELINE_ASSETS
from resources.forge import make_forge
from resources.hosting import make_hosting
from resources.io_manager import ArtifactJsonIOManager
from resources.llm.resource import LlmResource
from resources.object_store import object_store_from_url


def build_resources(settings: Settings) -> dict[str, Any]:
    """Resources keyed as the assets and sensors ask for them."""
    inbox = object_store_from_url(settings.inbox_url, region_name=settings.aws_region)
    artifacts = object_store_from_url(settings.artifacts_url, region_name=settings.aws_region)
    # The key is passed as an EnvVar so Dagster shows its name, never its value, in the UI.
    api_key = dg.EnvVar("ANTHROPIC_API_KEY") if os.environ.get("ANTHROPIC_API_KEY") else None
    llm = LlmResource(
        provider=settings.llm_provider,
        model=settings.pipeline_llm_model,
        api_key=api_key,
        base_url=settings.anthropic_base_url,
        aws_region=settings.aws_region,
        cache_url=settings.artifacts_url,
        max_tokens=settings.pipeline_llm_max_tokens,
        max_retries=settings.pipeline_llm_max_retries,
        timeout_seconds=settings.pipeline_llm_timeout_seconds,
    )
    return {
        "inbox": inbox,
        "artifacts": artifacts,
        "llm": llm,
        "io_manager": ArtifactJsonIOManager(
            store=artifacts,
            ui_url=settings.pipeline_ui_url,
            page_url=settings.pipeline_page_url,
            next_asset=dict(zip(PIPELINE_ASSETS, PIPELINE_ASSETS[1:], strict=False)),
        ),
        "links": Links(ui_url=settings.pipeline_ui_url, page_url=settings.pipeline_page_url),
        "intake": IntakeLimits(
            max_file_bytes=settings.max_file_bytes,
            workers=settings.pipeline_intake_workers,
            max_expanded_bytes=int(settings.pipeline_parse_max_expanded_mb * 1024 * 1024),
            memory_bytes=settings.pipeline_parse_memory_mb * 1024 * 1024,
            timeout_seconds=settings.pipeline_parse_timeout_seconds,
        ),
        "forge": make_forge(
            settings.pipeline_forge,
            settings.data_dir,
            github_token_set=bool(settings.github_token),
            github_owner=settings.github_owner,
            github_api_url=settings.github_api_url,
            github_private=settings.github_private,
        ),
        "hosting": make_hosting(settings),
    }
