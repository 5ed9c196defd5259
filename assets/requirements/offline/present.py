"""Present-tense statements ("Coordinators create shifts with a date", "the loan is marked as returned")
and bare feature bullets under a features heading ("Members book a class", "Waiting list")."""

from __future__ import annotations

import re

from lemminflect import getInflection, getLemma

from assets.requirements.drafts import DraftCriterion
from assets.requirements.language import PERSON_WORDS, singular, third_person, words
from assets.requirements.models import Priority
from assets.requirements.offline.actions import (
    PRONOUNS,
    Context,
    Found,
    actions_of,
    default_actor,
    draft,
    feature_story_want,
    lower_first,
    remember_object,
    split_why,
)
from assets.requirements.offline.limits import read_limit
from assets.requirements.offline.people import PERSON_VERBS, looks_like_person
from assets.requirements.offline.phrasing import (
    DETERMINERS,
    POSSESSIVES,
    SYSTEM_WORDS,
    is_verb,
    noun_before_of,
    plural_noun,
    verb_lemma,
)
from assets.requirements.offline.product import is_product, product_action, system_part
from assets.requirements.offline.wanted import wanted_thing
from pipeline_core.verbs import VERB_KINDS

_OPINION_VERBS = frozenset(
    """love like hate think know want need feel say prefer complain find believe hope wish enjoy agree
    seem tend mean say said use""".split()
)


# Words that open a sentence with when or where it happens: "While working, ...", "At the end of
# the month ...", "Then on distribution day ...". The subject comes after them.
OPENERS = frozenset(
    """when whenever while once after before at on in during every each then first finally next later
    if since after for""".split()
)


# Verbs that describe people rather than ask anything of the product ("people email me").
_PERSONAL_OBJECTS = frozenset("me us you him her".split())


_MODAL_WORDS = frozenset("can could should must will may might shall would".split())


def present_verb(word: str) -> str | None:
    """The lemma of a present-tense verb: "create" -> "create", "logs" -> "log"; None otherwise."""
    word = word.lower().strip(",;:")
    if is_verb(word):
        return word
    if word.endswith("s") and len(word) > 3:
        lemma = verb_lemma(word)
        if lemma and lemma != word and third_person(lemma) == word:
            return lemma
    return None


def _subject_starts(tokens: list[str]) -> list[int]:
    """Where the subject may start: at the beginning, or after an opening phrase of time or place."""
    offset = 0
    while offset < len(tokens) and tokens[offset].lower().strip(",") in _ADVERBS:
        offset += 1  # "Then customers buy tickets": the adverb is no part of the subject
    rest = tokens[offset:]
    starts = [offset]
    if rest and rest[0].lower().strip(",") in OPENERS:
        comma = next((i for i, token in enumerate(rest[:12]) if token.endswith(",")), None)
        if comma is not None:
            starts.insert(0, offset + comma + 1)
        starts += [offset + i for i in range(2, min(len(rest), 14)) if offset + i not in starts]
    return starts


_ADVERBS = frozenset("then first next finally now also so and plus".split())


