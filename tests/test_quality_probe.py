"""The quality probe beyond CRUD: transitions, filters and text search, summaries, over HTTP.

A small hand-made design (parcels that are posted, then delivered; filtered by city and searched by
their label; counted per city) is built story by story by the offline generator, started in the
sandbox and probed as the benchmark probes a corpus project. Each behaviour is then broken in the
generated backend, and the probe must notice it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.architecture.models import (
    Architecture,
    Component,
    Entity,
    EntityField,
    StoryComponents,
    Summary,
    TechStack,
    Transition,
)
from assets.architecture.openapi import EntityOperation, render_openapi
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from tests.support.offline_build import build_all
from tests.support.quality import ExpectedEntity, HttpResult, PipelineOutcome, frontend_coverage, probe_http

SERVER = "backend/app/server.py"
STORE = "backend/app/store.py"
SUMMARIES = "backend/app/summaries.py"
_P2 = "US-p2"


def _story(number: int, want: str) -> UserStory:
    return UserStory(
        id=f"US-p{number}",
        title=want.removeprefix("to ").capitalize(),
        as_a="courier",
        i_want=want,
        so_that="parcels arrive",
        depends_on=[] if number == 1 else ["US-p1"],
        acceptance_criteria=[
            AcceptanceCriterion(id="AC1", given="a courier", when="they act", then="it holds")
        ],
    )


def parcel_design() -> tuple[RequirementsSet, Architecture]:
    stories = [
        _story(1, "to register parcels with a label and a destination city"),
        _story(2, "to post a parcel, then mark it delivered, or refuse it"),
        _story(3, "to filter parcels by city and search them by label"),
        _story(4, "to see how many parcels go to each city"),
    ]
    parcel = Entity(
        name="Parcel",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="label", type="string", required=True),
            EntityField(name="city", type="enum", required=True, values=["oslo", "bergen"]),
            EntityField(
                name="status",
                type="enum",
                required=True,
                values=["new", "posted", "delivered", "returned"],
                default="new",
            ),
        ],
        transitions=[
            Transition(name="post", field="status", from_states=["new"], to_state="posted", story_ids=[_P2]),
            Transition(
                name="deliver", field="status", from_states=["posted"], to_state="delivered", story_ids=[_P2]
            ),
            # another branch from the start: only a fresh parcel can take it after the walk above
            Transition(
                name="refuse", field="status", from_states=["new"], to_state="returned", story_ids=[_P2]
            ),
        ],
        summaries=[Summary(name="parcels_per_city", group_by="city", story_ids=["US-p4"])],
    )
    operations = [
        EntityOperation(kind="list", story_ids=["US-p1", "US-p3"], parameters=["city", "q"]),
        EntityOperation(kind="create", story_ids=["US-p1"]),
        EntityOperation(kind="read", story_ids=["US-p1"]),
        EntityOperation(kind="update", story_ids=["US-p1"]),
        EntityOperation(kind="delete", story_ids=["US-p1"]),
    ]
    stack = TechStack(language="Python", framework="stdlib")
    architecture = Architecture(
        project="parcels",
        summary="Parcels of one courier.",
        components=[
            Component(name="backend", kind="backend", description="API", path="backend/", stack=stack),
            Component(
                name="frontend",
                kind="frontend",
                description="UI",
                path="frontend/",
                stack=TechStack(language="JavaScript", framework="none"),
            ),
        ],
        openapi=render_openapi("Parcels API", [parcel], {"Parcel": operations}),
        data_model=[parcel],
        story_map=[StoryComponents(story_id=s.id, components=["backend", "frontend"]) for s in stories],
    )
    return RequirementsSet(project="parcels", stories=stories), architecture


@pytest.fixture(scope="module")
def built() -> tuple[Architecture, dict[str, str]]:
    requirements, architecture = parcel_design()
    return architecture, build_all(requirements, architecture).tree


def _probe(architecture: Architecture, tree: dict[str, str], tmp_path: Path) -> HttpResult:
    outcome = PipelineOutcome(slug="parcels", run_success=True, architecture=architecture, tree=tree)
    return probe_http(outcome, {"Parcel": ExpectedEntity(name="Parcel")}, install_cache=tmp_path / "cache")


def _broken(tree: dict[str, str], path: str, old: str, new: str) -> dict[str, str]:
    assert old in tree[path], f"{path} no longer holds {old!r}: update the mutation"
    return {**tree, path: tree[path].replace(old, new)}


def test_the_probe_sees_transitions_filters_search_and_summaries_work(
    built: tuple[Architecture, dict[str, str]], tmp_path: Path
) -> None:
    architecture, tree = built
    result = _probe(architecture, tree, tmp_path)
    assert result.started, result.problem
    assert result.entities["Parcel"]["create"] and result.entities["Parcel"]["delete"]
    assert result.behaviour["Parcel"] == {
        "transitions": True,
        "transition_refused": True,
        "search": True,
        "summaries": True,
    }, result.detail
    counts = result.counts["Parcel"]
    assert counts["transitions"] == (3, 3)  # post, then deliver from posted; refuse on a fresh parcel
    assert counts["search"] == (2, 2)  # the city filter and q
    assert counts["summaries"] == (1, 1)


def test_the_probe_notices_a_transition_rule_that_is_not_enforced(
    built: tuple[Architecture, dict[str, str]], tmp_path: Path
) -> None:
    architecture, tree = built
    broken = _broken(tree, SERVER, "if current not in allowed:", "if False:")
    result = _probe(architecture, broken, tmp_path)
    assert result.behaviour["Parcel"]["transition_refused"] is False
    assert "not allowed" in result.detail["Parcel"]["transitions"]


def test_the_probe_notices_a_transition_that_does_not_move_the_state(
    built: tuple[Architecture, dict[str, str]], tmp_path: Path
) -> None:
    architecture, tree = built
    broken = _broken(
        tree,
        SERVER,
        "self.store.update(resource, item_id, {transition.field: transition.to_state}) or changed",
        "item",
    )
    result = _probe(architecture, broken, tmp_path)
    assert result.behaviour["Parcel"]["transitions"] is False
    assert result.counts["Parcel"]["transitions"][0] < 3


def test_the_probe_notices_search_and_summaries_that_ignore_the_records(
    built: tuple[Architecture, dict[str, str]], tmp_path: Path
) -> None:
    architecture, tree = built
    broken = _broken(tree, STORE, "if text:", "if False:")
    broken = _broken(broken, SUMMARIES, "rows = store.find(resource, {})", "rows = []")
    result = _probe(architecture, broken, tmp_path)
    assert result.behaviour["Parcel"]["search"] is False
    assert result.counts["Parcel"]["search"] == (1, 2)  # the city filter still works, q does not
    assert result.behaviour["Parcel"]["summaries"] is False


def test_the_page_offers_every_entity_transition_and_summary_and_a_missing_one_is_named(
    built: tuple[Architecture, dict[str, str]],
) -> None:
    architecture, tree = built
    coverage = frontend_coverage(tree, architecture.openapi)
    assert (coverage.shown, coverage.total, coverage.missing) == (5, 5, [])
    page = tree["frontend/index.html"]
    assert 'data-summary="parcels_per_city"' in page
    without_table = {**tree, "frontend/index.html": page.replace('data-summary="parcels_per_city"', "")}
    coverage = frontend_coverage(without_table, architecture.openapi)
    assert coverage.shown == 4 and coverage.missing == ["summary Parcel.parcels_per_city"]
    data = tree["frontend/resources.js"]
    without_button = {**tree, "frontend/resources.js": data.replace('"name": "deliver"', '"name": "gone"')}
    assert frontend_coverage(without_button, architecture.openapi).missing == ["transition Parcel.deliver"]
