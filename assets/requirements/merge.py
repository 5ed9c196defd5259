"""Merge the draft stories of every document into one RequirementsSet with stable ids.

Pure and deterministic: the same documents and previous set always give the same stories, ids,
dependencies and hashes, whatever order the documents come in.

- Duplicates across documents are merged when the content words of their want-clauses (stemmed,
  function words dropped) have a Jaccard similarity of at least `MERGE_THRESHOLD`; every trace is
  kept.
- A story's id is `US-` + a short hash of its normalised want-clause, so it does not depend on
  which document said it or where. When the previous set had a story that no longer appears but
  a new story stands at one of its traces (same document and location), the new story takes the
  old id: an edited requirement keeps its id while its content hash changes.
- Dependencies come from rules: a story acting on an entity depends on the story that creates it,
  and "after/once/requires ..." clauses point at the story they name. Edges that would close a
  cycle are dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from assets.documents.models import DocumentRecord, Location, ParsedDocument
from assets.requirements.extraction import (
    DEFAULT_SO_THAT,
    PRIORITY_RANK,
    DraftStory,
    ExtractedStories,
    derive_criterion,
    title_of,
)
from assets.requirements.language import content_tokens, jaccard, verb_objects
from assets.requirements.models import (
    AcceptanceCriterion,
    ExcludedStatement,
    RequirementsSet,
    Trace,
    UserStory,
)
from pipeline_core.hashing import content_hash

# Paraphrases of one need ("export the tasks of a project to a CSV file" / "export a project's tasks
# as CSV": 0.8) stay above it; distinct needs on the same entity ("assign a task to a colleague" /
# "delete a task": 0.25; "filter tasks by assignee and status" / "search tasks by keyword": 0.17)
# stay far below. tests/test_requirements.py checks both sides.
MERGE_THRESHOLD = 0.6
# An "after/once/requires <clause>" reference names the story whose want-clause covers this share of
# the clause's content words ("once tasks can be assigned" -> "assign a task to a colleague": 1.0).
REFERENCE_COVERAGE = 0.75
ID_HASH_LENGTH = 6
MAX_QUOTE = 500

SourceRef = DocumentRecord | tuple[str, str]
PerDocument = tuple[SourceRef, ParsedDocument, ExtractedStories]

_REFERENCE = re.compile(
    r"\b(?:after|once|requires?|required|depends on|following)\b\s+(?P<clause>[^,.;:!?]+)", re.IGNORECASE
)
_STORY_ID = re.compile(r"\bUS-[0-9a-f]{6,64}\b")


def location_key(location: Location) -> tuple[int, int, str, str, str]:
    """Orders locations the way a reader meets them (page, line, time, speaker)."""
    return (
        -1 if location.page is None else location.page,
        -1 if location.line is None else location.line,
        location.start or "",
        location.end or "",
        location.speaker or "",
    )


def trace_key(trace: Trace) -> tuple:
    return (trace.document, location_key(trace.location), trace.quote)


def want_tokens(i_want: str, fallback: str = "") -> frozenset[str]:
    """The normalised want-clause: what duplicate detection and story ids are computed from."""
    return content_tokens(i_want) or content_tokens(fallback)


def natural_story_id(tokens: frozenset[str], length: int = ID_HASH_LENGTH) -> str:
    return "US-" + content_hash(" ".join(sorted(tokens)), length=length)


@dataclass
class _Candidate:
    draft: DraftStory
    trace: Trace
    tokens: frozenset[str]
    order: tuple


@dataclass
class _Cluster:
    members: list[_Candidate]
    representative: _Candidate = field(init=False)

    def __post_init__(self) -> None:
        # The draft that says most (explicit criteria), then the first one met in reading order.
        self.members.sort(key=lambda member: member.order)
        self.representative = min(
            self.members, key=lambda member: (-len(member.draft.acceptance_criteria), member.order)
        )

    @property
    def order(self) -> tuple:
        return self.members[0].order

    @property
    def places(self) -> set[tuple[str, tuple]]:
        return {(member.trace.document, location_key(member.trace.location)) for member in self.members}


def merge_stories(
    per_document: Sequence[PerDocument], previous: RequirementsSet | None, *, project: str
) -> RequirementsSet:
    """All documents' draft stories merged, with stable ids, criteria ids, dependencies and hashes."""
    candidates: list[_Candidate] = []
    excluded: dict[tuple, ExcludedStatement] = {}
    for ref, doc, extracted in per_document:
        path, version = _source(ref, doc)
        for position, draft in enumerate(extracted.stories):
            location = locate(doc, draft.segment, draft.quote)
            quote = _quote(doc, draft.segment, draft.quote)
            if draft.priority == "Won't":  # MoSCoW's "won't have (this time)" is a scope decision
                statement = ExcludedStatement(
                    document=path, location=location, text=quote, reason="priority Won't (not this release)"
                )
                excluded.setdefault((path, location_key(location), statement.text), statement)
                continue
            trace = Trace(document=path, version=version, location=location, quote=quote)
            tokens = want_tokens(draft.i_want, draft.title or draft.quote)
            candidates.append(
                _Candidate(draft, trace, tokens, (path, location_key(location), draft.segment, position))
            )
        for exclusion in extracted.excluded:
            statement = ExcludedStatement(
                document=path,
                location=locate(doc, exclusion.segment, exclusion.text),
                text=_one_line(exclusion.text)[:MAX_QUOTE],
                reason=_one_line(exclusion.reason) or "out of scope",
            )
            excluded.setdefault((path, location_key(statement.location), statement.text), statement)

    clusters = sorted(_cluster(candidates), key=lambda cluster: cluster.order)
    ids = _assign_ids(clusters, previous)
    stories = [_story(cluster, ids[index]) for index, cluster in enumerate(clusters)]
    stories.sort(key=lambda story: (PRIORITY_RANK[story.priority], trace_key(story.traces[0]), story.id))
    dependencies = infer_dependencies(stories)
    finished = []
    for story in stories:
        story = story.model_copy(update={"depends_on": dependencies.get(story.id, [])})
        finished.append(story.model_copy(update={"content_hash": story.compute_hash()}))
    return RequirementsSet(
        project=project,
        stories=finished,
        excluded=[excluded[key] for key in sorted(excluded)],
    )


