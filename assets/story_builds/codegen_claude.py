"""The Claude code generator: one story at a time, as a validated set of file changes.

`story_task` asks the model to implement one story on top of the current tree. The system prompt
holds only the job and the rules; everything taken from the project (the story, the slice of the
architecture it touches, the file tree, the full text of the files it most likely touches, review
feedback) is quoted as delimited documents. The answer is a `ProposedChanges`: file changes
(create, replace, delete with complete contents), the criteria its tests cover, the criteria it
cannot implement with the reason, how each component's tests are run, and the operations enabled.

`validate_proposal` checks an answer before anything is applied: paths confined to the repository,
actions that fit the tree, bounded sizes, UTF-8 text, Python and JSON files that parse, and every
claimed covering test present, named `test_<story>_<criterion>`, tagged `Covers: <story>
<criterion>`, asserting something, and run by a component's test command.

`generate_story_changes_with_model` runs the task, asks once for a repair listing the problems
when the answer does not validate, and then fails the story with `StoryGenerationError` (the
caller records it and carries on with the other stories). Like the offline generator it keeps
`.ai-pipeline/manifest.json` (components with their test commands, built stories), which the
pipeline writes itself; the model may not.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field

from assets.architecture.models import Architecture, Entity
from assets.architecture.openapi import schema_refs
from assets.requirements.language import singular, words
from assets.requirements.models import RequirementsSet, UserStory
from assets.story_builds.codegen_offline import (
    MANIFEST_PATH,
    GenerationError,
    entity_label,
    find_story,
    module_name,
    test_name,
)
from assets.story_builds.models import (
    CoveredCriterion,
    FileChange,
    StoryChangeSet,
    TestRef,
    UncoveredCriterion,
    apply_changes,
    check_tree_path,
    tree_hash,
)
from pipeline_core.hashing import content_hash
from resources.llm.resource import LlmSession
from resources.llm.task import LlmTask, LlmTaskError, QuotedDocument

CODEGEN_VERSION = "claude-codegen-1"  # bump with the prompt, the output model or the validation
PROMPT_VERSION = CODEGEN_VERSION  # the name assets/story_builds/asset.py imports
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
    name: str = Field(description="component name from the architecture, e.g. 'backend'")
    path: str = Field(description="the component's folder in the repository, e.g. 'backend'")
    test: list[str] = Field(description="argv that runs the component's tests inside its folder")


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


class InvalidProposal(ValueError):
    """An answer that must not be applied; `reasons` says what is wrong, one problem each."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("invalid change set:\n" + _bullets(reasons))


class StoryGenerationError(RuntimeError):
    """A story that could not be generated; the other stories carry on."""

    def __init__(self, story_id: str, reason: str):
        super().__init__(f"story {story_id} could not be generated: {reason}")
        self.story_id = story_id
        self.reason = reason


