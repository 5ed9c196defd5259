"""The simple rules the stories state, read sentence by sentence into the domain model.

- allowed values: "priority can be low, medium or high", "status is one of open, done";
- required / unique: "a title is required", "each SKU must be unique";
- bounds: "stock never goes below zero", "a rating from 1 to 5", "at most 200 characters";
- transitions: "an order can be shipped only once it is paid" (ship from [paid]), "cannot be
  deleted once it is published" (a forbidden operation when no state is named);
- count limits: "at most three open tasks per person";
- summaries: "the number of X per Y", "total X", "average X", "stock value per supplier",
  "open tasks per assignee", a dashboard.
"""

from __future__ import annotations

import re

from assets.architecture.descriptions import descriptions
from assets.architecture.domain_model import (
    PERSON_FIELD,
    DomainModel,
    EntityDraft,
    TransitionDraft,
    story_texts,
)
from assets.architecture.fields import add_listed_field
from assets.architecture.models import CountLimit, Summary
from assets.architecture.phrases import DETERMINERS, PREPOSITIONS, clauses, listed_fields, tokens
from assets.architecture.relations import add_reference
from assets.architecture.states import either_states, kept_states, state_changes, transition_name
from assets.architecture.validity import validity_dates
from assets.architecture.vocabulary import (
    STATE_OF_VERB,
    STATE_RANK,
    VERB_OF_STATE,
    field_type,
    is_generic,
    is_person_word,
    number_value,
)
from assets.requirements.language import singular
from assets.requirements.models import UserStory

_NUMBER = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"
_VALUES = re.compile(
    r"\b(?P<field>[a-z]+(?: [a-z]+)?) (?:can be|must be|is|are|may be|should be)(?: one of| either)?"
    r" (?P<values>[a-z]+(?: [a-z]+)?(?:, [a-z]+(?: [a-z]+)?)*,? (?:or|and) [a-z]+(?: [a-z]+)?)\b"
)
_REQUIRED = re.compile(r"\b(?:a |an |the )?(?P<field>[a-z]+(?: [a-z]+)?) (?:is|are) (?:required|mandatory)\b")
_MUST_HAVE = re.compile(
    r"\b(?:must|has to|have to|needs? to|should) (?:have|include) (?:a|an) (?P<field>[a-z]+)\b"
)
_UNIQUE = re.compile(
    r"\b(?P<field>[a-z]+(?: [a-z]+)?) (?:must|should|has to|have to) be unique\b|"
    r"\bno two [a-z]+ (?:can|may|should) (?:have|share) the same (?P<field2>[a-z]+)\b"
)
_NEVER = r"(?:never|must never|should never|can never|cannot|cant|can not|must not|mustnt|may not|should not)"
_NOT_NEGATIVE = re.compile(
    r"\b(?P<field>[a-z]+(?: [a-z]+)?) "
    + _NEVER
    + r" (?:go|goes|drop|drops|fall|falls|be) (?:below|under|less than|negative) ?(?:zero|0)?\b"
)
_RANGE = re.compile(
    r"\b(?P<field>[a-z]+(?: [a-z]+)?) (?:from|between) (?P<low>\d+) (?:to|and) (?P<high>\d+)\b"
)
_MAX_LENGTH = re.compile(
    r"\b(?P<field>[a-z]+(?: [a-z]+)?) (?:of |is |must be |can be )?(?:at most|up to|no more than|maximum)"
    r" (?P<n>\d+) characters\b"
)
_LIMIT = re.compile(
    r"\b(?:at most|no more than|not more than|up to|a maximum of|maximum of|max|only) "
    + _NUMBER
    + r" (?P<noun>[a-z]+(?: [a-z]+){0,2}?) (?:per|for each|for every|for a|for an|each|at a time per) "
    r"(?P<per>[a-z]+)\b"
)
_LIMIT_SUBJECT = re.compile(
    r"\b(?:a|an|each|every|one) (?P<per>[a-z]+) (?:can|may|is allowed to|must) (?:only )?"
    r"(?:have|hold|own|borrow|book|take|register|open|keep) (?:at most|no more than|up to|only|a maximum of) "
    + _NUMBER
    + r" (?P<noun>[a-z]+(?: [a-z]+){0,2}?)\b"
)
# "a firing has a date, a kiln and up to 6 shelves": what one thing has, at most so many
_LIMIT_HAS = re.compile(
    r"\b(?:a|an|each|every|one) (?P<per>[a-z]+) (?:has|have|holds|hold|takes|take|fits|fit)\b[^.;]*?"
    r"\b(?:at most|no more than|up to|a maximum of) " + _NUMBER + r" (?P<noun>[a-z]+(?: [a-z]+){0,2}?)\b"
)
_ONLY_ONCE = re.compile(
    r"\b(?:only )?(?:be )?(?P<verb>[a-z]+?)(?:ed|d)? (?:only )?(?:once|when|after|if)"
    r" (?:it|they|the [a-z]+) (?:is|are|has been|have been|was|were) (?P<state>[a-z]+)\b"
)
_VERB_ONCE = re.compile(
    r"\b(?P<verb>[a-z]+) (?:a|an|the|their|its|each) [a-z]+(?: [a-z]+)? (?:only )?(?:once|when|after|if)"
    r" (?:it|they) (?:is|are|has been|have been) (?P<state>[a-z]+)\b"
)
_NOT_ONCE = re.compile(
    _NEVER + r" be (?P<verb>[a-z]+?)(?:ed|d)? (?:once|when|after|if)"
    r" (?:it|they|the [a-z]+) (?:is|are|has been|have been|was|were) (?P<state>[a-z]+)\b"
)
_FORBIDDEN = re.compile(
    r"\b(?P<noun>[a-z]+) (?:" + _NEVER + r"|are never|is never)"
    r" be (?P<verb>deleted|removed|edited|changed|modified|updated)\b"
)
_SUMMARY = re.compile(
    r"\b(?:(?P<count>number of|count of|how many)|(?P<total>total|sum of)|(?P<average>average|mean))"
    r" (?P<noun>[a-z]+(?: [a-z]+){0,2}?)(?: (?:per|by|for each|in each|of each) (?P<group>[a-z]+))?\b"
)
_PER = re.compile(
    r"\b(?P<state>[a-z]+ )?(?P<noun>[a-z]+(?: [a-z]+)?) (?P<value>value )?"
    r"(?:per|by|for each) (?P<group>[a-z]+)\b"
)
_LOOKING = re.compile(r"\b(see|view|show|display|list|get|know|check|track|monitor)\b")
_NARROWING = re.compile(
    r"\b(?:search|searches|filter|filters|filtered|sort|sorts|sorted|find|look up|order|ordered|list|lists)\b"
)
_SUMMARY_WORDS = re.compile(
    r"\b(dashboard|report|overview|statistics|stats|summary|summaries|totals?|counts?)\b"
)


