"""The sandbox that runs generated tests: time limit, minimal environment, no network, limits, parsing."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.models import (
    CoveredCriterion,
    FileChange,
    StoryChangeSet,
    TestRef,
    UncoveredCriterion,
)
from assets.validations.sandbox import (
    SandboxResult,
    TestOutcome,
    coverage_report,
    namespace_support,
    parse_junit_xml,
    parse_test_output,
    run_tests_in_sandbox,
    story_report,
)
from tests.support.listener import greeting_listener

PY = sys.executable
UNITTEST = [PY, "-m", "unittest", "discover", "-s", ".", "-p", "test_*.py", "-v"]
ISOLATED, WHY_NOT = namespace_support()
needs_namespaces = pytest.mark.skipif(not ISOLATED, reason=WHY_NOT)


def program(source: str) -> dict[str, str]:
    return {"main.py": textwrap.dedent(source)}


def test_a_hanging_test_is_killed_with_its_children_and_reported(tmp_path: Path) -> None:
    marker = f"child-of-{uuid.uuid4().hex}"  # pids inside the sandbox's PID namespace are not ours
    tree = {
        "test_slow.py": textwrap.dedent(
            f"""
            import subprocess, sys, time, unittest

            class TestSlow(unittest.TestCase):
                def test_fast(self):
                    self.assertEqual(1 + 1, 2)

                def test_hangs(self):
                    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", {marker!r}])
                    open("child.started", "w").close()
                    time.sleep(600)
            """
        )
    }
    result = run_tests_in_sandbox(tree, UNITTEST, timeout_s=4, workdir_parent=tmp_path, keep=True)

    assert result.timed_out and result.returncode is None and not result.ok
    statuses = {test.name: test.status for test in result.tests}
    assert statuses == {"test_fast": "passed", "test_hangs": "timeout"}
    assert "time limit" in result.outcome("test_hangs").detail
    [sandbox] = tmp_path.iterdir()
    assert (sandbox / "work" / "child.started").exists()
    left = [
        process.pid
        for process in psutil.process_iter(["cmdline", "status"])
        if marker in (process.info["cmdline"] or []) and process.info["status"] != psutil.STATUS_ZOMBIE
    ]
    assert left == [], "the hanging test's child process survived the sandbox"


def test_the_program_finds_no_credentials_from_the_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-not-for-sandboxes")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-not-for-sandboxes")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTFORSANDBOXES")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-not-for-sandboxes")
    monkeypatch.setenv("SOME_HARMLESS_SETTING", "pipeline-only")
    tree = program(
        """
        import json, os
        print(json.dumps({"environ": dict(os.environ),
                          "anthropic": os.environ.get("ANTHROPIC_API_KEY"),
                          "aws": os.environ.get("AWS_SECRET_ACCESS_KEY")}))
        """
    )
    result = run_tests_in_sandbox(tree, [PY, "main.py"], timeout_s=30)

    assert result.returncode == 0, result.stderr_tail
    seen = json.loads(result.stdout_tail)
    assert seen["anthropic"] is None and seen["aws"] is None
    assert set(seen["environ"]) <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
    }
    assert "not-for-sandboxes" not in result.stdout_tail
    assert seen["environ"]["HOME"] != os.environ.get("HOME")


def test_a_credential_cannot_be_passed_in_explicitly() -> None:
    with pytest.raises(ValueError, match="credential"):
        run_tests_in_sandbox(program("print(1)"), [PY, "main.py"], timeout_s=10, env={"GITHUB_TOKEN": "x"})


@pytest.fixture
def parent_listener() -> Iterator[int]:
    """A TCP server on 127.0.0.1 in the test's own network namespace that answers every connection."""
    with greeting_listener(b"hello from the parent\n") as port:
        yield port


REACH_PARENT = """
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as connection:
        print("reached:", connection.recv(100).decode().strip())
except OSError as error:
    print("blocked:", type(error).__name__)
"""


@needs_namespaces
def test_the_network_of_the_parent_is_out_of_reach(parent_listener: int) -> None:
    isolated = run_tests_in_sandbox(
        program(REACH_PARENT), [PY, "main.py", str(parent_listener)], timeout_s=30
    )
    assert isolated.network_isolated and "network" in isolated.isolation
    assert isolated.stdout_tail.startswith("blocked:"), isolated.stdout_tail + isolated.stderr_tail

    # The same program without isolation does reach the listener: the check above can see a leak.
    open_run = run_tests_in_sandbox(
        program(REACH_PARENT), [PY, "main.py", str(parent_listener)], timeout_s=30, isolate=False
    )
    assert not open_run.network_isolated
    assert open_run.stdout_tail.strip() == "reached: hello from the parent"


