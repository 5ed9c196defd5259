"""The one set of rules for covering tests, for Python and for JavaScript / TypeScript."""

from __future__ import annotations

import pytest

from pipeline_core.repository.test_rules import (
    covering_problem,
    find_covering_tests,
    is_test_file,
    language_of,
    names_test_for,
)
from pipeline_core.repository.test_rules import test_name as rule_name


def test_the_test_name_normalises_ids_once() -> None:
    assert names_test_for("test_us_3_ac2", "US-3", "AC2")
    assert names_test_for("test_us_3_ac2_refuses_an_empty_title", "US-3", "AC2")
    assert not names_test_for("test_us_3_ac20", "US-3", "AC2")
    assert not names_test_for("test_us_3", "US-3", "AC2")
    assert rule_name("US-3", "AC2") == "test_us_3_ac2"
    assert rule_name("US-1a2b", "AC 2.1") == "test_us_1a2b_ac_2_1"
    assert rule_name("--Story__X--", "ac1") == "test_story_x_ac1"


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("backend/tests/test_us_1.py", "python"),
        ("backend/app/us_1_test.py", "python"),
        ("backend/app/main.py", None),
        ("frontend/src/App.test.tsx", "javascript"),
        ("frontend/src/api.spec.js", "javascript"),
        ("frontend/src/__tests__/board.ts", "javascript"),
        ("frontend/src/App.tsx", None),
        ("README.md", None),
    ],
)
def test_test_files_are_recognised_by_name(path: str, language: str | None) -> None:
    assert language_of(path) == language
    assert is_test_file(path) == (language is not None)


PYTHON = '''
import pytest

def test_us_3_ac1(client):
    """Covers: US-3 AC1

    Creating a task answers 201."""
    response = client.post("/api/tasks", json={"title": "x"})
    assert response.status_code == 201

def test_us_3_ac2():
    """Covers: US-3 AC2"""
    assert 1 == 1
    assert True
    assert (1, "a") != (2, "b")
    assert not False

class TestBoard:
    def test_us_3_ac3(self):
        """Covers: US-3 AC3"""
        self.assertTrue(True)
        self.assertEqual(1, 1)

    def test_us_3_ac4(self):
        """Covers: US-3 AC4 and Covers: US-4 AC1"""
        with pytest.raises(ValueError):
            parse("")

def test_us_3_ac5():
    # Covers: US-3 AC5
    assert compute() == 5

def test_wrongly_named():
    """Covers: US-3 AC6"""
    assert compute() == 6

def test_us_3_ac7_empty():
    """Covers: US-3 AC7"""
    assert True

def test_us_3_ac7_with_words():
    """Covers: US-3 AC7"""
    assert compute() == 7
'''


def test_python_tests_are_traced_by_their_docstring_with_real_assertions() -> None:
    found = {(t.name, t.story_id, t.criterion_id): t for t in find_covering_tests("t/test_x.py", PYTHON)}
    assert set(found) == {
        ("test_us_3_ac1", "US-3", "AC1"),
        ("test_us_3_ac2", "US-3", "AC2"),
        ("test_us_3_ac3", "US-3", "AC3"),
        ("test_us_3_ac4", "US-3", "AC4"),
        ("test_us_3_ac4", "US-4", "AC1"),
        ("test_wrongly_named", "US-3", "AC6"),
        ("test_us_3_ac7_empty", "US-3", "AC7"),
        ("test_us_3_ac7_with_words", "US-3", "AC7"),
    }  # AC5's tag is a comment, not the docstring: not read
    assert found[("test_us_3_ac1", "US-3", "AC1")].assertions == 1
    assert found[("test_us_3_ac1", "US-3", "AC1")].problem() is None
    assert found[("test_us_3_ac2", "US-3", "AC2")].assertions == 0
    assert "asserts nothing" in (found[("test_us_3_ac2", "US-3", "AC2")].problem() or "")
    assert found[("test_us_3_ac3", "US-3", "AC3")].assertions == 0
    assert found[("test_us_3_ac4", "US-3", "AC4")].assertions == 1
    assert "must be named test_us_3_ac6" in (found[("test_wrongly_named", "US-3", "AC6")].problem() or "")


