"""Measure the offline provider on text nobody tuned for: run a corpus project, score it.

A project is a folder of requirement documents with an `expected.json` written by a person before
anything ran (`tests/quality_corpus/<slug>/`), or a real document set of `../shared/corpus/` with its
expectations in `tests/quality_corpus/_shared/<slug>.json` (stories expected there are the gold
list). `run_project` drops the documents into a fresh data folder and runs documents ->
requirements -> architecture -> story_builds -> validations in-process; `score_project` compares
what came out with what a person expects:

- stories: each expected story is a few key words (`"a|b"` is either word) that one story's title
  or want must all contain (word stems, so "book" matches "booking"); gold stories match when most
  of their want's content words appear. Matching is one to one; unmatched found stories are
  spurious. Out-of-scope texts and filler ("{vocalsound}", "um", "+1") must appear in no story.
- entities by name (case, plural and aliases ignored, "RecyclingFacility" matches "Facility"),
  their fields by name (and type where the text makes it clear), operations from the contract
  (CRUD, transitions by verb, searches by query parameter, summaries);
- acceptance criteria covered by passing tests (from `validations`), whether the generated tests
  pass, and, with the generated backend started from the tree by its manifest in the sandbox,
  whether it serves create/read/update/list/delete for each expected entity and refuses a create
  without a required field (4xx) and a read of an unknown id (404).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import BaseModel, Field

from assets.architecture.models import Architecture, Entity
from assets.architecture.openapi import iter_operations as iter_contract
from assets.requirements.models import RequirementsSet, UserStory
from assets.story_builds.models import StoryBuildsSet
from assets.validations.install import ComponentEnvironment, install_component
from assets.validations.models import ValidationReport
from assets.validations.openapi_schemas import resolve, sample_value
from assets.validations.sandbox import run_tests_in_sandbox
from pipeline_core.repository.manifest import MANIFEST_PATH, ComponentSpec, ManifestError, parse_manifest
from pipeline_core.settings import Settings
from resources.forge.local import LocalForge
from resources.hosting.local import stop_releases_under
from tests.support.pipeline import PipelineHarness

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / "tests" / "quality_corpus"
SHARED_EXPECTATIONS = CORPUS / "_shared"
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
PROBE = Path(__file__).resolve().parent / "quality_probe.py"
PROBE_FOLDER = ".ai-pipeline-quality"
CRUD = ("create", "read", "update", "list", "delete")
HTTP_CHECKS = (*CRUD, "refuses_missing_field", "missing_id_404")
# Beyond CRUD, where the contract has them: every reachable transition moves the state, one not
# allowed from the current state is refused with 409, list filters and `q` find the record and
# leave out what does not match, every summary answers rows of {group, value}.
BEHAVIOUR_CHECKS = ("transitions", "transition_refused", "search", "summaries")
# Never part of a story a person wrote: disfluency tags, filler words, chat acknowledgements.
FILLER = re.compile(
    r"\{(?:vocalsound|disfmarker|gap|nonvocalsound)\}|\b(?:um+|uh+|erm|you know)\b|(?:^|\s)\+1\b", re.I
)
STOPWORDS = frozenset(
    "a an the to be able i want my me of and or for in on at with by from so that as is are it its this "
    "these those can could would should will all any each their they them our we us his her into about "
    "up out not no do get have has more some other own also which who what when where how there than "
    "such successfully then".split()
)


def shared_corpus_root() -> Path | None:
    """`../shared/corpus` of the checkout (or PIPELINE_SHARED_CORPUS): the nearest ancestor that has it."""
    configured = os.environ.get("PIPELINE_SHARED_CORPUS")
    if configured:
        return Path(configured) if Path(configured).is_dir() else None
    for parent in REPO_ROOT.parents:
        candidate = parent / "shared" / "corpus"
        if candidate.is_dir():
            return candidate
    return None


# ---------------------------------------------------------------------------------------------
# What a person expects


class ExpectedStory(BaseModel):
    keys: list[str] = Field(default_factory=list, description="words the title or want must contain")
    text: str = Field("", description="a gold story: matched by most of its want's content words")
    priority: str | None = None

    def label(self) -> str:
        return self.text[:80] if self.text else " + ".join(self.keys)


class ExpectedEntity(BaseModel):
    name: str
    aliases: list[str] = Field(default_factory=list)
    fields: dict[str, str] = Field(default_factory=dict, description="'name|alt' -> 'type|alt' ('' any)")
    required: list[str] = Field(default_factory=list)
    operations: list[str] = Field(default_factory=list)


class Expected(BaseModel):
    summary: str = ""
    styles: list[str] = Field(default_factory=list)
    stories: list[ExpectedStory] = Field(default_factory=list)
    entities: list[ExpectedEntity] = Field(default_factory=list)
    not_stories: list[str] = Field(default_factory=list)
    max_stories: int | None = None
    held_out: bool = Field(False, description="kept off main until the final measurement")


class Project(BaseModel):
    slug: str
    documents: list[Path]
    expected: Expected
    shared: bool = False


def _expected(data: dict[str, Any], base: Path | None) -> Expected:
    stories = [
        ExpectedStory(keys=item) if isinstance(item, list) else ExpectedStory.model_validate(item)
        for item in data.get("stories", [])
    ]
    if data.get("gold") and base is not None:
        gold = json.loads((base / data["gold"]).read_text(encoding="utf-8"))
        stories += [ExpectedStory(text=text) for text in gold["stories"]]
    return Expected.model_validate({**data, "stories": [story.model_dump() for story in stories]})


def load_projects(include_shared: bool = True) -> list[Project]:
    """Every project of the corpus, then the shared real documents (when `../shared/corpus` exists)."""
    projects = []
    for folder in sorted(
        path for path in CORPUS.iterdir() if path.is_dir() and not path.name.startswith("_")
    ):
        documents = sorted(
            path for path in folder.iterdir() if path.is_file() and path.name != "expected.json"
        )
        data = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
        projects.append(Project(slug=folder.name, documents=documents, expected=_expected(data, None)))
    shared = shared_corpus_root() if include_shared else None
    if shared is not None:
        for spec in sorted(SHARED_EXPECTATIONS.glob("*.json")):
            data = json.loads(spec.read_text(encoding="utf-8"))
            documents = [shared / name for name in data.get("documents", [])]
            if all(path.is_file() for path in documents):
                projects.append(
                    Project(
                        slug=spec.stem, documents=documents, expected=_expected(data, shared), shared=True
                    )
                )
    return projects


# ---------------------------------------------------------------------------------------------
# Words


def stem(word: str) -> str:
    word = word.lower()
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("shes", "sh"), ("ches", "ch"), ("xes", "x")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def stems(text: str) -> list[str]:
    return [stem(word) for word in re.findall(r"[a-z0-9]+", text.lower())]


def _key_in(key: str, found: Sequence[str]) -> bool:
    """One expected key word ('a|b') against the stems of a story's words (prefix: remind ~ reminder)."""
    options = [stems(option) for option in key.split("|")]
    for option in options:
        if not option:
            continue
        if len(option) == 1 and any(word.startswith(option[0]) for word in found):
            return True
        joined = " ".join(found)
        if len(option) > 1 and " ".join(option) in joined:
            return True
    return False


