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

from lemminflect import getAllLemmas, getLemma

from assets.requirements.drafts import DraftCriterion
from assets.requirements.language import PERSON_WORDS, VERB_OPERATIONS, singular, third_person, words
from assets.requirements.models import Priority
from assets.requirements.offline.actions import (
    PRONOUNS,
    SO_SUBJECT,
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
    remember_object,
    resolve_object,
    split_actions,
    split_why,
    strip_leading_to,
)
from assets.requirements.offline.phrasing import (
    DETERMINERS,
    PERSON_VERBS,
    POSSESSIVES,
    SYSTEM_WORDS,
    actor_of,
    is_verb,
    looks_like_person,
    negate,
    participle,
    plural_noun,
    title_of,
    verb_lemma,
    whole_list,
    with_article,
)
from assets.requirements.offline.possession import possession

_AS_A = re.compile(
    r"\bas an?\s+(?P<role>[^,]+?),?\s+I\s+(?P<verb>want|need|would like|wish)\s+(?P<want>.+)$", re.I
)


_I_WANT = re.compile(r"\bI\s+(?P<verb>want|need|would like|wish)\s+(?P<want>to\s+.+)$", re.I)


_MODALS: list[tuple[re.Pattern[str], Priority]] = [
    (re.compile(r"\b(?:would be |is )?nice to have\b|\bwould be nice(?: to have)?\b", re.I), "Could"),
    # "it would be really useful to see ...", "it would be great if we could ...": a wish.
    (
        re.compile(
            r"\bwould (?:also |really )?be (?:\w+ly )?(?:useful|great|good|helpful|handy|ideal|brilliant"
            r"|lovely|amazing|cool|wonderful|awesome|fantastic|perfect)\s+"
            r"(?:to|if (?:we|i|you|they|it) (?:could|can|would))\b",
            re.I,
        ),
        "Could",
    ),
    (re.compile(r"\bwould (?:also |really |just )?love(?: to)?\b", re.I), "Could"),
    # "volunteers want a reminder ...": wanting a thing
    (re.compile(r"\bwants?\b(?=\s+(?:a|an|the|some|more|their|our|his|her)\s)", re.I), "Should"),
    # A prohibition: "cannot", "mustn't", "may not" (the "not" of "shall not" follows its modal).
    (
        re.compile(r"\bcan(?:not|['’]t)\b|\bcan not\b|\bmustn['’]t\b|\bshouldn['’]t\b|\bmay not\b", re.I),
        "Must",
    ),
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
    (re.compile(r"\bcould\b|\bwould (?:also |really |just )?like(?: to)?\b|\bmight\b", re.I), "Could"),
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
    rf",\s(?!so that|so\s+{SO_SUBJECT})|\s+(?:but|so(?! that)(?!\s+{SO_SUBJECT})|or something|and then)\s"
    r"|\s+or\s*$",
    re.I,
)


_KEPT_NOUNS = r"catalogue|catalog|register|inventory|archive|directory|database|index|ledger|record"
_WHY_START = re.compile(r",?\s+\b(?:so that|in order to)\s+\w", re.I)
_WAY_FOR = re.compile(
    r"^(?:(?:have|get|give|offer|provide|add|build)\s+)?(?:a|an|the|some)\s+(?:simple\s+|easy\s+|quick\s+)?"
    r"(?:way|option|place|chance|means|form|page|button)\s+for\s+(?=.+?\s+to\s+[a-z])",
    re.I,
)


def spoken_request(action: str) -> str:
    """What a speaker asks for, up to where they move on; a list ("the name, the age and the phone")
    is said in one breath and stays whole."""
    start = 0
    while True:
        cut = _CONVERSATIONAL_CUT.search(action, start)
        if cut is None:
            return action
        listed = whole_list(action, action[: cut.start()])
        if cut.group(0).startswith(",") and len(listed) > cut.start():
            start = len(listed)
            continue
        return action[: cut.start()]