def _bullets(reasons: Sequence[str]) -> str:
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
- Tests: for each acceptance criterion you implement, write one automated test function named \
`test_<story>_<criterion>` (ids lower-cased, every run of other characters replaced by `_`: \
story US-3, criterion AC2 -> `test_us_3_ac2`) whose docstring starts with \
`Covers: <story id> <criterion id>` (for example `Covers: US-3 AC2`). A test must exercise the \
behaviour and assert its outcome; never write a test that asserts nothing, asserts a constant or \
always passes. List each one in `covered_criteria` with its file, name and behaviour.
- A criterion you cannot implement or cannot test honestly goes in `uncovered_criteria` with the \
reason. Every criterion of the story appears in exactly one of the two lists.
- `components`: for each component that has tests, the command that runs them, as argv run \
inside the component's folder (for example ["python", "-m", "pytest", "-v"]); needed when a \
component first gets tests or its command changes. Tests must run without network access and \
without credentials.
- `operations`: the operations of the API contract this story makes work, as "METHOD /path" \
exactly as in the contract.
- Limits: at most {max_files} file changes, each file at most {max_file_bytes} bytes, \
{max_total_bytes} bytes in all; UTF-8 text only, no NUL characters, no binary files.
- `summary`: what you changed, in two or three sentences."""


def _instructions(limits: CodegenLimits) -> str:
    return INSTRUCTIONS.format(
        manifest=MANIFEST_PATH,
        max_files=limits.max_files,
        max_file_bytes=limits.max_file_bytes,
        max_total_bytes=limits.max_total_bytes,
    )


_SCHEMA_SUFFIXES = ("Input", "Update", "Create", "Patch", "")
_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


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
    return [
        f"{method.upper()} {path}"
        for path, item in sorted((architecture.openapi.get("paths") or {}).items())
        if isinstance(item, dict)
        for method, operation in item.items()
        if method in _METHODS and isinstance(operation, dict)
    ]


def architecture_context(architecture: Architecture, story: UserStory) -> dict[str, Any]:
    """The part of the design a story needs: the components it maps to, the contract's operations
    tagged with it (`x-story-ids`) or touching its entities, those entities and their schemas."""
    names = {entity.name for entity in architecture.data_model}
    paths = architecture.openapi.get("paths") or {}
    tagged: list[tuple[str, str]] = []
    for path, item in sorted(paths.items()):
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                if story.id in (operation.get("x-story-ids") or []):
                    tagged.append((path, method))
    touched = {
        entity
        for path, method in tagged
        for schema in schema_refs(paths[path][method])
        if (entity := _entity_of_schema(schema, names))
    }
    story_words = words(_story_text(story))
    touched |= {entity.name for entity in architecture.data_model if _mentions_entity(story_words, entity)}

    selected: dict[str, dict[str, Any]] = {}
    for path, item in sorted(paths.items()):
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            entities = {
                entity for schema in schema_refs(operation) if (entity := _entity_of_schema(schema, names))
            }
            entities |= {tag for tag in operation.get("tags") or [] if tag in names}
            if (path, method) in tagged or entities & touched:
                target = selected.setdefault(path, {k: v for k, v in item.items() if k not in _METHODS})
                target[method] = operation
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
        f"{method.upper()} {path}" for path, item in selected.items() for method in item if method in _METHODS
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
        f"Problems:\n{_bullets(reasons)}\n\n"
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
    limits: CodegenLimits = DEFAULT_LIMITS,
) -> LlmTask[ProposedChanges]:
    """The request to implement `story_id` on `current_tree`. `feedback` (the repair round's list
    of problems) goes into the request; `review_feedback` (reviewers' words) is quoted."""
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


# ---------------------------------------------------------------------------------------------
# Validation


def path_problem(path: str, limits: CodegenLimits = DEFAULT_LIMITS) -> str | None:
    """Why `path` may not be written by a story, or None."""
    if not path:
        return "the path is empty"
    if len(path) > limits.max_path_chars:
        return f"the path is longer than {limits.max_path_chars} characters"
    if any(ord(char) < 32 or ord(char) == 127 for char in path):
        return "the path contains control characters"
    if "\\" in path:
        return "the path contains a backslash (use '/')"
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return "the path is absolute (paths are relative to the repository root)"
    parts = path.split("/")
    if ".." in parts:
        return "the path climbs out of the repository with '..'"
    if any(part.casefold() == ".git" for part in parts):
        return "the path is inside .git/, which only git writes"
    try:
        check_tree_path(path)
    except ValueError:
        return "the path is not a normalised relative path (empty or '.' segments, trailing '/')"
    if path == MANIFEST_PATH:
        return f"{MANIFEST_PATH} is written by the pipeline, not by the model"
    return None


def text_problem(content: str, limits: CodegenLimits = DEFAULT_LIMITS) -> tuple[str | None, int]:
    """Why `content` may not be written (NUL, not UTF-8 encodable, too big), and its UTF-8 size."""
    try:
        size = len(content.encode("utf-8"))
    except UnicodeEncodeError:
        return "the content is not valid UTF-8 text (lone surrogate characters)", 0
    if "\x00" in content:
        return "the content contains NUL characters (binary files are not allowed)", size
    if size > limits.max_file_bytes:
        return f"the content is {size} bytes, over the limit of {limits.max_file_bytes} bytes per file", size
    return None, size


def _syntax_problem(path: str, content: str) -> str | None:
    if path.endswith(".py"):
        try:
            ast.parse(content, filename=path)
        except SyntaxError as error:
            return f"{path} is not valid Python: {error.msg} (line {error.lineno})"
    elif path.endswith(".json"):
        try:
            json.loads(content)
        except json.JSONDecodeError as error:
            return f"{path} is not valid JSON: {error.msg} (line {error.lineno})"
    return None


def _read_manifest(tree: Mapping[str, str]) -> dict[str, Any]:
    try:
        data = json.loads(tree.get(MANIFEST_PATH, "{}"))
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def merged_components(tree: Mapping[str, str], proposed: Sequence[ProposedComponent]) -> list[dict[str, Any]]:
    """The manifest's components with the proposal's test commands applied (by name)."""
    out: dict[str, dict[str, Any]] = {}
    for component in _read_manifest(tree).get("components") or []:
        if isinstance(component, dict) and isinstance(component.get("name"), str):
            out[component["name"]] = component
    for component in proposed:
        path = component_folder(component.path)
        out[component.name] = {"name": component.name, "path": path, "test": list(component.test)}
    return list(out.values())


def component_folder(path: str) -> str:
    """A component's folder as the manifest keeps it: 'backend/' -> 'backend', '' or './' -> '.'."""
    folder = path.rstrip("/")
    return "." if folder in ("", ".") else folder


def component_of(path: str, components: Sequence[Mapping[str, Any]]) -> str | None:
    """The component whose folder holds `path` (the deepest one; '.' is the repository root)."""
    best: tuple[int, str] | None = None
    for component in components:
        folder = component_folder(str(component.get("path", "")))
        depth = 0 if folder == "." else len(folder)
        inside = folder == "." or path.startswith(folder + "/")
        if inside and (best is None or depth > best[0]):
            best = (depth, str(component["name"]))
    return best[1] if best else None


_ASSERTING_CALL = re.compile(r"^(?:assert|expect|check|verify)|^raises$")


def _asserts_something(function: ast.AST) -> bool:
    """True if the function contains an assertion on something other than constants."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assert) and not isinstance(node.test, ast.Constant):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
            if _ASSERTING_CALL.match(name) and any(not isinstance(a, ast.Constant) for a in arguments):
                return True
    return False


def _covers_pattern(story_id: str, criterion_id: str) -> re.Pattern[str]:
    return re.compile(rf"Covers:\s*{re.escape(story_id)}\s+{re.escape(criterion_id)}(?![\w-])")


def _python_test_problem(path: str, text: str, name: str, story_id: str, criterion_id: str) -> str | None:
    try:
        module = ast.parse(text, filename=path)
    except SyntaxError as error:
        return f"test file {path} is not valid Python: {error.msg} (line {error.lineno})"
    found = [
        node
        for node in ast.walk(module)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
    ]
    if not found:
        return f"test file {path} defines no test function {name}"
    if len(found) > 1:
        return f"test file {path} defines {name} more than once (the later definition hides the earlier)"
    function = found[0]
    lines = text.splitlines()
    first = min([function.lineno, *(decorator.lineno for decorator in function.decorator_list)]) - 1
    while first > 0 and lines[first - 1].lstrip().startswith("#"):
        first -= 1  # comment lines right above the test belong to it
    segment = "\n".join(lines[first : function.end_lineno or function.lineno])
    if not _covers_pattern(story_id, criterion_id).search(segment):
        return f"test {name} in {path} is not tagged 'Covers: {story_id} {criterion_id}' in its docstring"
    if not _asserts_something(function):
        return f"test {name} in {path} asserts nothing (it must check the behaviour's outcome)"
    return None


_ANY_TEST_START = re.compile(r"""\b(?:def|function)\s+test\w*\s*\(|\b(?:test|it)\s*\(\s*['"`]""")


def _other_test_problem(path: str, text: str, name: str, story_id: str, criterion_id: str) -> str | None:
    start = re.compile(
        rf"""\b(?:def|function)\s+{re.escape(name)}\s*\(|\b(?:test|it)\s*\(\s*['"`]{re.escape(name)}\b"""
    )
    match = start.search(text)
    if match is None:
        return f"test file {path} defines no test {name}"
    following = _ANY_TEST_START.search(text, match.end())
    line_start = text.rfind("\n", 0, match.start())
    above = text.rfind("\n", 0, max(line_start, 0)) + 1  # a comment on the line above belongs to the test
    segment = text[above : following.start() if following else len(text)]
    if not _covers_pattern(story_id, criterion_id).search(segment):
        return f"test {name} in {path} is not tagged 'Covers: {story_id} {criterion_id}'"
    if not re.search(r"\bassert|\bexpect\s*\(", segment):
        return f"test {name} in {path} asserts nothing (it must check the behaviour's outcome)"
    return None


def validate_proposal(
    proposal: ProposedChanges,
    current_tree: Mapping[str, str],
    limits: CodegenLimits = DEFAULT_LIMITS,
    *,
    story: UserStory,
    contract: Collection[str] | None = None,
) -> list[FileChange]:
    """The proposal as file changes to apply to `current_tree`, or InvalidProposal with every
    problem found. `contract` (labels 'METHOD /path'), when given, bounds `operations`."""
    reasons: list[str] = []
    changes: list[FileChange] = []
    folded_tree = {path.casefold(): path for path in current_tree}
    seen: dict[str, str] = {}
    total = 0
    if len(proposal.changes) > limits.max_files:
        reasons.append(f"{len(proposal.changes)} file changes, over the limit of {limits.max_files}")
    for change in proposal.changes:
        path, label = change.path, f"{change.action} {change.path!r}"
        problem = path_problem(path, limits)
        if problem:
            reasons.append(f"{label}: {problem}")
            continue
        other = seen.get(path.casefold())
        if other is not None:
            reasons.append(
                f"{label}: the path is changed more than once"
                if other == path
                else f"{label}: collides with {other!r} (the names differ only in case)"
            )
            continue
        seen[path.casefold()] = path
        exists = path in current_tree
        if change.action == "create" and exists:
            reasons.append(f"{label}: the file already exists (use replace)")
            continue
        if change.action == "create" and folded_tree.get(path.casefold(), path) != path:
            reasons.append(
                f"{label}: collides with {folded_tree[path.casefold()]!r} (names differ only in case)"
            )
            continue
        if change.action in ("replace", "delete") and not exists:
            reasons.append(f"{label}: no such file in the repository (use create)")
            continue
        if change.action == "delete":
            changes.append(FileChange(path=path, content=None))
            continue
        if change.content is None:
            reasons.append(f"{label}: content is missing (create and replace carry the complete file)")
            continue
        problem, size = text_problem(change.content, limits)
        if problem:
            reasons.append(f"{label}: {problem}")
            continue
        syntax = _syntax_problem(path, change.content)
        if syntax:
            reasons.append(f"{label}: {syntax}")
        total += size
        if change.action == "replace" and current_tree[path] == change.content:
            continue  # no change
        changes.append(FileChange(path=path, content=change.content))
    if total > limits.max_total_bytes:
        reasons.append(f"the changes write {total} bytes, over the limit of {limits.max_total_bytes} in all")

    result = apply_changes(current_tree, changes)
    for change in changes:
        if change.content is None:
            continue
        parts = change.path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in result:
                reasons.append(f"create {change.path!r}: {parent!r} is a file, not a folder")
                break
        if any(path.startswith(change.path + "/") for path in result):
            reasons.append(f"create {change.path!r}: {change.path!r} is a folder in the repository")

    components = merged_components(current_tree, proposal.components)
    for component in proposal.components:
        label = f"component {component.name!r}"
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", component.name):
            reasons.append(f"{label}: the name must be letters, digits, '.', '_' or '-'")
        folder = component_folder(component.path)
        problem = None if folder == "." else path_problem(folder, limits)
        if problem:
            reasons.append(f"{label}: path {component.path!r}: {problem}")
        elif folder != "." and not any(path.startswith(folder + "/") for path in result):
            reasons.append(f"{label}: no file of the repository is under its path {component.path!r}")
        if not component.test or any(not part or "\x00" in part for part in component.test):
            reasons.append(f"{label}: the test command must be a non-empty argv of non-empty strings")

    criteria = [criterion.id for criterion in story.acceptance_criteria]
    covered: set[str] = set()
    for item in proposal.covered_criteria:
        label = f"covered criterion {item.criterion_id!r}"
        if item.criterion_id not in criteria:
            reasons.append(f"{label}: story {story.id} has no such criterion (it has {', '.join(criteria)})")
            continue
        if item.criterion_id in covered:
            reasons.append(f"{label}: listed more than once")
            continue
        covered.add(item.criterion_id)
        expected = test_name(story.id, item.criterion_id)
        if item.test_name != expected:
            reasons.append(f"{label}: the test must be named {expected}, not {item.test_name!r}")
            continue
        problem = path_problem(item.test_file, limits)
        if problem or item.test_file not in result:
            reasons.append(f"{label}: test file {item.test_file!r} is not in the resulting tree")
            continue
        if component_of(item.test_file, components) is None:
            reasons.append(
                f"{label}: test file {item.test_file!r} is in no component with a test command "
                "(list the component and its test command in `components`)"
            )
        check = _python_test_problem if item.test_file.endswith(".py") else _other_test_problem
        problem = check(item.test_file, result[item.test_file], expected, story.id, item.criterion_id)
        if problem:
            reasons.append(f"{label}: {problem}")
    uncovered: set[str] = set()
    for item in proposal.uncovered_criteria:
        label = f"uncovered criterion {item.criterion_id!r}"
        if item.criterion_id not in criteria:
            reasons.append(f"{label}: story {story.id} has no such criterion")
        elif item.criterion_id in covered:
            reasons.append(f"{label}: also listed as covered (it must be in one list only)")
        elif item.criterion_id in uncovered:
            reasons.append(f"{label}: listed more than once")
        elif not item.reason.strip():
            reasons.append(f"{label}: the reason is empty")
        uncovered.add(item.criterion_id)
    for criterion in criteria:
        if criterion not in covered and criterion not in uncovered:
            reasons.append(f"criterion {criterion} is neither covered by a test nor reported uncovered")

    if contract is not None:
        known = set(contract)
        for operation in proposal.operations:
            if normalise_operation(operation) not in known:
                reasons.append(f"operation {operation!r} is not in the API contract")

    if reasons:
        raise InvalidProposal(reasons)
    return changes


def normalise_operation(label: str) -> str:
    """'post  /api/tasks' -> 'POST /api/tasks'."""
    method, _, path = label.strip().partition(" ")
    return f"{method.upper()} {path.strip()}"


# ---------------------------------------------------------------------------------------------
# One story, with one repair


def render_manifest(
    current_tree: Mapping[str, str],
    project: str,
    story: UserStory,
    proposal: ProposedChanges,
    covered: Sequence[CoveredCriterion],
    uncovered: Sequence[UncoveredCriterion],
    operations: Sequence[str],
) -> str:
    """The pipeline's record of the tree: components with their test commands, stories built."""
    manifest = _read_manifest(current_tree)
    record = {
        "id": story.id,
        "title": story.title,
        "spec_hash": story.content_hash or story.compute_hash(),
        "operations": list(operations),
        "tests": sorted({item.test.file for item in covered}),
        "covered": [item.criterion_id for item in covered],
        "uncovered": {item.criterion_id: item.reason for item in uncovered},
    }
    stories = [entry for entry in manifest.get("stories") or [] if isinstance(entry, dict)]
    position = next((i for i, entry in enumerate(stories) if entry.get("id") == story.id), None)
    if position is None:
        stories.append(record)
    else:
        stories[position] = record
    data = {
        "generator": CODEGEN_VERSION,
        "project": manifest.get("project") or project,
        "components": merged_components(current_tree, proposal.components),
        "stories": stories,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def model_input_hash(
    model: str,
    architecture: Architecture,
    story: UserStory,
    current_tree: Mapping[str, str],
    review_feedback: str | None,
    limits: CodegenLimits,
) -> str:
    return content_hash(
        {
            "generator": CODEGEN_VERSION,
            "model": model,
            "story": story.model_dump(mode="json", exclude={"traces"}),
            "architecture": architecture.data_version(),
            "tree": tree_hash(current_tree),
            "review_feedback": review_feedback or "",
            "limits": limits.model_dump(),
        }
    )


def _ask(session: LlmSession, task: LlmTask[ProposedChanges], story_id: str) -> ProposedChanges:
    try:
        return session.run(task)
    except LlmTaskError as error:
        raise StoryGenerationError(story_id, f"the model gave no usable answer: {error.reason}") from error


def generate_story_changes_with_model(
    session: LlmSession,
    architecture: Architecture,
    requirements: RequirementsSet,
    story_id: str,
    current_tree: Mapping[str, str],
    limits: CodegenLimits = DEFAULT_LIMITS,
    review_feedback: str | None = None,
) -> StoryChangeSet:
    """Story `story_id` implemented by the model on top of `current_tree` (path -> text).

    An answer that does not validate is sent back once with its problems; if the corrected answer
    is still invalid, StoryGenerationError names the story and the problems. Nothing is applied to
    any tree here: the caller applies the returned change set.
    """
    try:
        story = find_story(requirements, story_id)
    except GenerationError as error:
        raise StoryGenerationError(story_id, str(error)) from None
    contract = contract_labels(architecture)

    def task(feedback: str | None) -> LlmTask[ProposedChanges]:
        return story_task(
            architecture,
            requirements,
            story_id,
            current_tree,
            feedback,
            review_feedback=review_feedback,
            limits=limits,
        )

    first_task = task(None)
    proposal = _ask(session, first_task, story.id)
    try:
        files = validate_proposal(proposal, current_tree, limits, story=story, contract=contract)
    except InvalidProposal as first:
        session.forget(first_task)  # a rejected answer must not be replayed from the cache on a re-run
        dg.get_dagster_logger().warning(
            f"story {story.id}: the model's change set was rejected, asking once for a repair:\n"
            f"{_bullets(first.reasons)}"
        )
        repair_task = task(repair_feedback(story.id, first.reasons))
        proposal = _ask(session, repair_task, story.id)
        try:
            files = validate_proposal(proposal, current_tree, limits, story=story, contract=contract)
        except InvalidProposal as second:
            session.forget(repair_task)
            raise StoryGenerationError(
                story.id,
                "the model's change set was still invalid after one repair, so nothing was applied:\n"
                + _bullets(second.reasons),
            ) from second

    components = merged_components(current_tree, proposal.components)
    covered = [
        CoveredCriterion(
            story_id=story.id,
            criterion_id=item.criterion_id,
            test=TestRef(
                component=component_of(item.test_file, components) or item.test_file.split("/", 1)[0],
                file=item.test_file,
                name=item.test_name,
            ),
            behaviour=item.behaviour or f"checked by {item.test_name}",
        )
        for item in proposal.covered_criteria
    ]
    uncovered = [
        UncoveredCriterion(story_id=story.id, criterion_id=item.criterion_id, reason=item.reason)
        for item in proposal.uncovered_criteria
    ]
    operations = list(dict.fromkeys(normalise_operation(label) for label in proposal.operations))
    manifest = render_manifest(
        current_tree, architecture.project, story, proposal, covered, uncovered, operations
    )
    if current_tree.get(MANIFEST_PATH) != manifest:
        files.append(FileChange(path=MANIFEST_PATH, content=manifest))
    return StoryChangeSet(
        story_id=story.id,
        message=f"{story.id}: {story.title}",
        files=sorted(files, key=lambda change: change.path),
        laid_skeleton=MANIFEST_PATH not in current_tree,
        operations=operations,
        covered_criteria=covered,
        uncovered_criteria=uncovered,
        input_hash=model_input_hash(
            session.model, architecture, story, current_tree, review_feedback, limits
        ),
    )
