"""The offline code generator: a runnable application from templates, grown story by story.

What it builds (stdlib only, so the generated tests run with a bare `python`):

- `backend/`: a Python HTTP API (`http.server` + `sqlite3` + `json`) serving the architecture's
  OpenAPI contract (`backend/openapi.json`): CRUD on each entity of the data model, JSON bodies
  checked against the entity's fields, 201/204/404/405/422 statuses, SQLite persistence.
- `frontend/`: a static page (index.html, app.js, style.css) with a section per resource that
  calls the contract's paths.
- `.github/workflows/ci.yml`: installs and tests each component; `README.md`.
- `.ai-pipeline/manifest.json`: which stories are built and what each enabled; it is the
  generator's state, read back from the tree when the next story is built.

The first story (or any story whose tree lacks the skeleton) lays the skeleton down. Each story
then enables the API operations the contract attributes to it (`x-story-ids`, else the verb and
entity of its want-clause), the frontend controls for them, and a test module
`backend/tests/test_<story>.py` with one test per acceptance criterion the templates can really
implement (`test_<story>_<criterion>`, docstring `Covers: <story> <criterion>`), each asserting
behaviour of the started backend. A criterion that needs a domain rule the templates do not have
(sign-in, notifications, time limits, file exports, ...) is reported as uncovered with the reason;
no test is generated for it.

Generated tests use the standard library's unittest (`python -m unittest discover -s tests -t . -v`
in each component), so the sandbox and CI need no pytest; each test starts the backend as a real
process on a free port with its own SQLite file, and restarts it to check persistence.

Pure and deterministic: the same architecture, story and tree always give the same files.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from assets.architecture.models import Architecture, Entity, EntityField
from assets.architecture.openapi import schema_refs
from assets.requirements.language import VerbObject, plural, singular, verb_objects, words
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.models import (
    CoveredCriterion,
    FileChange,
    StoryChangeSet,
    TestRef,
    UncoveredCriterion,
    tree_hash,
)
from pipeline_core.hashing import content_hash

GENERATOR_VERSION = "offline-templates-1"
MANIFEST_PATH = ".ai-pipeline/manifest.json"
TEMPLATES = Path(__file__).resolve().parent / "templates"

Kind = Literal["list", "create", "read", "update", "delete"]
KIND_ORDER: tuple[Kind, ...] = ("list", "create", "read", "update", "delete")

# Template file -> path in the generated repository. Written when the skeleton is laid down (or missing).
SKELETON_FILES = {
    "backend/app/resource.py": "backend/app/resource.py",
    "backend/app/validation.py": "backend/app/validation.py",
    "backend/app/store.py": "backend/app/store.py",
    "backend/app/server.py": "backend/app/server.py",
    "backend/app/__main__.py": "backend/app/__main__.py",
    "backend/tests/support.py": "backend/tests/support.py",
    "backend/tests/health_tests.py": "backend/tests/test_health.py",
    "frontend/app.js": "frontend/app.js",
    "frontend/style.css": "frontend/style.css",
    "frontend/config.js": "frontend/config.js",
    "frontend/tests/frontend_tests.py": "frontend/tests/test_frontend.py",
}
STORY_TESTS = "backend/tests/story_tests.py.tmpl"  # a story's test module (string.Template)
UNITTEST = ["python", "-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v"]
COMPONENTS = [
    {"name": "backend", "path": "backend", "test": UNITTEST},
    {"name": "frontend", "path": "frontend", "test": UNITTEST},
]
SUPPORTED_STACK = {
    "backend": "Python 3 standard library (http.server, sqlite3, json)",
    "database": "SQLite, a file the backend keeps (standard library sqlite3)",
    "frontend": "static HTML, CSS and JavaScript (no build step)",
}


class BuildOrderError(ValueError):
    """The stories' dependencies cannot be ordered; `cycle` names the stories that wait on each other."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__("dependency cycle between stories: " + " -> ".join(cycle))
        self.cycle = cycle


class GenerationError(ValueError):
    """The inputs cannot be built (unknown story, a tree from another generator, ...)."""


# ---------------------------------------------------------------------------------------------
# Build order


def plan_build_order(requirements: RequirementsSet) -> list[list[str]]:
    """Story ids in topological layers of `depends_on`; each layer keeps the requirements' order.

    A dependency on a story that is not in the set is ignored (nothing can be waited for); a cycle
    raises BuildOrderError naming it.
    """
    order = [story.id for story in requirements.stories]
    known = set(order)
    waits = {story.id: {dep for dep in story.depends_on if dep in known} for story in requirements.stories}
    built: set[str] = set()
    layers: list[list[str]] = []
    while len(built) < len(order):
        layer = [story for story in order if story not in built and waits[story] <= built]
        if not layer:
            raise BuildOrderError(_find_cycle({s: waits[s] - built for s in order if s not in built}, order))
        layers.append(layer)
        built.update(layer)
    return layers


def _find_cycle(waits: Mapping[str, set[str]], order: Sequence[str]) -> list[str]:
    start = next(story for story in order if story in waits)
    path: list[str] = []
    current = start
    while current not in path:
        path.append(current)
        current = next(dep for dep in order if dep in waits[current])
    return [*path[path.index(current) :], current]


# ---------------------------------------------------------------------------------------------
# The API contract as operations on entities


@dataclass(frozen=True)
class ContractOperation:
    entity: str
    kind: Kind
    method: str  # upper case
    path: str
    parameters: tuple[str, ...] = ()  # query parameters (list operations)
    story_ids: tuple[str, ...] = ()
    operation_id: str = ""

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _operation_entity(operation: Mapping[str, Any], names: set[str]) -> str | None:
    for tag in operation.get("tags") or []:
        if tag in names:
            return tag
    for ref in sorted(schema_refs({k: operation.get(k) for k in ("requestBody", "responses")})):
        for suffix in ("Input", "Update", "Create", ""):
            if ref.endswith(suffix) and ref[: len(ref) - len(suffix)] in names:
                return ref[: len(ref) - len(suffix)]
    return None