_WOULD = re.compile(r"\b(i|we|they|you|he|she|it|that|this|there)['’]d\b", re.I)


# Where a sentence starts a second clause with its own subject and modal verb: "..., and if
# something changes she should be able to cancel it", "...; members can also ...".
_SECOND_CLAUSE = re.compile(
    r"(?:,\s+(?:and|but)|;)\s+(?!(?:how|what|which|where|who|whether)\b)"
    r"(?=(?:(?:if|when|once|after|before)\s[^,]{1,60},?\s+)?"
    r"(?:\w+\s+){0,4}?(?:should|must|shall|can|could|will|would|needs? to|wants? to|has to|have to)\b)",
    re.I,
)


def read_statement(sentence: str, segment: int, context: Context) -> list[Found]:
    """The draft stories one sentence states (none when it states no requirement)."""
    sentence = _WOULD.sub(r"\1 would", sentence)
    parts = [part for part in _SECOND_CLAUSE.split(sentence) if part.strip()]
    if len(parts) < 2 or any(len(part.split()) < 4 for part in parts):
        parts = [sentence]
    found: list[Found] = []
    for part in parts:
        stories = _read_clause(part, segment, context)
        for story in stories:
            remember_object(story.story.i_want, context, segment)
        found += stories
    return found


_PRODUCT_NAME = re.compile(
    rf"^(?P<name>[A-Z][\w'-]*(?:\s+(?:&|and|[A-Z][\w'-]*)){{0,3}})\s+(?:is|will be)\s+(?:a|an|the|our)\s+"
    rf"(?:[\w-]+\s+){{0,4}}?(?:{_APP_WORDS})s?\b"
)


def _read_clause(sentence: str, segment: int, context: Context) -> list[Found]:
    text = sentence.strip().rstrip(".!;:").strip()
    named = _PRODUCT_NAME.match(text)
    if named:  # "Tally is a web application for ...": later "Tally turns ..." is the product acting
        context.product = named["name"]
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
    held = possession(text, segment, context)
    if held:  # "Every boat has a name, a type and a seat count": a record to keep
        return held
    if context.feature_item:
        return _bare_feature(sentence, text, segment, context)
    wanted = (
        _wanted_thing(_HEDGES.sub("", text).strip()) if context.conversational or context.bullet else None
    )
    if wanted and wanted.startswith("to see "):  # a turn that names a list or a count: "A list of the books"
        return [
            draft(default_actor(context), wanted, None, None, context.priority or "Should", sentence, segment)
        ]
    gerund = _GERUND.search(text)
    if gerund:  # "the first thing is registering households"
        lemma = getLemma(gerund["verb"].lower(), "VERB")
        if lemma and is_verb(lemma[0]):
            return actions_of("", f"{lemma[0]} {gerund['rest']}", sentence, segment, context)
    return _present_tense(sentence, text, segment, context)


_GERUND = re.compile(
    r"\b(?:thing|step|part|priority|feature|need|requirement|job|task|bit|one)\s+(?:is|would be|will be)\s+"
    r"(?P<verb>[a-z]+ing)\s+(?P<rest>\w.+)$",
    re.I,
)


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
        if _RELATIVE_WANT.search(text[: i_want.start()] + "I"):
            return []  # "things that I would like to see": a relative clause, not a request
        role, verb, want = default_actor(context), i_want["verb"], i_want["want"]
        quote = sentence.strip()
    want, why, why_kind = split_why(want)
    if re.match(r"^(to|be able)\s", want, re.I):
        want = "to " + strip_leading_to(want)
    priority: Priority = context.priority or ("Must" if verb.lower() == "need" else "Should")
    if context.conversational and not meaningful(want, True):
        return []
    return [draft(role, want, why, why_kind, priority, quote, segment)]


# "It lets a freelancer keep ...", "This allows staff to ...": the product named before, as "it".
_IT_LETS = re.compile(
    r"^(?:it|this)\s+(?:also\s+)?(?P<link>lets|allows|enables|helps|permits)\s+(?P<tail>.+)$", re.I
)


