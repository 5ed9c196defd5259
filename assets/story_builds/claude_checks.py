"""Checks on a model's change set before anything is applied: `validate_proposal`.

Paths confined to the repository (never the manifest, which the pipeline writes), actions that
fit the tree, bounded sizes, UTF-8 text, Python and JSON files that parse, component commands that
validate into the manifest contract, and every claimed covering test present and covering by the
one set of rules in `pipeline_core.repository.test_rules` (named `test_<story>_<criterion>`,
tagged `Covers: <story> <criterion>` where the rules read it, asserting something computed) in a
component's folder.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Collection, Mapping

from assets.requirements.models import UserStory
from assets.story_builds.claude_manifest import component_of, merged_components
from assets.story_builds.claude_task import DEFAULT_LIMITS, CodegenLimits, ProposedChanges, bullets
from assets.story_builds.models import FileChange, apply_changes, check_tree_path
from pipeline_core.repository.manifest import MANIFEST_PATH, read_manifest
from pipeline_core.repository.test_rules import covering_problem, names_test_for, test_name

PIPELINE_FOLDER = MANIFEST_PATH.split("/", 1)[0] + "/"


class InvalidProposal(ValueError):
    """An answer that must not be applied; `reasons` says what is wrong, one problem each."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("invalid change set:\n" + bullets(reasons))


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
    if path == MANIFEST_PATH or path.casefold().startswith(PIPELINE_FOLDER.casefold()):
        return f"{MANIFEST_PATH} (and all of {PIPELINE_FOLDER}) is written by the pipeline, not by the model"
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

    components, problems = merged_components(read_manifest(current_tree), proposal.components)
    reasons += problems
    for component in proposal.components:
        label = f"component {component.name!r}"
        folder = component.path.strip().rstrip("/") or "."
        folder = "." if folder in ("", ".", "./") else folder.removeprefix("./")
        problem = None if folder == "." else path_problem(folder, limits)
        if problem:
            reasons.append(f"{label}: path {component.path!r}: {problem}")
        elif folder != "." and not any(path.startswith(folder + "/") for path in result):
            reasons.append(f"{label}: no file of the repository is under its path {component.path!r}")
    names = [component.name for component in proposal.components]
    if len(set(names)) != len(names):
        reasons.append(f"components: each name may be listed once ({', '.join(names)})")

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
        if not names_test_for(item.test_name, story.id, item.criterion_id):
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
        problem = covering_problem(item.test_file, result[item.test_file], story.id, item.criterion_id)
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