def contract_operations(architecture: Architecture) -> list[ContractOperation]:
    """The contract's operations the templates can serve: CRUD on a data-model entity at
    `<collection>` (list, create) or `<collection>/{param}` (read, update, delete)."""
    names = {entity.name for entity in architecture.data_model}
    found: dict[tuple[str, Kind], ContractOperation] = {}
    for path, item in sorted((architecture.openapi.get("paths") or {}).items()):
        if not isinstance(item, dict):
            continue
        segments = [segment for segment in path.split("/") if segment]
        params = [segment for segment in segments if segment.startswith("{")]
        if params and (len(params) > 1 or not segments[-1].startswith("{")):
            continue
        is_item = bool(params)
        for method, operation in item.items():
            if not isinstance(operation, dict) or method not in ("get", "post", "put", "patch", "delete"):
                continue
            kinds: dict[tuple[bool, str], Kind] = {
                (False, "get"): "list",
                (False, "post"): "create",
                (True, "get"): "read",
                (True, "patch"): "update",
                (True, "put"): "update",
                (True, "delete"): "delete",
            }
            kind = kinds.get((is_item, method))
            entity = _operation_entity(operation, names)
            if kind is None or entity is None or (entity, kind) in found:
                continue
            query = tuple(
                str(parameter.get("name"))
                for parameter in [*(item.get("parameters") or []), *(operation.get("parameters") or [])]
                if isinstance(parameter, dict) and parameter.get("in") == "query"
            )
            found[(entity, kind)] = ContractOperation(
                entity=entity,
                kind=kind,
                method=method.upper(),
                path=path,
                parameters=query,
                story_ids=tuple(str(story) for story in operation.get("x-story-ids") or []),
                operation_id=str(operation.get("operationId") or ""),
            )
    # An entity's item path must sit under its collection path, or the two do not belong together.
    out = []
    for (entity, kind), operation in sorted(
        found.items(), key=lambda pair: (pair[0][0], KIND_ORDER.index(pair[0][1]))
    ):
        collection = next(
            (op.path for (e, k), op in found.items() if e == entity and k in ("list", "create")), None
        )
        if (
            kind in ("read", "update", "delete")
            and collection
            and operation.path.rsplit("/", 1)[0] != collection
        ):
            continue
        out.append(operation)
    return out


# ---------------------------------------------------------------------------------------------
# Names


def _split_pascal(name: str) -> list[str]:
    return [part.lower() for part in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)] or [name.lower()]


def module_name(entity: str) -> str:
    name = "_".join(_split_pascal(entity))
    name = re.sub(r"[^a-z0-9_]", "_", name).strip("_") or "resource"
    return f"r_{name}" if name[0].isdigit() else name


def entity_label(entity: str) -> str:
    return " ".join(_split_pascal(entity))


def entity_plural(entity: str) -> str:
    parts = _split_pascal(entity)
    return " ".join([*parts[:-1], plural(parts[-1])])


def story_slug(story_id: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", story_id.lower()).strip("_")


def story_class(story_id: str) -> str:
    return "Test" + re.sub(r"[^0-9A-Za-z]", "", story_id)


def test_file(story_id: str) -> str:
    return f"backend/tests/test_{story_slug(story_id)}.py"


def test_name(story_id: str, criterion_id: str) -> str:
    return f"test_{story_slug(story_id)}_{story_slug(criterion_id)}"


def _entity_for_noun(noun: str, entities: Sequence[Entity]) -> Entity | None:
    wanted = [singular(word) for word in words(noun)]
    if not wanted:
        return None
    for entity in entities:
        if [singular(part) for part in _split_pascal(entity.name)] == wanted:
            return entity
    for entity in entities:  # "support ticket" ~ Ticket
        if singular(_split_pascal(entity.name)[-1]) == wanted[-1]:
            return entity
    return None


def _fields(entity: Entity) -> list[EntityField]:
    return [field for field in entity.fields if field.name != "id"]


# ---------------------------------------------------------------------------------------------
# What a story asks for, and what its criteria can be tested by


@dataclass(frozen=True)
class CriterionPlan:
    criterion: AcceptanceCriterion
    kind: Literal["list", "create", "read", "update", "delete", "validate"]
    entity: str
    update_field: str | None = None
    list_parameters: tuple[str, ...] = ()
    missing_field: str | None = None

    @property
    def needs(self) -> tuple[Kind, ...]:
        """Operations the test calls besides its own (to set up data and to read it back)."""
        return {
            "create": (),
            "validate": ("create",),
            "read": ("create",),
            "update": ("create",),
            "delete": ("create",),
            "list": ("create",),
        }[self.kind]


# Domain rules the templates cannot implement, found in a criterion's When/Then: (pattern, reason).
UNSUPPORTED_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"\b(?:sign(?:s|ed|ing)?[- ]?(?:in|out|up)|log(?:s|ged|ging)?[- ]?(?:in|out)|passwords?|"
            r"authenticat\w*|authori[sz]\w*|permissions?|private|credentials?|two-factor|2fa)\b"
        ),
        "needs authentication or access control, which the offline templates do not implement",
    ),
    (
        re.compile(
            r"\bwithin\s+(?:a|an|one|two|three|five|ten|\d+)?\s*(?:milliseconds?|ms|seconds?|minutes?|hours?|days?)\b"
            r"|\b(?:latency|response times?|performance|per second)\b"
        ),
        "sets a time or performance limit, which the generated functional tests do not measure",
    ),
    (
        re.compile(
            r"\b(?:notif\w*|sends?|sent|sms|push messages?|reminders?|alerts?|e-?mails? (?:to|about))\b"
        ),
        "needs notifications or messages sent to people, which the offline templates do not implement",
    ),
    (
        re.compile(r"\b(?:csv|pdf|excel|xlsx?|export\w*|import\w*|download\w*|upload\w*|attach\w*|files?)\b"),
        "needs reading or writing files (export, import, attachments), which the offline templates lack",
    ),
    (
        re.compile(
            r"\b(?:dark mode|light mode|themes?|colou?rs?|fonts?|animations?|drag(?:s|ged|ging)?|drop|"
            r"responsive|mobile|offline|keyboard shortcuts?|screen readers?|accessib\w*)\b"
        ),
        "is about how the user interface looks or behaves in a browser, which API tests cannot check",
    ),
    (
        re.compile(
            r"\b(?:real[- ]time|live|instantly|automatically|concurrent\w*|at the same time|sync\w*)\b"
        ),
        "needs real-time or automatic behaviour, which the offline templates do not implement",
    ),
    (
        re.compile(r"\b(?:totals?|sums?|averages?|counts?|reports?|charts?|statistics|dashboards?)\b"),
        "needs computed figures or reports, which the offline templates do not implement",
    ),
    (
        re.compile(r"\b(?:history|audit\w*|undo|versions?)\b"),
        "needs a history or audit trail, which the offline templates do not implement",
    ),
    (
        re.compile(r"\b(?:pay\w*|invoic\w*|charges?|charged|refund\w*|prices?|billing)\b"),
        "needs payments or billing, which the offline templates do not implement",
    ),
    (
        re.compile(r"\b(?:calendar|slack|github|google|maps?|integrat\w*|third[- ]party|webhooks?)\b"),
        "needs an external service, which the offline templates do not integrate",
    ),
    (
        re.compile(
            r"\b(?:at (?:least|most)|more than|fewer than|less than|up to|maximum|minimum|limit(?:s|ed)?|"
            r"unique|duplicates?)\b"
        ),
        "sets a numeric or uniqueness rule, which the offline templates do not implement",
    ),
    (
        re.compile(
            r"\b(?:cannot|can't|can not|not allowed|forbidden|prevent\w*|blocked|denied|"
            r"only (?:the|an?|their|his|her))\b"
        ),
        "forbids an action by a business rule, which the offline templates do not implement",
    ),
    (
        re.compile(
            r"\b(?:does not|do not|doesn't|don't|no longer|never|hidden|hides?|clutter\w*|disappears?|"
            r"not (?:shown|listed|visible))\b"
        ),
        "hides or excludes items by a domain rule, which the offline templates do not implement",
    ),
]
_ERROR_WORDS = re.compile(r"\b(?:errors?|rejected|refused|invalid|not (?:saved|created|accepted))\b")
_MISSING = re.compile(r"\b(?:without|missing|no|empty|blank)\s+(?:a |an |the |any )?([a-z][a-z ]*)")
_SUBJECT = re.compile(r"^(?:they|he|she|we|i|you|the user|a user|users?)\s+", re.IGNORECASE)
_SEARCH_WORDS = re.compile(r"\b(?:search\w*|keywords?|text|find\w*|look(?:s|ing)? for)\b")