def story_text(story: UserStory) -> str:
    return f"{story.title} {story.i_want}"


def story_matches(expected: ExpectedStory, story: UserStory) -> bool:
    found = stems(story_text(story))
    if expected.text:
        want = re.split(r"\bso that\b|\bso\b", expected.text.split("want", 1)[-1], maxsplit=1)[0]
        wanted = [word for word in stems(want) if word not in STOPWORDS and len(word) > 1]
        if not wanted:
            return False
        hits = sum(1 for word in wanted if _key_in(word, found))
        return hits / len(wanted) >= 0.6
    return bool(expected.keys) and all(_key_in(key, found) for key in expected.keys)


def one_to_one(expected: Sequence[Any], found: Sequence[Any], matches: Any) -> dict[int, int]:
    """Maximum bipartite matching expected index -> found index (augmenting paths)."""
    edges = [[j for j, item in enumerate(found) if matches(want, item)] for want in expected]
    owner: dict[int, int] = {}

    def assign(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or assign(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        assign(i, set())
    return {i: j for j, i in owner.items()}


def norm_name(name: str) -> str:
    """'StockMovements', 'stock_movement', 'Stock movement' -> 'stockmovement'."""
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("xes", "x")):
        if flat.endswith(suffix):
            return flat[: -len(suffix)] + replacement
    return flat[:-1] if flat.endswith("s") and not flat.endswith("ss") else flat


def _pascal_words(name: str) -> list[str]:
    return [part.lower() for part in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)] or [name.lower()]


def entity_matches(expected: ExpectedEntity, entity: Entity, compound: bool = True) -> bool:
    """Same name or alias (case, plural ignored); `compound`: also 'RecyclingFacility' ~ 'Facility'."""
    names = {norm_name(name) for name in [expected.name, *expected.aliases]}
    if norm_name(entity.name) in names:
        return True
    words = _pascal_words(entity.name)
    return compound and len(words) > 1 and norm_name(words[-1]) in names


def match_entities(expected: Sequence[ExpectedEntity], model: Sequence[Entity]) -> dict[int, int]:
    """Expected index -> model index: exact names first, then compound names among the rest."""
    exact = one_to_one(expected, model, lambda want, entity: entity_matches(want, entity, compound=False))
    rest_expected = [i for i in range(len(expected)) if i not in exact]
    taken = set(exact.values())
    rest_model = [j for j in range(len(model)) if j not in taken]
    compound = one_to_one(
        [expected[i] for i in rest_expected], [model[j] for j in rest_model], entity_matches
    )
    return exact | {rest_expected[i]: rest_model[j] for i, j in compound.items()}