def _norm(text: str) -> str:
    return " ".join(token for token in tokens(text) if token != "'s").replace(" ,", ",")


def _field_in(entity: EntityDraft, phrase: str) -> str | None:
    """The entity's field a phrase names ("the unit price" -> unit_price; "stock" -> quantity)."""
    words = [w for w in phrase.split() if w not in ("a", "an", "the", "its", "their", "each", "every")]
    if not words:
        return None
    for size in (3, 2, 1):
        name = "_".join(words[-size:])
        if name in entity.fields:
            return name
    head = singular(words[-1])
    for name in entity.fields:
        if name.split("_")[-1] in (words[-1], head) or name == f"{head}_id":
            return name
    if head in ("stock", "inventory", "level") and "quantity" in entity.fields:
        return "quantity"
    return None


def _entities_in(sentence: str, model: DomainModel, default: list[EntityDraft]) -> list[EntityDraft]:
    toks = tokens(sentence)
    found = []
    for size in (2, 1):
        for index in range(len(toks) - size + 1):
            entity = (
                model.find(" ".join(toks[index : index + size])) if size == 2 else model.find(toks[index])
            )
            if entity is not None and entity not in found:
                found.append(entity)
    return found or default


def _field_owner(
    sentence: str, phrase: str, model: DomainModel, default: list[EntityDraft]
) -> tuple[EntityDraft, str] | tuple[None, None]:
    for entity in [*_entities_in(sentence, model, default), *default]:
        name = _field_in(entity, phrase)
        if name:
            return entity, name
    owners = [(entity, _field_in(entity, phrase)) for entity in model.entities.values()]
    owners = [(entity, name) for entity, name in owners if name]
    return owners[0] if len(owners) == 1 else (None, None)


