"""What counts as a test that covers an acceptance criterion: one set of rules for every stage.

The generation-time check (the Claude generator) and validations (criterion coverage) both read
tests through this module, so a test the generator accepts is a test validations trace.

A covering test for criterion `AC2` of story `US-3`
- is named `test_<story>_<criterion>` as `test_name` spells it (ids lower-cased, every run of other
  characters than `a-z0-9` replaced by one `_`, no leading or trailing `_`): `test_us_3_ac2`,
  optionally followed by `_` and more words (`test_us_3_ac2_refuses_an_empty_title`);
- carries the tag `Covers: US-3 AC2` (ids as written in the requirements) in its docstring-like
  place: for Python the function's docstring; for JavaScript / TypeScript the first comment inside
  the test's function body (the `//` or `/* */` comment before its first statement);
- asserts at least one thing that is not a constant: `assert 1 == 1`, `self.assertTrue(True)`,
  `expect(true).toBe(true)` or `assert.equal(1, 1)` do not count.

Python tests are `def test*` functions (module level or methods) read with `ast`, in files named
`test_*.py` or `*_test.py`. JavaScript / TypeScript tests are `test(...)` / `it(...)` blocks (also
`.only`, `.skip` is not a test that runs) whose title starts with the test's name, in files named
`*.test.*` / `*.spec.*` or under a `__tests__/` folder; their assertions are `expect(<value>)`
followed by a matcher, `assert(...)` and `assert.<method>(...)`.
"""

from __future__ import annotations

import ast
import re
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict

Language = Literal["python", "javascript"]

COVERS = re.compile(r"\bCovers:\s*(?P<story>[A-Za-z0-9][\w-]*)\s+(?P<criterion>[A-Za-z0-9][\w-]*)")
_JS_EXTENSIONS = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")
NO_ASSERTION = "asserts nothing that could fail (only constants, or no assertion)"
_SLUG_GAPS = re.compile(r"[^0-9a-z]+")


def identifier_part(identifier: str) -> str:
    """'US-3' -> 'us_3', 'AC 2.1' -> 'ac_2_1': how an id is spelled inside a test name."""
    return _SLUG_GAPS.sub("_", identifier.lower()).strip("_")


def test_name(story_id: str, criterion_id: str) -> str:
    """The name of the test that covers `criterion_id` of `story_id`: test_us_3_ac2."""
    return f"test_{identifier_part(story_id)}_{identifier_part(criterion_id)}"


test_name.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def names_test_for(name: str, story_id: str, criterion_id: str) -> bool:
    """True if `name` is the covering test's name: `test_us_3_ac2`, or it followed by `_` and more
    words (`test_us_3_ac2_refuses_an_empty_title`); `test_us_3_ac20` is not."""
    expected = test_name(story_id, criterion_id)
    return name == expected or name.startswith(expected + "_")


def covers_tag(story_id: str, criterion_id: str) -> str:
    return f"Covers: {story_id} {criterion_id}"


def language_of(path: str) -> Language | None:
    """The language whose test rules apply to `path`, None for a file that holds no tests."""
    pure = PurePosixPath(path)
    name = pure.name
    if name.endswith(".py"):
        return "python" if name.startswith("test_") or name.endswith("_test.py") else None
    if name.endswith(_JS_EXTENSIONS):
        stem = name.rsplit(".", 1)[0]
        if stem.endswith((".test", ".spec")) or "__tests__" in pure.parts[:-1]:
            return "javascript"
    return None


def is_test_file(path: str) -> bool:
    return language_of(path) is not None


class CoveringTest(BaseModel):
    """A test tagged `Covers: <story> <criterion>`, with its count of real (non-constant) assertions."""

    model_config = ConfigDict(frozen=True)
    __test__ = False  # not a pytest test class

    file: str
    name: str
    line: int
    story_id: str
    criterion_id: str
    assertions: int

    def problem(self) -> str | None:
        """Why this tagged test does not cover its criterion, or None when it does."""
        expected = test_name(self.story_id, self.criterion_id)
        if not names_test_for(self.name, self.story_id, self.criterion_id):
            tag = covers_tag(self.story_id, self.criterion_id)
            return f"test {self.name} in {self.file} says '{tag}' but must be named {expected}"
        if self.assertions == 0:
            return f"test {self.name} in {self.file} {NO_ASSERTION}"
        return None


class _Test(BaseModel):
    name: str
    line: int
    tag_text: str  # where the rules read `Covers:` from
    assertions: int


# ---------------------------------------------------------------------------------------------
# Python