@needs_namespaces
def test_loopback_works_inside_for_the_generated_servers() -> None:
    tree = program(
        """
        import socket
        server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
        client = socket.create_connection(server.getsockname(), timeout=5)
        peer, _ = server.accept(); peer.sendall(b"ok")
        print(client.recv(2).decode())
        """
    )
    result = run_tests_in_sandbox(tree, [PY, "main.py"], timeout_s=30)
    assert result.stdout_tail.strip() == "ok", result.stderr_tail


@needs_namespaces
def test_hidden_paths_read_empty_inside_and_stay_intact_outside(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "credentials").write_text("aws_secret_access_key = do-not-read\n")
    token = tmp_path / "token.txt"
    token.write_text("ghp_do_not_read")
    tree = program(
        f"""
        import os
        print(sorted(os.listdir({str(secrets)!r})), repr(open({str(token)!r}).read()))
        """
    )
    result = run_tests_in_sandbox(tree, [PY, "main.py"], timeout_s=30, hide_paths=[secrets, token])
    assert result.stdout_tail.strip() == "[] ''", result.stderr_tail
    assert set(result.hidden_paths) >= {str(secrets), str(token)}
    assert (secrets / "credentials").read_text().startswith("aws_secret")
    assert token.read_text() == "ghp_do_not_read"


def test_file_size_and_cpu_limits_stop_runaway_programs() -> None:
    big = program(
        """
        with open("big.bin", "wb") as handle:
            handle.write(b"x" * 2_000_000)
        print("wrote it")
        """
    )
    result = run_tests_in_sandbox(big, [PY, "main.py"], timeout_s=30, max_file_bytes=1_000_000)
    assert result.returncode != 0 and "wrote it" not in result.stdout_tail

    spin = program("while True:\n    pass\n")
    result = run_tests_in_sandbox(spin, [PY, "main.py"], timeout_s=60, cpu_seconds=1)
    assert not result.timed_out, "the CPU limit, not the wall-clock limit, should have stopped it"
    assert result.returncode is not None and result.returncode < 0  # killed by SIGXCPU / SIGKILL


def test_a_folder_is_copied_fresh_and_left_untouched(tmp_path: Path) -> None:
    source = tmp_path / "repo"
    (source / ".git").mkdir(parents=True)
    (source / ".git" / "config").write_text("[core]\n")
    (source / "main.py").write_text(
        "import os\nprint(sorted(os.listdir('.')))\nopen('made.txt', 'w').write('x')\n"
    )
    result = run_tests_in_sandbox(source, [PY, "main.py"], timeout_s=30)
    assert result.stdout_tail.strip() == "['main.py']"
    assert sorted(path.name for path in source.iterdir()) == [".git", "main.py"]


def test_unsafe_tree_paths_are_refused() -> None:
    with pytest.raises(ValueError, match="safe"):
        run_tests_in_sandbox({"../escape.py": "print(1)"}, [PY, "-c", "print(1)"], timeout_s=10)
    with pytest.raises(ValueError):
        FileChange(path="/etc/passwd", content="x")
    with pytest.raises(ValueError):
        FileChange(path=".git/hooks/pre-commit", content="x")


def test_unittest_failures_errors_and_skips_are_told_apart() -> None:
    tree = {
        "test_mixed.py": textwrap.dedent(
            """
            import unittest

            class TestMixed(unittest.TestCase):
                def test_passes(self):
                    self.assertTrue(True)

                def test_fails(self):
                    '''A docstring that unittest -v prints on its own line.'''
                    self.assertEqual("expected", "actual")

                def test_errors(self):
                    print("noise on stdout")
                    raise RuntimeError("boom")

                @unittest.skip("not today")
                def test_skipped(self):
                    pass
            """
        )
    }
    result = run_tests_in_sandbox(tree, UNITTEST, timeout_s=30)
    statuses = {test.name: test.status for test in result.tests}
    assert statuses == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_errors": "error",
        "test_skipped": "skipped",
    }
    assert "'expected' != 'actual'" in result.outcome("test_fails").detail
    assert "RuntimeError: boom" in result.outcome("test_errors").detail
    assert result.outcome("test_skipped").detail == "not today"
    assert result.returncode == 1 and not result.ok


