"""Sentences about the product itself: product prose ("X is an app that lets owners ..."), feature lists,
one-line briefs ("Build a <thing> with add, edit, delete"), and the product or a part of it acting
("The app will remind them of vaccinations")."""

from __future__ import annotations

import re

from assets.requirements.language import singular, words
from assets.requirements.models import Priority
from assets.requirements.offline.actions import (
    Context,
    Found,
    actions_of,
    clean,
    default_actor,
    draft,
    feature_story_want,
    items,
    split_actions,
    split_why,
)
from assets.requirements.offline.people import actor_of, looks_like_person
from assets.requirements.offline.phrasing import (
    DETERMINERS,
    POSSESSIVES,
    SYSTEM_WORDS,
    is_verb,
    plural_noun,
    title_of,
    with_article,
)

APP_WORDS = (
    r"app|application|web ?app|website|site|tool|platform|system|service|portal|program|programme|tracker"
    r"|planner|manager|dashboard|game|bot|api|backend|marketplace|store|shop|catalog(?:ue)?|directory|box|diary"
    r"|journal|organi[sz]er|log|board|wiki|crm|erp"
)


_PRODUCT = re.compile(
    rf"\b(?:{APP_WORDS})\b\s*,?\s*(?:that|which|where|in which|with which|to|for|helping)?\s*"
    r"(?P<link>lets|allows|enables|helps|permits|where|in which|with which)\s+(?P<tail>.+)$",
    re.I,
)


_FEATURES = re.compile(
    r"\b(?:features?|functionality|capabilities)\s+(?:such as|like|including|include|includes)\s+"
    r"(?P<list>.+)$|\b(?:includes?|offers?|provides?|supports?|has)\s+(?:features?|capabilities)"
    r"\s*(?:such as|like|including|:)?\s+(?P<list2>.+)$",
    re.I,
)