VERB_FIELDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("assign", "reassign"), ("assignee", "assigned_to", "assignee_id", "owner", "owner_id")),
    "archive": ("archived", "is_archived", "status"),
    **dict.fromkeys(("complete", "mark"), ("completed", "done", "is_done", "status")),
    **dict.fromkeys(("close", "reopen"), ("closed", "is_closed", "status")),
    "rename": ("name", "title"),
    "move": ("status", "column", "position", "project_id"),
    "schedule": ("due_date", "scheduled_at", "scheduled_for", "date", "start"),
    **dict.fromkeys(("tag", "label"), ("tags", "tag", "labels", "label")),
    **dict.fromkeys(("prioritise", "prioritize"), ("priority",)),
}


def _clause(text: str) -> str:
    return _SUBJECT.sub("", text.strip().rstrip("."))


def _mentions(text: str, name: str) -> bool:
    """True if `text` names the field `name` ("due date" for due_date, "statuses" for status)."""
    wanted = [singular(word) for word in words(name.replace("_", " "))]
    have = [singular(word) for word in words(text)]
    return bool(wanted) and any(have[i : i + len(wanted)] == wanted for i in range(len(have)))


def story_operations(
    architecture: Architecture, story: UserStory, operations: Sequence[ContractOperation]
) -> list[ContractOperation]:
    """The contract operations a story is built for: those listing it in `x-story-ids`, else those
    its want-clause names (verb -> operation, object -> entity of the data model)."""
    tagged = [operation for operation in operations if story.id in operation.story_ids]
    if tagged:
        return tagged
    by_key = {(operation.entity, operation.kind): operation for operation in operations}
    out: list[ContractOperation] = []
    for found in verb_objects(story.i_want):
        entity = _verb_entity(found, architecture.data_model)
        operation = by_key.get((entity.name, found.operation)) if entity else None
        if operation and operation not in out:
            out.append(operation)
    return out


def _verb_entity(found: VerbObject, entities: Sequence[Entity]) -> Entity | None:
    if found.verb == "comment":  # "comment on a task" creates a Comment
        return _entity_for_noun("comment", entities) or _entity_for_noun(found.noun, entities)
    return _entity_for_noun(found.noun, entities)


def plan_criterion(
    architecture: Architecture,
    story: UserStory,
    criterion: AcceptanceCriterion,
    own: Sequence[ContractOperation],
    operations: Sequence[ContractOperation],
) -> CriterionPlan | str:
    """How the templates test `criterion`, or the reason they cannot."""
    when, then = _clause(criterion.when), _clause(criterion.then)
    text = f"{when} {then}".lower()
    for pattern, reason in UNSUPPORTED_RULES:
        match = pattern.search(text)
        if match:
            return f"{reason} ('{match.group(0)}')"
    entities = {entity.name: entity for entity in architecture.data_model}
    by_key = {(operation.entity, operation.kind): operation for operation in operations}

    if _ERROR_WORDS.search(then.lower()):
        for entity_name in dict.fromkeys([op.entity for op in own if op.kind == "create"] + list(entities)):
            if (entity_name, "create") not in by_key:
                continue
            for match in _MISSING.finditer(when.lower()):
                for field in _fields(entities[entity_name]):
                    if field.required and _mentions(match.group(1), field.name):
                        return CriterionPlan(criterion, "validate", entity_name, missing_field=field.name)
        return (
            "rejects input by a rule that names no required field of the data model, which the templates lack"
        )

    chosen: ContractOperation | None = None
    verb: VerbObject | None = None
    # The criterion's own verb first ("when they assign a task"), else the story's ("I want to ...").
    for found in [*verb_objects("to " + when), *verb_objects(story.i_want)]:
        entity = _verb_entity(found, architecture.data_model)
        candidates = [op for op in own if op.kind == found.operation and entity and op.entity == entity.name]
        candidates += [op for op in own if op.kind == found.operation]
        if entity and (entity.name, found.operation) in by_key:
            candidates.append(by_key[(entity.name, found.operation)])
        if candidates:
            chosen, verb = candidates[0], found
            break
    if chosen is None and own:
        chosen = own[0]
    if chosen is None:
        return "names no operation on an entity of the data model that the API contract serves"
    entity = entities[chosen.entity]
    if chosen.kind != "create" and (chosen.entity, "create") not in by_key:
        return f"the API contract has no create operation for {chosen.entity}, so a test cannot set one up"
    context = f"{when} {story.i_want}"
    if chosen.kind == "update" and not _fields(entity):
        return f"{chosen.entity} has no field an update could change"
    if chosen.kind == "update":
        return CriterionPlan(
            criterion, "update", chosen.entity, update_field=_update_field(entity, verb, context)
        )
    if chosen.kind == "list":
        parameters = [
            name
            for name in chosen.parameters
            if (name == "q" and _SEARCH_WORDS.search(context.lower()))
            or (name != "q" and any(f.name == name for f in _fields(entity)) and _mentions(context, name))
        ]
        return CriterionPlan(criterion, "list", chosen.entity, list_parameters=tuple(parameters))
    return CriterionPlan(criterion, chosen.kind, chosen.entity)


