"""A backfill over two projects through the GraphQL API of a `dagster dev` started by the test.

Both projects were built by the bucket sensor (the shared `served_projects` server). The sensor is
then turned off, one document of each project changes, and one `launchPartitionBackfill` (the
pipeline's assets, both partitions) re-runs them through the daemon. Both runs must succeed, and
only what changed is redone: one file parsed per project, exactly the stories whose build key
changed are rebuilt (each new story among them), every other story `unchanged` on its old commit,
and the preview is redeployed from the new integration commit and answers over HTTP.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from assets.deployments.models import DeploymentsSet
from assets.requirements.models import RequirementsSet
from assets.story_builds.models import StoryBuildsSet
from tests.support.dagster_dev import (
    RUN_TIMEOUT,
    SESSION_SERVER_TIMEOUT,
    DagsterDev,
    ServedProjects,
    sensor_runs,
    wait_for_runs,
)

# One changed document per project: a new requirement appended to it.
CHANGES = {
    "acme-tasks": (
        "requirements.md",
        "\n- The task board should load within two seconds, so that the team is not kept waiting.\n",
    ),
    "recipe-box": (
        "stories.txt",
        "As a home cook, I want to print a recipe so that I can keep a copy in the kitchen.\n",
    ),
}


def http_status(url: str | None) -> int:
    """The HTTP status a deployed component answers at its URL."""
    assert url and url.startswith("http://127.0.0.1:"), url
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def pipeline_asset_keys(server: DagsterDev) -> list[list[str]]:
    """The assets of the `project_pipeline` job, as the server knows them (not a list kept here)."""
    nodes = server.graphql("{ assetNodes { assetKey { path } jobNames isMaterializable isPartitioned } }")[
        "assetNodes"
    ]
    keys = [
        node["assetKey"]["path"]
        for node in nodes
        if "project_pipeline" in node["jobNames"] and node["isMaterializable"] and node["isPartitioned"]
    ]
    assert ["documents"] in keys and ["story_builds"] in keys, keys
    return keys


def launch_backfill(server: DagsterDev, keys: list[list[str]], partitions: list[str]) -> str:
    answer = server.graphql(
        """mutation Backfill($params: LaunchBackfillParams!) {
             launchPartitionBackfill(backfillParams: $params) {
               __typename
               ... on LaunchBackfillSuccess { backfillId }
               ... on Error { message }
             }
           }""",
        {
            "params": {
                "assetSelection": [{"path": key} for key in keys],
                "partitionNames": partitions,
                "title": "documents changed",
            }
        },
    )["launchPartitionBackfill"]
    assert answer["__typename"] == "LaunchBackfillSuccess", answer
    return answer["backfillId"]


def backfill_status(server: DagsterDev, backfill_id: str) -> dict:
    return server.graphql(
        """query Status($id: String!) {
             partitionBackfillOrError(backfillId: $id) {
               __typename
               ... on PartitionBackfill { id status partitionNames numPartitions }
               ... on Error { message }
             }
           }""",
        {"id": backfill_id},
    )["partitionBackfillOrError"]


@pytest.mark.integration
@pytest.mark.timeout(SESSION_SERVER_TIMEOUT)
def test_a_graphql_backfill_of_two_changed_projects_rebuilds_only_what_changed(
    served_projects: ServedProjects,
) -> None:
    server = served_projects.server
    projects = sorted(CHANGES)
    assert set(projects) == set(served_projects.projects)
    # From here on only the backfill may run the projects: the sensor would also see the changes.
    server.stop_sensor("bucket_sensor")
    before = {project: served_projects.value("story_builds", project, StoryBuildsSet) for project in projects}
    previews = {
        project: served_projects.value("deployments", project, DeploymentsSet).preview for project in projects
    }
    for project, preview in previews.items():
        assert preview is not None and preview.commit == before[project].integration_commit, project
    stories_before = {
        project: {s.id for s in served_projects.value("requirements", project, RequirementsSet).stories}
        for project in projects
    }
    for project, (document, addition) in CHANGES.items():
        key = f"{project}/{document}"
        inbox = served_projects.inbox
        inbox.put_bytes(key, inbox.get_bytes(key) + addition.encode())

    launched = time.monotonic()
    backfill_id = launch_backfill(server, pipeline_asset_keys(server), projects)
    status = server.wait_for(
        lambda: (found := backfill_status(server, backfill_id))["status"] in DONE and found,
        what=f"backfill {backfill_id}",
        timeout=2 * RUN_TIMEOUT,
        interval=2,
    )
    print(f"backfill {backfill_id}: {status['status']} after {time.monotonic() - launched:.0f} s")
    assert status["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), status
    assert sorted(status["partitionNames"]) == projects

    runs = wait_for_runs(
        server, lambda: server.runs({"dagster/backfill": backfill_id}), what="the backfill's runs", timeout=60
    )
    assert {run["tags"]["dagster/partition"] for run in runs} == set(projects)
    assert {run["status"] for run in runs} == {"SUCCESS"}, runs
    backfill_runs = {run["runId"] for run in runs}
    for project in projects:  # the sensor, off, started nothing: the backfill did the work
        assert [run["status"] for run in sensor_runs(server, project)] == ["SUCCESS"], project

    for project in projects:
        documents = server.latest_metadata("documents", project)
        assert documents["__run_id__"] in backfill_runs, (project, documents)
        assert documents["parsed"] == 1, (project, documents)  # only the changed file read again

        after = served_projects.value("story_builds", project, StoryBuildsSet)
        old = {build.story_id: build for build in before[project].stories}
        changed = {
            b.story_id
            for b in after.stories
            if b.story_id not in old or b.build_key != old[b.story_id].build_key
        }
        built = {b.story_id for b in after.stories if b.status == "built"}
        unchanged = [b for b in after.stories if b.status == "unchanged"]
        new_stories = {
            s.id for s in served_projects.value("requirements", project, RequirementsSet).stories
        } - stories_before[project]
        assert new_stories, f"{project}: the added requirement gave no new story"
        assert new_stories <= built, (project, new_stories, built)
        assert built == changed, (project, built, changed)
        assert len(unchanged) == len(after.stories) - len(built) and unchanged, project
        for build in unchanged:
            assert build.commit == old[build.story_id].commit, (project, build.story_id)

        metadata = server.latest_metadata("story_builds", project)
        assert metadata["__run_id__"] in backfill_runs
        assert metadata["stories_built"] == len(built), (project, metadata)
        assert metadata["stories_unchanged"] == len(unchanged), (project, metadata)
        assert metadata["llm_model_calls"] == len(built), (project, metadata)
        # Redeployed: the preview now runs the new integration commit, in place of the old one.
        deployed = served_projects.value("deployments", project, DeploymentsSet).preview
        assert (
            deployed is not None and deployed.commit == after.integration_commit != previews[project].commit
        )
        assert deployed.healthy, (project, deployed.records)
        for record in deployed.records:
            assert record.status == "deployed" and record.previous_commit == previews[project].commit, record
            # The frontend serves its index page; a backend's root may be 404, but it must answer.
            status = http_status(record.url)
            assert status == 200 if record.kind == "frontend" else status < 500, (project, record, status)
        print(f"{project}: {len(built)} rebuilt ({sorted(built)}), {len(unchanged)} unchanged")
