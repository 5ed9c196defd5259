"""Jobs: the per-project pipeline that the bucket sensor starts and backfills run."""

from __future__ import annotations

import dagster as dg

PIPELINE_ASSETS = [
    "documents",
    "requirements",
    "architecture",
    "story_builds",
    "validations",
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
