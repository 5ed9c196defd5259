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

from lemminflect import getLemma

from assets.requirements.language import singular, words
from assets.requirements.models import Priority
from assets.requirements.offline.actions import (
    PRONOUNS,
    Context,
    Found,
    actions_of,
    clean,
    default_actor,
    draft,
    feature_story_want,
    items,
    lower_first,
    meaningful,
    split_actions,
    split_why,
    strip_leading_to,
)
from assets.requirements.offline.phrasing import (
    DETERMINERS,
    POSSESSIVES,
    actor_of,
    is_verb,
    looks_like_person,
    plural_noun,
    title_of,
)

_AS_A = re.compile(
    r"\bas an?\s+(?P<role>[^,]+?),?\s+I\s+(?P<verb>want|need|would like|wish)\s+(?P<want>.+)$", re.I
)


_I_WANT = re.compile(r"\bI\s+(?P<verb>want|need|would like|wish)\s+(?P<want>to\s+.+)$", re.I)


_MODALS: list[tuple[re.Pattern[str], Priority]] = [
    (re.compile(r"\b(?:would be |is )?nice to have\b|\bwould be nice(?: to have)?\b", re.I), "Could"),
    (
        re.compile(
            r"\bmust\b|\bshall\b|\b(?:has|have|needs?) to\b|\b(?:is|are) required to\b|\bneeds?\b", re.I
        ),
        "Must",
    ),
    (
        re.compile(
            r"\bshould\b|\bwants? (?:us |you |them )?to\b|\b(?:we|i) want\b|\b(?:is|are) able to\b", re.I
        ),
        "Should",
    ),
    (re.compile(r"\bcould\b|\bwould like(?: to)?\b|\bmight\b", re.I), "Could"),
    (re.compile(r"\bcan\b(?!\s+be\b)(?!not\b)(?!'t)", re.I), "Should"),
    (re.compile(r"\bwill\b(?!\s+be\b)(?!\s+not\b)|\bwill be able to\b", re.I), "Should"),
]


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


