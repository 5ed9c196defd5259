"""Identifiers the offline generator derives from text, made safe for Python, JavaScript and SQL.

An entity called `Return`, `Class` or `Await` must still give a module that imports, a class that
parses and a JavaScript name that is not reserved: every derived name passes through `safe_python`
or `safe_js`, which add a trailing underscore to keywords, reserved words and the builtins a
generated module would shadow (`return` -> `return_`, `list` -> `list_`).
"""

from __future__ import annotations

import builtins
import keyword
import re

from assets.requirements.language import plural

# Names a generated module must not shadow or that Python refuses as identifiers.
PYTHON_RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
# ECMAScript reserved words, strict-mode and future reserved words, and globals the frontend uses.
JS_RESERVED = frozenset(
    """
    await break case catch class const continue debugger default delete do else enum export extends
    false finally for function if import in instanceof new null return super switch this throw true
    try typeof var void while with yield implements interface let package private protected public
    static arguments eval undefined NaN Infinity of async get set as from target meta
    window document console fetch JSON Object Array String Number Boolean Error Promise Map Set
    Symbol Math Date RegExp alert event location name status self top parent frames history
    navigator screen
    """.split()
)
_SQL_RESERVED = frozenset(
    """
    abort action add all alter analyze and as asc attach autoincrement before begin between by cascade
    case cast check collate column commit conflict constraint create cross current current_date
    current_time current_timestamp database default deferrable deferred delete desc detach distinct
    drop each else end escape except exclusive exists explain fail for foreign from full glob group
    having if ignore immediate in index indexed initially inner insert instead intersect into is
    isnull join key left like limit match natural no not notnull null of offset on or order outer plan
    pragma primary query raise recursive references regexp reindex release rename replace restrict
    right rollback row rows savepoint select set table temp temporary then to transaction trigger
    union unique update using vacuum values view virtual when where with without
    """.split()
)


def split_pascal(name: str) -> list[str]:
    """ "SupportTicket" -> ["support", "ticket"]; "APIKey" -> ["api", "key"]."""
    return [part.lower() for part in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)] or [name.lower()]


def safe_python(name: str) -> str:
    """`name` as a Python identifier that is no keyword, soft keyword or builtin."""
    name = re.sub(r"\W", "_", name, flags=re.ASCII) or "_"
    if name[0].isdigit():
        name = "n_" + name
    while name in PYTHON_RESERVED or keyword.iskeyword(name):
        name += "_"
    return name


def safe_js(name: str) -> str:
    """`name` as a JavaScript identifier that is no reserved word or global the frontend uses."""
    name = re.sub(r"[^0-9A-Za-z_$]", "_", name) or "_"
    if name[0].isdigit():
        name = "n_" + name
    while name in JS_RESERVED:
        name += "_"
    return name


def module_name(entity: str) -> str:
    """The Python module (and SQLite table) of an entity: "SupportTicket" -> support_ticket,
    "Return" -> return_."""
    name = re.sub(r"[^a-z0-9_]", "_", "_".join(split_pascal(entity))).strip("_") or "resource"
    return safe_python(f"r_{name}" if name[0].isdigit() else name)


def table_name(entity: str) -> str:
    name = module_name(entity)
    return name + "_" if name in _SQL_RESERVED else name


def entity_label(entity: str) -> str:
    return " ".join(split_pascal(entity))


def entity_plural(entity: str) -> str:
    parts = split_pascal(entity)
    return " ".join([*parts[:-1], plural(parts[-1])])


def js_name(entity: str) -> str:
    """A JavaScript identifier for an entity: "SupportTicket" -> supportTicket, "Class" -> class_."""
    parts = split_pascal(entity)
    return safe_js(parts[0] + "".join(part.capitalize() for part in parts[1:]))


def kebab(name: str) -> str:
    """ "mark_done" -> "mark-done"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def story_slug(story_id: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", story_id.lower()).strip("_")


def story_class(story_id: str) -> str:
    return "Test" + re.sub(r"[^0-9A-Za-z]", "", story_id)


def test_file(story_id: str) -> str:
    return f"backend/tests/test_{story_slug(story_id)}.py"


def test_name(story_id: str, criterion_id: str) -> str:
    return f"test_{story_slug(story_id)}_{story_slug(criterion_id)}"


def variable(entity: str, index: int | str = "") -> str:
    """A local variable in a generated test for a record of `entity`: "Return", 1 -> return_1."""
    return safe_python(f"{module_name(entity).rstrip('_')}{index if index == '' else f'_{index}'}")