def _update_field(entity: Entity, verb: VerbObject | None, context: str) -> str:
    fields = _fields(entity)
    names = [field.name for field in fields]
    if verb is not None:
        for hint in VERB_FIELDS.get(verb.verb, ()):
            if hint in names:
                return hint
    for candidate in fields:
        if _mentions(context, candidate.name):
            return candidate.name
    optional = [field.name for field in fields if not field.required]
    return (optional or names)[0]


# ---------------------------------------------------------------------------------------------
# Sample values for generated tests (deterministic)

_WORDS = ("", "alpha", "bravo", "charlie")


def sample_value(entity: str, field: EntityField, variant: int) -> Any:
    if field.type == "string":
        return f"{entity_label(entity).capitalize()} {field.name.replace('_', ' ')} {_WORDS[variant]}"
    if field.type == "integer":
        return variant
    if field.type == "number":
        return variant + 0.5
    if field.type == "boolean":
        return variant % 2 == 0
    if field.type == "date":
        return f"2030-01-0{variant}"
    return f"2030-01-0{variant}T09:30:00"


def other_value(entity: str, field: EntityField, value: Any) -> Any:
    """A sample value of `field` that differs from `value`."""
    return (not value) if field.type == "boolean" else sample_value(entity, field, 3)


def wrong_value(field: EntityField) -> Any:
    return {"string": 12345, "boolean": "yes", "date": "not a date", "datetime": "not a time"}.get(
        field.type, "twelve"
    )


def sample_body(entity: Entity, variant: int) -> dict[str, Any]:
    return {field.name: sample_value(entity.name, field, variant) for field in _fields(entity)}


# ---------------------------------------------------------------------------------------------
# The generator's state in the tree


@dataclass
class Manifest:
    project: str
    stories: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, tree: Mapping[str, str], project: str) -> Manifest | None:
        text = tree.get(MANIFEST_PATH)
        if text is None:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise GenerationError(f"{MANIFEST_PATH} is not JSON: {error}") from error
        if not isinstance(data, dict) or not str(data.get("generator", "")).startswith("offline-templates"):
            raise GenerationError(f"{MANIFEST_PATH} was not written by the offline templates")
        return cls(project=str(data.get("project") or project), stories=list(data.get("stories") or []))

    def enabled(self) -> dict[tuple[str, str], list[str]]:
        """(entity, kind) -> ids of the stories that enabled it, in build order."""
        out: dict[tuple[str, str], list[str]] = {}
        for story in self.stories:
            for operation in story.get("operations", []):
                out.setdefault((operation["entity"], operation["kind"]), []).append(story["id"])
        return out

    def render(self) -> str:
        data = {
            "generator": GENERATOR_VERSION,
            "project": self.project,
            "components": COMPONENTS,
            "stories": self.stories,
        }
        return json.dumps(data, indent=2, sort_keys=False) + "\n"


def component_tests(tree: Mapping[str, str], python: str = "python") -> list[tuple[str, str, list[str]]]:
    """(component, folder, argv) for the test command of each component of a generated tree."""
    if MANIFEST_PATH not in tree:
        return []
    data = json.loads(tree[MANIFEST_PATH])
    out = []
    for component in data.get("components", COMPONENTS):
        argv = [python if part == "python" else part for part in component["test"]]
        out.append((component["name"], component["path"], argv))
    return out


# ---------------------------------------------------------------------------------------------
# Rendering


@cache
def _template(name: str, root: Path = TEMPLATES) -> str:
    return (root / name).read_text(encoding="utf-8")


def template_hash(root: Path = TEMPLATES) -> str:
    """Every template the generator has (a change to any of them shows here)."""
    return content_hash({name: _template(name, root) for name in (*sorted(SKELETON_FILES), STORY_TESTS)})


def rendered_templates(architecture: Architecture, requirements: RequirementsSet, story_id: str) -> list[str]:
    """The templates building `story_id` renders: the skeleton when the story is built on no other
    story of the set (its base tree lacks the application), the test module when it yields tests."""
    story = find_story(requirements, story_id)
    known = {other.id for other in requirements.stories}
    names = [] if any(dep in known for dep in story.depends_on) else sorted(SKELETON_FILES)
    operations = contract_operations(architecture)
    own = story_operations(architecture, story, operations)
    if any(
        not isinstance(plan_criterion(architecture, story, criterion, own, operations), str)
        for criterion in story.acceptance_criteria
    ):
        names.append(STORY_TESTS)
    return names


def story_templates_hash(
    architecture: Architecture, requirements: RequirementsSet, story_id: str, root: Path = TEMPLATES
) -> str:
    """A hash of exactly the templates `story_id` renders: part of its build key, so editing a
    template rebuilds exactly the stories that render it (and, through their keys, their dependents)."""
    names = rendered_templates(architecture, requirements, story_id)
    return content_hash({name: _template(name, root) for name in names}, length=16)


@dataclass(frozen=True)
class ResourceSpec:
    entity: Entity
    collection_path: str
    item_path: str
    operations: tuple[tuple[ContractOperation, tuple[str, ...]], ...]  # (operation, stories)
    list_parameters: tuple[str, ...]

    def has(self, kind: str) -> bool:
        return any(operation.kind == kind for operation, _ in self.operations)

    def method(self, kind: str) -> str:
        return next(operation.method for operation, _ in self.operations if operation.kind == kind)


def resource_specs(
    architecture: Architecture,
    operations: Sequence[ContractOperation],
    enabled: Mapping[tuple[str, str], list[str]],
) -> list[ResourceSpec]:
    specs = []
    for entity in sorted(architecture.data_model, key=lambda entity: entity.name):
        mine = [op for op in operations if op.entity == entity.name and (op.entity, op.kind) in enabled]
        if not mine:
            continue
        everything = [op for op in operations if op.entity == entity.name]
        collection = next((op.path for op in everything if op.kind in ("list", "create")), None)
        item = next((op.path for op in everything if op.kind in ("read", "update", "delete")), None)
        collection = collection or (item.rsplit("/", 1)[0] if item else "")
        item = item or f"{collection}/{{id}}"
        field_names = {field.name for field in _fields(entity)}
        listing = next((op for op in mine if op.kind == "list"), None)
        parameters = tuple(p for p in (listing.parameters if listing else ()) if p == "q" or p in field_names)
        specs.append(
            ResourceSpec(
                entity=entity,
                collection_path=collection,
                item_path=item,
                operations=tuple((op, tuple(enabled[(op.entity, op.kind)])) for op in mine),
                list_parameters=parameters,
            )
        )
    return specs