def apply_state_changes(story: UserStory, model: DomainModel, acted: list[EntityDraft]) -> None:
    """ "mark the item as repaired", "set the loan to lost" anywhere in the story's words: a
    transition of the thing to that state (`states`)."""
    for text in story_texts(story):
        for sentence in clauses(text):
            for entity, state, after in state_changes(sentence, model, acted[0] if acted else None):
                name = transition_name(state)
                transition = entity.transitions.setdefault(name, TransitionDraft(name=name, to_state=state))
                transition.story_ids.add(story.id)
                if after is not None and transition.from_states is None:
                    transition.from_states = [after]
                if story.id not in entity.stories:
                    entity.stories.append(story.id)
            for entity, states in either_states(_norm(sentence), model):
                for state in states:  # ends of one another: none starts from the other
                    name = transition_name(state)
                    transition = entity.transitions.setdefault(
                        name, TransitionDraft(name=name, to_state=state)
                    )
                    transition.story_ids.add(story.id)
                    transition.excluded.update(other for other in states if other != state)
                if story.id not in entity.stories:
                    entity.stories.append(story.id)


def _kept_states(sentence: str, model: DomainModel) -> None:
    """ "a lost loan cannot be returned": the transition to `returned` never starts from `lost`."""
    for entity, current, target, rule in kept_states(sentence, model):
        if current not in {t.to_state for t in entity.transitions.values()}:
            continue
        for transition in entity.transitions.values():
            if transition.to_state == target and current != target:
                transition.excluded.add(current)
                transition.rule = transition.rule or rule


def apply_rules(story: UserStory, model: DomainModel, acted: list[EntityDraft]) -> None:
    for text in story_texts(story):
        for sentence in clauses(text):
            _kept_states(sentence, model)
            _described_fields(sentence, model)
            _has_fields(sentence, model)
            _with_fields(sentence, model)
            _belongs(_norm(sentence), model)
            _whose(_norm(sentence), model)
            validity_dates(sentence, model)
            _apply_sentence(_norm(sentence), story, model, acted)


_ONE = "(?:one|a|an|exactly one|a single|its|their|the)"
_BELONGS = re.compile(
    r"\b(?P<child>[a-z]+(?: [a-z]+)?) (?:comes?|is|are) (?:from|supplied by|owned by|part of|linked to)"
    rf" {_ONE} (?P<parent>[a-z]+(?: [a-z]+)?)\b|"
    rf"\b(?P<child2>[a-z]+(?: [a-z]+)?) (?:belongs?|refers?) to {_ONE} (?P<parent2>[a-z]+(?: [a-z]+)?)\b|"
    r"\b(?:each|every) (?P<child3>[a-z]+(?: [a-z]+)?) (?:has|have|needs|is for|is in|sits in|goes to)"
    r" (?:one|a|an|exactly one|a single) (?P<parent3>[a-z]+(?: [a-z]+)?)\b"
)


def _belongs(sentence: str, model: DomainModel) -> None:
    """ "every product comes from one supplier", "each bug belongs to one project": a required
    reference from the one to the other, when both are things the model stores."""
    for match in _BELONGS.finditer(sentence):
        child_words = (match["child"] or match["child2"] or match["child3"]).split()
        parent_words = (match["parent"] or match["parent2"] or match["parent3"]).split()
        child = model.find(" ".join(child_words)) or model.find(child_words[-1])
        parent = model.find(" ".join(parent_words)) or model.find(parent_words[-1])
        if child is not None and parent is not None and child is not parent:
            add_reference(child, parent, required=True)


_WHOSE = re.compile(
    r"\b(?P<noun>[a-z]+) whose (?P<field>[a-z]+(?: [a-z]+)?) (?:falls?|drops?|goes|go|is|are|rises?|exceeds?"
    r"|gets?)(?: below| above| under| over| past| beyond)? (?:their|its|my|our|the|a|an)"
    r" (?P<limit>[a-z]+(?: [a-z]+)?)\b"
)


