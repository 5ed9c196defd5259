"""One sentence read as requirements: the forms people write them in, each giving draft stories.

- user stories ("As a clerk, I want to ..."; "When I open a class I want to ...");
- modal statements ("shall / must / should / need to / can / will / nice to have"), with the
  actor taken from the subject ("Warehouse clerks must ...", "we need clerks to ...", "the system
  shall allow a mechanic to ...") and a product subject turned into an imperative ("The app will
  remind them of vaccinations" -> "Remind owners of vaccinations");
- product prose ("X is an application that lets owners ...", "an app where I can ...") and
  feature lists ("It includes features such as A, B and C": one story per feature);
- one-line briefs ("Build a <thing> with add, edit, delete functionality": one story per feature
  on the thing);
- bare feature bullets under a features or priority heading ("Members book a class",
  "Search classes by trainer", "Waiting list for full classes").

A sentence may hold several actions ("add their pets and record each vet visit"): one story each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assets.requirements.drafts import DEFAULT_SO_THAT, DraftCriterion, DraftStory
from assets.requirements.language import PERSON_WORDS, singular, words
from assets.requirements.models import Priority
from assets.requirements.offline.phrasing import (
    DETERMINERS,
    POSSESSIVES,
    actor_of,
    first_person,
    is_verb,
    looks_like_person,
    plural_noun,
    title_of,
)


@dataclass
class Context:
    """What the surrounding text says about a sentence."""

    priority: Priority | None = None  # set by a MoSCoW heading or label
    feature_item: bool = False  # a bullet under a features/priority heading, or a labelled item
    conversational: bool = False  # a transcript turn, a chat message, an e-mail
    spoken: bool = False  # said aloud (a transcript): requests end at a comma
    product: str | None = None  # the product's name, once the text has introduced it
    actor: str | None = None  # the last actor the document named ("them" in "remind them")
    actor_segment: int = 0  # where it was named


@dataclass
class Found:
    story: DraftStory
    why_kind: str | None
    criteria: list[DraftCriterion] = field(default_factory=list)


_AS_A = re.compile(
    r"\bas an?\s+(?P<role>[^,]+?),?\s+I\s+(?P<verb>want|need|would like|wish)\s+(?P<want>.+)$", re.I
)
_I_WANT = re.compile(r"\bI\s+(?P<verb>want|need|would like|wish)\s+(?P<want>to\s+.+)$", re.I)
_WHY = re.compile(r",?\s+\b(?P<kind>so that|in order to|because)\b\s+", re.I)
_MODALS: list[tuple[re.Pattern[str], Priority]] = [
    (re.compile(r"\b(?:would be |is )?nice to have\b|\bwould be nice(?: to have)?\b", re.I), "Could"),
    (
        re.compile(
            r"\bmust\b|\bshall\b|\b(?:has|have|needs?) to\b|\b(?:is|are) required to\b|\bneeds?\b", re.I
        ),
        "Must",
    ),
    (re.compile(r"\bshould\b|\bwants? (?:us |you |them )?to\b|\b(?:is|are) able to\b", re.I), "Should"),
    (re.compile(r"\bcould\b|\bwould like(?: to)?\b|\bmight\b", re.I), "Could"),
    (re.compile(r"\bcan\b(?!\s+be\b)(?!not\b)(?!'t)", re.I), "Should"),
    (re.compile(r"\bwill\b(?!\s+be\b)(?!\s+not\b)", re.I), "Should"),
]
_PRONOUNS = frozenset(
    [
        "",
        "we",
        "i",
        "you",
        "they",
        "everyone",
        "everybody",
        "someone",
        "it",
        "this",
        "there",
        "that",
        "he",
        "she",
    ]
)
_LEADING_WANT = re.compile(
    r"^(?:also|to|be able to|be allowed to|really|definitely|just|then|even|actually|still)\s+", re.I
)
_APP_WORDS = (
    r"app|application|web ?app|website|site|tool|platform|system|service|portal|program|programme|tracker"
    r"|planner|manager|dashboard|game|bot|api|backend|marketplace|store|shop|catalog(?:ue)?|directory|box|diary"
    r"|journal|organi[sz]er|log|board|wiki|crm|erp"
)
_PRODUCT = re.compile(
    rf"\b(?:{_APP_WORDS})\b\s*,?\s*(?:that|which|where|in which|with which|to|for|helping)?\s*"
    r"(?P<link>lets|allows|enables|helps|permits|where|in which|with which)\s+(?P<tail>.+)$",
    re.I,
)
_FEATURES = re.compile(
    r"\b(?:features?|functionality|capabilities)\s+(?:such as|like|including|include|includes)\s+"
    r"(?P<list>.+)$|\b(?:includes?|offers?|provides?|supports?|has)\s+(?:features?|capabilities)"
    r"\s*(?:such as|like|including|:)?\s+(?P<list2>.+)$",
    re.I,
)
_BRIEF = re.compile(
    r"^(?:please\s+)?(?:let'?s\s+|we(?:'ll| will| are going to| plan to| intend to| want to)\s+"
    r"|i want (?:you )?to\s+"
    r"|i need (?:you )?to\s+|can you\s+|could you\s+)?"
    r"(?P<verb>build|make|create|develop|write|design|code)\s+"
    r"(?:me\s+|us\s+)?(?P<thing>(?:an?|the|one|our|my)\s+.+?)"
    r"(?:\s+(?:with|that has|having|featuring)\s+(?P<features>.+?))?[.!]?$",
    re.I,
)
_TECH = re.compile(
    r"\b(?:frontend|front-end|backend|back-end|database|db|api|rest|graphql|server|stack|framework|react|vue"
    r"|angular|svelte|next\.?js|node|fastapi|django|flask|rails|python|typescript|javascript|java|go|rust"
    r"|postgres(?:ql)?|mysql|sqlite|mongo(?:db)?|redis|docker|kubernetes|aws|tailwind|css|html)\b",
    re.I,
)
_FEATURE_NOUNS = re.compile(
    r"\s+(?:functionality|functionalities|features?|functions?|support|capabilities|options?|actions?)$", re.I
)
_GENERIC_THING_WORDS = frozenset(
    """simple small basic web mobile online modern new little full-stack fullstack responsive single page
    react vue angular svelte python django flask fastapi node typescript javascript html css""".split()
)
# Verbs of the meeting itself, not of the product: "we need to discuss the price".
MEETING_VERBS = frozenset(
    """discuss decide talk think know find go start meet agree say ask wonder consider stick address
    move try wait focus look come work present prepare figure clarify remember sort understand learn
    believe guess suppose hope mean feel""".split()
)
MEETING_NOUNS = frozenset(
    """meeting agenda slide slides presentation minutes call discussion question topic decision idea
    point price budget cost decisions requirements specs chance problem case time today tomorrow week
    weekend thing things stuff lot way something anything""".split()
)


_HEDGES = re.compile(
    r"^(?:(?:also|and|but|so|then|plus|maybe|perhaps|probably|definitely|really|well|anyway|now|i think"
    r"|i guess|of course)\b[,\s]*)+",
    re.I,
)
# In talk a request ends where the speaker moves on: a comma, "but", "so", "or something".
_CONVERSATIONAL_CUT = re.compile(
    r",\s(?!so that)|\s+(?:but|so(?! that)|or something|and then)\s|\s+or\s*$", re.I
)


def split_why(text: str) -> tuple[str, str | None, str | None]:
    parts = _WHY.split(text, maxsplit=1)
    if len(parts) == 1:
        return text.strip(" ,"), None, None
    want, kind, why = parts
    kind = kind.lower()
    why = why.strip(" ,.")
    if kind == "in order to":
        why = f"I can {why}"
    if kind == "because" and re.match(r"^of\s", why, re.I):
        return want.strip(" ,"), None, None  # "because of time limits" is a cause, not a benefit
    return want.strip(" ,"), why, kind


def strip_leading_to(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, _LEADING_WANT.sub("", text.strip())
    return text


def clean(text: str | None) -> str:
    """One line, and never ending on a word that needs more after it ("to train models for")."""
    text = re.sub(r"\s+", " ", (text or "")).strip(" ,;.")
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"\s+(?:or|and|but|so|for|to|of|with|at|on|in|by|from|the|a|an)$", "", text, flags=re.I)
    return text


def _object_noun(chunk: str) -> str:
    """The bare object of an action chunk: "save recipes for later" -> "recipes"."""
    tokens = chunk.split()[1:]
    out = []
    for token in tokens:
        bare = token.lower().strip(",.;")
        if bare in DETERMINERS or bare in POSSESSIVES:
            if out:
                break
            continue
        if bare in ("for", "to", "with", "by", "in", "on", "at", "from", "as", "and", "or", "of", "into"):
            break
        out.append(token.strip(",.;"))
    return " ".join(out)


def split_actions(action: str) -> list[str]:
    """ "add their pets and record each vet visit" -> ["add their pets", "record each vet visit"].

    Pieces that do not start with a verb (or come after "with"/"by"/"including") stay with the
    piece before them; leading bare verbs share the last piece's object ("add, edit and delete
    tasks"); "them"/"it" in a later piece stands for the object of the piece before.
    """
    pieces = re.split(r"(,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+|\s+as well as\s+)", action)
    chunks: list[str] = [pieces[0]]
    for separator, piece in zip(pieces[1::2], pieces[2::2], strict=False):
        first = piece.split()[0].lower() if piece.split() else ""
        previous = chunks[-1]
        closed = re.search(r"\b(?:with|including|by|such as|like|between|of)\b", previous, re.I) is not None
        starts_action = (
            is_verb(first) and len(piece.split()) >= 2 and first not in ("date", "name", "title", "time")
        )
        bare_verbs = all(len(chunk.split()) == 1 and is_verb(chunk) for chunk in chunks)
        if (starts_action and not closed) or (bare_verbs and is_verb(first)):
            chunks.append(piece)
        else:
            chunks[-1] = previous + separator + piece
    if len(chunks) > 1 and len(chunks[-1].split()) >= 2:
        shared = " ".join(chunks[-1].split()[1:])
        chunks = [chunk if len(chunk.split()) > 1 else f"{chunk} {shared}" for chunk in chunks]
    resolved = [chunks[0]]
    for chunk in chunks[1:]:
        noun = _object_noun(resolved[-1])
        if noun:
            chunk = re.sub(r"^(\w+)\s+(?:them|it)\b", rf"\1 {noun}", chunk, flags=re.I)
        resolved.append(chunk)
    return [clean(chunk) for chunk in resolved if clean(chunk)]


def _items(listing: str) -> list[str]:
    listing = re.sub(r"\s*\(.*?\)", "", listing).strip(" .")
    parts = re.split(r",\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+|\s+as well as\s+", listing)
    return [clean(part) for part in parts if clean(part)]


def _strip_determiner(text: str) -> str:
    tokens = text.split()
    while tokens and tokens[0].lower() in DETERMINERS | POSSESSIVES:
        tokens = tokens[1:]
    return " ".join(tokens)


def feature_story_want(item: str, thing: str | None = None) -> tuple[str, str]:
    """(i_want, title) for one listed feature: a verb ("add") acts on the thing, a noun is supported."""
    item = _FEATURE_NOUNS.sub("", item.strip()).strip()
    tokens = item.split()
    if not tokens:
        return "", ""
    first = tokens[0].lower()
    if is_verb(first) and (len(tokens) > 1 or thing):
        action = (
            item if len(tokens) > 1 else f"{first} {('an' if thing and thing[0] in 'aeiou' else 'a')} {thing}"
        )
        return f"to {action}", title_of(f"to {action}")
    if first.endswith("ing") and len(first) > 4 and is_verb(re.sub(r"ing$", "", first)) and thing:
        verb = re.sub(r"ing$", "", first)
        return f"to {verb} {plural_noun(thing)}", title_of(f"to {verb} {plural_noun(thing)}")
    noun = item if tokens[0].lower() in DETERMINERS else item
    title = "Support " + noun
    return noun, title


def _found(
    role: str,
    want: str,
    why: str | None,
    why_kind: str | None,
    priority: Priority,
    quote: str,
    segment: int,
    title: str | None = None,
) -> Found:
    want = clean(want)
    story = DraftStory(
        title=title or title_of(want),
        as_a=role,
        i_want=want,
        so_that=clean(why) if why else DEFAULT_SO_THAT,
        priority=priority,
        segment=segment,
        quote=quote.strip(),
    )
    return Found(story=story, why_kind=why_kind)


def _meaningful(want: str, conversational: bool) -> bool:
    """A want that names something to do to something, not a step of the meeting itself."""
    tokens = words(want)
    if tokens[:1] == ["to"]:
        tokens = tokens[1:]
    if len(tokens) < 2:
        return False
    if want.lower().startswith("to ") and not is_verb(tokens[0]):
        return False
    if not conversational:
        return True
    verb = tokens[0]
    content = [t for t in tokens[1:] if t not in DETERMINERS and t not in POSSESSIVES and len(t) > 2]
    if verb in MEETING_VERBS or not content or tokens[1] in ("or", "and"):
        return False
    if re.search(r"\b(?:is|are|was|were)\s+to\b", " ".join(tokens)):
        return False  # two clauses run together ("get rid one of our requirements is to move")
    if any(singular(t) in MEETING_NOUNS for t in content[:2]) and len(content) <= 3:
        return False
    if re.search(r"\b(?:we|you|us|he|she)\b", " ".join(tokens[1:])) and len(tokens) > 8:
        return False  # a clause about the speakers, not the product
    return len(tokens) <= 16


def _actor_or_default(context: Context) -> str:
    return context.actor or "user"


def read_statement(sentence: str, segment: int, context: Context) -> list[Found]:
    """The draft stories one sentence states (none when it states no requirement)."""
    text = sentence.strip().rstrip(".!;:").strip()
    found = _user_story(sentence, text, segment, context)
    if found is not None:
        return found
    for reader in (_product_description, _feature_list):
        result = reader(sentence, text, segment, context)
        if result:
            return result
    brief = _BRIEF.match(text)
    if brief and re.search(rf"\b(?:{_APP_WORDS})s?\b", brief["thing"], re.I):
        return _brief(sentence, brief, segment, context, context.priority or "Should")
    result = _modal(sentence, text, segment, context)
    if result is not None:
        return result
    if context.feature_item:
        return _bare_feature(sentence, text, segment, context)
    return []


def _user_story(sentence: str, text: str, segment: int, context: Context) -> list[Found] | None:
    as_a = _AS_A.search(text)
    role = None
    if as_a:
        role, verb, want = actor_of(as_a["role"]), as_a["verb"], as_a["want"]
        quote = sentence.strip()[as_a.start() :]
    else:
        i_want = _I_WANT.search(text)
        if i_want is None:
            return None
        role, verb, want = _actor_or_default(context), i_want["verb"], i_want["want"]
        quote = sentence.strip()
    want, why, why_kind = split_why(want)
    if re.match(r"^(to|be able)\s", want, re.I):
        want = "to " + strip_leading_to(want)
    priority: Priority = context.priority or ("Must" if verb.lower() == "need" else "Should")
    if context.conversational and not _meaningful(want, True):
        return []
    return [_found(role, want, why, why_kind, priority, quote, segment)]


def _product_description(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
    match = _PRODUCT.search(text)
    if match is None:
        return []
    tail = match["tail"]
    link = match["link"].lower()
    name = re.match(r"^(?P<name>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2})\s+(?:is|will be)\s", text)
    if name:
        context.product = name["name"]
    if link in ("where", "in which", "with which"):
        parts = re.match(
            r"^(?P<actor>.+?)\s+(?:can|could|will|may|are able to|is able to)\s+(?P<actions>.+)$", tail, re.I
        )
    else:
        parts = re.match(r"^(?P<actor>.+?)\s+(?:to\s+)?(?P<actions>(?P<verb>[a-z]+)\b.*)$", tail, re.I)
        if parts is not None:
            tokens = tail.split()
            index = next(
                (
                    i
                    for i, token in enumerate(tokens)
                    if i > 0 and (token.lower() == "to" or is_verb(token.lower()))
                ),
                None,
            )
            if index is None:
                return []
            actor_words = tokens[:index]
            rest = tokens[index + 1 :] if tokens[index].lower() == "to" else tokens[index:]
            return _actions_of(" ".join(actor_words), " ".join(rest), sentence, segment, context)
    if parts is None:
        return []
    return _actions_of(parts["actor"], parts["actions"], sentence, segment, context)


def _actions_of(
    actor_phrase: str,
    actions: str,
    sentence: str,
    segment: int,
    context: Context,
    priority: Priority | None = None,
    reason: tuple[str | None, str | None] = (None, None),
) -> list[Found]:
    actor_phrase = actor_phrase.strip()
    pronoun = actor_phrase.lower() in _PRONOUNS or actor_phrase.lower() in (
        "me",
        "us",
        "them",
        "people",
        "you",
    )
    role = _actor_or_default(context) if pronoun else actor_of(actor_phrase)
    if not pronoun:
        context.actor, context.actor_segment = role, segment
    body, why, why_kind = split_why(strip_leading_to(actions))
    if why is None:
        why, why_kind = reason
    chosen: Priority = context.priority or priority or "Should"
    stories = []
    for action in split_actions(body):
        if not is_verb(action.split()[0].lower()):
            continue
        action = action[:1].lower() + action[1:]
        want = first_person(f"to {action}")
        if _meaningful(want, context.conversational):
            stories.append(
                _found(role, want, why, why_kind, chosen, sentence, segment, title_of(f"to {action}"))
            )
    return stories


def _feature_list(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
    match = _FEATURES.search(text)
    if match is None:
        return []
    listing = match["list"] or match["list2"] or ""
    priority: Priority = context.priority or "Should"
    stories = []
    for item in _items(listing):
        want, title = feature_story_want(item)
        if want and len(words(want)) >= 1:
            stories.append(
                _found(_actor_or_default(context), want, None, None, priority, sentence, segment, title)
            )
    return stories


def _brief(
    sentence: str, brief: re.Match[str], segment: int, context: Context, priority: Priority
) -> list[Found]:
    verb = brief["verb"].lower()
    thing_phrase = clean(brief["thing"])
    features = brief["features"] or ""
    build_want = f"to {verb} {thing_phrase}"
    if not features:
        return [_found("user", build_want, None, None, priority, sentence, segment)]
    if _TECH.search(features):
        want, why, why_kind = split_why(f"to {verb} {thing_phrase} with {features}")
        return [_found("user", want, why, why_kind, priority, sentence, segment)]
    thing_words = [
        w
        for w in words(thing_phrase)
        if w not in DETERMINERS and w not in POSSESSIVES and w not in _GENERIC_THING_WORDS
    ]
    app_free = [w for w in thing_words if not re.fullmatch(_APP_WORDS, w)]
    thing = singular(app_free[-1]) if app_free else None
    stories = [_found("user", build_want, None, None, priority, sentence, segment)]
    for item in _items(features):
        want, title = feature_story_want(item, thing)
        if want:
            stories.append(
                _found(_actor_or_default(context), want, None, None, priority, sentence, segment, title)
            )
    return stories


def _modal(sentence: str, text: str, segment: int, context: Context) -> list[Found] | None:
    matches = [
        (match.start(), -len(match.group(0)), match, priority)
        for pattern, priority in _MODALS
        for match in [pattern.search(text)]
        if match
    ]
    if not matches:
        return None
    _, _, match, modal_priority = min(matches, key=lambda item: (item[0], item[1]))
    if re.search(
        r"\b(?:don'?t|do not|doesn'?t|does not|not|never|won'?t)\s+(?:\w+ly\s+)?$",
        text[: match.start()],
        re.I,
    ):
        return []  # "users who don't want changes": a negated need asks for nothing
    priority: Priority = context.priority or modal_priority
    subject = re.split(r"[,:;]", text[: match.start()])[-1].strip()
    subject = _HEDGES.sub("", subject).strip()
    if context.conversational:
        subject = re.split(r"\b(?:and|but|so|because|if|that|when|then|which)\b", subject)[-1].strip()
    if len([w for w in words(subject) if w not in DETERMINERS]) > 4:
        return []  # a clause, not the subject of a requirement
    raw_action = text[match.end() :].strip(" ,")
    if context.spoken:
        raw_action = _CONVERSATIONAL_CUT.split(raw_action, maxsplit=1)[0]
    action, why, why_kind = split_why(raw_action)
    action = strip_leading_to(action)
    if re.match(r"^have\s+", action, re.I) and modal_priority == "Could":
        action = re.sub(r"^have\s+", "", action, flags=re.I)
    if match.group(0).lower() in ("can", "will") and not (
        looks_like_person(subject) or _is_product(subject, context.product)
    ):
        return None  # "it can be slow", "we will see": only people and the product state abilities
    subject_words = [w for w in words(subject) if w not in DETERMINERS]
    brief = _BRIEF.match(action)
    if brief and re.search(rf"\b(?:{_APP_WORDS})s?\b", brief["thing"], re.I) and subject.lower() in _PRONOUNS:
        return _brief(sentence, brief, segment, context, priority)

    # "we need clerks to ship ...", "they want us to restrict ...": the actor named after the modal.
    named = re.match(
        r"^(?P<who>(?:the|a|an|our|all|every|each)?\s*[\w -]+?)\s+to\s+(?P<rest>\S.*)$", action, re.I
    )
    if (
        subject.lower() in _PRONOUNS
        and named
        and looks_like_person(named["who"])
        and is_verb(named["rest"].split()[0].lower())
    ):
        return _actions_of(named["who"], named["rest"], sentence, segment, context, priority, (why, why_kind))

    if _is_product(subject, context.product):
        allow = re.match(
            r"^(?:allow|let|enable|permit|help)s?\s+(?P<who>.+?)\s+(?:to\s+)?(?P<rest>(?:\w+).*)$",
            action,
            re.I,
        )
        if allow:
            tokens = allow.group(0).split()[1:]
            index = next(
                (i for i, t in enumerate(tokens) if i > 0 and (t.lower() == "to" or is_verb(t.lower()))), None
            )
            if index is not None:
                rest = tokens[index + 1 :] if tokens[index].lower() == "to" else tokens[index:]
                return _actions_of(
                    " ".join(tokens[:index]), " ".join(rest), sentence, segment, context, priority
                )
        return _product_action(subject, action, why, why_kind, priority, sentence, segment, context)

    if looks_like_person(subject):
        context.actor, context.actor_segment = actor_of(subject), segment
        if not action:
            return []
        return _actions_of(subject, action, sentence, segment, context, priority, (why, why_kind)) or []
    if subject.lower() in _PRONOUNS:
        if not action:
            return None
        if context.conversational and not _meaningful(f"to {action}", True):
            return []
        noun_phrase = re.match(r"^(an?|the|some)\s", action, re.I) is not None
        want = action if noun_phrase else f"to {action}"
        if len(words(want)) < 2:
            return None
        if not noun_phrase and re.match(r"^be\s", action, re.I):
            return []  # "it should be clear ...": a state of mind, not an action
        # "they" stands for the people named last; "we", "I" and "you" for the users.
        near = not context.conversational or context.actor_segment >= segment - 1
        role = context.actor if subject.lower() == "they" and context.actor and near else "user"
        return [_found(role, want, why, why_kind, priority, sentence, segment)]
    if context.conversational and (not action or re.match(r"^be\s", action, re.I)):
        return []  # in talk, "X would be nice" and "it should be Y" are opinions, not requests
    if not action:  # "A dark mode would be nice to have."
        want = _lower_first(subject)
        if len(words(want)) < 2:
            return None
        return [_found("user", want, why, why_kind, priority, sentence, segment)]
    passive = re.match(
        r"^be\s+(?P<participle>\w+ed|\w+en|done|sent|shown|kept|made|set|built|paid|sold|closed)\b(?P<rest>.*)$",
        action,
        re.I,
    )
    if passive and subject_words:
        from lemminflect import getLemma

        lemma = getLemma(passive["participle"].lower(), "VERB")
        verb = lemma[0] if lemma else passive["participle"]
        want = f"to {verb} {_lower_first(subject)}{passive['rest']}"
        return [_found(_actor_or_default(context), want, why, why_kind, priority, sentence, segment)]
    if context.conversational and not _meaningful(f"to {action}", True):
        return []
    first = words(action)[:1]
    if not first or not is_verb(first[0]) or words(subject)[-1:] in (["we"], ["i"], ["you"], ["they"]):
        return None  # "Two things we need from the tracker:" states no action
    want = f"{_lower_first(subject)} to {action}"
    if len(words(want)) < 3:
        return None
    return [_found("user", want, why, why_kind, priority, sentence, segment)]


_PRODUCT_SUBJECTS = frozenset(
    """system app application platform site website software tool product solution service portal
    program""".split()
)


def _is_product(subject: str, product: str | None = None) -> bool:
    tokens = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    if not tokens:
        return False
    if tokens[-1] in _PRODUCT_SUBJECTS:
        return True
    # The product's own name, once introduced: "Pet Pal will ...", "ShelfShare shall ...".
    return bool(product) and subject.strip().lower() == product.lower()


def _product_action(
    subject: str,
    action: str,
    why: str | None,
    why_kind: str | None,
    priority: Priority,
    sentence: str,
    segment: int,
    context: Context,
) -> list[Found]:
    """ "The app will also remind them of vaccinations": imperative title, the actor it serves."""
    if not action or not is_verb(action.split()[0].lower()) or action.lower().startswith("be "):
        return []
    people = re.finditer(
        r"\b(?:to|for|notify|remind|alert|email|tell|inform|show)\s+"
        r"(?=(?P<who>(?:the|a|an|each|every|all)?\s*[\w-]+(?:\s+[\w-]+)?))",
        action,
        re.I,
    )
    person = next((found for found in people if looks_like_person(found["who"])), None)
    role = None
    if person:
        role = actor_of(person["who"])
    elif re.search(r"\b(?:them|their)\b", action, re.I) and context.actor:
        role = context.actor
        action = re.sub(
            r"\bthem\b", plural_noun(role.split()[-1]) if " " not in role else role + "s", action, count=1
        )
    role = role or _actor_or_default(context)
    product = (
        "the " + " ".join(w for w in words(subject) if w not in DETERMINERS) if words(subject) else "the app"
    )
    if not any(w in _PRODUCT_SUBJECTS for w in words(subject)):
        product = "the app"
    actions = split_actions(action)
    stories = []
    for part in actions:
        want = f"{product} to {part}"
        stories.append(_found(role, want, why, why_kind, priority, sentence, segment, title_of(f"to {part}")))
    return stories


def _bare_feature(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
    """A bullet under a features heading: "Members book a class", "Search classes", "Waiting list"."""
    body, why, why_kind = split_why(text)
    tokens = body.split()
    if len(tokens) < 2 or body.endswith("?"):
        return []
    priority: Priority = context.priority or "Should"
    for index in range(1, min(len(tokens), 5)):
        subject = " ".join(tokens[:index])
        if looks_like_person(subject) and is_verb(tokens[index].lower()):
            return _actions_of(subject, " ".join(tokens[index:]), sentence, segment, context)
    if is_verb(tokens[0].lower()):
        return _actions_of("", body, sentence, segment, context)
    want, title = feature_story_want(body)
    return [_found(_actor_or_default(context), want, why, why_kind, priority, sentence, segment, title)]


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    if first.lower() in ("the", "a", "an", "our", "my", "this", "it"):
        return first.lower() + text[len(first) :]
    return text


__all__ = ["PERSON_WORDS", "Context", "Found", "read_statement"]