def _source(ref: SourceRef, doc: ParsedDocument) -> tuple[str, str]:
    if isinstance(ref, DocumentRecord):
        return ref.path, ref.current.content_hash or ""
    path, version = ref
    return path or doc.path, version


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _find_segment(doc: ParsedDocument, segment: int, quote: str) -> int | None:
    """The 0-based index of the cited segment; by the quote when the citation is out of range."""
    if 1 <= segment <= len(doc.segments):
        return segment - 1
    needle = _one_line(quote)[:60]
    for index, candidate in enumerate(doc.segments):
        if needle and needle in _one_line(candidate.text):
            return index
    return None


def locate(doc: ParsedDocument, segment: int, quote: str) -> Location:
    """The location of a cited segment, moved to the quote's own line inside a multi-line segment."""
    index = _find_segment(doc, segment, quote)
    if index is None:
        return Location()
    found = doc.segments[index]
    location = found.location.model_copy()
    if location.line is not None:
        location.line += _line_offset(found.text, quote)
    return location


def _line_offset(text: str, quote: str) -> int:
    """The line of `text` where `quote` starts, even when the quote was unwrapped from several lines."""
    needle = _one_line(quote)[:60]
    lines = text.splitlines()
    if not needle or len(lines) < 2:
        return 0
    for offset in range(len(lines) - 1, -1, -1):
        if needle in _one_line(" ".join(lines[offset:])):
            return offset
    return 0