def _is_constant(node: ast.AST | None) -> bool:
    """An expression made of literals only (its value is known before the test runs)."""
    match node:
        case None | ast.Constant():
            return True
        case ast.Tuple() | ast.List() | ast.Set():
            return all(_is_constant(item) for item in node.elts)
        case ast.Dict():
            return all(_is_constant(key) for key in node.keys) and all(_is_constant(v) for v in node.values)
        case ast.UnaryOp():
            return _is_constant(node.operand)
        case ast.BinOp():
            return _is_constant(node.left) and _is_constant(node.right)
        case ast.BoolOp():
            return all(_is_constant(value) for value in node.values)
        case ast.Compare():
            return _is_constant(node.left) and all(_is_constant(item) for item in node.comparators)
        case ast.JoinedStr():
            return all(isinstance(value, ast.Constant) for value in node.values)
    return False


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def count_python_assertions(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """`assert <expr>`, `self.assert*(...)`, `assert_*(...)`, `pytest.raises(...)` over something
    the test computes; an assertion over constants only does not count."""
    count = 0
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            count += not _is_constant(node.test)
        elif isinstance(node, ast.Call):
            name = _call_name(node)
            if name.startswith("assert") or name == "raises":
                arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
                count += bool(arguments) and not all(_is_constant(argument) for argument in arguments)
    return count


def _python_tests(path: str, text: str) -> list[_Test]:
    module = ast.parse(text, filename=path)
    return [
        _Test(
            name=node.name,
            line=node.lineno,
            tag_text=ast.get_docstring(node) or "",
            assertions=count_python_assertions(node),
        )
        for node in ast.walk(module)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    ]


# ---------------------------------------------------------------------------------------------
# JavaScript / TypeScript


def _mask_js(text: str) -> str:
    """`text` with the insides of comments and string literals blanked (same length, quotes kept),
    so that code can be searched without matching words in strings or comments. Regular-expression
    literals are not recognised (a quote inside one can shift the mask)."""
    out = list(text)
    index, length = 0, len(text)
    stack: list[int] = []  # brace depth of each `${` we are inside, innermost last
    depth = 0
    in_template = False

    def blank(start: int, end: int) -> None:
        for position in range(start, min(end, length)):
            if out[position] != "\n":
                out[position] = " "

    while index < length:
        char = text[index]
        if in_template:
            if char == "\\":
                blank(index, index + 2)
                index += 2
            elif char == "`":
                in_template = False
                index += 1
            elif text.startswith("${", index):
                stack.append(depth)
                depth = 0
                in_template = False
                index += 2
            else:
                blank(index, index + 1)
                index += 1
            continue
        if text.startswith("//", index):
            end = text.find("\n", index)
            end = length if end < 0 else end
            blank(index, end)
            index = end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            end = length if end < 0 else end + 2
            blank(index, end)
            index = end
        elif char in "'\"":
            end = index + 1
            while end < length and text[end] != char and text[end] != "\n":
                end += 2 if text[end] == "\\" else 1
            blank(index + 1, end)
            index = end + 1
        elif char == "`":
            in_template = True
            index += 1
        elif char == "{":
            depth += 1
            index += 1
        elif char == "}":
            if depth == 0 and stack:
                depth = stack.pop()
                in_template = True
            else:
                depth -= 1
            index += 1
        else:
            index += 1
    return "".join(out)


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _closing(masked: str, start: int) -> int:
    """Index of the bracket closing the one at `start` (len(masked) if it is never closed)."""
    stack = [_PAIRS[masked[start]]]
    for index in range(start + 1, len(masked)):
        char = masked[index]
        if char in _PAIRS:
            stack.append(_PAIRS[char])
        elif char in ")]}":
            if char != stack[-1]:
                return index
            stack.pop()
            if not stack:
                return index
    return len(masked)


def _top_level_split(masked: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the comma-separated arguments between `start` and `end` (exclusive)."""
    spans, depth, first = [], 0, start
    for index in range(start, end):
        char = masked[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            spans.append((first, index))
            first = index + 1
    spans.append((first, end))
    return [(a, b) for a, b in spans if masked[a:b].strip()]


_JS_LITERAL = re.compile(
    r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\$]|\\.|\$(?!\{))*`"""
    r"""|\b(?:true|false|null|undefined|NaN|Infinity)\b|(?<![\w$.])\d[\d_]*(?:\.\d+)?(?:e[+-]?\d+)?n?\b"""
)
_JS_OPERATORS_ONLY = re.compile(r"^[\s()\[\]{},:!+\-*/%<>=&|?~^]*$")


def _js_is_constant(source: str) -> bool:
    """An argument made of literals and operators only (`true`, `1 + 1`, `'a'`, `[1, 2]`)."""
    return bool(_JS_OPERATORS_ONLY.match(_JS_LITERAL.sub(" ", source)))


_EXPECT = re.compile(r"(?<![\w$.])expect\s*\(")
_ASSERT = re.compile(r"(?<![\w$.])assert(?:\s*\.\s*\w+)?\s*\(")
_MATCHER = re.compile(r"^\s*(?:\.\s*(?:not|resolves|rejects)\s*)*\.\s*to\w*\b")
_JS_TEST = re.compile(r"(?<![\w$.])(?:test|it)(?:\s*\.\s*only)?\s*\(")
_ARROW_BODY = re.compile(r"=>\s*\{")
_FUNCTION = re.compile(r"\bfunction\b[^(]*\(")


def _count_js_assertions(text: str, masked: str, start: int, end: int) -> int:
    count = 0
    for match in _EXPECT.finditer(masked, start, end):
        close = _closing(masked, match.end() - 1)
        arguments = _top_level_split(masked, match.end(), close)
        if not _MATCHER.match(masked[close + 1 : close + 200]):
            continue  # expect(x) without a matcher checks nothing
        count += bool(arguments) and not all(_js_is_constant(text[a:b]) for a, b in arguments)
    for match in _ASSERT.finditer(masked, start, end):
        close = _closing(masked, match.end() - 1)
        arguments = _top_level_split(masked, match.end(), close)
        count += bool(arguments) and not all(_js_is_constant(text[a:b]) for a, b in arguments)
    return count


def _body_start(masked: str, start: int, end: int) -> int | None:
    """Index of the `{` opening the test's function body (arrow function or `function`)."""
    arrow = _ARROW_BODY.search(masked, start, end)
    function = _FUNCTION.search(masked, start, end)
    if function and (arrow is None or function.start() < arrow.start()):
        close = _closing(masked, function.end() - 1)
        brace = masked.find("{", close, end)
        return brace if brace >= 0 else None
    return arrow.end() - 1 if arrow else None


def _leading_comment(text: str, position: int) -> str:
    """The comment that opens a function body at `position` (just after its `{`), '' if none:
    one block comment, or a run of line comments."""
    rest = text[position:]
    stripped = rest.lstrip()
    if stripped.startswith("/*"):
        end = stripped.find("*/")
        return stripped[2 : end if end >= 0 else len(stripped)]
    lines = []
    for line in stripped.splitlines():
        if not line.strip().startswith("//"):
            break
        lines.append(line.strip()[2:])
    return "\n".join(lines)


def _javascript_tests(text: str) -> list[_Test]:
    masked = _mask_js(text)
    tests = []
    for match in _JS_TEST.finditer(masked):
        close = _closing(masked, match.end() - 1)
        arguments = _top_level_split(masked, match.end(), close)
        if not arguments:
            continue
        title_start, title_end = arguments[0]
        title = text[title_start:title_end].strip()
        if len(title) < 2 or title[0] not in "'\"`" or title[-1] != title[0]:
            continue  # a computed title names no test
        name = re.split(r"[\s:]", title[1:-1].strip(), maxsplit=1)[0]
        body = _body_start(masked, title_end, close)
        tests.append(
            _Test(
                name=name,
                line=text.count("\n", 0, match.start()) + 1,
                tag_text=_leading_comment(text, body + 1) if body is not None else "",
                assertions=_count_js_assertions(text, masked, match.end(), close),
            )
        )
    return tests


# ---------------------------------------------------------------------------------------------
# The rules, for both languages


def _tests(path: str, text: str) -> list[_Test]:
    language = language_of(path)
    if language == "python":
        return _python_tests(path, text)
    if language == "javascript":
        return _javascript_tests(text)
    return []


def find_covering_tests(path: str, text: str) -> list[CoveringTest]:
    """Every test in the file that carries a `Covers:` tag where the rules read it, one entry per
    tag. A file that is not a test file, or Python that does not parse, has none (its test run
    reports the syntax error). Use `CoveringTest.problem()` to see whether one really covers."""
    try:
        tests = _tests(path, text)
    except SyntaxError:
        return []
    return [
        CoveringTest(
            file=path,
            name=test.name,
            line=test.line,
            story_id=match["story"],
            criterion_id=match["criterion"],
            assertions=test.assertions,
        )
        for test in tests
        for match in COVERS.finditer(test.tag_text)
    ]


def covering_problem(path: str, text: str, story_id: str, criterion_id: str) -> str | None:
    """Why the file does not hold a test covering `criterion_id` of `story_id`, or None if it does."""
    name = test_name(story_id, criterion_id)
    tag = covers_tag(story_id, criterion_id)
    if language_of(path) is None:
        return (
            f"{path} is not a test file (Python: test_*.py or *_test.py; JavaScript/TypeScript: "
            "*.test.* or *.spec.* or under __tests__/)"
        )
    try:
        tests = [test for test in _tests(path, text) if names_test_for(test.name, story_id, criterion_id)]
    except SyntaxError as error:
        return f"test file {path} is not valid Python: {error.msg} (line {error.lineno})"
    if not tests:
        return f"test file {path} defines no test {name}"
    names = [test.name for test in tests]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        return f"test file {path} defines {', '.join(twice)} more than once"
    problems = []
    for test in tests:
        tagged = any(
            match["story"] == story_id and match["criterion"] == criterion_id
            for match in COVERS.finditer(test.tag_text)
        )
        if not tagged:
            where = "its docstring" if language_of(path) == "python" else "the first comment of its body"
            problems.append(f"test {test.name} in {path} is not tagged '{tag}' in {where}")
        elif test.assertions == 0:
            problems.append(f"test {test.name} in {path} {NO_ASSERTION}")
        else:
            return None
    return problems[0]
