"""Jobs: the per-project pipeline that the bucket sensor starts and backfills run."""

from __future__ import annotations

import dagster as dg

PIPELINE_ASSETS = ["documents", "requirements", "architecture", "story_builds", "validations", "project_page"]

project_pipeline_job = dg.define_asset_job(
    name="project_pipeline",
    selection=dg.AssetSelection.assets(*PIPELINE_ASSETS),
    description="Every stage for one project (one partition of `projects`).",
)