def render_resource_module(spec: ResourceSpec) -> str:
    name = spec.entity.name
    fields = "\n".join(
        f"        Field({_py(field.name)}, {_py(field.type)}, required={field.required}),"
        for field in _fields(spec.entity)
    )
    operations = "\n".join(
        f"        Operation({_py(op.kind)}, {_py(op.method)}, stories={_py_tuple(stories)}),"
        for op, stories in spec.operations
    )
    kinds = ", ".join(op.kind for op, _ in spec.operations)
    return f'''"""{name}: {kinds} over the `{module_name(name)}` table.

Generated by ai-pipeline ({GENERATOR_VERSION}); each operation lists the stories that use it.
"""

from app.resource import Field, Operation, Resource

RESOURCE = Resource(
    name={_py(name)},
    table={_py(module_name(name))},
    collection_path={_py(spec.collection_path)},
    item_path={_py(spec.item_path)},
    fields=(
{fields}
    ),
    operations=(
{operations}
    ),
    list_parameters={_py_tuple(spec.list_parameters)},
)
'''


def render_resources_package(specs: Sequence[ResourceSpec]) -> str:
    names = [module_name(spec.entity.name) for spec in specs]
    imports = "".join(f"from app.resources.{name} import RESOURCE as {name.upper()}\n" for name in names)
    listed = ", ".join(name.upper() for name in names)
    return (
        '"""The resources the API serves, one module each (regenerated as stories add operations)."""\n\n'
        f"{imports}{chr(10) if imports else ''}"
        f"RESOURCES = [{listed}]\n"
    )


def render_resources_js(specs: Sequence[ResourceSpec]) -> str:
    data = [
        {
            "name": spec.entity.name,
            "label": entity_label(spec.entity.name),
            "plural": entity_plural(spec.entity.name),
            "collection_path": spec.collection_path,
            "item_path": spec.item_path,
            "fields": [
                {"name": field.name, "type": field.type, "required": field.required}
                for field in _fields(spec.entity)
            ],
            "operations": {op.kind: op.method for op, _ in spec.operations},
            "list_parameters": list(spec.list_parameters),
            "stories": sorted({story for _, stories in spec.operations for story in stories}),
        }
        for spec in specs
    ]
    return "window.RESOURCES = " + json.dumps(data, indent=2) + ";\n"


_INPUT_TYPES = {
    "string": "text",
    "integer": "number",
    "number": "number",
    "boolean": "checkbox",
    "date": "date",
    "datetime": "datetime-local",
}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _input(field: EntityField, required: bool) -> str:
    attributes = f'name="{_esc(field.name)}" type="{_INPUT_TYPES[field.type]}"'
    if field.type == "integer":
        attributes += ' step="1"'
    elif field.type == "number":
        attributes += ' step="any"'
    if required and field.required and field.type != "boolean":
        attributes += " required"
    return f"<label>{_esc(field.name.replace('_', ' '))} <input {attributes}></label>"


def render_index_html(architecture: Architecture, specs: Sequence[ResourceSpec]) -> str:
    sections = []
    for spec in specs:
        name = spec.entity.name
        stories = " ".join(sorted({story for _, stories in spec.operations for story in stories}))
        lines = [
            f'    <section class="resource" id="resource-{module_name(name)}" data-resource="{_esc(name)}" '
            f'data-stories="{stories}">',
            f"      <h2>{_esc(entity_plural(name).capitalize())}</h2>",
        ]
        if spec.has("list") and spec.list_parameters:
            lines.append('      <form class="filters" data-role="filters">')
            for parameter in spec.list_parameters:
                label = "search" if parameter == "q" else parameter.replace("_", " ")
                lines.append(
                    f'        <label>{_esc(label)} <input name="{_esc(parameter)}" type="search"></label>'
                )
            lines.append('        <button type="submit">Filter</button>')
            lines.append("      </form>")
        if spec.has("list"):
            headers = "".join(f"<th>{_esc(f.name.replace('_', ' '))}</th>" for f in _fields(spec.entity))
            lines.append('      <table data-role="items">')
            lines.append(f"        <thead><tr><th>id</th>{headers}<th></th></tr></thead>")
            lines.append("        <tbody></tbody>")
            lines.append("      </table>")
        if spec.has("create") or spec.has("update"):
            lines.append('      <form class="editor" data-role="editor">')
            for field in _fields(spec.entity):
                lines.append("        " + _input(field, required=spec.has("create")))
            lines.append('        <button type="submit">Save</button>')
            lines.append('        <button type="reset">Clear</button>')
            lines.append("      </form>")
        lines.append('      <p class="status" data-role="status" role="status"></p>')
        lines.append("    </section>")
        sections.append("\n".join(lines))
    body = "\n".join(sections) or "    <p>Nothing is built yet.</p>"
    title = _esc(architecture.project)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    <link rel="stylesheet" href="style.css">
  </head>
  <body>
    <header>
      <h1>{title}</h1>
      <p>{_esc(architecture.summary)}</p>
    </header>
    <main>
{body}
    </main>
    <script src="config.js"></script>
    <script src="resources.js"></script>
    <script src="app.js"></script>
  </body>
</html>
"""


def render_ci() -> str:
    return """name: CI

on:
  push:
    branches: [main]
  pull_request:

permissions:
  contents: read

jobs:
  backend:
    name: backend (Python)
    runs-on: ubuntu-latest
    timeout-minutes: 15
    defaults:
      run:
        working-directory: backend
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
      - name: Install dependencies
        run: python -m pip install -r requirements.txt
      - name: Run tests
        run: python -m unittest discover -s tests -t . -v

  frontend:
    name: frontend (static)
    runs-on: ubuntu-latest
    timeout-minutes: 15
    defaults:
      run:
        working-directory: frontend
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v5
        with:
          node-version: "22"
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
      - name: Run tests
        run: python -m unittest discover -s tests -t . -v
