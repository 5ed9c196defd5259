"""The generated repository's README (stack, how to run and test, the API built so far, the stories
and what their tests cover) and its CI workflow."""

from __future__ import annotations

from collections.abc import Sequence

from assets.architecture.models import Architecture
from assets.story_builds.offline.specs import ResourceSpec
from assets.story_builds.offline.state import DATABASE_ENV, GENERATOR_VERSION
from pipeline_core.repository.manifest import ComponentSpec, Manifest

SUPPORTED_STACK = {
    "backend": "Python 3 standard library (http.server, sqlite3, json)",
    "database": "SQLite, a file the backend keeps (standard library sqlite3)",
    "frontend": "static HTML, CSS and JavaScript (no build step)",
}


# Pushes to these branches build and push the backend images the ECS deployments run: the
# integration branch is what the preview runs, main what production runs. The pipeline dispatches
# the workflow once after it first sets the deploy secrets, for the commit pushed before them.
DEPLOYED_BRANCHES = ("main", "ai-pipeline/integration")
TEST_JOBS = ("backend", "frontend")

_TEST_JOBS = """name: CI

on:
  push:
    branches: [main, ai-pipeline/integration]
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

jobs:
  backend:
    name: backend (Python)
    runs-on: ubuntu-latest
    timeout-minutes: 15
    defaults:
      run:
        working-directory: backend
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
      - name: Install dependencies
        run: python -m pip install -r requirements.txt
      - name: Run tests
        run: python -m unittest discover -s tests -t . -v

  frontend:
    name: frontend (static)
    runs-on: ubuntu-latest
    timeout-minutes: 15
    defaults:
      run:
        working-directory: frontend
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v5
        with:
          node-version: "22"
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
      - name: Run tests
        run: python -m unittest discover -s tests -t . -v
"""

# Without the deploy secrets (set by the pipeline only when backends deploy to ECS) the job says so
# and pushes nothing, so a repository that is not deployed to ECS stays green.
_IMAGE_JOB = """
  image-{name}:
    name: {name} image (ECR)
{needs}    if: (github.event_name == 'push' || github.event_name == 'workflow_dispatch') && ({refs})
    runs-on: ubuntu-latest
    timeout-minutes: 30
    permissions:
      contents: read
      id-token: write
    env:
      AWS_REGION: ${{{{ secrets.AWS_REGION }}}}
      ECR_REPOSITORY: ${{{{ github.event.repository.name }}}}/{name}
    steps:
      - name: Skip without deploy credentials
        if: env.AWS_REGION == ''
        run: echo "::notice::no AWS_REGION secret, no image pushed (set when backends deploy to ECS)"
      - uses: actions/checkout@v5
        if: env.AWS_REGION != ''
      - name: AWS credentials (an OIDC role, or access keys)
        if: env.AWS_REGION != ''
        uses: aws-actions/configure-aws-credentials@v5
        with:
          aws-region: ${{{{ env.AWS_REGION }}}}
          role-to-assume: ${{{{ secrets.AWS_ROLE_ARN }}}}
          aws-access-key-id: ${{{{ secrets.AWS_ACCESS_KEY_ID }}}}
          aws-secret-access-key: ${{{{ secrets.AWS_SECRET_ACCESS_KEY }}}}
      - name: Create the ECR repository if it is missing
        if: env.AWS_REGION != ''
        run: >-
          aws ecr describe-repositories --repository-names "$ECR_REPOSITORY" >/dev/null 2>&1 ||
          aws ecr create-repository --repository-name "$ECR_REPOSITORY"
          --image-scanning-configuration scanOnPush=true >/dev/null
      - name: Log in to ECR
        id: ecr
        if: env.AWS_REGION != ''
        uses: aws-actions/amazon-ecr-login@v2
      - name: Build and push the image, tagged with the commit
        if: env.AWS_REGION != ''
        env:
          IMAGE: ${{{{ steps.ecr.outputs.registry }}}}/${{{{ env.ECR_REPOSITORY }}}}:${{{{ github.sha }}}}
        run: |
          docker build --file {dockerfile} --tag "$IMAGE" {context}
          docker push "$IMAGE"
"""