def test_python_covering_problem_names_each_rule() -> None:
    path = "backend/tests/test_us_3.py"
    assert covering_problem(path, PYTHON, "US-3", "AC1") is None
    assert "asserts nothing" in (covering_problem(path, PYTHON, "US-3", "AC2") or "")
    assert "asserts nothing" in (covering_problem(path, PYTHON, "US-3", "AC3") or "")
    assert covering_problem(path, PYTHON, "US-3", "AC4") is None
    assert "not tagged 'Covers: US-3 AC5' in its docstring" in (
        covering_problem(path, PYTHON, "US-3", "AC5") or ""
    )
    assert "defines no test test_us_3_ac6" in (covering_problem(path, PYTHON, "US-3", "AC6") or "")
    assert covering_problem(path, PYTHON, "US-3", "AC7") is None  # one of its two tests covers it
    only_empty = PYTHON.replace("def test_us_3_ac7_with_words", "def other")
    assert "test_us_3_ac7_empty" in (covering_problem(path, only_empty, "US-3", "AC7") or "")
    assert "not valid Python" in (covering_problem(path, "def test_(:\n", "US-3", "AC1") or "")
    assert "not a test file" in (covering_problem("backend/app.py", PYTHON, "US-3", "AC1") or "")
    twice = "def test_us_3_ac1():\n    '''Covers: US-3 AC1'''\n    assert f()\n" * 2
    assert "more than once" in (covering_problem(path, twice, "US-3", "AC1") or "")
    assert find_covering_tests(path, "def test_(:\n") == []


JAVASCRIPT = """
import { render, screen } from '@testing-library/react';

describe('board', () => {
  test('test_us_3_ac1 shows the tasks', async () => {
    // Covers: US-3 AC1
    render(<Board />);
    expect(await screen.findByText('Buy milk')).toBeInTheDocument();
  });

  it("test_us_3_ac2: constants only", () => {
    /* Covers: US-3 AC2 */
    expect(true).toBe(true);
    expect(1 + 1).toEqual(2);
    assert.equal('a', 'a');
    const text = "expect(value).toBe(1) // Covers: US-3 AC9";
  });

  test(`test_us_3_ac3`, function () {
    // Covers: US-3 AC3
    const value = compute();
    expect(value);
    assert.strictEqual(value, 3);
  });

  // Covers: US-3 AC4
  test('test_us_3_ac4', () => {
    expect(compute()).not.toBe(4);
  });

  test('test_us_3_ac5', ({ page }) => {
    const x = 1;
    // Covers: US-3 AC5
    expect(x).toBe(1);
  });

  test('test_us_3_ac6 template title', () => {
    // Covers: US-3 AC6
    expect(`${name}`).toBe('x');
  });
});
"""


def test_javascript_tests_are_traced_by_the_first_comment_of_their_body() -> None:
    path = "frontend/src/Board.test.jsx"
    found = {(t.name, t.criterion_id): t for t in find_covering_tests(path, JAVASCRIPT)}
    # AC4's tag is above the block and AC5's is not the body's first comment: neither is read;
    # AC9 is inside a string.
    assert set(found) == {
        ("test_us_3_ac1", "AC1"),
        ("test_us_3_ac2", "AC2"),
        ("test_us_3_ac3", "AC3"),
        ("test_us_3_ac6", "AC6"),
    }
    assert found[("test_us_3_ac1", "AC1")].assertions == 1
    assert found[("test_us_3_ac2", "AC2")].assertions == 0  # expect(true).toBe(true), 1 + 1, 'a' == 'a'
    assert found[("test_us_3_ac3", "AC3")].assertions == 1  # bare expect(value) has no matcher
    assert found[("test_us_3_ac6", "AC6")].assertions == 1  # a template with ${} is computed
    assert found[("test_us_3_ac1", "AC1")].line == 5


def test_javascript_covering_problem_names_each_rule() -> None:
    path = "frontend/src/__tests__/board.ts"
    assert covering_problem(path, JAVASCRIPT, "US-3", "AC1") is None
    assert "asserts nothing" in (covering_problem(path, JAVASCRIPT, "US-3", "AC2") or "")
    assert covering_problem(path, JAVASCRIPT, "US-3", "AC3") is None
    assert "first comment of its body" in (covering_problem(path, JAVASCRIPT, "US-3", "AC4") or "")
    assert "not tagged" in (covering_problem(path, JAVASCRIPT, "US-3", "AC5") or "")
    assert "defines no test test_us_3_ac7" in (covering_problem(path, JAVASCRIPT, "US-3", "AC7") or "")


def test_a_javascript_assert_call_counts_when_it_checks_a_value() -> None:
    text = "it('test_s_ac1', () => {\n  // Covers: S AC1\n  assert(list.length > 0);\n});\n"
    assert covering_problem("a.test.js", text, "S", "AC1") is None
    constant = text.replace("list.length > 0", "true")
    assert "asserts nothing" in (covering_problem("a.test.js", constant, "S", "AC1") or "")