"""


def stack_notes(architecture: Architecture) -> list[str]:
    """Where the architecture asks for a stack the offline templates do not generate."""
    notes = []
    for component in architecture.components:
        kind = "backend" if component.kind == "worker" else component.kind
        supported = SUPPORTED_STACK.get(kind)
        asked = " / ".join(part for part in (component.stack.language, component.stack.framework) if part)
        if supported and asked:
            notes.append(
                f"{component.name}: the architecture asks for {asked}; "
                f"the offline templates generate {supported}."
            )
    return notes


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_readme(architecture: Architecture, manifest: Manifest, specs: Sequence[ResourceSpec]) -> str:
    api_rows = []
    for spec in specs:
        for op, stories in spec.operations:
            path = spec.collection_path if op.kind in ("list", "create") else spec.item_path
            api_rows.append(f"| `{op.method} {path}` | {op.operation_id or op.kind} | {', '.join(stories)} |")
    story_rows = []
    for story in manifest.stories:
        ops = ", ".join(f"{op['kind']} {op['entity']}" for op in story.get("operations", [])) or "none"
        covered = ", ".join(story.get("covered", [])) or "none"
        uncovered = (
            "; ".join(f"{cid}: {reason}" for cid, reason in story.get("uncovered", {}).items()) or "none"
        )
        story_rows.append(f"| {story['id']} | {_md(story['title'])} | {ops} | {covered} | {_md(uncovered)} |")
    notes = "".join(f"- {_md(note)}\n" for note in stack_notes(architecture))
    return f"""# {architecture.project}

{_md(architecture.summary)}

Generated by ai-pipeline story by story ({GENERATOR_VERSION}). The API contract is
[`backend/openapi.json`](backend/openapi.json); the backend and the frontend need nothing beyond
Python 3.11+ and a browser.

## Stack

- backend: {SUPPORTED_STACK["backend"]}
- database: {SUPPORTED_STACK["database"]}
- frontend: {SUPPORTED_STACK["frontend"]}
{notes}
## Run

```sh
cd backend && python -m app --port 8000
```

The API answers on <http://127.0.0.1:8000/api/health>, and the frontend is served at
<http://127.0.0.1:8000/>. Set `DATABASE_PATH` (default `data/app.sqlite3`), `HOST` and `PORT` to
change where it stores and listens; `frontend/config.js` sets the API's address when the frontend
is hosted elsewhere.

## Test

```sh
cd backend && python -m unittest discover -s tests -t . -v
cd frontend && python -m unittest discover -s tests -t . -v
```

Each story's tests are in `backend/tests/test_<story>.py`; each test names the acceptance criterion
it covers (`Covers: US-... AC1`).

## API built so far

| operation | id | stories |
|---|---|---|
{chr(10).join(api_rows) or "| none yet | | |"}

## Stories built