BRIEF = re.compile(
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


_GENERIC_THING_WORDS = frozenset(
    """simple small basic web mobile online modern new little full-stack fullstack responsive single page
    react vue angular svelte python django flask fastapi node typescript javascript html css""".split()
)


PRODUCT_NAME = re.compile(
    rf"^(?P<name>[A-Z][\w'-]*(?:\s+(?:&|and|[A-Z][\w'-]*)){{0,3}})\s+(?:is|will be)\s+(?:a|an|the|our)\s+"
    rf"(?:[\w-]+\s+){{0,4}}?(?:{APP_WORDS})s?\b"
)


# "It lets a freelancer keep ...", "This allows staff to ...": the product named before, as "it".
_IT_LETS = re.compile(
    r"^(?:it|this)\s+(?:also\s+)?(?P<link>lets|allows|enables|helps|permits)\s+(?P<tail>.+)$", re.I
)


def read_product_description(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
    match = _PRODUCT.search(text) or _IT_LETS.match(text)
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
            index = actor_end(tokens)
            if index is None:
                return []
            actor_words = tokens[:index]
            rest = tokens[index + 1 :] if tokens[index].lower() == "to" else tokens[index:]
            actor, thing = people_who(" ".join(actor_words))
            if thing:  # "... keep them alive": the houseplants
                context.thing, context.thing_segment = thing, segment
            return actions_of(actor, " ".join(rest), sentence, segment, context)
    if parts is None:
        return []
    return actions_of(parts["actor"], parts["actions"], sentence, segment, context)


def read_feature_list(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
    match = _FEATURES.search(text)
    if match is None:
        return []
    listing = match["list"] or match["list2"] or ""
    priority: Priority = context.priority or "Should"
    stories = []
    for item in items(listing):
        want, title = feature_story_want(item)
        if want and len(words(want)) >= 1:
            stories.append(
                draft(default_actor(context), want, None, None, priority, sentence, segment, title)
            )
    return stories


def read_brief(
    sentence: str, brief: re.Match[str], segment: int, context: Context, priority: Priority
) -> list[Found]:
    verb = brief["verb"].lower()
    thing_phrase = clean(brief["thing"])
    features = brief["features"] or ""
    build_want = f"to {verb} {thing_phrase}"
    if not features:
        return [draft("user", build_want, None, None, priority, sentence, segment)]
    if _TECH.search(features):
        want, why, why_kind = split_why(f"to {verb} {thing_phrase} with {features}")
        return [draft("user", want, why, why_kind, priority, sentence, segment)]
    thing_words = [
        w
        for w in words(thing_phrase)
        if w not in DETERMINERS and w not in POSSESSIVES and w not in _GENERIC_THING_WORDS
    ]
    app_free = [w for w in thing_words if not re.fullmatch(APP_WORDS, w)]
    thing = singular(app_free[-1]) if app_free else None
    each = _EACH_WITH.match(features)
    if each:  # "... to plan our quiz nights with rounds, each with a theme and a number of questions"
        return _things_with_fields(sentence, thing_phrase, each, segment, context, priority)
    stories = []
    for item in items(features):
        want, title = feature_story_want(item, thing)
        if want:
            stories.append(
                draft(default_actor(context), want, None, None, priority, sentence, segment, title)
            )
    # The brief itself is no story once its features are: each feature story quotes the brief, so
    # the stack it names ("a React todo application") still reaches the architecture.
    return stories or [draft("user", build_want, None, None, priority, sentence, segment)]


_EACH_WITH = re.compile(r"^(?P<parts>.+?),?\s+each\s+(?:with|having|has|holding)\s+(?P<fields>\S.+)$", re.I)
_PURPOSE = re.compile(rf"\b(?:{APP_WORDS})s?\s+(?P<link>to|for)\s+(?P<purpose>\S.+)$", re.I)


def _things_with_fields(
    sentence: str, thing_phrase: str, each: re.Match[str], segment: int, context: Context, priority: Priority
) -> list[Found]:
    """ "an app to plan quiz nights" + "rounds, each with a theme and a number of questions" -> "Plan
    quiz nights" and "Add rounds to a quiz night" with the theme and the number of questions."""
    purpose = _PURPOSE.search(thing_phrase)
    if purpose is None:
        return []
    aim = purpose["purpose"].strip()
    acting = purpose["link"].lower() == "to" and is_verb(aim.split()[0].lower())  # "to plan", not "for bands"
    main = f"to {aim}" if acting else f"to keep {aim}"
    owner_words = [w for w in words(aim)[1 if acting else 0 :] if w not in DETERMINERS | POSSESSIVES]
    owner = " ".join([*owner_words[:-1], singular(owner_words[-1])]) if owner_words else ""
    actor = default_actor(context)
    stories = [draft(actor, main, None, None, priority, sentence, segment)]
    parts = items(each["parts"])
    for item in parts[:-1]:
        want, title = feature_story_want(item, owner or None)
        if want:
            stories.append(draft(actor, want, None, None, priority, sentence, segment, title))
    last = clean(parts[-1]) if parts else ""
    if last:
        fields = each["fields"].strip(" .")
        target = f" to {with_article(owner)}" if owner else ""
        stories.append(
            draft(actor, f"to add {last}{target} with {fields}", None, None, priority, sentence, segment)
        )
    return stories


def actor_end(tokens: list[str]) -> int | None:
    """Where the people after "allow" / "lets" end: at "to" + verb if there is one ("allow a harbour
    master to register": "harbour" is a noun here), else at the first verb ("lets owners add")."""
    for i, token in enumerate(tokens):
        if i > 0 and token.lower() == "to" and i + 1 < len(tokens) and is_verb(tokens[i + 1].lower()):
            return i
    relative = next((i for i, t in enumerate(tokens[:4]) if t.lower() in ("who", "that")), None)
    start = 1
    if relative is not None and relative + 2 < len(tokens):  # "people who own houseplants keep ...": past it
        start = relative + 3
    return next(
        (i for i, t in enumerate(tokens) if i >= start and (t.lower() == "to" or is_verb(t.lower()))), None
    )


def people_who(actor: str) -> tuple[str, str | None]:
    """ "people who own houseplants" -> ("houseplant owner", "houseplants"): the role and the thing."""
    match = re.match(
        r"^(?:\w+\s+)?(?:people|those|anyone|users|folks)\s+(?:who|that)\s+(?P<verb>[a-z]+)\s+(?P<thing>[a-z-]+)$",
        actor,
        re.I,
    )
    if match is None or not is_verb(match["verb"].lower()):
        return actor, None
    verb = match["verb"].lower()
    if verb.endswith("e"):
        agent = verb + "r"
    elif re.search(r"[^aeiou][aeiou][bdgmnpt]$", verb) and len(verb) <= 4:
        agent = verb + verb[-1] + "er"
    else:
        agent = verb + "er"
    return f"{singular(match['thing'].lower())} {agent}", match["thing"].lower()


def system_part(subject: str) -> bool:
    """ "The dashboard", "the home screen": a part of the product as the subject."""
    tokens = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    if not tokens or words(subject)[0] in ("a", "an", "each", "every", "any", "all", "some"):
        return False
    return tokens[-1] in SYSTEM_WORDS and tokens[-1] not in ("it", "this", "that", "there")


_PRODUCT_SUBJECTS = frozenset(
    """system app application platform site website software tool product solution service portal
    program tracker planner""".split()
)


def is_product(subject: str, product: str | None = None) -> bool:
    tokens = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    if not tokens or words(subject)[0] in ("a", "an", "each", "every", "any", "all", "some"):
        return False  # "each application", "an app": one of many things, not the product itself
    if tokens == ["it"] and product:  # "Whiskers is an app ... It will also ...": the product again
        return True
    if tokens[-1] in _PRODUCT_SUBJECTS:
        return True
    # The product's own name, once introduced: "Pet Pal will ...", "ShelfShare shall ...".
    return bool(product) and subject.strip().lower() == product.lower()


def product_action(
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
    role = role or default_actor(context)
    product = (
        "the " + " ".join(w for w in words(subject) if w not in DETERMINERS) if words(subject) else "the app"
    )
    if not any(w in _PRODUCT_SUBJECTS for w in words(subject)):
        product = "the app"
    actions = split_actions(action)
    stories = []
    for part in actions:
        want = f"{product} to {part}"
        stories.append(draft(role, want, why, why_kind, priority, sentence, segment, title_of(f"to {part}")))
    return stories


__all__ = [
    "APP_WORDS",
    "BRIEF",
    "PRODUCT_NAME",
    "actor_end",
    "is_product",
    "product_action",
    "read_brief",
    "read_feature_list",
    "read_product_description",
    "system_part",
]
