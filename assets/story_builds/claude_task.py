"""The request for one story: what the model answers (`ProposedChanges`), the prompt, and its context.

`story_task` asks the model to implement one story on top of the current tree. The system prompt
holds only the job and the rules; everything taken from the project (the story, the slice of the
architecture it touches, the file tree, the full text of the files it most likely touches, review
feedback, and in a fix round the failing test output) is quoted as delimited documents. The answer
is a `ProposedChanges`: file changes (create, replace, delete with complete contents), the criteria
its tests cover, the criteria it cannot implement with the reason, each component's commands
(install, test, start, health, build, publish folder, Dockerfile), and the operations enabled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assets.architecture.models import Architecture, Entity
from assets.architecture.openapi import HTTP_METHODS, iter_operations, schema_refs
from assets.requirements.language import singular, words
from assets.requirements.models import RequirementsSet, UserStory
from assets.story_builds.offline import entity_label, find_story, module_name
from pipeline_core.repository.manifest import MANIFEST_PATH
from resources.llm.task import LlmTask, QuotedDocument

CODEGEN_VERSION = "claude-codegen-2"  # bump with the prompt, the output model or the validation
TASK_NAME = "story-codegen"
MAX_TREE_LISTING = 2000  # entries of the file-tree document; more are counted, not listed
MAX_REASONS = 25  # problems reported back to the model and in errors


class CodegenLimits(BaseModel):
    """Bounds on an answer and on the context sent with the request (bytes are UTF-8 bytes)."""

    model_config = ConfigDict(frozen=True)

    max_file_bytes: int = Field(200_000, gt=0, description="largest single file the model may write")
    max_files: int = Field(50, gt=0, description="most file changes in one story")
    max_total_bytes: int = Field(1_000_000, gt=0, description="most bytes written by one story")
    max_context_bytes: int = Field(200_000, ge=0, description="full text of existing files in the prompt")
    max_path_chars: int = Field(300, gt=0)


DEFAULT_LIMITS = CodegenLimits()


# ---------------------------------------------------------------------------------------------
# What the model answers


class ProposedFileChange(BaseModel):
    action: Literal["create", "replace", "delete"] = Field(
        description="create a file that does not exist yet, replace an existing file, delete an existing file"
    )
    path: str = Field(description="relative POSIX path inside the repository, e.g. 'backend/app/main.py'")
    content: str | None = Field(
        None, description="the complete UTF-8 text of the file for create and replace; null for delete"
    )


class ProposedCoveredCriterion(BaseModel):
    criterion_id: str = Field(description="an acceptance criterion id of the story, e.g. 'AC1'")
    test_file: str = Field(description="path of the test file in the repository")
    test_name: str = Field(description="the test function's name: test_<story>_<criterion>")
    behaviour: str = Field(description="what the test checks, in a few words")


class ProposedUncoveredCriterion(BaseModel):
    criterion_id: str
    reason: str = Field(description="why it cannot be implemented or tested honestly")


class ProposedComponent(BaseModel):
    """A component's commands as the model proposes them; the pipeline validates them into the
    manifest's `ComponentSpec` (the model never writes the manifest itself)."""

    name: str = Field(description="component name from the architecture, a lowercase slug, e.g. 'backend'")
    path: str = Field(description="the component's folder in the repository, e.g. 'backend'")
    kind: Literal["frontend", "backend", "worker"]
    runtime: Literal["python", "node", "static"]
    install: list[str] = Field(
        default_factory=list,
        description="argv that installs its dependencies inside its folder (registry reachable); [] if none",
    )
    test: list[str] = Field(description="argv that runs its tests inside its folder, without network")
    start: list[str] = Field(
        default_factory=list,
        description="backends: argv that serves it, with {port} where the port goes",
    )
    start_env: list[str] = Field(
        default_factory=list, description="environment variables the start command reads, e.g. DATABASE_URL"
    )
    health: str = Field("/", description="path that answers 200 when it is up")
    build: list[str] = Field(default_factory=list, description="frontends: argv of the build, [] if none")
    publish_dir: str | None = Field(None, description="frontends: the folder to publish")
    dockerfile: str | None = Field(None, description="backends deployed as containers: the Dockerfile")


class ProposedChanges(BaseModel):
    """One story's implementation as the model proposes it (validated before anything is applied)."""

    changes: list[ProposedFileChange] = Field(description="every file change the story makes")
    covered_criteria: list[ProposedCoveredCriterion] = Field(default_factory=list)
    uncovered_criteria: list[ProposedUncoveredCriterion] = Field(default_factory=list)
    components: list[ProposedComponent] = Field(
        default_factory=list,
        description="how each component with tests runs them (new or changed commands only)",
    )
    operations: list[str] = Field(
        default_factory=list, description="API operations this story makes work, as 'METHOD /path'"
    )
    summary: str = Field("", description="what changed, in two or three sentences")