def field_names(option: str) -> set[str]:
    out = set()
    for name in option.split("|"):
        flat = norm_name(name)
        out |= {flat, flat.removesuffix("id")} if flat.endswith("id") and len(flat) > 2 else {flat}
    return out


def find_field(entity: Entity, option: str) -> Any:
    wanted = field_names(option)
    for field in entity.fields:
        if field.name != "id" and (field_names(field.name) & wanted):
            return field
    return None


# ---------------------------------------------------------------------------------------------
# Running the pipeline on one project


class PipelineOutcome(BaseModel):
    """What the stages produced for one project (None where a stage did not materialise)."""

    model_config = {"arbitrary_types_allowed": True}

    slug: str
    run_success: bool
    failed_checks: list[str] = Field(default_factory=list, description="'asset:check', '(blocking)' if ERROR")
    failed_check_text: dict[str, str] = Field(default_factory=dict, description="what each failed check says")
    requirements: RequirementsSet | None = None
    architecture: Architecture | None = None
    builds: StoryBuildsSet | None = None
    validations: ValidationReport | None = None
    tree: dict[str, str] | None = None
    seconds: float = 0.0


def run_project(
    project: Project, workdir: Path, instance: dg.DagsterInstance, install_cache: Path | None = None
) -> PipelineOutcome:
    """Drop the project's documents into a fresh data folder and run the pipeline in-process.

    `install_cache`: where validations keeps installed component environments; shared between
    projects so that equal dependencies are installed once per measurement."""
    started = time.monotonic()
    inbox_copy = workdir / "documents" / project.slug
    inbox_copy.mkdir(parents=True, exist_ok=True)
    for document in project.documents:
        shutil.copy2(document, inbox_copy / document.name)
    settings = Settings(
        pipeline_data_dir=workdir / "var" / project.slug,
        pipeline_llm_provider="offline",
        pipeline_install_cache_dir=install_cache,
    )
    harness = PipelineHarness.create(settings, instance)
    harness.drop_folder(inbox_copy, project.slug)
    instance.add_dynamic_partitions("projects", [project.slug])
    job = harness.defs.resolve_job_def("project_pipeline")
    result = job.execute_in_process(
        partition_key=project.slug, instance=instance, raise_on_error=False, run_config=QUIET
    )
    failed = [
        f"{check.asset_key.to_user_string()}:{check.check_name}"
        + (" (blocking)" if check.severity == dg.AssetCheckSeverity.ERROR else "")
        for check in result.get_asset_check_evaluations()
        if not check.passed
    ]
    descriptions = {
        f"{check.asset_key.to_user_string()}:{check.check_name}": str(check.description or "")
        + " "
        + json.dumps({key: str(value.value) for key, value in check.metadata.items()})
        for check in result.get_asset_check_evaluations()
        if not check.passed
    }

    def value(asset: str, model: type[BaseModel]) -> Any:
        try:
            return harness.value(asset, project.slug, model)
        except Exception:  # not materialised: the stage failed or did not run
            return None

    outcome = PipelineOutcome(
        slug=project.slug,
        run_success=result.success,
        failed_checks=failed,
        failed_check_text=descriptions,
        requirements=value("requirements", RequirementsSet),
        architecture=value("architecture", Architecture),
        builds=value("story_builds", StoryBuildsSet),
        validations=value("validations", ValidationReport),
    )
    builds = outcome.builds
    if builds is not None and builds.integration_commit:
        forge = LocalForge(root=str(settings.pipeline_data_dir / "forge"))
        try:
            files = forge.read_tree(builds.repository, builds.integration_commit)
            outcome.tree = {path: data.decode("utf-8", "replace") for path, data in files.items()}
        except Exception:
            outcome.tree = None
    # The run deploys a preview that outlives it; a measurement leaves nothing running.
    stop_releases_under(settings.pipeline_data_dir)
    outcome.seconds = round(time.monotonic() - started, 2)
    return outcome


# ---------------------------------------------------------------------------------------------
# Operations in the contract


class EntityOperations(BaseModel):
    collection: str | None = None
    item: str | None = None
    kinds: dict[str, str] = Field(default_factory=dict, description="create/read/... -> METHOD")
    list_parameters: list[str] = Field(default_factory=list)
    transitions: list[str] = Field(default_factory=list, description="words of each transition path/op")
    summaries: list[str] = Field(default_factory=list)
    create_schema: Any = None
    update_schema: Any = None


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[-1])
        for child in node.values():
            found |= _refs(child)
    elif isinstance(node, list):
        for child in node:
            found |= _refs(child)
    return found


