"""The frontend's calls, checked against the OpenAPI document without running anything.

`check_frontend_calls` reads a frontend component's sources (the generated `resources.js` table
with its operations, transitions and summaries, and any literal `fetch("/api/...")`,
`api("METHOD", "/api/...")`, `axios.get("/api/...")` or `<form action="/api/...">`) and reports
every call whose path, method or query parameter the document does not have.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assets.validations.driver import matches
from assets.validations.models import ContractMismatch
from assets.validations.openapi_schemas import operations

FRONTEND_FOLDER = "frontend"


@dataclass(frozen=True)
class ApiCall:
    """One API request the frontend makes: method, path (parameters as `{name}`), where it is made."""

    method: str
    path: str
    source: str
    query: tuple[str, ...] = ()


_QUOTED = r"(?P<q>['\"`])(?P<path>(?:\$\{[^}]*\})?/api(?:/[^'\"`]*)?)(?P=q)"
_BASE = r"(?:[A-Za-z_$][\w$.]*\s*\+\s*)?"
_CALL_PATTERNS = (
    # fetch("/api/x", { method: "POST" }) (the method, if any, follows within the call)
    re.compile(r"\bfetch\(\s*" + _BASE + _QUOTED + r"(?P<rest>[^)]{0,400})"),
    # api("POST", "/api/x") and similar helpers that take the method first
    re.compile(r"\(\s*['\"](?P<method>GET|POST|PUT|PATCH|DELETE)['\"]\s*,\s*" + _BASE + _QUOTED, re.I),
    # axios.get("/api/x"), http.post(`/api/x/${id}`)
    re.compile(r"\.(?P<method>get|post|put|patch|delete)\(\s*" + _BASE + _QUOTED),
)
_FORM = re.compile(r"<form\b[^>]*>", re.I)
_ATTRIBUTE = re.compile(r"""(\w[\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_METHOD_OPTION = re.compile(r"""\bmethod\s*:\s*['"](\w+)['"]""")
_RESOURCES = re.compile(r"^\s*window\.RESOURCES\s*=\s*(?P<data>.*?);?\s*$", re.S)


def _call_path(raw: str) -> tuple[str, tuple[str, ...]]:
    """A literal path with `${...}` as `{param}` and its query parameter names."""
    path = re.sub(r"^\$\{[^}]*\}", "", raw)  # a base URL prefix: ${API_BASE}/api/...
    path, _, query = path.partition("?")
    path = re.sub(r"\$\{[^}]*\}", "{param}", path)
    if path.endswith("/") and path.strip("/") != "api":  # "/api/tasks/" + id
        path += "{param}"
    names = tuple(part.split("=", 1)[0] for part in query.split("&") if part and not part.startswith("${"))
    return path, names


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def frontend_calls(tree: Mapping[str, str], folder: str = FRONTEND_FOLDER) -> list[ApiCall]:
    """The API calls of the frontend in `folder/` (its tests are not the frontend)."""
    calls: list[ApiCall] = []
    prefix = folder.rstrip("/") + "/"
    for path, text in sorted(tree.items()):
        if not path.startswith(prefix) or path.startswith(prefix + "tests/"):
            continue
        if path.endswith("resources.js"):
            calls += _resource_table_calls(path, text)
        if not path.endswith((".js", ".mjs", ".ts", ".jsx", ".tsx", ".html", ".htm", ".vue", ".svelte")):
            continue
        for pattern in _CALL_PATTERNS:
            for match in pattern.finditer(text):
                method = match.groupdict().get("method")
                if method is None:
                    option = _METHOD_OPTION.search(match.groupdict().get("rest") or "")
                    method = option.group(1) if option else "GET"
                api_path, query = _call_path(match.group("path"))
                calls.append(ApiCall(method.upper(), api_path, f"{path}:{_line(text, match.start())}", query))
        for match in _FORM.finditer(text):
            attributes = {
                m.group(1).lower(): m.group(2) or m.group(3) or ""
                for m in _ATTRIBUTE.finditer(match.group(0))
            }
            action = attributes.get("action", "")
            if action.startswith("/api"):
                api_path, query = _call_path(action)
                method = attributes.get("method", "get").upper()
                calls.append(ApiCall(method, api_path, f"{path}:{_line(text, match.start())}", query))
    return calls


def _resource_table_calls(path: str, text: str) -> list[ApiCall]:
    """The calls the generated frontend makes from its `window.RESOURCES = [...]` table."""
    match = _RESOURCES.match(text)
    if not match:
        return []
    try:
        resources = json.loads(match.group("data"))
    except json.JSONDecodeError:
        return [ApiCall("?", "?", f"{path}: not a JSON table")]
    calls = []
    for resource in resources if isinstance(resources, list) else []:
        name = resource.get("name", "?")
        for kind, method in (resource.get("operations") or {}).items():
            collection = kind in ("list", "create")
            target = resource.get("collection_path" if collection else "item_path") or ""
            query = tuple(resource.get("list_parameters") or []) if kind == "list" else ()
            calls.append(ApiCall(str(method).upper(), target, f"{path}: {name} {kind}", query))
        for kind in ("transitions", "summaries"):
            for extra in resource.get(kind) or []:
                if isinstance(extra, dict) and extra.get("path"):
                    method = str(extra.get("method") or ("POST" if kind == "transitions" else "GET"))
                    source = f"{path}: {name} {kind[:-1]} {extra.get('name', '?')}"
                    calls.append(ApiCall(method.upper(), str(extra["path"]), source))
    return calls


def check_frontend_calls(
    tree: Mapping[str, str], openapi: Mapping[str, Any], folder: str = FRONTEND_FOLDER
) -> list[ContractMismatch]:
    """Every frontend call whose path, method or query parameter the document does not have."""
    ops = operations(openapi)
    templates = sorted({op.path for op in ops})
    out: list[ContractMismatch] = []
    seen: set[tuple[str, str, str, str]] = set()
    for call in frontend_calls(tree, folder):
        label = f"{call.method} {call.path}"
        candidates = [template for template in templates if matches(template, call.path)]
        # A literal segment beats a parameter: /api/tasks/search before /api/tasks/{id}.
        candidates.sort(key=lambda template: template.count("{"))
        found = next(
            (op for template in candidates for op in ops if op.path == template and op.method == call.method),
            None,
        )
        if found is None:
            got = (
                f"no {call.method} on {candidates[0]} (it has "
                + ", ".join(op.method for op in ops if op.path == candidates[0])
                + ")"
                if candidates
                else "no such path in the document"
            )
            finding = (label, "undocumented_call", got, call.source)
            if finding not in seen:
                seen.add(finding)
                out.append(
                    ContractMismatch(
                        component=folder,
                        operation=label,
                        check="undocumented_call",
                        expected="a documented path and method",
                        got=got,
                        source=call.source,
                    )
                )
            continue
        declared = {str(parameter.get("name")) for parameter in found.query_parameters()}
        for name in call.query:
            if name not in declared:
                out.append(
                    ContractMismatch(
                        component=folder,
                        operation=found.label,
                        check="undocumented_parameter",
                        expected="a query parameter the operation declares ("
                        + (", ".join(sorted(declared)) or "none")
                        + ")",
                        got=name,
                        source=call.source,
                    )
                )
    return out