def test_pytest_style_output_and_junit_xml_are_parsed() -> None:
    output = "\n".join(
        [
            "tests/test_a.py::test_one PASSED                                  [ 33%]",
            "tests/test_a.py::TestB::test_two FAILED                           [ 66%]",
            "tests/test_a.py::test_three[x-1] SKIPPED (no reason)              [100%]",
            "tests/test_a.py::test_four ",
        ]
    )
    parsed = {test.id: test.status for test in parse_test_output(output, timed_out=True)}
    assert parsed == {
        "tests/test_a.py::test_one": "passed",
        "tests/test_a.py::TestB::test_two": "failed",
        "tests/test_a.py::test_three[x-1]": "skipped",
        "tests/test_a.py::test_four": "timeout",
    }
    xml = """<?xml version="1.0"?><testsuites><testsuite name="s">
      <testcase classname="tests.test_a" name="test_ok"/>
      <testcase classname="tests.test_a" name="test_bad">
        <failure message="assert 1 == 2">trace</failure></testcase>
      <testcase classname="tests.test_a" name="test_err"><error message="boom"/></testcase>
      <testcase classname="tests.test_a" name="test_skip"><skipped message="later"/></testcase>
    </testsuite></testsuites>"""
    outcomes = {test.name: (test.status, test.detail) for test in parse_junit_xml(xml)}
    assert outcomes == {
        "test_ok": ("passed", ""),
        "test_bad": ("failed", "assert 1 == 2\ntrace"),
        "test_err": ("error", "boom"),
        "test_skip": ("skipped", "later"),
    }
    assert parse_junit_xml("<not xml") == []


def _criterion(cid: str) -> AcceptanceCriterion:
    return AcceptanceCriterion(id=cid, given="a user", when="they act", then="it happens")


def test_coverage_report_counts_only_tests_that_ran_and_names_the_uncovered() -> None:
    stories = [
        UserStory(
            id="US-1",
            title="one",
            as_a="user",
            i_want="to a",
            so_that="b",
            acceptance_criteria=[_criterion("AC1"), _criterion("AC2"), _criterion("AC3"), _criterion("AC4")],
        ),
        UserStory(
            id="US-2",
            title="two",
            as_a="user",
            i_want="to c",
            so_that="d",
            acceptance_criteria=[_criterion("AC1")],
        ),
        UserStory(
            id="US-3",
            title="three",
            as_a="user",
            i_want="to e",
            so_that="f",
            acceptance_criteria=[_criterion("AC1")],
        ),
    ]
    requirements = RequirementsSet(project="p", stories=stories)

    def ref(name: str) -> TestRef:
        return TestRef(component="backend", file="backend/tests/test_us_1.py", name=name)

    change_sets = [
        StoryChangeSet(
            story_id="US-1",
            message="US-1",
            covered_criteria=[
                CoveredCriterion(
                    story_id="US-1", criterion_id="AC1", test=ref("test_us_1_ac1"), behaviour="b"
                ),
                CoveredCriterion(
                    story_id="US-1", criterion_id="AC2", test=ref("test_us_1_ac2"), behaviour="b"
                ),
                CoveredCriterion(
                    story_id="US-1", criterion_id="AC3", test=ref("test_us_1_ac3"), behaviour="b"
                ),
            ],
            uncovered_criteria=[
                UncoveredCriterion(story_id="US-1", criterion_id="AC4", reason="needs sign-in")
            ],
        ),
        StoryChangeSet(story_id="US-2", message="US-2"),
    ]
    result = SandboxResult(
        command=["x"],
        cwd="backend",
        returncode=1,
        timed_out=False,
        duration_s=1.0,
        network_isolated=True,
        isolation="test",
        tests=[
            TestOutcome(id="tests.test_us_1.TestUS1.test_us_1_ac1", name="test_us_1_ac1", status="passed"),
            TestOutcome(
                id="tests.test_us_1.TestUS1.test_us_1_ac2",
                name="test_us_1_ac2",
                status="failed",
                detail="AssertionError",
            ),
            # test_us_1_ac3 never ran
        ],
    )
    report = {
        (item.story_id, item.criterion_id): item
        for item in coverage_report(requirements, change_sets, {"backend": result})
    }
    assert report[("US-1", "AC1")].status == "passed"
    assert (
        report[("US-1", "AC2")].status == "failed"
        and report[("US-1", "AC2")].tests[0].detail == "AssertionError"
    )
    assert (
        report[("US-1", "AC3")].status == "not_run" and report[("US-1", "AC3")].tests[0].outcome == "missing"
    )
    assert (report[("US-1", "AC4")].status, report[("US-1", "AC4")].reason) == ("uncovered", "needs sign-in")
    assert (report[("US-2", "AC1")].status, report[("US-2", "AC1")].reason) == (
        "uncovered",
        "no generated test covers it",
    )
    assert (report[("US-3", "AC1")].status, report[("US-3", "AC1")].reason) == (
        "uncovered",
        "the story is not built",
    )

    per_story = {item.story_id: item for item in story_report(requirements, change_sets, {"backend": result})}
    assert per_story["US-1"].status == "failed"
    assert per_story["US-1"].failed == ["tests.test_us_1.TestUS1.test_us_1_ac2"]
    assert per_story["US-1"].uncovered == ["AC4"]
    assert per_story["US-2"].status == "untested"