def entity_operations(document: Mapping[str, Any], entity: str) -> EntityOperations:
    """The contract's operations on `entity`, found by tag or schema, classified by shape."""
    out = EntityOperations()
    schemas = {entity, f"{entity}Input", f"{entity}Update", f"{entity}Create", f"{entity}Patch"}
    for path, item in sorted((document.get("paths") or {}).items()):
        if not isinstance(item, Mapping):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            if entity not in (op.get("tags") or []) and not (_refs(op) & schemas):
                continue
            segments = [part for part in path.split("/") if part]
            params = [i for i, part in enumerate(segments) if part.startswith("{")]
            tail = segments[params[-1] + 1 :] if params else []
            words = " ".join(
                re.findall(r"[A-Za-z][a-z]*", " ".join(tail) + " " + str(op.get("operationId", "")))
            )
            if not params:
                if method == "get" and len(segments) >= 2 and out.collection and path != out.collection:
                    out.summaries.append(path)
                elif method == "get" and _is_array(document, op):
                    out.collection = path
                    out.kinds["list"] = "GET"
                    out.list_parameters = [
                        str(p.get("name")) for p in op.get("parameters") or [] if isinstance(p, Mapping)
                    ]
                elif method == "post" and not _summary_words(words):
                    out.collection = out.collection or path
                    out.kinds["create"] = "POST"
                    out.create_schema = _body_schema(op)
                elif method == "get":
                    out.summaries.append(path)
            elif not tail:
                out.item = path
                kind = {"get": "read", "put": "update", "patch": "update", "delete": "delete"}.get(method)
                if kind and (kind != "update" or "update" not in out.kinds or method == "patch"):
                    out.kinds[kind] = method.upper()
                    if kind == "update":
                        out.update_schema = _body_schema(op)
            elif method in ("post", "put", "patch"):
                out.transitions.append(words.lower())
            elif method == "get":
                out.summaries.append(path)
    for path in document.get("paths") or {}:
        if (
            _summary_words(path)
            and out.collection
            and path.startswith(out.collection)
            and path not in out.summaries
        ):
            out.summaries.append(path)
    return out


def _summary_words(text: str) -> bool:
    return bool(re.search(r"summar|report|stat|total|count|dashboard|per[-_]", text.lower()))


def _is_array(document: Mapping[str, Any], op: Mapping[str, Any]) -> bool:
    for response in (op.get("responses") or {}).values():
        content = (resolve(document, response) or {}).get("content") or {}
        schema = resolve(document, (content.get("application/json") or {}).get("schema"))
        if isinstance(schema, Mapping) and (
            schema.get("type") == "array" or "array" in (schema.get("type") or []) or "items" in schema
        ):
            return True
        if isinstance(schema, Mapping) and "items" in (schema.get("properties") or {}):
            return True
    return False