def bullets(reasons: Sequence[str]) -> str:
    shown = [f"- {reason}" for reason in reasons[:MAX_REASONS]]
    if len(reasons) > MAX_REASONS:
        shown.append(f"- ... and {len(reasons) - MAX_REASONS} more problems")
    return "\n".join(shown)


# ---------------------------------------------------------------------------------------------
# The prompt

INSTRUCTIONS = """\
You are a senior software engineer implementing one user story in an existing repository. You \
receive the story, the part of the architecture it touches (components and stack, the API \
contract as OpenAPI, the data model), the repository's file tree with sizes, and the full text of \
the files the story most likely touches. Implement the story and return a ProposedChanges.

Rules:
- `changes` is the complete set of file changes for this story, relative to the current tree: \
`create` a file that does not exist, `replace` an existing file with its complete new text, \
`delete` an existing file (content null). Never send patches, diffs or partial files. Do not \
replace a file whose text you were not shown unless you rewrite all of it.
- Paths are relative POSIX paths inside the repository: never absolute, never `..`, no \
backslashes, nothing under `.git/`. `{manifest}` belongs to the pipeline: never change it.
- Follow the architecture: its components and folders, its stack, the API contract (paths, \
methods, status codes, schemas) and the data model. Keep what earlier stories built working; \
change only what this story needs. If the repository is empty, lay down a minimal runnable \
application for the stack first.
- Tests: for each acceptance criterion you implement, write one automated test named \
`test_<story>_<criterion>` (ids lower-cased, every run of other characters replaced by `_`: story \
US-3, criterion AC2 -> `test_us_3_ac2`, optionally followed by `_` and words) tagged `Covers: <story \
id> <criterion id>` (for example `Covers: US-3 AC2`). Python: a `def test_us_3_ac2` function (or \
method) in a file named `test_*.py`, the tag in its docstring. JavaScript / TypeScript: a \
`test(...)` or `it(...)` block in a `*.test.*` / `*.spec.*` file whose title starts with the name, \
the tag in the first comment of its function body (`test("test_us_3_ac2 lists tasks", () => {{ // \
Covers: US-3 AC2 ...`). A test must exercise the behaviour and assert its outcome on computed values \
(`assert`, `self.assert*`, `expect(value).to...`); an assertion over constants only (`assert 1 == \
1`, `expect(true).toBe(true)`) does not count. List each test in `covered_criteria` with its file, \
name and behaviour.
- A criterion you cannot implement or cannot test honestly goes in `uncovered_criteria` with the \
reason. Every criterion of the story appears in exactly one of the two lists.
- `components`: each component you lay down or whose commands change, with its name, folder, kind, \
runtime and commands as argv lists run inside its folder: `install` (its dependencies, run with the \
package registry reachable; for example ["python", "-m", "pip", "install", "-r", "requirements.txt"] \
or ["npm", "ci"]; [] when nothing needs installing), `test` (for example ["python", "-m", "pytest", \
"-v"] or ["npm", "test"]), and for a backend `start` with `{{port}}` where the port goes plus \
`health` (a path that answers 200), for a frontend `publish_dir` (and `build` if it needs one). \
`python`, `node` and `npm` as the first word mean the component's own environment (its virtualenv, \
its node_modules). The pipeline writes these into {manifest}; a component you do not list keeps its \
commands. Tests run after the install without network access and without credentials: they must not \
reach the internet.
- `operations`: the operations of the API contract this story makes work, as "METHOD /path" \
exactly as in the contract.
- Limits: at most {max_files} file changes, each file at most {max_file_bytes} bytes, \
{max_total_bytes} bytes in all; UTF-8 text only, no NUL characters, no binary files.
- `summary`: what you changed, in two or three sentences.
- When a request says the tests of your previous change set failed, the repository already holds \
that change set: return the changes that make the tests pass, relative to the tree you are shown, \
with the complete lists of covered and uncovered criteria, components and operations."""


def _instructions(limits: CodegenLimits) -> str:
    return INSTRUCTIONS.format(
        manifest=MANIFEST_PATH,
        max_files=limits.max_files,
        max_file_bytes=limits.max_file_bytes,
        max_total_bytes=limits.max_total_bytes,
    )


_SCHEMA_SUFFIXES = ("Input", "Update", "Create", "Patch", "")


def _entity_of_schema(schema: str, names: Collection[str]) -> str | None:
    for suffix in _SCHEMA_SUFFIXES:
        base = schema[: len(schema) - len(suffix)] if suffix else schema
        if schema.endswith(suffix) and base in names:
            return base
    return None