| story | title | operations | criteria covered | not covered (why) |
|---|---|---|---|---|
{chr(10).join(story_rows)}
"""


def _doc(text: str) -> str:
    return " ".join(text.replace("\\", "/").replace('"', "'").split())


def _py(value: Any) -> str:
    """A Python literal for JSON-like `value`, with double-quoted strings (deterministic)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(key)}: {_py(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_py(item) for item in value) + "]"
    return repr(value)


def _py_tuple(values: Sequence[str]) -> str:
    items = [_py(value) for value in values]
    return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"


def render_test_method(story: UserStory, plan: CriterionPlan, spec: ResourceSpec) -> str:
    """One test method checking `plan` against the started backend; every step asserts."""
    entity, fields = spec.entity, _fields(spec.entity)
    collection, item_path = _py(spec.collection_path), _py(spec.item_path)
    create = _py(spec.method("create"))
    can_list, can_read = spec.has("list"), spec.has("read")
    first, second = sample_body(entity, 1), sample_body(entity, 2)
    lines: list[str] = []
    line = lines.append

    def stored(items: str, item: str | None, item_value: str | None) -> None:
        """Assert what is stored: the whole list if the API lists, else the one item if it reads."""
        if can_list:
            line(f'self.assertEqual(self.api("GET", {collection}), (200, [{items}]))')
        elif can_read and item and item_value:
            line(f'self.assertEqual(self.api("GET", {item}), (200, {item_value}))')

    def restart_then(items: str, item: str | None, item_value: str | None, what: str) -> None:
        if can_list or (can_read and item):
            line(f"# {what} outlives a restart of the backend (SQLite persistence)")
            line("self.backend.restart()")
            stored(items, item, item_value)

    if plan.kind == "create":
        line(f"sent = {_py(first)}")
        line(f"status, created = self.api({create}, {collection}, sent)")
        line("self.assertEqual(status, 201, created)")
        line('self.assertIsInstance(created["id"], int)')
        line("self.assertEqual({key: created[key] for key in sent}, sent)")
        if can_read:
            line(f'item = self.path_of({item_path}, created["id"])')
            line('self.assertEqual(self.api("GET", item), (200, created))')
        required = [field.name for field in fields if field.required]
        if required:
            line(f"# without {required[0]} (required) the item is refused")
            line(f"incomplete = {{key: value for key, value in sent.items() if key != {_py(required[0])}}}")
            line(f"status, error = self.api({create}, {collection}, incomplete)")
            line("self.assertEqual(status, 422, error)")
            line(f'self.assertIn({_py(required[0])}, str(error["detail"]))')
        if fields:
            wrong = fields[0]
            line(f"# a {wrong.name} of the wrong type is refused")
            line(
                f"status, error = self.api({create}, {collection}, "
                f"{{**sent, {_py(wrong.name)}: {_py(wrong_value(wrong))}}})"
            )
            line("self.assertEqual(status, 422, error)")
            line(f'self.assertIn({_py(wrong.name)}, str(error["detail"]))')
        if can_list:
            line("# only the valid item was stored")
        stored("created", "item" if can_read else None, "created")
        restart_then("created", "item" if can_read else None, "created", "the item")
    elif plan.kind == "validate":
        missing = plan.missing_field or ""
        line(f"sent = {_py({key: value for key, value in first.items() if key != missing})}")
        line(f"status, error = self.api({create}, {collection}, sent)")
        line("self.assertEqual(status, 422, error)")
        line(f'self.assertIn({_py(missing)}, str(error["detail"]))')
        if can_list:
            line("# nothing was stored")
            stored("", None, None)
        line(f"# with {missing} the same item is accepted: the missing field was the reason")
        line(
            f"status, created = self.api({create}, {collection}, "
            f"{{**sent, {_py(missing)}: {_py(first[missing])}}})"
        )
        line("self.assertEqual(status, 201, created)")
        line(f"self.assertEqual(created[{_py(missing)}], {_py(first[missing])})")
    elif plan.kind == "read":
        line(f"status, created = self.api({create}, {collection}, {_py(first)})")
        line("self.assertEqual(status, 201, created)")
        line(f'item = self.path_of({item_path}, created["id"])')
        line('self.assertEqual(self.api("GET", item), (200, created))')
        line(f'status, error = self.api("GET", self.path_of({item_path}, created["id"] + 1000))')
        line("self.assertEqual(status, 404, error)")
        line("# the item outlives a restart of the backend (SQLite persistence)")
        line("self.backend.restart()")
        line('self.assertEqual(self.api("GET", item), (200, created))')
    elif plan.kind == "update":
        name = plan.update_field or fields[0].name
        target = next(field for field in fields if field.name == name)
        method = spec.method("update")
        new_value = sample_value(entity.name, target, 2)
        line(f"sent = {_py(first)}")
        line(f"status, created = self.api({create}, {collection}, sent)")
        line("self.assertEqual(status, 201, created)")
        line(f'item = self.path_of({item_path}, created["id"])')
        if method == "PUT":  # a full replacement
            line(f"change = {{**sent, {_py(name)}: {_py(new_value)}}}")
        else:
            line(f"change = {{{_py(name)}: {_py(new_value)}}}")
        line(f"status, updated = self.api({_py(method)}, item, change)")
        line("self.assertEqual(status, 200, updated)")
        line(f"self.assertEqual(updated, {{**created, {_py(name)}: {_py(new_value)}}})")
        stored("updated", "item", "updated")
        line(
            f"status, error = self.api({_py(method)}, "
            f'self.path_of({item_path}, created["id"] + 1000), change)'
        )
        line("self.assertEqual(status, 404, error)")
        line(
            f"status, error = self.api({_py(method)}, item, "
            f"{{**change, {_py(name)}: {_py(wrong_value(target))}}})"
        )
        line("self.assertEqual(status, 422, error)")
        line(f'self.assertIn({_py(name)}, str(error["detail"]))')
        restart_then("updated", "item", "updated", "the change")
    elif plan.kind == "delete":
        method = _py(spec.method("delete"))
        line(f"status, gone = self.api({create}, {collection}, {_py(first)})")
        line("self.assertEqual(status, 201, gone)")
        line(f"status, kept = self.api({create}, {collection}, {_py(second)})")
        line("self.assertEqual(status, 201, kept)")
        line(f'item = self.path_of({item_path}, gone["id"])')
        line(f"self.assertEqual(self.api({method}, item), (204, None))")
        if can_read:
            line('status, error = self.api("GET", item)')
            line("self.assertEqual(status, 404, error)")
            if not can_list:
                line(f'kept_item = self.path_of({item_path}, kept["id"])')
        stored("kept", "kept_item" if can_read else None, "kept")
        line(f"status, error = self.api({method}, item)")
        line("self.assertEqual(status, 404, error)")
        restart_then("kept", "kept_item" if can_read else None, "kept", "the deletion")
    elif plan.kind == "list":
        line(f"status, first = self.api({create}, {collection}, {_py(first)})")
        line("self.assertEqual(status, 201, first)")
        line(f"status, second = self.api({create}, {collection}, {_py(second)})")
        line("self.assertEqual(status, 201, second)")
        names = ["first", "second"]
        if plan.list_parameters:
            query: dict[str, str] = {}
            for parameter in plan.list_parameters:
                value = _WORDS[1] if parameter == "q" else first[parameter]
                query[parameter] = str(value).lower() if isinstance(value, bool) else str(value)
            # Decoys: items that match every criterion but one, so each parameter must really filter.
            decoys: list[tuple[str, dict[str, Any]]] = []
            filters = [parameter for parameter in plan.list_parameters if parameter != "q"]
            if len(plan.list_parameters) > 1:
                for parameter in filters:
                    field = next(f for f in fields if f.name == parameter)
                    decoys.append(
                        (parameter, {**first, parameter: other_value(entity.name, field, first[parameter])})
                    )
                if "q" in plan.list_parameters:
                    decoy = {**second, **{parameter: first[parameter] for parameter in filters}}
                    if not any(isinstance(v, str) and _WORDS[1] in v for v in decoy.values()):
                        decoys.append(("q", decoy))
            for index, (parameter, body) in enumerate(decoys, start=1):
                line(
                    f"# differs from the first only in {'the search text' if parameter == 'q' else parameter}"
                )
                line(f"status, decoy{index} = self.api({create}, {collection}, {_py(body)})")
                line(f"self.assertEqual(status, 201, decoy{index})")
                names.append(f"decoy{index}")
        everything = ", ".join(names)
        line(f'self.assertEqual(self.api("GET", {collection}), (200, [{everything}]))')
        if plan.list_parameters:
            url = f"{spec.collection_path}?{urlencode(query)}"
            line(f"# only the item matching {', '.join(plan.list_parameters)}")
            line(f'self.assertEqual(self.api("GET", {_py(url)}), (200, [first]))')
        line("# the items outlive a restart of the backend (SQLite persistence)")
        line("self.backend.restart()")
        line(f'self.assertEqual(self.api("GET", {collection}), (200, [{everything}]))')
    criterion = plan.criterion
    doc = _doc(
        f"Covers: {story.id} {criterion.id}. "
        f"Given {criterion.given}, when {criterion.when}, then {criterion.then}."
    )
    body = "\n".join(f"        {text}" for text in lines)
    return f'    def {test_name(story.id, criterion.id)}(self):\n        """{doc}"""\n{body}\n'


def render_test_module(
    story: UserStory,
    methods: Sequence[str],
    uncovered: Sequence[UncoveredCriterion],
    root: Path = TEMPLATES,
) -> str:
    not_covered = "".join(f"- {item.criterion_id}: {_doc(item.reason)}\n" for item in uncovered)
    note = (
        f"\nNot covered here (the offline templates cannot implement them):\n{not_covered}"
        if uncovered
        else ""
    )
    return string.Template(_template(STORY_TESTS, root)).substitute(
        story_id=story.id,
        title=_doc(story.title),
        as_a=_doc(story.as_a),
        i_want=_doc(story.i_want),
        so_that=_doc(story.so_that),
        generator=GENERATOR_VERSION,
        note=note,
        test_class=story_class(story.id),
        methods="\n".join(methods),
    )


# ---------------------------------------------------------------------------------------------
# The story's change


def find_story(requirements: RequirementsSet, story_id: str) -> UserStory:
    for story in requirements.stories:
        if story.id == story_id:
            return story
    raise GenerationError(f"no story {story_id!r} in the requirements of {requirements.project!r}")


def skeleton_missing(tree: Mapping[str, str]) -> bool:
    return MANIFEST_PATH not in tree or "backend/app/server.py" not in tree


def input_hash(
    architecture: Architecture,
    requirements: RequirementsSet,
    story: UserStory,
    tree: Mapping[str, str],
    templates: Path = TEMPLATES,
) -> str:
    """The build key of one story: generator and templates, design, story content and base tree."""
    return content_hash(
        {
            "generator": GENERATOR_VERSION,
            "templates": story_templates_hash(architecture, requirements, story.id, templates),
            "architecture": architecture.data_version(),
            "story": story.model_dump(mode="json", exclude={"traces"}),
            "tree": tree_hash(tree),
        }
    )


def generate_story_changes(
    architecture: Architecture,
    requirements: RequirementsSet,
    story_id: str,
    current_tree: Mapping[str, str],
    templates: Path = TEMPLATES,
) -> StoryChangeSet:
    """The files story `story_id` adds or changes on top of `current_tree` (path -> text), with the
    criteria its tests cover and those it cannot, each with the reason (templates from `templates`)."""
    story = find_story(requirements, story_id)
    laid_skeleton = skeleton_missing(current_tree)
    manifest = Manifest.read(current_tree, architecture.project) or Manifest(project=architecture.project)
    operations = contract_operations(architecture)
    by_key = {(op.entity, op.kind): op for op in operations}
    own = story_operations(architecture, story, operations)

    plans: list[CriterionPlan] = []
    uncovered: list[UncoveredCriterion] = []
    for criterion in story.acceptance_criteria:
        plan = plan_criterion(architecture, story, criterion, own, operations)
        if isinstance(plan, str):
            uncovered.append(UncoveredCriterion(story_id=story.id, criterion_id=criterion.id, reason=plan))
        else:
            plans.append(plan)

    before = manifest.enabled()
    enabled_keys: list[tuple[str, str]] = [(op.entity, op.kind) for op in own]
    for plan in plans:
        kind = "create" if plan.kind == "validate" else plan.kind
        wanted: list[str] = [kind, *plan.needs]
        readable = [k for k in ("list", "read") if (plan.entity, k) in by_key]
        if readable and not any(
            (plan.entity, k) in before or (plan.entity, k) in enabled_keys for k in readable
        ):
            wanted.append(readable[0])  # so the test can read back what it stored, also after a restart
        for needed in wanted:
            if (plan.entity, needed) in by_key and (plan.entity, needed) not in enabled_keys:
                enabled_keys.append((plan.entity, needed))
    record = {
        "id": story.id,
        "title": story.title,
        "spec_hash": story.content_hash or story.compute_hash(),
        "operations": [{"entity": entity, "kind": kind} for entity, kind in enabled_keys],
        "tests": test_file(story.id) if plans else None,
        "covered": [plan.criterion.id for plan in plans],
        "uncovered": {item.criterion_id: item.reason for item in uncovered},
    }
    stories = [entry for entry in manifest.stories if entry.get("id") != story.id]
    position = next(
        (i for i, entry in enumerate(manifest.stories) if entry.get("id") == story.id), len(stories)
    )
    stories.insert(position, record)
    manifest = Manifest(project=manifest.project, stories=stories)
    specs = resource_specs(architecture, operations, manifest.enabled())
    spec_of = {spec.entity.name: spec for spec in specs}

    files: dict[str, str | None] = {}
    for template, target in SKELETON_FILES.items():
        if laid_skeleton or target not in current_tree:
            files[target] = _template(template, templates)
    static = {
        "backend/app/__init__.py": '"""The generated backend."""\n',
        "backend/tests/__init__.py": "",
        "frontend/tests/__init__.py": "",
        "backend/requirements.txt": "# The backend uses the Python standard library only.\n",
        ".gitignore": "__pycache__/\n*.pyc\nbackend/data/\n",
    }
    for path, text in static.items():
        if laid_skeleton or path not in current_tree:
            files[path] = text
    # Derived files follow the design and the stories built so far: regenerated for every story.
    files["backend/openapi.json"] = json.dumps(architecture.openapi, indent=2, sort_keys=True) + "\n"
    files[".github/workflows/ci.yml"] = render_ci()
    for path in current_tree:
        if path.startswith("backend/app/resources/") and path.endswith(".py"):
            files[path] = None  # an entity no longer served; the ones still served are written below
    files["backend/app/resources/__init__.py"] = render_resources_package(specs)
    for spec in specs:
        files[f"backend/app/resources/{module_name(spec.entity.name)}.py"] = render_resource_module(spec)
    files["frontend/resources.js"] = render_resources_js(specs)
    files["frontend/index.html"] = render_index_html(architecture, specs)
    files["README.md"] = render_readme(architecture, manifest, specs)
    files[MANIFEST_PATH] = manifest.render()

    covered: list[CoveredCriterion] = []
    methods = []
    target_file = test_file(story.id)
    for plan in plans:
        spec = spec_of[plan.entity]
        methods.append(render_test_method(story, plan, spec))
        behaviour_op = by_key[(plan.entity, "create" if plan.kind == "validate" else plan.kind)]
        behaviour = (
            f"{plan.kind} {plan.entity} ({behaviour_op.label})"
            + (f" refusing a missing {plan.missing_field}" if plan.missing_field else "")
            + (f" by {', '.join(plan.list_parameters)}" if plan.list_parameters else "")
            + (f" setting {plan.update_field}" if plan.update_field else "")
        )
        covered.append(
            CoveredCriterion(
                story_id=story.id,
                criterion_id=plan.criterion.id,
                test=TestRef(
                    component="backend", file=target_file, name=test_name(story.id, plan.criterion.id)
                ),
                behaviour=behaviour,
            )
        )
    if methods:
        files[target_file] = render_test_module(story, methods, uncovered, templates)
    elif target_file in current_tree:
        files[target_file] = None  # a rebuilt story whose criteria no longer yield tests

    changes = [
        FileChange(path=path, content=text)
        for path, text in sorted(files.items())
        if current_tree.get(path) != text and not (text is None and path not in current_tree)
    ]
    enabled_labels = [by_key[key].label for key in enabled_keys]
    return StoryChangeSet(
        story_id=story.id,
        message=f"{story.id}: {story.title}" + (" (with the application skeleton)" if laid_skeleton else ""),
        files=changes,
        laid_skeleton=laid_skeleton,
        operations=enabled_labels,
        covered_criteria=covered,
        uncovered_criteria=uncovered,
        input_hash=input_hash(architecture, requirements, story, current_tree, templates),
    )
