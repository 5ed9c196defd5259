"""Jobs: the per-project pipeline that the bucket sensor starts and backfills run, and `promote`."""

from __future__ import annotations

import dagster as dg

PIPELINE_ASSETS = [
    "documents",
    "requirements",
    "architecture",
    "story_builds",
    "validations",
    "deployments",
    "project_page",
    "reviews",
]
# What the review sensor runs when feedback or an approval arrives: feedback observed, then the stages
# from the builds on (unchanged stories, validations and deployments cost nothing).
REVIEW_LOOP_ASSETS = ["review_feedback", *PIPELINE_ASSETS[PIPELINE_ASSETS.index("story_builds") :]]

project_pipeline_job = dg.define_asset_job(
    name="project_pipeline",
    # review_feedback is observed (not materialised) first, so the builds see the latest feedback.
    selection=dg.AssetSelection.assets(*PIPELINE_ASSETS, "review_feedback"),
    description="Every stage for one project (one partition of `projects`).",
)

# Production is the `deployments` asset materialised with `environment: production`: it deploys `main`
# of the generated repository once that commit passes validation, and keeps the preview record.
promote_job = dg.define_asset_job(
    name="promote",
    selection=dg.AssetSelection.assets("deployments"),
    config={"ops": {"deployments": {"config": {"environment": "production"}}}},
    description="Deploy `main` of the project's generated repository as production, when it validates.",
)