def _mentions_entity(text_words: Sequence[str], entity: Entity) -> bool:
    wanted = [singular(word) for word in words(entity_label(entity.name))]
    have = [singular(word) for word in text_words]
    return bool(wanted) and any(have[i : i + len(wanted)] == wanted for i in range(len(have)))


def _story_text(story: UserStory) -> str:
    parts = [story.title, story.as_a, story.i_want, story.so_that]
    for criterion in story.acceptance_criteria:
        parts += [criterion.given, criterion.when, criterion.then]
    return " ".join(parts)


def contract_labels(architecture: Architecture) -> list[str]:
    """Every operation of the API contract as 'METHOD /path'."""
    return [operation.label for operation in iter_operations(architecture.openapi)]


def architecture_context(architecture: Architecture, story: UserStory) -> dict[str, Any]:
    """The part of the design a story needs: the components it maps to, the contract's operations
    tagged with it (`x-story-ids`) or touching its entities, those entities and their schemas."""
    names = {entity.name for entity in architecture.data_model}
    operations = list(iter_operations(architecture.openapi))
    tagged = {(op.path, op.method) for op in operations if story.id in op.story_ids}
    touched = {
        entity
        for op in operations
        if (op.path, op.method) in tagged
        for schema in schema_refs(op.operation)
        if (entity := _entity_of_schema(schema, names))
    }
    story_words = words(_story_text(story))
    touched |= {entity.name for entity in architecture.data_model if _mentions_entity(story_words, entity)}

    paths = architecture.openapi.get("paths") or {}
    selected: dict[str, dict[str, Any]] = {}
    for op in operations:
        entities = {
            entity for schema in schema_refs(op.operation) if (entity := _entity_of_schema(schema, names))
        }
        entities |= {tag for tag in op.operation.get("tags") or [] if tag in names}
        if (op.path, op.method) in tagged or entities & touched:
            item = paths[op.path]
            target = selected.setdefault(op.path, {k: v for k, v in item.items() if k not in HTTP_METHODS})
            target[op.method] = op.operation
    components_all = architecture.openapi.get("components") or {}
    schemas_all = components_all.get("schemas") or {}
    # Shared responses, parameters, security schemes: small, and referenced by the operations.
    shared = {key: value for key, value in components_all.items() if key != "schemas"}
    wanted = {name for name in schemas_all if _entity_of_schema(name, touched)}
    wanted |= schema_refs(selected) | schema_refs(shared)
    queue = list(wanted)
    while queue:  # schemas referencing other schemas
        for ref in schema_refs(schemas_all.get(queue.pop(), {})):
            if ref not in wanted:
                wanted.add(ref)
                queue.append(ref)
    openapi_slice: dict[str, Any] = {
        key: value for key, value in architecture.openapi.items() if key not in ("paths", "components")
    }
    openapi_slice["paths"] = selected
    openapi_slice["components"] = {
        **shared,
        "schemas": {name: schemas_all[name] for name in sorted(wanted) if name in schemas_all},
    }

    mapped = {entry.story_id: entry.components for entry in architecture.story_map}.get(story.id)
    components = [c for c in architecture.components if not mapped or c.name in mapped]
    shown = {
        f"{method.upper()} {path}"
        for path, item in selected.items()
        for method in item
        if method in HTTP_METHODS
    }
    return {
        "project": architecture.project,
        "summary": architecture.summary,
        "components": [component.model_dump(mode="json") for component in components],
        "other_components": [
            {"name": c.name, "kind": c.kind, "path": c.path}
            for c in architecture.components
            if c not in components
        ],
        "repository_layout": architecture.repository_layout,
        "openapi": openapi_slice,
        "other_operations": [label for label in contract_labels(architecture) if label not in shown],
        "data_model": [
            entity.model_dump(mode="json") for entity in architecture.data_model if entity.name in touched
        ],
    }


_ROOT_FILES = {"README.md", "package.json", "pyproject.toml", "requirements.txt", "setup.cfg"}


