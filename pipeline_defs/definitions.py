"""The one place where the code location's Definitions are assembled."""

from __future__ import annotations

import dagster as dg

from assets.architecture.asset import architecture
from assets.deployments.asset import deployments
from assets.documents.asset import documents
from assets.project_page.asset import project_page
from assets.requirements.asset import requirements
from assets.review_feedback.asset import review_feedback
from assets.reviews.asset import reviews
from assets.story_builds.asset import story_builds
from assets.validations.asset import validations
from pipeline_core.settings import Settings, get_settings
from pipeline_defs.jobs import REVIEW_LOOP_ASSETS, project_pipeline_job, promote_job
from pipeline_defs.resources import build_resources
from sensors.bucket_sensor import build_bucket_sensor
from sensors.review_sensor import build_review_sensor
from sensors.run_monitor import build_run_monitor_sensor

# What a step's forkserver imports once, so that every step forked from it starts with the
# pipeline's code loaded (Dagster's executor module first, as Dagster itself orders it).
FORKSERVER_PRELOAD = ("dagster._core.executor.multiprocess", "pipeline_defs.definitions")


def build_definitions(settings: Settings) -> dg.Definitions:
    """Definitions for the given settings (tests pass their own; Dagster loads `defs`)."""
    return dg.Definitions(
        assets=[
            documents,
            requirements,
            architecture,
            review_feedback,
            story_builds,
            validations,
            deployments,
            project_page,
            reviews,
        ],
        jobs=[project_pipeline_job, promote_job],
        sensors=[
            build_bucket_sensor(project_pipeline_job, settings),
            build_run_monitor_sensor(settings),
            build_review_sensor(project_pipeline_job, REVIEW_LOOP_ASSETS, settings),
        ],
        resources=build_resources(settings),
        executor=step_executor(settings),
    )


def step_executor(settings: Settings) -> dg.ExecutorDefinition:
    """The executor `PIPELINE_STEP_EXECUTOR` names.

    `multiprocess`: each step runs in its own process (as with Dagster's default), forked from a
    server that has imported this module once, instead of a fresh interpreter importing everything
    again per step (about 1.7 s of CPU saved per step on these machines). The module is named because
    Dagster preloads only its own executor module when the code location is not a module target.
    `in_process` (the default): the run's steps run one after another in the run's own process,
    which has the code loaded already: no server to start and no second import of the code location.
    A project's stages are a chain, so nothing runs in parallel inside a run; projects do, as runs.
    On 2 cores, 16 projects' first three stages took 123 s this way against 249 s with
    `multiprocess` (benchmarks/projects_scaling.py, back to back).
    """
    if settings.pipeline_step_executor == "in_process":
        return dg.in_process_executor
    return dg.multiprocess_executor.configured(
        {"start_method": {"forkserver": {"preload_modules": [*FORKSERVER_PRELOAD]}}}
    )


defs = build_definitions(get_settings())