def _whose(sentence: str, model: DomainModel) -> None:
    """ "flag products whose stock falls below their reorder level": both are numbers the thing has."""
    for match in _WHOSE.finditer(sentence):
        entity = model.find(match["noun"])
        if entity is None:
            continue
        for phrase, loose in ((match["field"], True), (match["limit"], False)):
            name = "_".join(word for word in phrase.split() if word not in DETERMINERS)
            known = _field_in(entity, phrase) if loose else (name if name in entity.fields else None)
            if known is None:
                entity.add_field(name, type_=None if field_type(name) != "string" else "integer")


def _with_fields(sentence: str, model: DomainModel) -> None:
    """ "... into an invoice with a number, an issue date and a due date": a stored thing followed
    by "with" and a list of at least two items gets them as fields, whatever the verb before it."""
    toks = tokens(sentence)
    for index, token in enumerate(toks):
        if token != "with" or index == 0:
            continue
        owner, size = None, 0
        for size in (2, 1):
            if index >= size and all(word.isalpha() for word in toks[index - size : index]):
                owner = model.find(" ".join(toks[index - size : index]))
                if owner is not None:
                    break
        if owner is None:
            continue
        before = index - size - 1
        while before >= 0 and toks[before] in DETERMINERS:
            before -= 1
        if before >= 0 and toks[before] in PREPOSITIONS and toks[before] != "into":
            continue  # "book an appointment for a patient with ...": the list is the appointment's
        listed, _ = listed_fields(toks, index + 1)
        names = [item.name for item in listed]
        if len(listed) < 2 or any(is_person_word(name.split("_")[-1]) for name in names):
            continue  # "share a pet with another family member" names a person, not fields
        for item in listed:
            add_listed_field(owner, item.name, item.values, model)


def _described_fields(sentence: str, model: DomainModel) -> None:
    """ "each booking records the date, the start time and the member", "for each score we store
    the title and the composer": the listed fields of the thing described (`descriptions`)."""
    for description in descriptions(sentence):
        owner = model.find(description.thing)
        if owner is None:
            continue
        for item in description.fields:
            add_listed_field(owner, item.name, item.values, model)


_HOLDERS = frozenset("profile record entry card sheet".split())
_HAS = frozenset("has have includes include contains contain stores store holds hold keeps keep".split())


def _has_fields(sentence: str, model: DomainModel) -> None:
    """ "Each pet has a profile with its name, species and weight" / "a supplier has a name and an
    e-mail address": the listed fields of a known entity."""
    toks = tokens(sentence)
    for index, token in enumerate(toks):
        if token not in _HAS or index == 0:
            continue
        owner = model.find(toks[index - 1]) or (
            model.find(" ".join(toks[index - 2 : index])) if index > 1 else None
        )
        if owner is None:
            continue
        start = index + 1
        while start < len(toks) and toks[start] in DETERMINERS:
            start += 1
        holder = start < len(toks) and (is_generic(toks[start]) or toks[start] in _HOLDERS)
        if holder and start + 1 < len(toks) and toks[start + 1] == "with":
            start += 2  # "a profile with ..."
        elif start < len(toks) and toks[start] == "with":
            start += 1
        listed, _ = listed_fields(toks, start)
        if len(listed) < 2 and not (listed and start > index + 1 and toks[start - 1] == "with"):
            continue  # "a member has a book" names a relation, not fields
        for item in listed:
            add_listed_field(owner, item.name, item.values, model)


