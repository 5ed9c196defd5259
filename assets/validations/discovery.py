"""The tests a component holds, found without running anything.

Used to size a component's test time limit (it grows with the number of tests) and, when the
limit strikes, to name the tests that never ran. Python: functions and methods named `test*` in
`test_*.py` / `*_test.py` files (ast). JavaScript / TypeScript: `test("...")` / `it("...")` calls
in `*.test.*` / `*.spec.*` files or files under a `test/`, `tests/` or `__tests__/` folder.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping

from pydantic import BaseModel

from pipeline_core.repository.manifest import ComponentSpec

JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".jsx", ".tsx")
JS_TEST_FOLDERS = {"test", "tests", "__tests__"}
_JS_TEST = re.compile(
    r"(?<![\w.$])(?:test|it)(?:\.only)?\s*\(\s*(?P<q>['\"`])(?P<title>(?:(?!(?P=q)).)+)(?P=q)"
)


class DiscoveredTest(BaseModel):
    """A test found in the source: its file (repository path) and the name the runner reports."""

    file: str
    name: str


def _python_tests(path: str, text: str) -> list[DiscoveredTest]:
    try:
        module = ast.parse(text, filename=path)
    except SyntaxError:
        return []
    out = []
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            out.append(DiscoveredTest(file=path, name=node.name))
    return out


def _is_js_test_file(relative: str) -> bool:
    parts = relative.split("/")
    name = parts[-1]
    if not name.endswith(JS_SUFFIXES):
        return False
    return ".test." in name or ".spec." in name or bool(JS_TEST_FOLDERS & set(parts[:-1]))


def discover_tests(tree: Mapping[str, str], component: ComponentSpec) -> list[DiscoveredTest]:
    """Every test of the component that a runner would report, in path order."""
    prefix = "" if component.path == "." else component.path + "/"
    out: list[DiscoveredTest] = []
    for path, text in sorted(tree.items()):
        if not path.startswith(prefix):
            continue
        relative = path[len(prefix) :]
        if "node_modules" in relative.split("/"):
            continue
        name = relative.rsplit("/", 1)[-1]
        if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
            out += _python_tests(path, text)
        elif _is_js_test_file(relative):
            out += [DiscoveredTest(file=path, name=match["title"]) for match in _JS_TEST.finditer(text)]
    return out