def _quote(doc: ParsedDocument, segment: int, quote: str) -> str:
    text = _one_line(quote)
    if not text:
        index = _find_segment(doc, segment, quote)
        text = _one_line(doc.segments[index].text) if index is not None else ""
    return text[:MAX_QUOTE]


def _cluster(candidates: list[_Candidate]) -> list[_Cluster]:
    """Union of every pair at or above the threshold (order-independent, unlike greedy grouping)."""
    parent = list(range(len(candidates)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    by_token: dict[str, list[int]] = defaultdict(list)
    for index, candidate in enumerate(candidates):
        for token in candidate.tokens:
            by_token[token].append(index)
    for index, candidate in enumerate(candidates):
        neighbours = {other for token in candidate.tokens for other in by_token[token] if other > index}
        for other in sorted(neighbours):
            second = candidates[other]
            if (
                jaccard(candidate.tokens, second.tokens) >= MERGE_THRESHOLD
                and not _other_states(candidate.draft.i_want, second.draft.i_want)
                and not _other_actions(candidate, second)
            ):
                parent[root(other)] = root(index)
    groups: dict[int, list[_Candidate]] = defaultdict(list)
    for index, candidate in enumerate(candidates):
        groups[root(index)].append(candidate)
    return [_Cluster(members) for members in groups.values()]


# "mark the item as repaired" / "mark the item as beyond repair": one verb, two states to reach.
_STATE = re.compile(r"\b(?:mark|flag|set|move|change)\b.*?\b(?:as|to)\s+(?P<state>[^,.;]+)", re.IGNORECASE)


def _other_actions(one: _Candidate, other: _Candidate) -> bool:
    """Two stories of one document that ask different people, or for different actions, on the same
    thing ("As an admin, add recycling center information" / "As a superuser, update ..."): the
    writer listed both, so both stay."""
    if one.trace.document != other.trace.document:
        return False
    first, second = _leading_verb(one.draft.i_want), _leading_verb(other.draft.i_want)
    return (bool(first and second) and first != second) or one.draft.as_a != other.draft.as_a


def _leading_verb(want: str) -> str:
    tokens = re.findall(r"[a-z]+", want.lower())
    tokens = tokens[1:] if tokens[:1] == ["to"] else tokens
    return tokens[0] if tokens else ""


def _other_states(one: str, other: str) -> bool:
    """True when both wants put a thing into a state and the states differ: two stories, not one."""
    first, second = _STATE.search(one), _STATE.search(other)
    return bool(first and second) and content_tokens(first["state"]) != content_tokens(second["state"])


def _assign_ids(clusters: list[_Cluster], previous: RequirementsSet | None) -> list[str]:
    """Previous ids for the same want-clause, then previous ids at the same trace, then new ids."""
    ids: list[str | None] = [None] * len(clusters)
    old = list(previous.stories) if previous else []
    old_tokens = {story.id: want_tokens(story.i_want, story.title) for story in old}
    used: set[str] = set()

    for index, cluster in enumerate(clusters):
        token_sets = [cluster.representative.tokens] + [member.tokens for member in cluster.members]
        for tokens in token_sets:
            match = next((s.id for s in old if s.id not in used and old_tokens[s.id] == tokens), None)
            if match:
                ids[index] = match
                used.add(match)
                break

    for index, cluster in enumerate(clusters):
        if ids[index] is not None:
            continue
        places = cluster.places
        ranked = []
        for story in old:
            if story.id in used:
                continue
            shared = len(places & {(t.document, location_key(t.location)) for t in story.traces})
            if shared:
                similarity = jaccard(cluster.representative.tokens, old_tokens[story.id])
                ranked.append((-shared, -similarity, story.id))
        if ranked:
            match = min(ranked)[2]
            ids[index] = match
            used.add(match)

    reserved = used | {story.id for story in old}
    for index, cluster in enumerate(clusters):
        if ids[index] is not None:
            continue
        tokens = cluster.representative.tokens
        length, story_id = ID_HASH_LENGTH, natural_story_id(tokens)
        while story_id in reserved and length < 64:
            length += 2
            story_id = natural_story_id(tokens, length)
        suffix = 2
        base = story_id
        while story_id in reserved:
            story_id, suffix = f"{base}-{suffix}", suffix + 1
        ids[index] = story_id
        reserved.add(story_id)
    return [story_id for story_id in ids if story_id is not None]


def _story(cluster: _Cluster, story_id: str) -> UserStory:
    draft = cluster.representative.draft
    i_want = _one_line(draft.i_want) or _one_line(draft.title)
    criteria = draft.acceptance_criteria or [derive_criterion(draft)]
    traces = {trace_key(member.trace): member.trace for member in cluster.members}
    return UserStory(
        id=story_id,
        title=_one_line(draft.title) or title_of(i_want),
        as_a=_one_line(draft.as_a) or "user",
        i_want=i_want,
        so_that=_one_line(draft.so_that) or DEFAULT_SO_THAT,
        acceptance_criteria=[
            AcceptanceCriterion(
                id=f"AC{number}",
                given=_one_line(criterion.given),
                when=_one_line(criterion.when),
                then=_one_line(criterion.then),
            )
            for number, criterion in enumerate(criteria, start=1)
        ],
        priority=min((member.draft.priority for member in cluster.members), key=PRIORITY_RANK.__getitem__),
        traces=[traces[key] for key in sorted(traces)],
    )


def infer_dependencies(stories: list[UserStory]) -> dict[str, list[str]]:
    """Story id -> ids it depends on, by the entity and reference rules; never a cycle.

    Candidate edges are considered in the stories' order and an edge that would close a cycle is
    left out, so the result is a DAG and the same for the same input.
    """
    ids = [story.id for story in stories]
    known = set(ids)
    creates: dict[str, set[str]] = {}
    acts_on: dict[str, set[str]] = {}
    for story in stories:
        actions = verb_objects(story.i_want)
        creates[story.id] = {a.noun for a in actions if a.operation == "create" and a.verb != "comment"}
        creates[story.id] |= {"comment" for a in actions if a.verb == "comment"}
        acts_on[story.id] = {a.noun for a in actions}
    creator: dict[str, str] = {}
    for story_id in ids:
        for noun in sorted(creates[story_id]):
            creator.setdefault(noun, story_id)

    tokens = {story.id: want_tokens(story.i_want, story.title) for story in stories}
    candidates: dict[str, list[str]] = {story_id: [] for story_id in ids}
    for story in stories:
        wanted = candidates[story.id]
        for noun in sorted(acts_on[story.id] - creates[story.id]):
            if noun in creator:
                wanted.append(creator[noun])
        texts = [story.i_want, story.so_that, *(trace.quote for trace in story.traces)]
        for text in texts:
            wanted.extend(found for found in _STORY_ID.findall(text) if found in known)
            for reference in _REFERENCE.finditer(text):
                clause = content_tokens(reference["clause"])
                if len(clause) < 2:  # "once it is finished" names no story
                    continue
                scored = []
                for position, other in enumerate(ids):
                    if other != story.id:
                        coverage = len(clause & tokens[other]) / len(clause)
                        scored.append((coverage, jaccard(clause, tokens[other]), -position, other))
                best = max(scored, default=None)
                if best is not None and best[0] >= REFERENCE_COVERAGE:
                    wanted.append(best[3])

    edges: dict[str, list[str]] = {story_id: [] for story_id in ids}

    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(edges[node])
        return False

    for story_id in ids:
        for target in candidates[story_id]:
            if target == story_id or target in edges[story_id] or reaches(target, story_id):
                continue
            edges[story_id].append(target)
    order = {story_id: index for index, story_id in enumerate(ids)}
    return {
        story_id: sorted(targets, key=order.__getitem__) for story_id, targets in edges.items() if targets
    }