def _apply_sentence(sentence: str, story: UserStory, model: DomainModel, acted: list[EntityDraft]) -> None:
    for match in _VALUES.finditer(sentence):
        entity, name = _field_owner(sentence, match["field"], model, acted)
        if entity is None:
            continue
        values = [
            v.strip().replace(" ", "_") for v in re.split(r",|\bor\b|\band\b", match["values"]) if v.strip()
        ]
        if len(values) >= 2 and entity.fields[name].type in ("string", "enum"):
            entity.fields[name] = entity.fields[name].model_copy(update={"type": "enum", "values": values})
    for pattern in (_REQUIRED, _MUST_HAVE):
        for match in pattern.finditer(sentence):
            entity, name = _field_owner(sentence, match["field"], model, acted)
            if entity is not None:
                entity.add_field(name, required=True)
    for match in _UNIQUE.finditer(sentence):
        entity, name = _field_owner(sentence, match["field"] or match["field2"], model, acted)
        if entity is not None:
            entity.fields[name] = entity.fields[name].model_copy(update={"unique": True})
    for match in _NOT_NEGATIVE.finditer(sentence):
        entity, name = _field_owner(sentence, match["field"], model, acted)
        if entity is not None and entity.fields[name].type in ("integer", "number", "money", "string"):
            kind = entity.fields[name].type if entity.fields[name].type != "string" else "integer"
            entity.fields[name] = entity.fields[name].model_copy(update={"type": kind, "minimum": 0})
    for match in _RANGE.finditer(sentence):
        entity, name = _field_owner(sentence, match["field"], model, acted)
        if entity is not None and entity.fields[name].type in ("integer", "number", "string"):
            kind = entity.fields[name].type if entity.fields[name].type != "string" else "integer"
            update = {"type": kind, "minimum": float(match["low"]), "maximum": float(match["high"])}
            entity.fields[name] = entity.fields[name].model_copy(update=update)
    for match in _MAX_LENGTH.finditer(sentence):
        entity, name = _field_owner(sentence, match["field"], model, acted)
        if entity is not None:
            entity.fields[name] = entity.fields[name].model_copy(update={"max_length": int(match["n"])})
    _transition_rules(sentence, model, acted)
    _limits(sentence, story, model, acted)
    _summaries(sentence, story, model, acted)
    for match in _FORBIDDEN.finditer(sentence):
        for entity in _entities_in(match["noun"], model, []):
            entity.forbidden.add("delete" if match["verb"] in ("deleted", "removed") else "update")


def _transition_for(entity: EntityDraft, verb: str) -> TransitionDraft | None:
    for name, transition in entity.transitions.items():
        if name == verb or name.startswith(verb) or verb.startswith(name):
            return transition
    if verb in STATE_OF_VERB:
        return None
    return None


def _transition_rules(sentence: str, model: DomainModel, acted: list[EntityDraft]) -> None:
    for pattern, only in ((_ONLY_ONCE, True), (_VERB_ONCE, True), (_NOT_ONCE, False)):
        for match in pattern.finditer(sentence):
            verb, state = match["verb"], match["state"]
            if state not in STATE_RANK and state not in VERB_OF_STATE:
                continue
            for entity in _entities_in(sentence, model, acted):
                transition = _transition_for(entity, verb)
                if transition is None:
                    continue
                if only:
                    transition.from_states = [state]
                else:
                    transition.excluded.add(state)
                transition.rule = match.group(0)
                break


def _person_field(entity: EntityDraft, word: str) -> str:
    if word in entity.fields:
        return word
    if f"{singular(word)}_id" in entity.fields:  # "per developer" where bugs are assigned to one
        return f"{singular(word)}_id"
    for name in entity.fields:
        if is_person_word(name) or name == PERSON_FIELD:
            return name
    entity.add_field(PERSON_FIELD)
    return PERSON_FIELD


def _group_field(entity: EntityDraft, word: str, model: DomainModel) -> str | None:
    name = _field_in(entity, word)
    if name:
        return name
    group = model.find(word)
    if group is not None and f"{group.noun.replace(' ', '_')}_id" in entity.fields:
        return f"{group.noun.replace(' ', '_')}_id"
    if is_person_word(word):
        return _person_field(entity, word)
    return None


def _state_of(entity: EntityDraft, words: list[str]) -> str | None:
    states = {t.to_state for t in entity.transitions.values()} | set(
        entity.fields.get("status", _NoField).values
    )
    for word in words:
        if word in states or word in STATE_RANK:
            return word
    return None


class _NoField:
    values: list[str] = []


def _limits(sentence: str, story: UserStory, model: DomainModel, acted: list[EntityDraft]) -> None:
    for pattern in (_LIMIT, _LIMIT_SUBJECT, _LIMIT_HAS):
        for match in pattern.finditer(sentence):
            maximum = number_value(match.group(1) if pattern is _LIMIT else match.group(2))
            words = match["noun"].split()
            entity = model.find(" ".join(words[-2:])) or model.find(words[-1])
            if maximum is None or entity is None:
                continue
            per = _group_field(entity, match["per"], model)
            state = _state_of(entity, words[:-1])
            if state and "status" not in entity.fields:
                entity.add_field("status", type_="enum", values=[state])
            limit = CountLimit(
                maximum=maximum,
                per=per,
                field="status" if state else None,
                values=[state] if state else [],
                story_ids=[story.id],
                rule=match.group(0),
            )
            if all(existing.rule != limit.rule for existing in entity.limits):
                entity.limits.append(limit)


