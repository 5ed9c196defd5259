"""The Claude code-generation path: a real LlmResource session against the local Messages API server.

Covers a valid change set (applied, tests tagged, run in the sandbox and counted as coverage), the
request the server receives (story, architecture slice, file tree and files as delimited documents,
none of it in the system prompt), a path escape rejected and repaired once, an answer that stays
invalid failing only its story, size bounds, and `validate_proposal` problem by problem.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from assets.story_builds.claude_checks import InvalidProposal, validate_proposal
from assets.story_builds.claude_task import (
    CODEGEN_VERSION,
    CodegenLimits,
    ProposedChanges,
    architecture_context,
    select_context_files,
    story_task,
)
from assets.story_builds.codegen_claude import StoryGenerationError, generate_story_changes_with_model
from assets.story_builds.models import FileChange, apply_changes
from assets.validations.sandbox import coverage_report, run_tests_in_sandbox
from pipeline_core.repository.manifest import MANIFEST_PATH, Manifest, read_manifest, render_manifest
from resources.llm import LlmSession
from resources.llm.prompt import QUOTED_DATA_NOTICE
from tests.support.anthropic_server import AnthropicServer
from tests.support.claude_project import (
    BACKEND,
    BACKEND_SPEC,
    TASKS_MODULE,
    US1_TESTS,
    documents_of,
    make_architecture,
    make_requirements,
    request_text,
    us1_answer,
    us2_answer,
)


def session_for(server: AnthropicServer, tmp_path: Path) -> LlmSession:
    return server.llm(tmp_path / "llm-cache", max_retries=1).session()


def us1_tree() -> dict[str, str]:
    story = make_requirements().stories[0]
    proposal = ProposedChanges.model_validate(us1_answer())
    tree = apply_changes({}, validate_proposal(proposal, {}, story=story))
    tree[MANIFEST_PATH] = render_manifest(
        Manifest.model_validate(
            {"generator": CODEGEN_VERSION, "project": "tasks", "components": [BACKEND_SPEC], "stories": []}
        )
    )
    return tree


# ---------------------------------------------------------------------------------------------
# Against the Messages API server


def test_a_valid_change_set_is_applied_and_its_tests_count_as_coverage(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    anthropic_server.enqueue_json_answer(us1_answer())
    requirements, architecture = make_requirements(), make_architecture()
    session = session_for(anthropic_server, tmp_path)

    change = generate_story_changes_with_model(session, architecture, requirements, "US-1", {})

    assert len(anthropic_server.requests) == 1
    assert change.story_id == "US-1" and change.message == "US-1: Create a task"
    assert change.laid_skeleton
    assert [item.path for item in change.files] == [
        MANIFEST_PATH,
        "backend/app/__init__.py",
        "backend/app/tasks.py",
        "backend/tests/__init__.py",
        "backend/tests/test_us_1.py",
    ]
    assert change.operations == ["POST /api/tasks", "GET /api/tasks"]
    assert [
        (c.criterion_id, c.test.component, c.test.file, c.test.name) for c in change.covered_criteria
    ] == [
        ("AC1", "backend", "backend/tests/test_us_1.py", "test_us_1_ac1"),
        ("AC2", "backend", "backend/tests/test_us_1.py", "test_us_1_ac2"),
    ]
    assert [(u.criterion_id, u.reason) for u in change.uncovered_criteria] == [
        ("AC3", "no mail service in the architecture")
    ]
    tree = apply_changes({}, change.files)
    assert "Covers: US-1 AC1" in tree["backend/tests/test_us_1.py"]
    manifest = json.loads(tree[MANIFEST_PATH])
    spec = read_manifest(tree)
    assert spec is not None and spec.generator == CODEGEN_VERSION
    assert [c.model_dump(exclude_defaults=True) for c in spec.components] == [BACKEND_SPEC]
    assert manifest["stories"][0]["id"] == "US-1" and manifest["stories"][0]["covered"] == ["AC1", "AC2"]

    # The validations stage finds the component's test command in the manifest and runs the tests.
    [component] = spec.components
    folder, argv = component.path, [sys.executable, *component.test[1:]]
    result = run_tests_in_sandbox(tree, argv, timeout_s=60, workdir_parent=tmp_path, cwd=folder)
    assert result.ok, result.stderr_tail
    report = {(item.criterion_id, item.status) for item in coverage_report(requirements, [change], [result])}
    assert {("AC1", "passed"), ("AC2", "passed"), ("AC3", "uncovered")} <= report

    # The next story builds on the tree; a replace of an existing file is a change, not a create.
    anthropic_server.enqueue_json_answer(us2_answer(tree))
    second = generate_story_changes_with_model(session, architecture, requirements, "US-2", tree)
    assert not second.laid_skeleton
    after = apply_changes(tree, second.files)
    assert "def delete" in after["backend/app/tasks.py"] and "backend/tests/test_us_2.py" in after
    assert [entry["id"] for entry in json.loads(after[MANIFEST_PATH])["stories"]] == ["US-1", "US-2"]
    assert second.input_hash != change.input_hash


def test_the_request_quotes_story_architecture_tree_and_files_as_documents(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    tree = us1_tree()
    tree["docs/notes.txt"] = "Unrelated notes about the office coffee machine.\n"
    anthropic_server.enqueue_json_answer(us2_answer(tree))
    session = session_for(anthropic_server, tmp_path)

    generate_story_changes_with_model(
        session,
        make_architecture(),
        make_requirements(),
        "US-2",
        tree,
        review_feedback="Please log deletions.",
    )

    [sent] = anthropic_server.requests
    system = sent.body["system"]
    system_text = system if isinstance(system, str) else " ".join(block["text"] for block in system)
    assert "Covers: <story id> <criterion id>" in system_text and QUOTED_DATA_NOTICE in system_text
    for project_text in ("Delete a task", "the board stays tidy", "TaskStore", "Please log deletions"):
        assert project_text not in system_text  # no repository or document text in the system prompt
        assert project_text not in request_text(sent)

    documents = documents_of(sent)
    assert list(documents)[:4] == ["story", "architecture", "review-feedback", "file-tree"]
    story = json.loads(documents["story"])
    assert story["id"] == "US-2" and story["acceptance_criteria"][0]["then"] == "it is gone"
    slice_ = json.loads(documents["architecture"])
    assert [c["name"] for c in slice_["components"]] == ["backend"]
    assert "delete" in slice_["openapi"]["paths"]["/api/tasks/{id}"]  # tagged with US-2
    assert "/api/tasks" in slice_["openapi"]["paths"]  # touches its entity, Task
    assert (
        "/api/projects" not in slice_["openapi"]["paths"]
        and "GET /api/projects" in slice_["other_operations"]
    )
    assert [entity["name"] for entity in slice_["data_model"]] == ["Task"]
    assert "Task" in slice_["openapi"]["components"]["schemas"]
    assert "Project" not in slice_["openapi"]["components"]["schemas"]
    assert "NotFound" in slice_["openapi"]["components"]["responses"]  # referenced by the operations
    assert "Error" in slice_["openapi"]["components"]["schemas"]
    assert documents["review-feedback"] == "Please log deletions."
    listing = documents["file-tree"].splitlines()
    size = len(tree["backend/app/tasks.py"].encode())
    assert f"backend/app/tasks.py\t{size}\tquoted" in listing
    assert any(line.startswith("docs/notes.txt\t") and line.endswith("listed only") for line in listing)
    assert documents["file:backend/app/tasks.py"] == tree["backend/app/tasks.py"].replace("&", "&amp;")
    assert "file:docs/notes.txt" not in documents
    assert "US-2" in request_text(sent) and "AC1" in request_text(sent)


def test_a_path_escape_is_rejected_and_repaired_once(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    escape = us1_answer()
    escape["changes"] = [
        *escape["changes"],
        {"action": "create", "path": "../../etc/passwd", "content": "root::0:0::/:/bin/sh\n"},
        {"action": "create", "path": "/abs", "content": "x"},
        {"action": "create", "path": ".git/config", "content": "[core]\n"},
    ]
    anthropic_server.enqueue_json_answer(escape)
    anthropic_server.enqueue_json_answer(us1_answer())
    session = session_for(anthropic_server, tmp_path)

    change = generate_story_changes_with_model(session, make_architecture(), make_requirements(), "US-1", {})

    assert len(anthropic_server.requests) == 2  # one answer, one repair, nothing more
    first, repair = anthropic_server.requests
    feedback = request_text(repair)
    assert "rejected" in feedback and "US-1" in feedback
    assert "'../../etc/passwd'" in feedback and "'..'" in feedback
    assert "'/abs'" in feedback and "absolute" in feedback
    assert "'.git/config'" in feedback and ".git/" in feedback
    assert documents_of(repair) == documents_of(first)  # the same task, with feedback
    assert "../../etc/passwd" not in request_text(first)
    paths = {item.path for item in change.files}
    assert "backend/tests/test_us_1.py" in paths
    assert not any(".." in path or path.startswith(("/", ".git")) for path in paths)
    assert session.usage.model_calls == 2


def test_an_answer_that_stays_invalid_fails_its_story_and_the_others_carry_on(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    hollow = US1_TESTS.replace("self.assertEqual(store.list(), [task])", "pass")
    untagged = US1_TESTS.replace("Covers: US-1 AC1", "Checks US-1")
    for tests in (hollow, untagged):
        answer = us1_answer()
        answer["changes"][3]["content"] = tests
        anthropic_server.enqueue_json_answer(answer)
    requirements, architecture = make_requirements(), make_architecture()
    tree = {"README.md": "# Tasks\n"}
    before = dict(tree)
    session = session_for(anthropic_server, tmp_path)

    with pytest.raises(StoryGenerationError) as caught:
        generate_story_changes_with_model(session, architecture, requirements, "US-1", tree)

    error = caught.value
    assert error.story_id == "US-1"
    assert str(error).startswith("story US-1 could not be generated:")
    assert "still invalid after one repair" in error.reason
    assert "not tagged 'Covers: US-1 AC1'" in error.reason  # the second answer's problem
    assert tree == before
    assert len(anthropic_server.requests) == 2
    assert "asserts nothing" in request_text(anthropic_server.requests[1])

    # A re-run asks the model again: rejected answers are not replayed from the response cache.
    anthropic_server.enqueue_json_answer(us1_answer())
    retried = generate_story_changes_with_model(session, architecture, requirements, "US-1", tree)
    assert len(anthropic_server.requests) == 3
    assert retried.files

    # The next story is generated on its own base as usual.
    anthropic_server.enqueue_json_answer(us2_answer(us1_tree()))
    change = generate_story_changes_with_model(session, architecture, requirements, "US-2", us1_tree())
    assert [item.criterion_id for item in change.covered_criteria] == ["AC1"]


def test_size_bounds_are_enforced_and_reported_to_the_model(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    limits = CodegenLimits(max_file_bytes=2_000, max_files=6, max_total_bytes=3_000)
    big = us1_answer()
    big["changes"].append({"action": "create", "path": "backend/app/blob.py", "content": "#" * 2_500 + "\n"})
    anthropic_server.enqueue_json_answer(big)
    anthropic_server.enqueue_json_answer(big)
    session = session_for(anthropic_server, tmp_path)

    with pytest.raises(StoryGenerationError) as caught:
        generate_story_changes_with_model(
            session, make_architecture(), make_requirements(), "US-1", {}, limits=limits
        )

    assert (
        "create 'backend/app/blob.py': the content is 2501 bytes, over the limit of 2000"
        in caught.value.reason
    )
    instructions = anthropic_server.requests[0].body["system"]
    assert "at most 6 file changes, each file at most 2000 bytes, 3000 bytes in all" in str(instructions)
    assert "over the limit of 2000" in request_text(anthropic_server.requests[1])


def test_an_api_failure_fails_the_story_with_the_reason(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    anthropic_server.enqueue_error(400, "invalid_request_error", "prompt is too long")
    session = session_for(anthropic_server, tmp_path)

    with pytest.raises(StoryGenerationError) as caught:
        generate_story_changes_with_model(session, make_architecture(), make_requirements(), "US-1", {})

    assert caught.value.story_id == "US-1"
    assert "prompt is too long" in caught.value.reason
    assert "sk-test" not in str(caught.value)


def test_an_unchanged_story_is_answered_from_the_cache(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    anthropic_server.enqueue_json_answer(us1_answer())
    requirements, architecture = make_requirements(), make_architecture()
    first = generate_story_changes_with_model(
        session_for(anthropic_server, tmp_path), architecture, requirements, "US-1", {}
    )
    again = session_for(anthropic_server, tmp_path)
    second = generate_story_changes_with_model(again, architecture, requirements, "US-1", {})
    assert second == first
    assert len(anthropic_server.requests) == 1 and again.usage.cache_hits == 1


# ---------------------------------------------------------------------------------------------
# The prompt's context, without a server


def test_context_files_are_ranked_by_relevance_and_bounded() -> None:
    tree = us1_tree()
    tree["docs/notes.txt"] = "coffee\n"
    tree["README.md"] = "# Tasks\n"
    tree["frontend/app.js"] = "// the page\n"
    requirements, architecture = make_requirements(), make_architecture()
    story = requirements.stories[1]
    context = architecture_context(architecture, story)

    chosen = select_context_files(story, tree, context, budget=10_000)
    assert chosen[:2] == [MANIFEST_PATH, "backend/app/tasks.py"]  # the manifest, then files naming Task
    assert "backend/tests/test_us_1.py" in chosen and "README.md" in chosen
    assert "docs/notes.txt" not in chosen and "frontend/app.js" not in chosen

    tight = select_context_files(story, tree, context, budget=len(tree["backend/app/tasks.py"]) + 200)
    assert sum(len(tree[path].encode()) for path in tight) <= len(tree["backend/app/tasks.py"]) + 200
    task = story_task(architecture, requirements, "US-2", tree, limits=CodegenLimits(max_context_bytes=0))
    names = [doc.name for doc in task.quoted]
    assert names == ["story", "architecture", "file-tree"] and task.offline is None
    assert "listed only" in task.quoted[-1].text and "quoted" not in task.quoted[-1].text.split("\n", 1)[1]


# ---------------------------------------------------------------------------------------------
# validate_proposal, problem by problem


def check(answer: dict, tree: dict[str, str] | None = None, limits: CodegenLimits | None = None, **kw):
    story = make_requirements().stories[0]
    proposal = ProposedChanges.model_validate(answer)
    return validate_proposal(proposal, tree or {}, limits or CodegenLimits(), story=story, **kw)


def reasons_for(answer: dict, tree: dict[str, str] | None = None, **kw) -> str:
    with pytest.raises(InvalidProposal) as caught:
        check(answer, tree, **kw)
    return "\n".join(caught.value.reasons)


def with_change(change: dict) -> dict:
    answer = us1_answer()
    answer["changes"] = [*answer["changes"], change]
    return answer


def test_a_valid_proposal_becomes_file_changes() -> None:
    changes = check(us1_answer())
    assert [(c.path, c.content) for c in changes][1] == ("backend/app/tasks.py", TASKS_MODULE)
    tree = us1_tree()
    tree["backend/old.py"] = "x = 1\n"
    answer = us1_answer(
        changes=[
            {"action": "replace", "path": "backend/app/tasks.py", "content": TASKS_MODULE},  # unchanged
            {"action": "delete", "path": "backend/old.py", "content": None},
        ],
        components=[],
    )
    assert check(answer, tree) == [FileChange(path="backend/old.py", content=None)]


@pytest.mark.parametrize(
    ("path", "phrase"),
    [
        ("../../etc/passwd", "climbs out of the repository"),
        ("backend/../../x.py", "climbs out of the repository"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/x", "absolute"),
        (".git/config", "inside .git/"),
        ("backend/.git/hooks/pre-commit", "inside .git/"),
        (".GIT/config", "inside .git/"),
        ("backend\\app.py", "backslash"),
        ("backend//app.py", "not a normalised relative path"),
        ("./app.py", "not a normalised relative path"),
        ("backend/", "not a normalised relative path"),
        ("bad\nname.py", "control characters"),
        (MANIFEST_PATH, "written by the pipeline"),
        ("a" * 301, "longer than 300"),
    ],
)
def test_unsafe_paths_are_rejected(path: str, phrase: str) -> None:
    reasons = reasons_for(with_change({"action": "create", "path": path, "content": "x\n"}))
    assert f"create {path!r}: " in reasons and phrase in reasons


def test_actions_must_fit_the_tree() -> None:
    tree = us1_tree()
    answer = us1_answer(
        changes=[
            {"action": "create", "path": "backend/app/tasks.py", "content": TASKS_MODULE},
            {"action": "replace", "path": "backend/missing.py", "content": "x = 1\n"},
            {"action": "delete", "path": "backend/gone.py", "content": None},
            {"action": "replace", "path": "backend/tests/test_us_1.py", "content": None},
            {"action": "create", "path": "backend/app/tasks.py/inner.py", "content": "x = 1\n"},
            {"action": "create", "path": "Backend/App/Tasks.py", "content": "x = 1\n"},
        ],
        components=[],
    )
    reasons = reasons_for(answer, tree)
    assert "create 'backend/app/tasks.py': the file already exists (use replace)" in reasons
    assert "replace 'backend/missing.py': no such file in the repository (use create)" in reasons
    assert "delete 'backend/gone.py': no such file" in reasons
    assert "replace 'backend/tests/test_us_1.py': content is missing" in reasons
    assert "'backend/app/tasks.py' is a file, not a folder" in reasons
    folder = us1_answer(changes=[{"action": "create", "path": "backend", "content": "x\n"}], components=[])
    assert "create 'backend': 'backend' is a folder in the repository" in reasons_for(folder, tree)
    assert "collides with 'backend/app/tasks.py'" in reasons


def test_duplicate_and_case_colliding_paths_are_rejected() -> None:
    answer = us1_answer()
    answer["changes"] += [
        {"action": "create", "path": "backend/app/tasks.py", "content": "y = 2\n"},
        {"action": "create", "path": "Backend/Notes.md", "content": "a\n"},
        {"action": "create", "path": "backend/notes.md", "content": "b\n"},
    ]
    reasons = reasons_for(answer)
    assert "create 'backend/app/tasks.py': the path is changed more than once" in reasons
    assert "create 'backend/notes.md': collides with 'Backend/Notes.md'" in reasons


def test_content_must_be_utf8_text_that_parses() -> None:
    reasons = reasons_for(
        {
            **us1_answer(),
            "changes": [
                *us1_answer()["changes"],
                {"action": "create", "path": "backend/blob.bin", "content": "PK\x00\x03"},
                {"action": "create", "path": "backend/odd.txt", "content": "half a pair \ud800"},
                {"action": "create", "path": "backend/app/broken.py", "content": "def f(:\n"},
                {"action": "create", "path": "backend/config.json", "content": "{'a': 1}"},
            ],
        }
    )
    assert "create 'backend/blob.bin': the content contains NUL characters" in reasons
    assert "create 'backend/odd.txt': the content is not valid UTF-8" in reasons
    assert "backend/app/broken.py is not valid Python" in reasons
    assert "backend/config.json is not valid JSON" in reasons


def test_size_limits_per_file_count_and_total() -> None:
    sizes = sum(len((c["content"] or "").encode()) for c in us1_answer()["changes"])
    limits = CodegenLimits(max_file_bytes=1_500, max_files=4, max_total_bytes=sizes + 1_000)
    answer = with_change({"action": "create", "path": "backend/x.txt", "content": "é" * 800})  # 1600 bytes
    reasons = reasons_for(answer, limits=limits)
    assert "create 'backend/x.txt': the content is 1600 bytes, over the limit of 1500 bytes" in reasons
    assert "5 file changes, over the limit of 4" in reasons

    answer = with_change({"action": "create", "path": "backend/y.txt", "content": "y" * 1_001})
    limits = CodegenLimits(max_file_bytes=1_500, max_files=5, max_total_bytes=sizes + 1_000)
    reasons = reasons_for(answer, limits=limits)
    assert f"the changes write {sizes + 1_001} bytes, over the limit of {sizes + 1_000} in all" in reasons
    assert "per file" not in reasons and "file changes" not in reasons

    answer = with_change({"action": "create", "path": "backend/y.txt", "content": "y" * 1_000})
    assert len(check(answer, limits=limits)) == 5  # exactly at every limit


def test_covering_tests_must_exist_be_named_tagged_and_assert() -> None:
    def covered(**item) -> dict:
        entry = {
            "criterion_id": "AC1",
            "test_file": "backend/tests/test_us_1.py",
            "test_name": "test_us_1_ac1",
        }
        entry.update(item)
        answer = us1_answer()
        answer["covered_criteria"] = [{**entry, "behaviour": "b"}, us1_answer()["covered_criteria"][1]]
        return answer

    def with_tests(text: str) -> dict:
        answer = us1_answer()
        answer["changes"][3]["content"] = text
        return answer

    assert "test file 'backend/tests/test_nope.py' is not in the resulting tree" in reasons_for(
        covered(test_file="backend/tests/test_nope.py")
    )
    assert "the test must be named test_us_1_ac1, not 'test_create'" in reasons_for(
        covered(test_name="test_create")
    )
    assert "defines no test test_us_1_ac1" in reasons_for(
        with_tests(US1_TESTS.replace("def test_us_1_ac1", "def test_first"))
    )
    assert "not tagged 'Covers: US-1 AC1'" in reasons_for(
        with_tests(US1_TESTS.replace("US-1 AC1", "US-1 AC10"))
    )
    assert "test_us_1_ac1 in backend/tests/test_us_1.py asserts nothing" in reasons_for(
        with_tests(US1_TESTS.replace("self.assertEqual(store.list(), [task])", "self.assertTrue(True)"))
    )
    assert "asserts nothing" in reasons_for(
        with_tests(US1_TESTS.replace("self.assertEqual(store.list(), [task])", "assert 1"))
    )
    assert "defines test_us_1_ac1 more than once" in reasons_for(
        with_tests(US1_TESTS + "\n\ndef test_us_1_ac1():\n    assert TaskStore().list() == []\n")
    )
    # The rules read the tag from the docstring only (where validations trace it), not a comment.
    commented = US1_TESTS.replace('        """Covers: US-1 AC1. A created task is listed."""\n', "").replace(
        "    def test_us_1_ac1", "    # Covers: US-1 AC1\n    def test_us_1_ac1"
    )
    assert "not tagged 'Covers: US-1 AC1' in its docstring" in reasons_for(with_tests(commented))
    assert "asserts nothing" in reasons_for(
        with_tests(US1_TESTS.replace("self.assertEqual(store.list(), [task])", "assert 1 == 1"))
    )


def test_criteria_are_reported_once_each_and_tests_belong_to_a_component() -> None:
    answer = us1_answer(
        uncovered_criteria=[
            {"criterion_id": "AC1", "reason": "also covered"},
            {"criterion_id": "AC9", "reason": "unknown"},
        ]
    )
    reasons = reasons_for(answer)
    assert "uncovered criterion 'AC1': also listed as covered" in reasons
    assert "uncovered criterion 'AC9': story US-1 has no such criterion" in reasons
    assert "criterion AC3 is neither covered by a test nor reported uncovered" in reasons

    reasons = reasons_for(us1_answer(components=[]))
    assert "is in no component with a test command" in reasons
    bad = {"name": "backend", "path": "server", "kind": "worker", "runtime": "python", "test": []}
    reasons = reasons_for(us1_answer(components=[bad]))
    assert "no file of the repository is under its path 'server'" in reasons
    assert "component 'backend': test: List should have at least 1 item" in reasons


def test_component_folders_are_normalised_and_the_root_may_be_one() -> None:
    changes = check(us1_answer(components=[{**BACKEND, "path": "backend/"}]))
    assert "backend/tests/test_us_1.py" in {change.path for change in changes}
    assert check(us1_answer(components=[{**BACKEND, "name": "app", "path": "."}]))
    reasons = reasons_for(us1_answer(components=[{**BACKEND, "path": "../backend"}]))
    assert "component 'backend': path '../backend': the path climbs out of the repository" in reasons


JS_TESTS = """const { test } = require("node:test");
const assert = require("node:assert");
const { total } = require("../app.js");