def select_context_files(
    story: UserStory,
    current_tree: Mapping[str, str],
    context: Mapping[str, Any],
    budget: int,
) -> list[str]:
    """Paths whose full text goes into the prompt, most relevant first, within `budget` bytes:
    files naming the story, the manifest, files naming its entities or API paths, files of its
    components, then the repository's top-level configuration."""
    story_pattern = re.compile(rf"(?<![\w-]){re.escape(story.id)}(?![\w-])")
    terms: list[re.Pattern[str]] = []
    for entity in context["data_model"]:
        name = entity["name"]
        terms.append(re.compile(rf"\b{re.escape(name)}\b"))
        terms.append(re.compile(rf"\b{re.escape(module_name(name))}\b"))
    for path in context["openapi"]["paths"]:
        terms.append(re.compile(re.escape(path.split("{", 1)[0].rstrip("/"))))
    folders = [c["path"].strip("/") + "/" for c in context["components"] if c["path"].strip("/")]

    def score(path: str, text: str) -> int:
        if story_pattern.search(text) or story_pattern.search(path):
            return 5
        if path == MANIFEST_PATH:
            return 4
        if any(term.search(text) for term in terms):
            return 3
        if any(path.startswith(folder) for folder in folders):
            return 2
        return 1 if path in _ROOT_FILES else 0

    ranked = sorted(
        (-score(path, text), path) for path, text in current_tree.items() if score(path, text) > 0
    )
    chosen, used = [], 0
    for _, path in ranked:
        size = len(current_tree[path].encode("utf-8", "surrogatepass"))
        if size and used + size <= budget:  # an empty file is fully described by the listing
            chosen.append(path)
            used += size
    return chosen


def tree_listing(current_tree: Mapping[str, str], quoted: Collection[str]) -> str:
    if not current_tree:
        return "(the repository is empty: this story lays down the application)"
    lines = ["path\tbytes\tfull text"]
    for index, (path, text) in enumerate(sorted(current_tree.items())):
        if index == MAX_TREE_LISTING:
            lines.append(f"... and {len(current_tree) - MAX_TREE_LISTING} more files")
            break
        size = len(text.encode("utf-8", "surrogatepass"))
        lines.append(f"{path}\t{size}\t{'quoted' if path in quoted else 'listed only'}")
    return "\n".join(lines)


def repair_feedback(story_id: str, reasons: Sequence[str]) -> str:
    return (
        f"Your previous change set for story {story_id} was rejected and nothing of it was applied. "
        f"Problems:\n{bullets(reasons)}\n\n"
        "Return a corrected, complete change set for the same current tree: every file change the "
        "story needs (not only the fixes), with covered and uncovered criteria, components, "
        "operations and summary."
    )


def story_task(
    architecture: Architecture,
    requirements: RequirementsSet,
    story_id: str,
    current_tree: Mapping[str, str],
    feedback: str | None = None,
    *,
    review_feedback: str | None = None,
    test_output: str | None = None,
    limits: CodegenLimits = DEFAULT_LIMITS,
) -> LlmTask[ProposedChanges]:
    """The request to implement `story_id` on `current_tree`. `feedback` (the repair round's list
    of problems) goes into the request; `review_feedback` (reviewers' words) and `test_output` (a
    fix round: the failing output of the previous change set's tests, which `current_tree` already
    holds) are quoted."""
    story = find_story(requirements, story_id)
    context = architecture_context(architecture, story)
    quoted_paths = select_context_files(story, current_tree, context, limits.max_context_bytes)
    story_json = story.model_dump(mode="json", exclude={"traces", "content_hash"})
    documents = [
        QuotedDocument(name="story", text=json.dumps(story_json, indent=1, ensure_ascii=False)),
        QuotedDocument(name="architecture", text=json.dumps(context, indent=1, ensure_ascii=False)),
    ]
    if review_feedback:
        documents.append(QuotedDocument(name="review-feedback", text=review_feedback))
    if test_output:
        documents.append(QuotedDocument(name="test-output", text=test_output))
    documents.append(QuotedDocument(name="file-tree", text=tree_listing(current_tree, quoted_paths)))
    documents += [QuotedDocument(name=f"file:{path}", text=current_tree[path]) for path in quoted_paths]

    criteria = ", ".join(criterion.id for criterion in story.acceptance_criteria) or "none"
    request = (
        f"Implement story {story.id} (acceptance criteria: {criteria}) in the repository and return "
        "its ProposedChanges. The story and architecture documents describe what to build; the "
        "file-tree document lists every file of the repository; the files quoted as file:<path> "
        "are shown in full, the others are listed only."
    )
    if review_feedback:
        request += " Address the reviewers' requested changes in the review-feedback document."
    if test_output:
        request += (
            f"\n\nYour previous change set for story {story.id} is applied to the repository shown, and "
            "its components' tests failed: the test-output document holds the end of each failing "
            "component's install and test output. Return a change set, relative to this tree, that "
            "makes the tests pass, with the complete lists of covered and uncovered criteria, "
            "components and operations."
        )
    if feedback:
        request += "\n\n" + feedback
    return LlmTask(
        name=f"{TASK_NAME}:{story.id}",
        instructions=_instructions(limits),
        request=request,
        output_model=ProposedChanges,
        version=CODEGEN_VERSION,
        quoted=tuple(documents),
        offline=None,
    )