def _add_summary(entity: EntityDraft, summary: Summary) -> None:
    summaries = entity.summaries
    for existing in summaries:
        if existing.name == summary.name:
            existing.story_ids = sorted(set(existing.story_ids) | set(summary.story_ids))
            return
    summaries.append(summary)


def _quantity_and_price(entity: EntityDraft) -> tuple[str | None, str | None]:
    quantity = next((n for n, f in entity.fields.items() if f.type == "integer" and n != "id"), None)
    price = next((n for n, f in entity.fields.items() if f.type == "money"), None)
    return quantity, price


def _summaries(sentence: str, story: UserStory, model: DomainModel, acted: list[EntityDraft]) -> None:
    for match in _SUMMARY.finditer(sentence):
        words = [word for word in match["noun"].split() if word not in DETERMINERS] or ["item"]
        entity = model.find(" ".join(words[-2:])) or model.find(words[-1])
        field = None
        if entity is None:
            for candidate in _entities_in(sentence, model, acted):
                field = _field_in(candidate, match["noun"])
                if field and candidate.fields[field].type in ("integer", "number", "money"):
                    entity = candidate
                    break
            else:
                continue
            looked_at = _LOOKING.search(sentence) or _SUMMARY_WORDS.search(sentence)
            if match["count"] and not match["group"] and not looked_at:
                continue  # "a ticket has ... the number of seats they bought": a field it lists
        group = _group_field(entity, match["group"], model) if match["group"] else None
        if match["count"] or field is None:
            state = _state_of(entity, words[:-1])
            measure, field = "count", None
        else:
            state, measure = None, "sum" if match["total"] else "average"
        name = "_".join(["number_of" if measure == "count" else measure, *words])
        if match["group"]:
            name += f"_per_{match['group']}"
        _add_summary(
            entity,
            Summary(
                name=name,
                measure=measure,
                field=field,
                group_by=group,
                where_field="status" if state else None,
                where_values=[state] if state else [],
                story_ids=[story.id],
            ),
        )
    if any(pattern.search(sentence) for pattern in (_SUMMARY, _LIMIT, _LIMIT_SUBJECT, _LIMIT_HAS)):
        return
    if not _SUMMARY_WORDS.search(sentence) and not _LOOKING.search(sentence):
        return
    for match in _PER.finditer(sentence):
        if _NARROWING.search(sentence[: match.start("group")]) and sentence[match.end("noun") :].startswith(
            (" by", " value by")
        ):
            continue  # "search products by name": which field, not a report per name
        words = [word for word in match["noun"].split() if word not in DETERMINERS]
        if not words:
            continue
        if match["value"]:  # "stock value per supplier": quantity * price
            candidates = [*_entities_in(sentence, model, acted), *model.entities.values()]
            entity = next(
                (
                    e
                    for e in candidates
                    if all(_quantity_and_price(e))
                    and (model.find(match["noun"]) is e or _field_in(e, match["noun"]))
                ),
                None,
            )
            if entity is None:
                continue
            quantity, price = _quantity_and_price(entity)
            group = _group_field(entity, match["group"], model)
            name = "_".join([*words, "value", "per", match["group"]])
            _add_summary(
                entity,
                Summary(
                    name=name,
                    measure="sum",
                    field=quantity,
                    multiply_by=price,
                    group_by=group,
                    story_ids=[story.id],
                ),
            )
            continue
        state = (match["state"] or "").strip()
        if len(words) > 1 and words[0] in STATE_RANK:
            state, words = words[0], words[1:]
        state = state if state in STATE_RANK else None
        entity = model.find(" ".join(words[-2:])) or model.find(words[-1])
        if entity is None:
            continue
        group = _group_field(entity, match["group"], model)
        if group is None:
            continue
        name = "_".join([*([state] if state else []), *words, "per", match["group"]])
        if state and "status" not in entity.fields:
            entity.add_field("status", type_="enum", values=[state])
        _add_summary(
            entity,
            Summary(
                name=name,
                group_by=group,
                where_field="status" if state else None,
                where_values=[state] if state else [],
                story_ids=[story.id],
            ),
        )