test("test_us_1_ac1 lists a created task", () => {
  // Covers: US-1 AC1
  assert.strictEqual(total([1, 2]), 3);
});

test("test_us_1_ac2 refuses a task without a title", () => {
  // Covers: US-1 AC2
  assert.throws(() => total(null));
});
"""


def test_non_python_tests_are_found_by_name_tag_and_assertion() -> None:
    def answer_with(tests: str) -> dict:
        covered = [
            {
                "criterion_id": ac,
                "test_file": "frontend/tests/us1.test.js",
                "test_name": f"test_us_1_{ac.lower()}",
            }
            for ac in ("AC1", "AC2")
        ]
        return us1_answer(
            changes=[
                {
                    "action": "create",
                    "path": "frontend/app.js",
                    "content": "exports.total = (xs) => xs[0] + xs[1];\n",
                },
                {"action": "create", "path": "frontend/tests/us1.test.js", "content": tests},
            ],
            covered_criteria=[{**item, "behaviour": "b"} for item in covered],
            components=[
                {
                    "name": "frontend",
                    "path": "frontend",
                    "kind": "frontend",
                    "runtime": "node",
                    "test": ["node", "--test"],
                    "publish_dir": "frontend",
                }
            ],
        )

    changes = check(answer_with(JS_TESTS))
    assert [change.path for change in changes] == ["frontend/app.js", "frontend/tests/us1.test.js"]
    reasons = reasons_for(answer_with(JS_TESTS.replace("// Covers: US-1 AC2", "// refused")))
    assert "test test_us_1_ac2 in frontend/tests/us1.test.js is not tagged 'Covers: US-1 AC2'" in reasons
    assert "test_us_1_ac1" not in reasons  # the first test's tag still counts for the first test only
    reasons = reasons_for(
        answer_with(JS_TESTS.replace("assert.strictEqual(total([1, 2]), 3);", "total([1]);"))
    )
    assert "test test_us_1_ac1 in frontend/tests/us1.test.js asserts nothing" in reasons
    reasons = reasons_for(
        answer_with(JS_TESTS.replace("assert.strictEqual(total([1, 2]), 3);", "assert.strictEqual(3, 3);"))
    )
    assert "test test_us_1_ac1 in frontend/tests/us1.test.js asserts nothing" in reasons
    above = JS_TESTS.replace("  // Covers: US-1 AC1\n", "").replace(
        'test("test_us_1_ac1', '// Covers: US-1 AC1\ntest("test_us_1_ac1'
    )
    assert "not tagged 'Covers: US-1 AC1' in the first comment of its body" in reasons_for(answer_with(above))


def test_operations_must_be_in_the_contract() -> None:
    contract = ["GET /api/tasks", "POST /api/tasks"]
    assert check(us1_answer(), contract=contract)
    reasons = reasons_for(us1_answer(operations=["PUT /api/tasks"]), contract=contract)
    assert "operation 'PUT /api/tasks' is not in the API contract" in reasons
