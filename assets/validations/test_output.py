"""Per-test outcomes from what test runners print: unittest and pytest verbose output, JUnit XML
(pytest --junitxml, node --test-reporter=junit and most runners) and TAP (node --test).

A test that was started but had no result when the time limit struck is reported as `timeout`;
one that never started is `not_run` (the component runner names those from the source).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from typing import Literal

from pydantic import BaseModel

TestStatus = Literal["passed", "failed", "error", "skipped", "timeout", "not_run"]
DETAIL = 2000


class TestOutcome(BaseModel):
    """One test as the runner reported it; `name` is the test function ("test_us_1a2b3c_ac1")."""

    __test__ = False

    id: str
    name: str
    status: TestStatus
    detail: str = ""


_UNITTEST_START = re.compile(r"^(?P<name>[A-Za-z_]\w*) \((?P<where>[\w.]+)\)(?: \.\.\.(?: (?P<rest>.*))?)?$")
_UNITTEST_RESULT = re.compile(
    r"(?:^|\.\.\. )(?P<result>ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)$"
)
_UNITTEST_BLOCK = re.compile(r"^(?P<kind>FAIL|ERROR): (?P<name>[A-Za-z_]\w*) \((?P<where>[\w.]+)\)")
_PYTEST_LINE = re.compile(
    r"^(?P<id>\S+::\S+?)(?:\s+(?P<result>PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b.*)?\s*$"
)
_SEPARATOR = re.compile(r"^(?:=|-){20,}$")
# TAP (node --test, tap-style reporters): "ok 1 - title", "not ok 2 - title # SKIP why"
_TAP_RESULT = re.compile(
    r"^(?P<indent>\s*)(?P<not>not )?ok \d+(?: - (?P<title>.*?))?(?:\s+#\s*(?P<directive>SKIP|TODO)\b.*)?$",
    re.I,
)
_TAP_PLAN = re.compile(r"^(?P<indent>\s*)1\.\.\d+\s*$")


def parse_tap(text: str) -> list[TestOutcome]:
    """Per-test outcomes from TAP output; a suite (a result right after its subtests' plan) is not a test."""
    outcomes: list[TestOutcome] = []
    deeper_plan: int | None = None  # indent of the last plan line: the next result less indented is its suite
    for line in text.splitlines():
        plan = _TAP_PLAN.match(line)
        if plan:
            deeper_plan = len(plan["indent"])
            continue
        match = _TAP_RESULT.match(line)
        if not match:
            continue
        indent = len(match["indent"])
        if deeper_plan is not None and indent < deeper_plan:
            deeper_plan = None
            continue
        title = (match["title"] or "").strip()
        if not title:
            continue
        directive = (match["directive"] or "").upper()
        status: TestStatus = "skipped" if directive else "failed" if match["not"] else "passed"
        outcomes.append(TestOutcome(id=title, name=title, status=status))
    return outcomes


def _unittest_id(name: str, where: str) -> str:
    return where if where.endswith("." + name) else f"{where}.{name}"


def _unittest_status(result: str) -> tuple[TestStatus, str]:
    if result == "ok" or result == "expected failure":
        return "passed", ""
    if result == "FAIL" or result == "unexpected success":
        return "failed", "" if result == "FAIL" else "unexpected success"
    if result == "ERROR":
        return "error", ""
    return "skipped", result[len("skipped") :].strip().strip("'\"")


def parse_test_output(text: str, *, timed_out: bool = False) -> list[TestOutcome]:
    """Per-test outcomes from `python -m unittest -v` or `pytest -v` output."""
    outcomes: dict[str, TestOutcome] = {}
    pending: tuple[str, str] | None = None  # (id, name) of a started test without a result yet
    lines = text.splitlines()

    def settle(test_id: str, name: str, status: TestStatus, detail: str = "") -> None:
        outcomes[test_id] = TestOutcome(id=test_id, name=name, status=status, detail=detail)

    for line in lines:
        line = line.rstrip()
        start = _UNITTEST_START.match(line)
        if start:
            test_id = _unittest_id(start["name"], start["where"])
            rest = start["rest"]
            result = _UNITTEST_RESULT.search(rest) if rest is not None else None
            if result:
                settle(test_id, start["name"], *_unittest_status(result["result"]))
                pending = None
            else:
                pending = (test_id, start["name"])
            continue
        pytest = _PYTEST_LINE.match(line)
        if pytest and "::" in pytest["id"]:
            test_id = pytest["id"]
            name = test_id.rsplit("::", 1)[1]
            if pytest["result"]:
                statuses: dict[str, TestStatus] = {
                    "PASSED": "passed",
                    "XFAIL": "passed",
                    "FAILED": "failed",
                    "XPASS": "failed",
                    "ERROR": "error",
                    "SKIPPED": "skipped",
                }
                settle(test_id, name, statuses[pytest["result"]])
                pending = None
            else:
                pending = (test_id, name)
            continue
        if pending is not None:
            result = _UNITTEST_RESULT.search(line)
            if result:
                settle(pending[0], pending[1], *_unittest_status(result["result"]))
                pending = None
    if pending is not None and pending[0] not in outcomes:
        detail = (
            "killed at the time limit while running" if timed_out else "the runner stopped before its result"
        )
        settle(pending[0], pending[1], "timeout" if timed_out else "error", detail)

    # unittest's failure blocks: "FAIL: name (where)", a line of dashes, the traceback.
    index = 0
    while index < len(lines):
        block = _UNITTEST_BLOCK.match(lines[index])
        if block:
            body: list[str] = []
            index += 1
            while index < len(lines) and not _SEPARATOR.match(lines[index]):  # a docstring line, then dashes
                index += 1
            index += 1
            while (
                index < len(lines)
                and not _SEPARATOR.match(lines[index])
                and not _UNITTEST_BLOCK.match(lines[index])
            ):
                body.append(lines[index])
                index += 1
            test_id = _unittest_id(block["name"], block["where"])
            if test_id in outcomes:
                outcomes[test_id] = outcomes[test_id].model_copy(
                    update={"detail": "\n".join(body).strip()[-DETAIL:]}
                )
            continue
        index += 1
    return list(outcomes.values())


def parse_junit_xml(text: str) -> list[TestOutcome]:
    """Per-test outcomes from a JUnit XML report (pytest --junitxml, and most runners)."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return []
    outcomes = []
    for case in root.iter("testcase"):
        name = case.get("name", "")
        classname = case.get("classname", "")
        test_id = f"{classname}.{name}" if classname else name
        status: TestStatus = "passed"
        detail = ""
        for child, child_status in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            element = case.find(child)
            if element is not None:
                status = child_status  # type: ignore[assignment]
                detail = (element.get("message") or "") + ("\n" + element.text if element.text else "")
                break
        outcomes.append(TestOutcome(id=test_id, name=name, status=status, detail=detail.strip()[-DETAIL:]))
    return outcomes