def render_image_job(component: ComponentSpec) -> str:
    """The CI job that builds a containerised backend and pushes it to ECR as `<repo>/<name>:<sha>`."""
    refs = " || ".join(f"github.ref == 'refs/heads/{branch}'" for branch in DEPLOYED_BRANCHES)
    needs = f"    needs: {component.name}\n" if component.name in TEST_JOBS else ""
    return _IMAGE_JOB.format(
        name=component.name,
        needs=needs,
        refs=refs,
        dockerfile=component.dockerfile,
        context=component.path,
    )


def render_ci(components: Sequence[ComponentSpec] = ()) -> str:
    """The workflow: each component's tests, and for a backend with a dockerfile its image job."""
    images = [c for c in components if c.kind == "backend" and c.dockerfile]
    return _TEST_JOBS + "".join(render_image_job(component) for component in images)


def stack_notes(architecture: Architecture) -> list[str]:
    """Where the architecture asks for a stack the offline templates do not generate."""
    notes = []
    for component in architecture.components:
        kind = "backend" if component.kind == "worker" else component.kind
        supported = SUPPORTED_STACK.get(kind)
        asked = " / ".join(part for part in (component.stack.language, component.stack.framework) if part)
        if supported and asked:
            notes.append(
                f"{component.name}: the architecture asks for {asked}; "
                f"the offline templates generate {supported}."
            )
    return notes


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


INTEGRATION_BRANCH = "ai-pipeline/integration"  # story_builds' integration branch (build.INTEGRATION_BRANCH)


def render_readme(architecture: Architecture, manifest: Manifest, specs: Sequence[ResourceSpec]) -> str:
    api_rows = []
    for spec in specs:
        for op, stories in spec.operations:
            api_rows.append(
                f"| `{op.method} {op.path}` | {op.operation_id or op.kind} | {', '.join(stories)} |"
            )
    story_rows = []
    for story in manifest.stories:
        ops = ", ".join(f"`{label}`" for label in story.operations) or "none"
        covered = ", ".join(story.covered) or "none"
        uncovered = "; ".join(f"{cid}: {reason}" for cid, reason in story.uncovered.items()) or "none"
        story_rows.append(f"| {story.id} | {_md(story.title)} | {ops} | {covered} | {_md(uncovered)} |")
    notes = "".join(f"- {_md(note)}\n" for note in stack_notes(architecture))
    return f"""# {architecture.project}

{_md(architecture.summary)}

Generated by ai-pipeline story by story ({GENERATOR_VERSION}). The API contract is
[`backend/openapi.json`](backend/openapi.json); the backend and the frontend need nothing beyond
Python 3.11+ and a browser.

## Stack

- backend: {SUPPORTED_STACK["backend"]}
- database: {SUPPORTED_STACK["database"]}
- frontend: {SUPPORTED_STACK["frontend"]}
{notes}
## Run

```sh
cd backend && python -m app --port 8000
```

The API answers on <http://127.0.0.1:8000/api/health>, and the frontend is served at
<http://127.0.0.1:8000/>. Set `{DATABASE_ENV}` (default `data/app.sqlite3`), `HOST` and `PORT` to
change where it stores and listens; `frontend/config.js` sets the API's address when the frontend
is hosted elsewhere.

As a container (`backend/Dockerfile`, the database under `/app/data`):

```sh
docker build -t {architecture.project}-backend backend
docker run -p 8000:8000 {architecture.project}-backend
```

## Test

```sh
(cd backend && python -m unittest discover -s tests -t . -v)
(cd frontend && python -m unittest discover -s tests -t . -v)
```

Each story's tests are in `backend/tests/test_<story>.py`; each test names the acceptance criterion
it covers (`Covers: US-... AC1`).

## Branches

- `story/<id>`: one branch per story, built on the branches of the stories it depends on, with one
  pull request each; review it there (`ai-pipeline review show <project> <number>`). Requested
  changes and comments rebuild that story and the stories built on it.
- `{INTEGRATION_BRANCH}`: every built story together, validated as a whole (tests and API contract)
  and deployed as the preview environment reviewers try.
- `main`: the approved pull requests, merged in dependency order; what is promoted to production.

## API built so far

| operation | id | stories |
|---|---|---|
{chr(10).join(api_rows) or "| none yet | | |"}

## Stories built

| story | title | operations | criteria covered | not covered (why) |
|---|---|---|---|---|
{chr(10).join(story_rows)}
"""