_GENERIC_THING_WORDS = frozenset(
    """simple small basic web mobile online modern new little full-stack fullstack responsive single page
    react vue angular svelte python django flask fastapi node typescript javascript html css""".split()
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


def read_statement(sentence: str, segment: int, context: Context) -> list[Found]:
    """The draft stories one sentence states (none when it states no requirement)."""
    text = sentence.strip().rstrip(".!;:").strip()
    request = REQUEST.match(text)
    if request:  # "Could you also add a weekly summary?": a request, whoever reads it
        text = f"we need to {request['rest']}"
        sentence = sentence.strip()
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
    if not context.spoken:
        return _present_tense(sentence, text, segment, context)
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
        role, verb, want = default_actor(context), i_want["verb"], i_want["want"]
        quote = sentence.strip()
    want, why, why_kind = split_why(want)
    if re.match(r"^(to|be able)\s", want, re.I):
        want = "to " + strip_leading_to(want)
    priority: Priority = context.priority or ("Must" if verb.lower() == "need" else "Should")
    if context.conversational and not meaningful(want, True):
        return []
    return [draft(role, want, why, why_kind, priority, quote, segment)]


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
            return actions_of(" ".join(actor_words), " ".join(rest), sentence, segment, context)
    if parts is None:
        return []
    return actions_of(parts["actor"], parts["actions"], sentence, segment, context)


def _feature_list(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
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


def _brief(
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
    app_free = [w for w in thing_words if not re.fullmatch(_APP_WORDS, w)]
    thing = singular(app_free[-1]) if app_free else None
    stories = [draft("user", build_want, None, None, priority, sentence, segment)]
    for item in items(features):
        want, title = feature_story_want(item, thing)
        if want:
            stories.append(
                draft(default_actor(context), want, None, None, priority, sentence, segment, title)
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
        return None  # a clause, not the subject of a requirement: other forms may still read it
    raw_action = text[match.end() :].strip(" ,")
    if context.spoken:
        raw_action = _CONVERSATIONAL_CUT.split(raw_action, maxsplit=1)[0]
    action, why, why_kind = split_why(raw_action)
    action = strip_leading_to(action)
    bare_need = match.group(0).lower() in ("need", "needs")
    first_words = words(action)[:2]
    someone_to = re.match(r"^(?P<who>.+?)\s+to\s+\w", action)
    named_first = someone_to is not None and looks_like_person(someone_to["who"])
    if bare_need and first_words and not named_first:
        if not is_verb(first_words[0]) or first_words[1:] == ["to"]:
            action = f"have {action}"  # "sitters need access to the notes": to have it
    elif re.match(r"^have\s+", action, re.I) and modal_priority == "Could":
        action = re.sub(r"^have\s+", "", action, flags=re.I)
    if match.group(0).lower() in ("can", "will") and not (
        looks_like_person(subject) or _is_product(subject, context.product)
    ):
        return None  # "it can be slow", "we will see": only people and the product state abilities
    subject_words = [w for w in words(subject) if w not in DETERMINERS]
    brief = _BRIEF.match(action)
    if brief and re.search(rf"\b(?:{_APP_WORDS})s?\b", brief["thing"], re.I) and subject.lower() in PRONOUNS:
        return _brief(sentence, brief, segment, context, priority)

    # "we need clerks to ship ...", "they want us to restrict ...": the actor named after the modal.
    named = re.match(
        r"^(?P<who>(?:the|a|an|our|all|every|each)?\s*[\w -]+?)\s+to\s+(?P<rest>\S.*)$", action, re.I
    )
    if (
        subject.lower() in PRONOUNS
        and named
        and looks_like_person(named["who"])
        and is_verb(named["rest"].split()[0].lower())
    ):
        return actions_of(named["who"], named["rest"], sentence, segment, context, priority, (why, why_kind))

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
                return actions_of(
                    " ".join(tokens[:index]), " ".join(rest), sentence, segment, context, priority
                )
        return _product_action(subject, action, why, why_kind, priority, sentence, segment, context)

    if looks_like_person(subject):
        context.actor, context.actor_segment = actor_of(subject), segment
        if not action:
            return []
        if not is_verb(words(action)[0]) and not context.spoken:
            action = f"have {action}"  # "Admins could have a report of overdue loans"
        return actions_of(subject, action, sentence, segment, context, priority, (why, why_kind)) or []
    if subject.lower() in PRONOUNS:
        if not action:
            return None
        if context.conversational and not meaningful(f"to {action}", True):
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
        return [draft(role, want, why, why_kind, priority, sentence, segment)]
    if context.conversational and (not action or re.match(r"^be\s", action, re.I)):
        return []  # in talk, "X would be nice" and "it should be Y" are opinions, not requests
    if not action:  # "A dark mode would be nice to have."
        want = lower_first(subject)
        if len(words(want)) < 2:
            return None
        return [draft("user", want, why, why_kind, priority, sentence, segment)]
    passive = re.match(
        r"^be\s+(?P<participle>\w+ed|\w+en|done|sent|shown|kept|made|set|built|paid|sold|closed)\b(?P<rest>.*)$",
        action,
        re.I,
    )
    if passive and subject_words:
        lemma = getLemma(passive["participle"].lower(), "VERB")
        verb = lemma[0] if lemma else passive["participle"]
        want = f"to {verb} {lower_first(subject)}{passive['rest']}"
        return [draft(default_actor(context), want, why, why_kind, priority, sentence, segment)]
    if context.conversational and not meaningful(f"to {action}", True):
        return []
    first = words(action)[:1]
    if not first or not is_verb(first[0]) or words(subject)[-1:] in (["we"], ["i"], ["you"], ["they"]):
        return None  # "Two things we need from the tracker:" states no action
    want = f"{lower_first(subject)} to {action}"
    if len(words(want)) < 3:
        return None
    return [draft("user", want, why, why_kind, priority, sentence, segment)]


REQUEST = re.compile(
    r"^(?:(?:so|and|also|please)\s+)*(?:could|can|would|will) you\s+(?:please\s+|also\s+|kindly\s+)*"
    r"(?P<rest>\w.+?)\??$",
    re.I,
)
_OPINION_VERBS = frozenset(
    """love like hate think know want need feel say prefer complain find believe hope wish enjoy agree
    seem tend mean say said use""".split()
)


def _present_tense(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
    """ "Coordinators create shifts with a date": people doing something with the product."""
    body, why, why_kind = split_why(text)
    tokens = body.split()
    for index in range(1, min(len(tokens), 4)):
        subject, verb = " ".join(tokens[:index]), tokens[index].lower()
        if looks_like_person(subject) and is_verb(verb) and verb not in _OPINION_VERBS:
            if verb in ("can", "could", "should", "must", "will", "may"):
                return []
            return actions_of(
                subject, " ".join(tokens[index:]), sentence, segment, context, None, (why, why_kind)
            )
    return []


_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|will|can|does|do|did|would|may)\b", re.I)
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
            return actions_of(subject, " ".join(tokens[index:]), sentence, segment, context)
    if is_verb(tokens[0].lower()):
        return actions_of("", body, sentence, segment, context)
    if _FINITE.search(body):
        return []  # a sentence about something ("The app is for busy people"), not a feature name
    want, title = feature_story_want(body.rstrip(".!"))
    return [draft(default_actor(context), want, why, why_kind, priority, sentence, segment, title)]


__all__ = ["read_statement"]