def _body_schema(op: Mapping[str, Any]) -> Any:
    content = ((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
    return content.get("schema")


def operation_served(expected: str, entity: Entity, ops: EntityOperations) -> bool:
    """One expected operation ('create', 'transition:close', 'search:name|q', 'summary') in the contract."""
    kind, _, detail = expected.partition(":")
    if kind in CRUD:
        return kind in ops.kinds
    if kind == "transition":
        found = [stems(words) for words in ops.transitions]
        return any(_key_in(detail, words) for words in found)
    if kind == "search":
        wanted = field_names(detail)
        return any(field_names(name) & wanted for name in ops.list_parameters)
    if kind == "summary":
        return bool(ops.summaries)
    return False


# ---------------------------------------------------------------------------------------------
# Over HTTP: the generated backend started from its manifest, in the sandbox


def backend_start(tree: Mapping[str, str]) -> tuple[list[str], str, str, ComponentSpec | None] | None:
    """(argv with {port}, folder, health path, component) of the tree's backend, by its manifest.

    A tree whose manifest does not name a start command yet (the offline templates before the
    repository contract) is started the way validations started it: `python -m app` in backend/.
    """
    text = tree.get(MANIFEST_PATH)
    if text is not None:
        try:
            manifest = parse_manifest(text)
        except ManifestError:
            manifest = None
        if manifest is not None:
            for component in manifest.components:
                if component.kind == "backend" and component.start is not None:
                    return list(component.start.argv), component.path, component.health, component
    if "backend/app/__main__.py" in tree:
        argv = [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", "{port}"]
        return [*argv, "--db", "{db}", "--no-static"], "backend", "/api/health", None
    return None


def _reference_map(document: Mapping[str, Any], entity: Entity, known: Iterable[str]) -> dict[str, str]:
    """Field -> entity it refers to (`x-references`, data model `references`, else `<entity>_id`)."""
    names = {norm_name(name): name for name in known}
    schema = resolve(document, {"$ref": f"#/components/schemas/{entity.name}"}) or {}
    out = {}
    for field in entity.fields:
        prop = resolve(document, (schema.get("properties") or {}).get(field.name)) or {}
        if isinstance(prop, Mapping) and prop.get("x-references"):
            out[field.name] = str(prop["x-references"])
        elif field.type == "reference" and field.references:
            out[field.name] = field.references
        elif field.name.endswith("_id") and norm_name(field.name[:-3]) in names:
            out[field.name] = names[norm_name(field.name[:-3])]
    return out


def _plain_strings(document: Mapping[str, Any], schema: Any, body: Mapping[str, Any]) -> list[str]:
    """Fields of `body` that are free strings (no format, no enum): compared exactly after a write."""
    properties = (resolve(document, schema) or {}).get("properties") or {}
    out = []
    for name, value in body.items():
        prop = resolve(document, properties.get(name)) or {}
        if (
            isinstance(value, str)
            and isinstance(prop, Mapping)
            and not prop.get("format")
            and not prop.get("enum")
        ):
            out.append(name)
    return out


def _body(document: Mapping[str, Any], schema: Any, refs: Mapping[str, str], variant: int) -> dict[str, Any]:
    value = sample_value(document, schema, variant=variant) if schema is not None else {}
    body = dict(value) if isinstance(value, dict) else {}
    for name, target in refs.items():
        if name in body or name in ((resolve(document, schema) or {}).get("properties") or {}):
            body[name] = {"$id_of": target}
    return body


def _contract_operations(
    document: Mapping[str, Any], entity: str
) -> list[tuple[str, str, Mapping[str, Any]]]:
    out = []
    for path, item in sorted((document.get("paths") or {}).items()):
        for method, op in (item or {}).items() if isinstance(item, Mapping) else []:
            if isinstance(op, Mapping) and entity in (op.get("tags") or []):
                out.append((path, method, op))
    return out


def behaviour_plan(document: Mapping[str, Any], entity: Entity, ops: EntityOperations) -> dict[str, Any]:
    """What to exercise beyond CRUD, read from the contract: transitions (path, state field, from and
    to states), the list's filters (name, JSON type, allowed values) and text search, summaries."""
    schema = resolve(document, {"$ref": f"#/components/schemas/{entity.name}"}) or {}
    properties = schema.get("properties") or {}
    transitions, summaries, filters = [], [], []
    for path, method, op in _contract_operations(document, entity.name):
        if op.get("x-transition") and method == "post":
            field = str(op.get("x-state-field") or "status")
            prop = resolve(document, properties.get(field)) or {}
            states = [value for value in prop.get("enum") or [] if value is not None]
            transitions.append(
                {
                    "name": op["x-transition"],
                    "path": path,
                    "field": field,
                    "from": list(op.get("x-from-states") or []),
                    "to": op.get("x-to-state"),
                    "states": states,
                }
            )
        elif op.get("x-summary") and method == "get":
            summary = next((item for item in entity.summaries if item.name == op["x-summary"]), None)
            overall = summary is not None and summary.measure == "count" and not summary.where_field
            summaries.append({"name": op["x-summary"], "path": path, "counts_every_record": overall})
    for path, method, op in _contract_operations(document, entity.name):
        if path != ops.collection or method != "get":
            continue
        for parameter in op.get("parameters") or []:
            parameter = resolve(document, parameter) or {}
            name = str(parameter.get("name", ""))
            if not name or name == "sort" or parameter.get("in") != "query":
                continue
            prop = resolve(document, parameter.get("schema")) or {}
            kinds = prop.get("type")
            kind = next((k for k in kinds if k != "null"), "string") if isinstance(kinds, list) else kinds
            enum = [value for value in prop.get("enum") or [] if value is not None]
            filters.append(
                {"name": name, "type": kind or "string", "enum": enum, "format": prop.get("format")}
            )
    searched = [field.name for field in entity.fields if field.type in ("string", "text", "email")]
    return {"transitions": transitions, "summaries": summaries, "filters": filters, "q_fields": searched}


def http_plan(architecture: Architecture, wanted: Mapping[str, ExpectedEntity]) -> dict[str, Any]:
    """Per generated entity to probe: paths and bodies (variant 1 to create, 2 to update)."""
    document = architecture.openapi
    known = [entity.name for entity in architecture.data_model]
    entities: dict[str, Any] = {}
    for entity in architecture.data_model:
        ops = entity_operations(document, entity.name)
        if not ops.collection:
            continue
        refs = _reference_map(document, entity, known)
        create_body = _body(document, ops.create_schema, refs, 1)
        update_body: dict[str, Any] = {}
        if ops.update_schema is not None:
            candidate = _body(document, ops.update_schema, refs, 2)
            plain = {key: value for key, value in candidate.items() if key not in refs}
            strings = _plain_strings(document, ops.update_schema, plain)
            update_body = {strings[0]: plain[strings[0]]} if strings else dict(list(plain.items())[:1])
        schema = resolve(document, ops.create_schema) or {}
        required = [name for name in schema.get("required") or [] if name in create_body]
        missing = required[0] if required else None
        expected = wanted.get(entity.name)
        if missing is None and expected is not None:
            for option in expected.required:
                field = find_field(entity, option)
                if field is not None and field.name in create_body:
                    missing = field.name
                    break
        entities[entity.name] = {
            **behaviour_plan(document, entity, ops),
            "collection": ops.collection,
            "item": ops.item,
            "create": "create" in ops.kinds,
            "read": "read" in ops.kinds,
            "list": "list" in ops.kinds,
            "update": ops.kinds.get("update"),
            "delete": "delete" in ops.kinds,
            "body": create_body,
            "parent_body": _body(document, ops.create_schema, refs, 3),
            "fresh_bodies": [_body(document, ops.create_schema, refs, variant) for variant in (4, 5, 6)],
            "compare": _plain_strings(document, ops.create_schema, create_body),
            "update_body": update_body,
            "missing_field": missing,
        }
    return entities


class HttpResult(BaseModel):
    started: bool = False
    entities: dict[str, dict[str, bool | None]] = Field(default_factory=dict)
    detail: dict[str, dict[str, str]] = Field(default_factory=dict)
    behaviour: dict[str, dict[str, bool | None]] = Field(default_factory=dict)
    counts: dict[str, dict[str, tuple[int, int]]] = Field(
        default_factory=dict, description="entity -> check -> (held, tried): transitions one by one"
    )
    problem: str = ""


def probe_http(
    outcome: PipelineOutcome,
    wanted: Mapping[str, ExpectedEntity],
    install_cache: Path | None = None,
    timeout_s: float = 90.0,
) -> HttpResult:
    """Start the generated backend in the sandbox (in its installed environment) and exercise
    each wanted entity over HTTP."""
    if outcome.tree is None or outcome.architecture is None:
        return HttpResult(problem="no generated tree")
    start = backend_start(outcome.tree)
    if start is None:
        return HttpResult(problem="the tree names no backend to start")
    argv, folder, health, component = start
    environment = ComponentEnvironment()
    if component is not None:
        with tempfile.TemporaryDirectory(prefix="quality-install-") as fallback:
            cache = install_cache or Path(fallback)
            installed, found = install_component(outcome.tree, component, cache)
            if found is None:
                return HttpResult(problem=f"the backend's install failed: {installed.output_tail[-300:]}")
            environment = found
    entities = http_plan(outcome.architecture, wanted)
    order = [name for name in wanted if name in entities]
    if not order:
        return HttpResult(problem="no expected entity has a collection path in the contract")
    plan = {"argv": argv, "cwd": f"../{folder}" if folder != "." else "..", "health": health}
    plan["env"] = list(component.start.env) if component is not None and component.start else []
    plan |= {"entities": entities, "order": order}
    tree = dict(outcome.tree)
    tree[f"{PROBE_FOLDER}/probe.py"] = PROBE.read_text(encoding="utf-8")
    tree[f"{PROBE_FOLDER}/plan.json"] = json.dumps(plan)
    found_result: dict[str, Any] = {}

    def collect(run_dir: Path) -> None:
        result_file = run_dir / "result.json"
        if result_file.is_file():
            found_result.update(json.loads(result_file.read_text(encoding="utf-8")))

    run = run_tests_in_sandbox(
        tree,
        [sys.executable, "probe.py", "plan.json", "result.json"],
        timeout_s,
        cwd=PROBE_FOLDER,
        env=environment.env,
        path_prefix=environment.path_prefix,
        links=environment.links,
        collect=collect,
    )
    if not found_result:
        why = "time limit" if run.timed_out else f"exit {run.returncode}: {run.stderr_tail[-300:]}"
        return HttpResult(problem=f"the probe wrote no result ({why})")
    out = HttpResult(started=bool(found_result.get("started")))
    if not out.started:
        out.problem = "the backend did not start: " + str(found_result.get("log_tail", ""))[-300:]
    for name, item in (found_result.get("entities") or {}).items():
        checks = item["checks"]
        out.entities[name] = {key: value for key, value in checks.items() if key not in BEHAVIOUR_CHECKS}
        out.behaviour[name] = {key: checks.get(key) for key in BEHAVIOUR_CHECKS}
        out.counts[name] = {key: tuple(value) for key, value in (item.get("counts") or {}).items()}
        out.detail[name] = item["detail"]
    return out


# ---------------------------------------------------------------------------------------------
# The frontend: does the page offer every entity, transition and summary the contract serves?


class FrontendCoverage(BaseModel):
    shown: int = 0
    total: int = 0
    missing: list[str] = Field(default_factory=list)


def frontend_coverage(tree: Mapping[str, str] | None, document: Mapping[str, Any]) -> FrontendCoverage:
    """Each entity with a collection in the contract needs a section on the page (index.html) and
    an entry in the page's data (resources.js, what app.js draws from); each transition a button
    entry, each summary a table and an entry."""
    wanted: list[tuple[str, str, str]] = []  # (kind, entity, name)
    for op in iter_contract(document):
        tags = op.operation.get("tags") or []
        entity = str(tags[0]) if tags else ""
        if not entity or entity == "Health":
            continue
        if op.operation.get("x-transition"):
            wanted.append(("transition", entity, str(op.operation["x-transition"])))
        elif op.operation.get("x-summary"):
            wanted.append(("summary", entity, str(op.operation["x-summary"])))
        elif ("entity", entity, entity) not in wanted:
            wanted.append(("entity", entity, entity))
    out = FrontendCoverage(total=len(wanted))
    tree = tree or {}
    page = tree.get("frontend/index.html", "")
    data_text = tree.get("frontend/resources.js", "")
    try:
        data = json.loads(data_text.split("=", 1)[1].strip().rstrip(";")) if "=" in data_text else []
    except ValueError:
        data = []
    resources = {str(item.get("name")): item for item in data if isinstance(item, dict)}
    for kind, entity, name in wanted:
        resource = resources.get(entity) or {}
        if kind == "entity":
            ok = bool(resource) and f'data-resource="{entity}"' in page
        elif kind == "transition":
            ok = any(item.get("name") == name for item in resource.get("transitions") or [])
        else:
            ok = any(item.get("name") == name for item in resource.get("summaries") or [])
            ok = ok and f'data-summary="{name}"' in page
        if ok:
            out.shown += 1
        else:
            out.missing.append(f"{kind} {entity}" + (f".{name}" if kind != "entity" else ""))
    return out


# ---------------------------------------------------------------------------------------------
# The score


class EntityScore(BaseModel):
    expected: str
    matched: str | None = None
    fields_expected: int = 0
    fields_found: list[str] = Field(default_factory=list)
    fields_missing: list[str] = Field(default_factory=list)
    types_wrong: list[str] = Field(default_factory=list)
    operations_expected: list[str] = Field(default_factory=list)
    operations_missing: list[str] = Field(default_factory=list)
    http: dict[str, bool | None] = Field(default_factory=dict)
    http_detail: dict[str, str] = Field(default_factory=dict)
    behaviour: dict[str, bool | None] = Field(
        default_factory=dict, description="BEHAVIOUR_CHECKS over HTTP; None: the contract has none"
    )
    behaviour_counts: dict[str, tuple[int, int]] = Field(
        default_factory=dict, description="check -> (held, tried), e.g. transitions one by one"
    )

    @property
    def http_ok(self) -> bool:
        """CRUD served and both refusals (where the entity has a required field) over HTTP."""
        required = [
            check
            for check in HTTP_CHECKS
            if check != "refuses_missing_field" or self.http.get(check) is not None
        ]
        return bool(self.http) and all(self.http.get(check) for check in required)


class ProjectScore(BaseModel):
    slug: str
    shared: bool
    held_out: bool = False
    seconds: float
    run_success: bool
    failed_checks: list[str]
    stories_expected: int
    stories_found: int
    stories_matched: int
    stories_missing: list[str]
    stories_spurious: list[str]
    story_pairs: list[tuple[str, str]] = Field(default_factory=list, description="(expected, found title)")
    priorities_expected: int = Field(0, description="expected stories that name a priority")
    priorities_right: int = Field(0, description="of those, found with that priority")
    not_story_violations: list[str]
    max_stories: int | None = None
    entities: list[EntityScore]
    criteria_total: int = 0
    criteria_covered: int = 0
    matched_story_criteria: dict[str, tuple[int, int]] = Field(
        default_factory=dict, description="expected story label -> (criteria passing, criteria)"
    )
    app_tests_pass: bool = False
    http_started: bool = False
    http_problem: str = ""
    frontend: FrontendCoverage = Field(default_factory=FrontendCoverage)

    @property
    def story_recall(self) -> float:
        return self.stories_matched / self.stories_expected if self.stories_expected else 1.0

    @property
    def entities_matched(self) -> int:
        return sum(1 for entity in self.entities if entity.matched)

    @property
    def field_recall(self) -> float:
        wanted = sum(entity.fields_expected for entity in self.entities)
        return sum(len(entity.fields_found) for entity in self.entities) / wanted if wanted else 1.0

    @property
    def operations_expected(self) -> int:
        return sum(len(entity.operations_expected) for entity in self.entities)

    @property
    def operations_matched(self) -> int:
        return sum(
            len(entity.operations_expected) - len(entity.operations_missing) for entity in self.entities
        )

    @property
    def http_entities_ok(self) -> int:
        return sum(1 for entity in self.entities if entity.http_ok)


def score_project(
    project: Project, outcome: PipelineOutcome, http: bool = True, install_cache: Path | None = None
) -> ProjectScore:
    expected = project.expected
    stories = outcome.requirements.stories if outcome.requirements else []
    pairs = one_to_one(expected.stories, stories, story_matches)
    matched_found = set(pairs.values())
    violations = []
    for story in stories:
        text = f"{story.title} | {story.i_want} | {story.so_that}"
        for phrase in expected.not_stories:
            if phrase.lower() in text.lower():
                violations.append(f"{story.id} {story.title!r} contains {phrase!r}")
        if FILLER.search(text):
            violations.append(
                f"{story.id} {story.title!r} holds filler ({FILLER.search(text).group(0).strip()!r})"
            )
    coverage = outcome.validations.coverage if outcome.validations else []
    per_story: dict[str, tuple[int, int]] = {}
    for i, j in pairs.items():
        story = stories[j]
        items = [item for item in coverage if item.story_id == story.id]
        per_story[expected.stories[i].label()] = (
            sum(1 for item in items if item.status == "passed"),
            len(story.acceptance_criteria),
        )
    with_priority = [(i, j) for i, j in pairs.items() if expected.stories[i].priority]
    priorities_expected = sum(1 for story in expected.stories if story.priority)
    score = ProjectScore(
        slug=project.slug,
        shared=project.shared,
        held_out=expected.held_out,
        seconds=outcome.seconds,
        run_success=outcome.run_success,
        failed_checks=outcome.failed_checks,
        stories_expected=len(expected.stories),
        stories_found=len(stories),
        stories_matched=len(pairs),
        stories_missing=[story.label() for i, story in enumerate(expected.stories) if i not in pairs],
        stories_spurious=[f"{s.id} {s.title}" for j, s in enumerate(stories) if j not in matched_found],
        story_pairs=[(expected.stories[i].label(), stories[j].title) for i, j in sorted(pairs.items())],
        priorities_expected=priorities_expected,
        priorities_right=sum(
            1 for i, j in with_priority if stories[j].priority == expected.stories[i].priority
        ),
        not_story_violations=violations,
        max_stories=expected.max_stories,
        entities=[],
        criteria_total=sum(len(story.acceptance_criteria) for story in stories),
        criteria_covered=sum(1 for item in coverage if item.status == "passed"),
        matched_story_criteria=per_story,
        app_tests_pass=bool(outcome.validations and outcome.validations.tests_pass),
    )
    if outcome.architecture is not None:
        score.frontend = frontend_coverage(outcome.tree, outcome.architecture.openapi)
    model = outcome.architecture.data_model if outcome.architecture else []
    entity_pairs = match_entities(expected.entities, model)
    wanted: dict[str, ExpectedEntity] = {}
    for i, want in enumerate(expected.entities):
        entity_score = EntityScore(
            expected=want.name, fields_expected=len(want.fields), operations_expected=list(want.operations)
        )
        if i not in entity_pairs:
            entity_score.fields_missing = list(want.fields)
            entity_score.operations_missing = list(want.operations)
            score.entities.append(entity_score)
            continue
        entity = model[entity_pairs[i]]
        wanted[entity.name] = want
        entity_score.matched = entity.name
        for option, types in want.fields.items():
            field = find_field(entity, option)
            if field is None:
                entity_score.fields_missing.append(option)
                continue
            entity_score.fields_found.append(field.name)
            if types and field.type not in types.split("|"):
                entity_score.types_wrong.append(f"{field.name}: {field.type} (expected {types})")
        ops = entity_operations(outcome.architecture.openapi, entity.name) if outcome.architecture else None
        entity_score.operations_missing = [
            op for op in want.operations if ops is None or not operation_served(op, entity, ops)
        ]
        score.entities.append(entity_score)
    if http and wanted:
        result = probe_http(outcome, wanted, install_cache)
        score.http_started = result.started
        score.http_problem = result.problem
        for entity_score in score.entities:
            if entity_score.matched and entity_score.matched in result.entities:
                entity_score.http = result.entities[entity_score.matched]
                entity_score.http_detail = result.detail.get(entity_score.matched, {})
                entity_score.behaviour = result.behaviour.get(entity_score.matched, {})
                entity_score.behaviour_counts = result.counts.get(entity_score.matched, {})
    elif not wanted:
        score.http_problem = "no expected entity in the data model"
    return score


def measure(
    projects: Sequence[Project], workdir: Path, http: bool = True
) -> list[tuple[PipelineOutcome, ProjectScore]]:
    """Every project through the pipeline in this process (one Dagster instance), then scored."""
    out = []
    with dg.instance_for_test() as instance:
        for project in projects:
            cache = workdir / "install-cache"
            outcome = run_project(project, workdir / project.slug, instance, cache)
            out.append((outcome, score_project(project, outcome, http=http, install_cache=cache)))
    return out