def _product_description(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
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
            index = _actor_end(tokens)
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


def _modal(sentence: str, text: str, segment: int, context: Context) -> list[Found] | None:
    why = _WHY_START.search(text)
    matches = [
        (match.start(), -len(match.group(0)), match, priority)
        for pattern, priority in _MODALS
        for match in pattern.finditer(text)
        if not _noun_need(text, match) and (why is None or match.start() < why.start())
    ]  # "..., so that members can see ...": the modal of the benefit is not the requirement's
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
    # "We also need ...", "members really want ...": the adverb before the modal is no part of the subject
    subject = re.sub(
        r"(?:\s+(?:also|really|just|still|definitely|then|all|both|too|only|actually|probably|certainly"
        r"|absolutely|urgently|badly|do|does))+$",
        "",
        subject,
        flags=re.I,
    )
    if context.conversational:
        subject = re.split(r"\b(?:and|but|so|because|if|that|when|then|which)\b", subject, flags=re.I)[
            -1
        ].strip()
    # "For every pupil on a trip we need to ...": the subject is the pronoun next to the modal, what
    # comes before it sets the scene.
    if re.match(r"^(?:how|what|which|where|whether|when)\b", subject, re.I):
        return None  # "..., and how often it has to be taken": a detail in a list, not a statement
    if re.match(r"(?:we|i)\s", match.group(0), re.I):  # "for the society we want to ...": "we" is the subject
        subject = match.group(0).split()[0]
    pronoun = re.search(r"(?:^|\s)(we|i|you|they|he|she)$", subject, re.I)
    condition_before = re.search(r"\b(?:if|when|once|whenever)\b", text[: match.start()], re.I) is not None
    main_subject = re.search(r"(?:^|\s)((?:the|each|every|this|that|its|their|our)\s+[\w-]+)$", subject, re.I)
    if condition_before and not pronoun and main_subject and len(subject.split()) > 2:
        subject = main_subject.group(1)  # "When someone reports damage the boat should ...": the boat
    if pronoun and (
        words(subject)[0] in _OPENERS | {"for", "with", "in", "on", "at", "during"} or condition_before
    ):
        subject = pronoun.group(1)
    if len([w for w in words(subject) if w not in DETERMINERS]) > 4:
        return None  # a clause, not the subject of a requirement: other forms may still read it
    raw_action = text[match.end() :].strip(" ,")
    if context.spoken:
        raw_action = spoken_request(raw_action)
    action, why, why_kind = split_why(raw_action)
    named = re.search(r"\b(?:we|i|they|you)\s+([a-z]+)\s+([a-z]+)\b", text[: match.start()], re.I)
    if named and is_verb(named[1].lower()):  # "We lend books, and we need a catalogue of them"
        remember_object(f"{named[1]} {named[2]}", context, segment)
    action = resolve_object(strip_leading_to(action), context, segment)
    negative_modal = re.search(r"not|n['’]t", match.group(0), re.I) is not None
    prohibited = re.match(r"^(?:not|never|no longer)\s+(?P<rest>\S.*)$", action, re.I)
    if prohibited or negative_modal:
        if context.conversational:
            return []  # in talk, "they shouldn't have the same size" is an opinion, not a rule to build
        rest = prohibited["rest"] if prohibited else action
        return _prohibition(subject, rest, why, why_kind, priority, sentence, segment, context)
    if context.conversational and _RELATIVE_WANT.search(text[: match.start()]):
        return []  # "a couple of things that I would like to see": what is wanted is said elsewhere
    limited = _limit(subject, action, priority, sentence, segment, context)
    if limited:
        return limited
    product_itself = rf"^(?:an?|the|one|our)\s+(?:[\w-]+\s+){{0,3}}(?:{_APP_WORDS})"
    qualified = r"(?:\s+(?:for|instead of|to replace|in place of)\s+[^,]+)?\s*$"
    if re.match(product_itself + qualified, action, re.I):
        return []  # "The food bank needs a simple rota app": the product itself, not one of its features
    wanted = _wanted_thing(action)
    if wanted is not None:  # "we'd love a count of ...", "we need the pupils in there - name, class"
        if subject.lower() in ("we", "i", "you"):
            role = "user"
        elif looks_like_person(subject):
            role = actor_of(subject)
        else:
            role = default_actor(context)
        return [draft(role, wanted, why, why_kind, priority, sentence, segment)]
    bare_need = match.group(0).lower() in ("need", "needs")
    described = _described(subject, action) if bare_need else None
    if described:  # "Each trip needs a destination, the date and ...": what is kept of each trip
        return [draft(default_actor(context), described, why, why_kind, priority, sentence, segment)]
    first_words = words(action)[:2]
    someone_to = re.match(r"^(?P<who>.+?)\s+to\s+\w", action)
    named_first = someone_to is not None and (
        looks_like_person(someone_to["who"]) or someone_to["who"].lower() in ("them", "people", "everyone")
    )
    checked = re.match(
        r"^(?:a|an|some)\s+(?:quick\s+|simple\s+)?check\s+(?=(?:that|whether|if)\s)", action, re.I
    )
    if checked:  # "we need a check that a member has passed the drill": to check it
        action = "check " + action[checked.end() :]
    elif bare_need and first_words and not named_first:
        if not is_verb(first_words[0]) or first_words[1:] == ["to"]:
            kept = re.match(rf"^(?:an?|the)\s+(?:\w+\s+)?(?:{_KEPT_NOUNS})\s+of\b", action, re.I)
            # "sitters need access to the notes": to have it; "we need a catalogue of every score": to keep it
            action = f"{'keep' if kept else 'have'} {action}"
    elif re.match(r"^have\s+", action, re.I) and modal_priority == "Could":
        action = re.sub(r"^have\s+", "", action, flags=re.I)
    people_named = subject.lower() in ("they", "he", "she") and context.actor is not None
    if match.group(0).lower() in ("can", "will") and not (
        looks_like_person(subject) or _is_product(subject, context.product) or people_named
    ):
        return None  # "it can be slow", "we will see": only people and the product state abilities
    subject_words = [w for w in words(subject) if w not in DETERMINERS]
    brief = _BRIEF.match(action)
    if brief and re.search(rf"\b(?:{_APP_WORDS})s?\b", brief["thing"], re.I) and subject.lower() in PRONOUNS:
        return _brief(sentence, brief, segment, context, priority)

    # "we should have a way for people to book ...": the people and what they do
    action = _WAY_FOR.sub("", action)
    # "we need clerks to ship ...", "they want us to restrict ...": the actor named after the modal.
    named = re.match(
        r"^(?P<who>(?:the|a|an|our|all|every|each)?\s*[\w -]+?)\s+to\s+(?P<rest>\S.*)$", action, re.I
    )
    if (
        subject.lower() in PRONOUNS
        and named
        and (looks_like_person(named["who"]) or named["who"].lower() in ("them", "people", "everyone"))
        and not re.match(
            r"^(?:have|get|give|offer|provide|add|build|make)\s+(?:an?|the|some)\s", named["who"], re.I
        )
        and is_verb(named["rest"].split()[0].lower())
        and named["rest"].split()[0].lower() not in ("be", "have", "do")
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
            index = _actor_end(tokens)
            if index is not None:
                rest = tokens[index + 1 :] if tokens[index].lower() == "to" else tokens[index:]
                return actions_of(
                    " ".join(tokens[:index]), " ".join(rest), sentence, segment, context, priority
                )
        acted = _product_action(subject, action, why, why_kind, priority, sentence, segment, context)
        if acted or subject.lower() != "it":
            return acted
        # "It would be nice to have a dark mode": "it" names no product here

    if looks_like_person(subject) or (action and acts_like_person(subject, action.split()[0])):
        context.actor, context.actor_segment = actor_of(subject), segment
        if not action:
            return []
        if not is_verb(words(action)[0]) and not context.spoken:
            # "Admins could have a report of overdue loans"; "volunteers want a reminder": to get one
            message = re.match(rf"^(?:an?|the|some)\s+(?:\w+\s+)?(?:{_MESSAGE_NOUNS})\b", action, re.I)
            action = f"{'get' if message else 'have'} {action}"
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
        third = subject.lower() in ("they", "he", "she")
        role = context.actor if third and context.actor and near else "user"
        return [draft(role, want, why, why_kind, priority, sentence, segment)]
    written_passive = (
        context.conversational
        and not context.spoken
        and re.match(r"^be\s+(?:\w+ed|\w+en|sent|shown|kept|made|set|paid|sold|closed)\s+\w", action, re.I)
    )
    if context.conversational and not written_passive and (not action or re.match(r"^be\s", action, re.I)):
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
    if context.spoken and not _system_part(subject):
        return []  # "speech recognition could blow out the price": in talk, a thing's ability is an opinion
    want = f"{lower_first(subject)} to {action}"
    if len(words(want)) < 3:
        return None
    return [draft("user", want, why, why_kind, priority, sentence, segment)]


# Nouns for information a person looks at: wanting one of them is wanting to see it.
REPORT_NOUNS = frozenset(
    """count number total list summary report overview breakdown view chart graph history sum average
    percentage tally record log table calendar timeline map timetable rota diary""".split()
)
_ATTRIBUTE_LIST = re.compile(
    r"\s+(?:-|–|—|:)\s+(?P<list>[^-–—:]+?\b(?:and|or)\b[^-–—:]+?)(?:\s+[-–—]\s+.*)?$"
)


def _wanted_thing(action: str) -> str | None:
    """What a wanted noun phrase asks to do: see information, or keep things with the details listed.

    "a count of applications per stage" -> "to see a count of applications per stage";
    "the pupils in there - name, class and medical notes" -> "to record pupils with their name, class
    and medical notes". None for anything else.
    """
    action = re.split(r"\s+(?:would|will|could|should|can|might)\s+", action, maxsplit=1)[
        0
    ]  # "... would help"
    tokens = words(action)
    if not tokens or tokens[0] not in DETERMINERS | POSSESSIVES:
        return None
    before_of = re.split(r"\s+(?:of|per)\s+", action.lower(), maxsplit=1)[0].split()
    head = before_of[-1] if 2 <= len(before_of) <= 4 else ""
    noun = next((token for token in tokens[1:3] if token not in DETERMINERS), "")
    # "a list of the rooms", "a count per stage"; "a waiting list for full events" is a feature
    if head in REPORT_NOUNS and re.search(r"\b(?:of|per)\b", action, re.I):
        if re.search(r",\s*(?:it|that|this|they|there)(?:['’]s|['’]re| is| are| was)\b", action, re.I):
            return None  # "the average frequency of pushing buttons, it's about ...": a remark
        return f"to see {action[:1].lower()}{action[1:]}"
    listing = _ATTRIBUTE_LIST.search(action)
    if listing and noun and plural_noun(singular(noun)) == noun:
        details = re.sub(r"\s*\(.*?\)", "", listing["list"]).strip(" ,.")
        return f"to record {noun} with their {details}"
    return None


def _actor_end(tokens: list[str]) -> int | None:
    """Where the people after "allow" / "lets" end: at "to" + verb if there is one ("allow a harbour
    master to register": "harbour" is a noun here), else at the first verb ("lets owners add")."""
    for i, token in enumerate(tokens):
        if i > 0 and token.lower() == "to" and i + 1 < len(tokens) and is_verb(tokens[i + 1].lower()):
            return i
    return next(
        (i for i, t in enumerate(tokens) if i > 0 and (t.lower() == "to" or is_verb(t.lower()))), None
    )


def _noun_need(text: str, match: re.Match[str]) -> bool:
    """ "any dietary needs", "their needs, such as ...": "need" as a noun, not as a modal verb."""
    if match.group(0).lower() not in ("need", "needs"):
        return False
    before = words(text[: match.start()])[-1:]
    after = text[match.end() :].lstrip()
    if not after.strip(" .!?"):
        return True  # "... and how many volunteers it needs": nothing is asked after it
    if before and (before[0] in DETERMINERS or before[0] in POSSESSIVES or _adjective(before[0])):
        return True
    return not before or bool(
        re.match(r"^(?:[,;:)]|like\b|such as\b|and\b|or\b|of\b|are\b|is\b)", after, re.I)
    )


def _adjective(word: str) -> bool:
    lemmas = getAllLemmas(word)
    return "ADJ" in lemmas and not ({"NOUN", "PROPN", "PRON"} & lemmas.keys())


_RELATIVE_WANT = re.compile(
    r"\b(?:things?|stuff|something|anything|everything|what|ones?)\s+(?:that\s+|which\s+)?(?:i|we|you|they)\s*$",
    re.I,
)
_MESSAGE_NOUNS = r"reminders?|notifications?|alerts?|messages?|e-?mails?|texts?|warnings?|confirmations?"
_NUMBER = (
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|fifty"
    r"|hundred)"
)
_LIMIT = re.compile(
    rf"^(?P<verb>[a-z]+)\s+(?:(?:not\s+)?more than|at most|no more than|a maximum of|maximum of)\s+"
    rf"(?P<number>{_NUMBER})\s+(?P<things>.+)$",
    re.I,
)


_BREAK_NOUN = frozenset(
    "in on at of for per with by from to during within out over under each every any this that".split()
)


def _limit(
    subject: str, action: str, priority: Priority, sentence: str, segment: int, context: Context
) -> list[Found]:
    """ "A household can have at most three parcels in any six months" -> "Limit households to three
    parcels in any six months", with the refusal of one more as its criterion."""
    match = _LIMIT.match(re.sub(r"^not\s+", "", action, flags=re.I))
    head = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    if match is None or not head or not is_verb(match["verb"].lower()) or subject.lower() in PRONOUNS:
        return []
    if match.group(0).lower().startswith("not") is False and "more than" in match.group(0).lower():
        if not re.match(r"^not\s", action, re.I):
            return []  # "more than three" without "not": a minimum, not a limit
    noun = " ".join([*head[:-1], singular(head[-1])])
    things = clean(match["things"])
    noun_phrase: list[str] = []
    for word in things.split():
        if word.lower() in _BREAK_NOUN or not word.isalpha():
            break
        noun_phrase.append(word.lower())
    thing_head = " ".join([*noun_phrase[:-1], singular(noun_phrase[-1])]) if noun_phrase else "one"
    verb = match["verb"].lower()
    person = looks_like_person(subject)
    who = "who" if person else "that"
    done = "already has" if verb == "have" else f"has already {participle(verb)}"
    when_verb = "added" if verb in ("have", "hold", "get", "keep") else participle(verb)
    many = plural_noun(noun) if " " not in noun else noun + "s"
    want = f"to limit {many} to {match['number']} {things}"
    role = actor_of(subject) if person else default_actor(context)
    found = draft(role, want, None, None, priority, sentence, segment)
    found.criteria.append(
        DraftCriterion(
            given=f"{with_article(noun)} {who} {done} {match['number']} {things}",
            when=f"another {thing_head} is {when_verb}",
            then="it is refused with a message",
        )
    )
    return [found]


def _prohibition(
    subject: str,
    action: str,
    why: str | None,
    why_kind: str | None,
    priority: Priority,
    sentence: str,
    segment: int,
    context: Context,
) -> list[Found]:
    """ "A case shall not be shipped before it has passed the quality check" -> "Refuse to ship a case
    before it has passed the quality check"; the refusal is its criterion."""
    limited = _limit(subject, f"not {action}", priority, sentence, segment, context)
    if limited:
        return limited
    passive = re.match(r"^be\s+(?P<participle>[a-z]+)\b\s*(?P<rest>.*)$", action, re.I)
    person = looks_like_person(subject)
    if passive:
        lemma = getLemma(passive["participle"].lower(), "VERB")
        if not lemma or not is_verb(lemma[0]) or not words(subject):
            return []
        thing = lower_first(subject)
        core = f"{lemma[0]} {thing} {passive['rest']}".strip()
        verb, thing_phrase, rest = lemma[0], thing, passive["rest"]
    else:
        first = action.split()[0].lower() if action.split() else ""
        if not is_verb(first) or first in ("be", "have"):
            return []
        core = action
        object_words = action.split()[1:]
        cut = next(
            (
                i
                for i, w in enumerate(object_words)
                if w.lower() in ("before", "after", "until", "unless", "if", "when", "once")
            ),
            len(object_words),
        )
        verb, thing_phrase, rest = first, " ".join(object_words[:cut]), " ".join(object_words[cut:])
    role = actor_of(subject) if person else default_actor(context)
    found = draft(role, f"to refuse to {core}", why, why_kind, priority, sentence, segment)
    before = re.match(r"^before\s+(?:it|they)\s+(?P<clause>.+)$", rest, re.I)
    noun = [w for w in thing_phrase.split() if w.lower() not in DETERMINERS | POSSESSIVES]
    if before and noun:
        given = f"{with_article(' '.join(noun))} that {negate(before['clause'])}"
        when = f"the {role} tries to {verb} it"
    else:
        given, when = with_article(role), f"they try to {core}"
    found.criteria.append(DraftCriterion(given=given, when=when, then="it is refused with a message"))
    return [found]


REQUEST = re.compile(
    r"^(?:(?:so|and|also|please)\s+)*(?:could|can|would|will) you\s+(?:please\s+|also\s+|kindly\s+)*"
    r"(?P<rest>\w.+?)\??$",
    re.I,
)
_OPINION_VERBS = frozenset(
    """love like hate think know want need feel say prefer complain find believe hope wish enjoy agree
    seem tend mean say said use""".split()
)


# Words that open a sentence with when or where it happens: "While working, ...", "At the end of
# the month ...", "Then on distribution day ...". The subject comes after them.
_OPENERS = frozenset(
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
    if rest and rest[0].lower().strip(",") in _OPENERS:
        comma = next((i for i, token in enumerate(rest[:12]) if token.endswith(",")), None)
        if comma is not None:
            starts.insert(0, offset + comma + 1)
        starts += [offset + i for i in range(2, min(len(rest), 14)) if offset + i not in starts]
    return starts


_ADVERBS = frozenset("then first next finally now also so and plus".split())


def _present_tense(sentence: str, text: str, segment: int, context: Context) -> list[Found]:
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
            first in DETERMINERS | POSSESSIVES | {"we", "i", "they"} or tokens[start][:1].isupper()
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
                r"(,?\s+(?:and|or|then)\s+)([a-z]+s)\b",
                lambda m: m.group(1) + (present_verb(m.group(2)) or m.group(2)),
                " ".join(rest),
            )
            action = f"{lemma} {later}".strip()
            person = acts_like_person(subject, lemma)
            if context.spoken and not (_named_role(subject) and lemma in _DATA_VERBS):
                person = False  # in talk, only a named role doing something with the records counts
            if subject.lower() in ("we", "i") and lemma == "have" and rest:  # "We have sixty volunteers"
                remember_object(action, context, segment)
            pronoun = subject.lower() in ("we", "i") or (
                subject.lower() == "they" and context.actor is not None
            )
            we = pronoun and lemma in _DATA_VERBS and not context.today
            if (person or we) and not context.today:
                return actions_of(subject, action, sentence, segment, context, None, (why, why_kind))
            if _is_product(subject, context.product) or _system_part(subject):
                if context.today or context.spoken or lemma in _SETTING_VERBS:
                    return []  # "The tracker runs on the team's server": where it runs, not what it does
                return _product_action(
                    subject, action, why, why_kind, context.priority or "Should", sentence, segment, context
                )
            described = _described(subject, " ".join(rest)) if lemma in ("have", "need") else None
            if described and not context.today:  # "Each class has a name, a coach and a room"
                return [draft(default_actor(context), described, why, why_kind, "Should", sentence, segment)]
            head = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
            if head and words(subject)[0] in DETERMINERS:  # "An invoice starts as a draft": the thing
                context.thing, context.thing_segment = head[-1], segment
            break
    return []


# Verbs of keeping and handling records: "we record ...", "a volunteer packs a parcel ...".
_DATA_VERBS = frozenset(VERB_OPERATIONS) | frozenset(
    """keep store track note send issue offer approve reject collect pack print assign lend borrow
    return pay invoice bill order ship deliver dispatch reserve cancel confirm publish enrol enroll
    sign buy sell purchase leave rate review vote suggest share join attend plan set""".split()
)


def acts_like_person(subject: str, verb: str) -> bool:
    """A subject that names people: a role word or agent noun, or a plural noun doing a person's verb."""
    if looks_like_person(subject):
        return True
    tokens = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    if not tokens or len(tokens) > 3 or subject.lower() in PRONOUNS or tokens[-1] in SYSTEM_WORDS:
        return False
    plural = singular(tokens[-1]) != tokens[-1] and tokens[-1].endswith("s")
    return plural and verb.lower() in PERSON_VERBS and not _is_product(subject)


def _named_role(subject: str) -> bool:
    """A subject that names a role the text knows ("a volunteer", "the coach"), not a guess by suffix."""
    tokens = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    return bool(tokens) and singular(tokens[-1]) in PERSON_WORDS


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


def _described(subject: str, details: str) -> str | None:
    """ "Each trip" + "a destination, the date and the cost" -> "to record trips with a destination, ..."."""
    tokens = words(subject)
    if len(tokens) != 2 or tokens[0] not in ("each", "every", "a", "an") or looks_like_person(subject):
        return None
    if tokens[1] in SYSTEM_WORDS or not re.search(r",.*\b(?:and|or)\b", details):
        return None
    return f"to record {plural_noun(tokens[1])} with {details.strip(' .')}"


def _system_part(subject: str) -> bool:
    """ "The dashboard", "the home screen": a part of the product as the subject."""
    tokens = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    if not tokens or words(subject)[0] in ("a", "an", "each", "every", "any", "all", "some"):
        return False
    return tokens[-1] in SYSTEM_WORDS and tokens[-1] not in ("it", "this", "that", "there")


_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|will|can|does|do|did|would|may)\b", re.I)
_PRODUCT_SUBJECTS = frozenset(
    """system app application platform site website software tool product solution service portal
    program""".split()
)


def _is_product(subject: str, product: str | None = None) -> bool:
    tokens = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    if not tokens or words(subject)[0] in ("a", "an", "each", "every", "any", "all", "some"):
        return False  # "each application", "an app": one of many things, not the product itself
    if tokens == ["it"] and product:  # "Whiskers is an app ... It will also ...": the product again
        return True
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
        if acts_like_person(subject, tokens[index]) and is_verb(tokens[index].lower()):
            return actions_of(subject, " ".join(tokens[index:]), sentence, segment, context)
    if is_verb(tokens[0].lower()):
        return actions_of("", body, sentence, segment, context)
    wanted = _wanted_thing(body.rstrip(".!"))
    if wanted and wanted.startswith("to see "):  # "A reminder list of upcoming vaccinations"
        return [draft(default_actor(context), wanted, why, why_kind, priority, sentence, segment)]
    if _FINITE.search(body):
        return []  # a sentence about something ("The app is for busy people"), not a feature name
    want, title = feature_story_want(body.rstrip(".!"))
    return [draft(default_actor(context), want, why, why_kind, priority, sentence, segment, title)]


__all__ = ["read_statement"]