def read_present_tense(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
    """ "Coordinators create shifts with a date", "the freelancer logs time entries", "The dashboard
    shows the total per client": people doing something with the product, or the product doing it.

    "Donations come in and we record each item ...": when the first clause asks nothing, the clause
    after "and" / "but" / "then" is read on its own.
    """
    found = _present_clause(sentence, text, segment, context)
    if found:
        # "a coach creates a session with a date, and beginners sign up for it": a second subject
        # after ", and" does a second thing
        second = re.search(r",\s+and\s+(?=[a-z]+s\s+[a-z]+)", text)
        if second and len(text[second.end() :].split()) >= 3:
            people = text[second.end() :].split()[0]
            if acts_like_person(people, present_verb(text[second.end() :].split()[1]) or ""):
                actor = (context.actor, context.actor_segment)
                first = _present_clause(sentence, text[: second.start()], segment, context) or found
                found = first + _present_clause(sentence, text[second.end() :], segment, context)
                context.actor, context.actor_segment = actor  # the main clause's actor stays the one named
        return found
    following = re.search(r"(?:,\s*|\s+)(?:and|but|then)\s+(?=\w+\s+\w)", text)
    if following and len(text[following.end() :].split()) >= 3:
        return _present_clause(sentence, text[following.end() :], segment, context)
    return []


def _present_clause(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
    body, why, why_kind = split_why(text)
    tokens = body.split()
    # "When a member borrows a book we record a loan": without a comma, the first subject and verb
    # after "when" / "once" / "if" belong to the condition; the main clause is the next pair.
    subordinate = (
        bool(tokens)
        and (tokens[0].lower() in _SUBORDINATORS or [t.lower() for t in tokens[:2]] == ["every", "time"])
        and not any(token.endswith(",") for token in tokens[:12])
    )
    condition_end = 0
    passive = _passive_present(body, sentence, segment, context)
    if passive:
        return passive
    for start in _subject_starts(tokens):
        if start < condition_end:
            continue
        first = tokens[start].lower()
        if start and not (
            first in DETERMINERS | POSSESSIVES | {"we", "i", "they"}
            or tokens[start][:1].isupper()
            or (_named_role(first) and tokens[start - 1].endswith(","))  # "after we finish, members leave"
        ):
            continue  # after an opening phrase, the subject starts with a determiner or a name
        for index in range(start + 1, min(len(tokens), start + 5)):
            subject, word = " ".join(tokens[start:index]), tokens[index]
            if subject.endswith(",") or re.search(r"[.;:]$", subject):
                break
            lemma = present_verb(word)
            if lemma and (word.endswith(",") or index + 1 >= len(tokens) or tokens[index + 1][:1].isdigit()):
                break  # "Staff picnic, 14 June": a noun phrase and a date, no verb with an object
            if lemma and subordinate and not condition_end and word.lower() not in _MODAL_WORDS:
                condition_end = index + 2  # the condition's verb and the start of its object
                near = range(index + 1, min(len(tokens), index + 4))
                pronoun_at = next((i for i in near if tokens[i].lower() in SUBJECTS), None)
                if pronoun_at is not None:  # "When a member leaves we delete ...": the main subject is next
                    condition_end = pronoun_at
                opening = words(" ".join(tokens[start : index + 1]))
                named = [w for w in opening if w not in DETERMINERS | POSSESSIVES | _SUBORDINATORS]
                if named and not looks_like_person(named[0]) and named[0] not in PRONOUNS:
                    # "when a plot frees up we offer it to ...": "it" is the plot
                    context.thing, context.thing_segment = named[0], segment
                break
            after = tokens[index + 1].lower() if index + 1 < len(tokens) else ""
            head_words = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
            singular_subject = (
                len(head_words) == 1
                and words(subject)[0] in ("the", "a", "an", "this", "our", "your", "its", "each", "every")
                and singular(head_words[0]) == head_words[0]
                and head_words[0] not in ("staff", "team", "people", "family")
            )
            if lemma == word.lower() and singular_subject:
                continue  # "The home screen shows": a singular subject never takes "screen" as its verb
            if (
                lemma
                and looks_like_person(f"{subject} {word}")
                and (present_verb(after) or verb_lemma(after))
            ):
                continue  # "the team lead asked ...": "lead" ends the subject, it is not the verb
            if lemma is None or word.lower() in _MODAL_WORDS:
                if word.lower() in _MODAL_WORDS:
                    return []
                continue
            rest = tokens[index + 1 :]
            if lemma in _OPINION_VERBS or (rest and rest[0].lower().strip(",.") in _PERSONAL_OBJECTS):
                return []
            if not [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]:
                continue  # "An invoice ...": "invoice" is the subject's noun here, not its verb
            # "sends it, and marks it as paid": each verb of the series in its base form
            later = re.sub(
                r"((?:^|,?\s+)(?:and|or|then)\s+|,\s+(?=[a-z]+s\s+(?:the|a|an|them|it|their|every|each|all|new)\b))"
                r"([a-z]+s)\b",
                lambda m: m.group(1) + (present_verb(m.group(2)) or m.group(2)),
                " ".join(rest),
            )
            action = f"{lemma} {later}".strip()
            queue = _GO_ON_LIST.match(action)
            if queue:  # "they go on a waiting list": they join it
                lemma, action = "join", f"join {queue['list']}"
            if not context.today and subject.lower() not in PRONOUNS:
                limited = read_limit(subject, action, context.priority or "Must", sentence, segment, context)
                if limited:  # "A shelf holds at most six pots": a rule, the limit is the story
                    return limited
            person = acts_like_person(subject, lemma)
            if context.spoken and not (_named_role(subject) and lemma in _DATA_VERBS):
                person = False  # in talk, only a named role doing something with the records counts
            if subject.lower() in ("we", "i") and lemma == "have" and rest:  # "We have sixty volunteers"
                remember_object(action, context, segment)
            pronoun = subject.lower() in ("we", "i") or (
                subject.lower() in ("they", "she", "he") and context.actor is not None
            )
            we = pronoun and lemma in _DATA_VERBS and not context.today
            if (person or we) and not context.today:
                return actions_of(subject, action, sentence, segment, context, None, (why, why_kind))
            if is_product(subject, context.product) or system_part(subject):
                if context.today or context.spoken or lemma in _SETTING_VERBS:
                    return []  # "The tracker runs on the team's server": where it runs, not what it does
                return product_action(
                    subject, action, why, why_kind, context.priority or "Should", sentence, segment, context
                )
            described = described_record(subject, " ".join(rest)) if lemma in ("have", "need") else None
            if described and not context.today:  # "Each class has a name, a coach and a room"
                return [draft(default_actor(context), described, why, why_kind, "Should", sentence, segment)]
            head = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
            if head and words(subject)[0] in DETERMINERS:  # "An invoice starts as a draft": the thing
                context.thing, context.thing_segment = head[-1], segment
            break
    return []


# Verbs of keeping and handling records: "we record ...", "a volunteer packs a parcel ...".
_DATA_VERBS = frozenset(VERB_KINDS) | frozenset(
    """keep store track note send issue offer approve reject collect pack print assign lend borrow
    return pay invoice bill order ship deliver dispatch reserve cancel confirm publish enrol enroll
    sign buy sell purchase leave rate review vote suggest share join attend plan set retire archive close
    reopen renew transfer""".split()
)


def acts_like_person(subject: str, verb: str) -> bool:
    """A subject that names people: a role word or agent noun, or a plural noun doing a person's verb."""
    if looks_like_person(subject):
        return True
    tokens = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    if not tokens or len(tokens) > 3 or subject.lower() in PRONOUNS or tokens[-1] in SYSTEM_WORDS:
        return False
    plural = singular(tokens[-1]) != tokens[-1] and tokens[-1].endswith("s")
    return plural and verb.lower() in PERSON_VERBS and not is_product(subject)


def _named_role(subject: str) -> bool:
    """A subject that names a role the text knows ("a volunteer", "the coach"), not a guess by suffix."""
    tokens = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    return bool(tokens) and singular(tokens[-1]) in PERSON_WORDS


SUBJECTS = frozenset("we i they you he she".split())
_SUBORDINATORS = frozenset("when whenever once if after before while as since until unless".split())


_PASSIVE_PRESENT = re.compile(
    r"(?:^|\s)(?P<subject>(?:the|a|an|each|every|its|their)\s+(?:[a-z-]+\s+){0,2}?[a-z-]+)\s+"
    r"(?:is|are|gets|get)\s+(?:then\s+|also\s+|automatically\s+)?(?P<participle>[a-z]+(?:ed|en))\b(?P<rest>.*)$",
    re.I,
)


def _passive_present(body: str, sentence: str, segment: int, context: Context) -> list[Found]:
    """ "When the book comes back the loan is marked as returned" -> "Mark the loan as returned"."""
    if context.spoken or context.today:
        return []
    match = _PASSIVE_PRESENT.search(body)
    if match is not None and body.split()[0].lower() in _SUBORDINATORS:
        # "Once the parcel is collected the delivery is marked as complete": the main clause is second
        match = _PASSIVE_PRESENT.search(body, match.end("participle")) or match
    if match is None:
        return []
    lemma = getLemma(match["participle"].lower(), "VERB")
    if not lemma or lemma[0] not in _DATA_VERBS:
        return []
    want = f"to {lemma[0]} {lower_first(match['subject'])}{match['rest']}"
    return [draft("user", want, None, None, context.priority or "Should", sentence, segment)]


# Verbs that say where or how the product exists rather than what it does for someone.
_SETTING_VERBS = frozenset("run live sit work exist depend belong rely stay remain come use need".split())


def described_record(subject: str, details: str) -> str | None:
    """ "Each trip" + "a destination, the date and the cost" -> "to record trips with a destination, ..."."""
    tokens = words(subject)
    if len(tokens) != 2 or tokens[0] not in ("each", "every", "a", "an") or looks_like_person(subject):
        return None
    if tokens[1] in SYSTEM_WORDS or not re.search(r",.*\b(?:and|or)\b", details):
        return None
    return f"to record {plural_noun(tokens[1])} with {details.strip(' .')}"


_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|will|can|does|do|did|would|may)\b", re.I)


_NEVER = re.compile(
    r"^(?P<subject>(?:[\w-]+\s+){0,4}?[\w-]+)\s+(?:must |should |can |may |will )?never\s+(?P<verb>[a-z]+)\b"
    r"(?P<rest>[^:;]*)",
    re.I,
)
_GO_ON_LIST = re.compile(
    r"^(?:go|get put|are put|get)\s+(?:on|onto)\s+(?P<list>(?:a|the)\s+(?:[\w-]+\s+)?(?:list|queue|rota))\b",
    re.I,
)
_THING_STATEMENT = re.compile(
    r"^(?:each|every|an?|the|all)\s+(?P<noun>[a-z-]+)\s+(?P<verb>[a-z]+s)\s+(?P<rest>\S.*)$", re.I
)
_LISTING_VERBS = frozenset("record list hold include contain store keep show".split())
# Nouns of a figure that are verbs too; a bullet starting with one names the figure, not an action.
_FIGURE_NOUNS = frozenset("total totals summary overview breakdown tally".split())


def read_bare_feature(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
    """A bullet under a features heading: "Members book a class", "Search classes", "Waiting list"."""
    body, why, why_kind = split_why(text)
    tokens = body.split()
    if len(tokens) < 2 or body.endswith("?"):
        return []
    priority: Priority = context.priority or "Should"
    for index in range(1, min(len(tokens), 5)):
        subject = " ".join(tokens[:index])
        if acts_like_person(subject, tokens[index]) and is_verb(tokens[index].lower()):
            return actions_of(subject, " ".join(tokens[index:]), sentence, segment, context)
    figure = tokens[0].lower() in _FIGURE_NOUNS and tokens[1].lower() not in DETERMINERS | POSSESSIVES
    if figure and re.search(r"\b(?:per|of|by|for each)\b", body, re.I):
        # "Total loans per show each term": a figure to see, though "total" is a verb too
        want = f"to see the {body.rstrip('.!')[:1].lower()}{body.rstrip('.!')[1:]}"
        return [draft(default_actor(context), want, why, why_kind, priority, sentence, segment)]
    never = _NEVER.match(body)
    if never:  # "Stock on hand never goes below zero": a rule the product keeps
        verb = present_verb(never["verb"]) or never["verb"].lower()
        going = getInflection(verb, "VBG")
        subject = never["subject"]
        if subject[:1].isupper() and not subject.split()[0].isupper():
            subject = subject[:1].lower() + subject[1:]
        rest = never["rest"].rstrip(" .")
        found = draft(
            default_actor(context),
            f"to prevent {subject} from {going[0] if going else verb}{rest}",
            why,
            why_kind,
            "Must",
            sentence,
            segment,
        )
        tail = body.split(":", 1)[1].strip(" .") if ":" in body else ""
        found.criteria.append(
            DraftCriterion(
                given=f"a change that would make {subject} {verb}{rest}",
                when="it is saved",
                then=tail or "it is refused with a message",
            )
        )
        return [found]
    if is_verb(tokens[0].lower()) and not noun_before_of(tokens):  # "Number of seats per table" names a thing
        return actions_of("", body, sentence, segment, context)
    wanted = wanted_thing(body.rstrip(".!"))
    if wanted and wanted.startswith("to see "):  # "A reminder list of upcoming vaccinations"
        return [draft(default_actor(context), wanted, why, why_kind, priority, sentence, segment)]
    if _FINITE.search(body):
        return []  # a sentence about something ("The app is for busy people"), not a feature name
    stated = _THING_STATEMENT.match(body)
    if stated and present_verb(stated["verb"]) and present_verb(stated["verb"]) != stated["verb"].lower():
        if present_verb(stated["verb"]) in _LISTING_VERBS and re.search(r",.*\b(?:and|or)\b", stated["rest"]):
            # "Each stay records the dog, the arrival date and the kennel number"
            things = plural_noun(singular(stated["noun"].lower()))
            want = f"to record {things} with {stated['rest'].strip(' .')}"
            return [draft(default_actor(context), want, why, why_kind, priority, sentence, segment)]
        return []  # "every product comes from one supplier": a statement about things, not a feature
    want, title = feature_story_want(body.rstrip(".!"))
    return [draft(default_actor(context), want, why, why_kind, priority, sentence, segment, title)]


__all__ = [
    "OPENERS",
    "acts_like_person",
    "described_record",
    "present_verb",
    "read_bare_feature",
    "read_present_tense",
]
