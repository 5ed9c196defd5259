"""How a story reads: its actor, its imperative title, and criteria a tester can check.

Grammar comes from `lemminflect` (verb lemmas and participles, noun plurals, which ship their data
in the wheel) rather than from hand-written word tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from lemminflect import getAllLemmas, getInflection

from assets.requirements.drafts import DEFAULT_SO_THAT, DraftCriterion, DraftStory
from assets.requirements.language import PERSON_WORDS, VERB_OPERATIONS, singular, third_person, words

DETERMINERS = frozenset("a an the each every all any some this that these those".split())
POSSESSIVES = frozenset("my our their his her its your".split())
_TITLE_CUT = re.compile(
    r"\s+(?:when|whenever|once|so that|so they|because|in order to|only|unless|if|while|as soon as|which"
    r"|until|who)\s+",
    re.I,
)
_PARTICLES = frozenset("in up out on off down over back away".split())
_BREAK_WORDS = frozenset(
    """for with by in on of to within from at into via per as around near across about over under
    through""".split()
)
_END_WORDS = frozenset(
    """a an the to of and or with for at on in by from into as so that this their my our its your
    each every all any some is are be than then when very more most around near across about over under
    through between without within upon onto up down""".split()
)
# Nouns that name the product or a part of it, never a person.
SYSTEM_WORDS = frozenset(
    """system app application platform site website web portal tool service product software solution
    api backend frontend server page screen board dashboard database interface ui it this that there
    program programme device tracker""".split()
)
AGENT_SUFFIXES = ("er", "or", "ist", "ant", "ent", "ian", "ee")
NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    hundred thousand most least""".split()
)
# A subject never starts with a preposition or a quantifier phrase.
_NOT_SUBJECT_STARTS = frozenset(
    "for to of at in on by with from about as than per into over under after before".split()
)
_NOT_AGENTS = frozenset(
    """order number letter paper water filter folder header footer register counter marker server browser
    computer printer scanner container timer scheduler controller router player parameter calendar
    cover corner border matter power sender pointer poster sticker trailer banner chapter winter summer
    monitor sensor vendor error door floor color colour factor sector vector mirror indicator calculator
    editor tutor event content payment comment document element agent client segment component student
    department reminder newsletter voucher ledger mower heater freezer charger answer""".split()
)
# Agent-like words that are people after all.
_AGENTS = frozenset("editor tutor agent client student vendor".split())


@lru_cache(maxsize=8192)
def is_verb(word: str) -> bool:
    """True when `word` is the base form of a verb ("record", "add"; not "notes", "the")."""
    word = word.lower()
    lemmas = getAllLemmas(word).get("VERB", ())
    return word in lemmas


@lru_cache(maxsize=8192)
def verb_lemma(word: str) -> str | None:
    lemmas = getAllLemmas(word.lower()).get("VERB", ())
    return lemmas[0] if lemmas else None


def participle(verb: str) -> str:
    forms = getInflection(verb.lower(), "VBN")
    return forms[0] if forms else verb + "ed"


def plural_noun(noun: str) -> str:
    forms = getInflection(noun.lower(), "NNS")
    return forms[0] if forms else noun + "s"


def looks_like_person(phrase: str) -> bool:
    """A phrase naming people: a known role word, or an agent noun ("clerk", "organiser", "trainer")."""
    tokens = [word for word in words(phrase) if word not in DETERMINERS and word not in POSSESSIVES]
    if not tokens or any(token in SYSTEM_WORDS for token in tokens[-1:]):
        return False
    if named_role(phrase):
        return True
    if words(phrase)[0] in _NOT_SUBJECT_STARTS or any(t.isdigit() or t in NUMBER_WORDS for t in tokens):
        return False  # "for the trustees", "at most three", "80% of staff": not someone who acts
    head = singular(tokens[-1])
    if head in PERSON_WORDS or head in _AGENTS:
        return True
    people = _PEOPLE.get()
    agent_like = head.endswith(AGENT_SUFFIXES) and head not in _NOT_AGENTS and len(head) > 4
    if people is None:  # no document around the phrase: the word's shape is all there is
        return agent_like
    # In a document, a word is a person only where the text uses it as one; its suffix is not enough
    # ("the enlarger", "a dryer" are things).
    return head in people.named or (agent_like and head in people.acting)


# Verbs whose doer is a person: a plural subject of one of them names people ("Stewards log
# incidents", "Secretaries add plots"), even when the noun is no known role word.
PERSON_VERBS = frozenset(
    """see view book add create record log edit update delete search filter find sign apply request
    assign approve reject cancel buy sell pay rate review vote suggest join attend register upload
    download export print check write post submit enter browse share comment reply plan schedule
    borrow lend order invite""".split()
)


# What only a person does (a device records, logs, sends or prints too): the present-tense subject
# of one of these is a person.
_PEOPLES_VERBS = frozenset(
    """see view browse search filter find book buy pay sign apply request approve reject cancel rate
    review vote suggest join attend borrow lend invite choose pick decide assign mark register comment
    reply share plan bring visit arrive want wish prefer agree""".split()
)
_PEOPLES_VERB_FORMS = "|".join(sorted({third_person(verb) for verb in _PEOPLES_VERBS}))


class People:
    """The words a document uses as people: `named` in a role position, `acting` as the subject of a
    modal ("printers can ..."), which counts for words shaped like agent nouns only."""

    def __init__(self, named: frozenset[str], acting: frozenset[str], roles: dict[str, str] | None = None):
        self.named, self.acting = named, acting
        self.roles = roles or {}  # a person's first name -> the role the text gives them


_PEOPLE: ContextVar[People | None] = ContextVar("document_people", default=None)
_NOUN = r"(?<![\w'’])([A-Za-z][\w-]*)"
# "As a darkroom member, ...", "Members want ...", "the treasurer would like ...", "Roles: ...".
_NAMED_AS_PERSON = (
    re.compile(rf"\bas an?\s+(?:[\w-]+\s+){{0,2}}?{_NOUN}\s*,?\s*(?:I|we)\s", re.I),
    re.compile(
        rf"\b{_NOUN}\s+(?:also\s+|really\s+|often\s+)?(?:wants?|would (?:like|love)|wish(?:es)?"
        r"|asked for|requested)\b",
        re.I,
    ),
    # "remind the borrower", "notify each tenant": whom a message goes to
    re.compile(
        r"\b(?:remind|notify|email|e-mail|alert|tell|inform|invite|thank|warn|text|phone)s?\s+"
        rf"(?:the|a|an|each|every|all|our|their)\s+(?:[\w-]+\s+)?{_NOUN}\b",
        re.I,
    ),
    # "gardeners who cut lawns": "who" speaks of people
    re.compile(rf"\b{_NOUN}\s+who\s+(?!is\b|are\b)", re.I),
    # "lets owners keep track", "helps busy households look after": whom the product serves
    re.compile(rf"\b(?:lets|allows|enables|helps|permits)\s+(?:[\w-]+\s+)?{_NOUN}\s+(?:to\s+)?[a-z]+", re.I),
)
_ROLE_LIST = re.compile(
    r"^\W*(?:roles|users|actors|user roles|personas|who uses it)\s*[:-]\s*(?P<list>.+)$", re.I | re.M
)
_ACTING = (
    re.compile(
        rf"\b{_NOUN}\s+(?:can|could|should|must|shall|will|may|needs? to|has to|have to|(?:is|are) able to)"
        r"\s+(?:also\s+|then\s+|now\s+)?"
        r"(?:be able to\s+)?[a-z]+",
        re.I,
    ),
    # "the coordinator sees ...", "the fixer marks it": the subject of what only people do
    re.compile(rf"\b{_NOUN}\s+(?:also\s+|then\s+|now\s+|just\s+|only\s+)?(?:{_PEOPLES_VERB_FORMS})\b", re.I),
    # "Could section leaders mark ...?": the question form
    re.compile(
        rf"\b(?:can|could|should|shall)\s+(?:the\s+)?(?:[\w-]+\s+)?{_NOUN}\s+(?:also\s+)?[a-z]+\b[^.?!]*\?",
        re.I,
    ),
)


# "Present: Ruth (librarian), Owen": a person named with their role.
_NAME_ROLE = re.compile(r"\b(?P<name>[A-Z][a-z]+)\s*\((?:our\s+|the\s+)?(?P<role>[a-z][a-z -]{2,30}?)\)")


def document_people(text: str) -> People:
    """The words `text` uses as people (the last word of each role phrase, singular)."""
    named = {singular(m.group(1).lower()) for pattern in _NAMED_AS_PERSON for m in pattern.finditer(text)}
    for listing in _ROLE_LIST.finditer(text):
        named |= {
            singular(w)
            for w in re.findall(r"[A-Za-z][\w-]*(?=\s*(?:,|;|\.|\band\b|\bor\b|$|\())", listing["list"])
        }
    acting = {singular(m.group(1).lower()) for pattern in _ACTING for m in pattern.finditer(text)}
    blocked = (
        SYSTEM_WORDS
        | DETERMINERS
        | POSSESSIVES
        | _END_WORDS
        | _BREAK_WORDS
        | NUMBER_WORDS
        | {"i", "we", "you", "they", "he", "she", "who", "them", "us", "me", "him", "it", "one", "also"}
    )
    # A word that is not a noun of a role: a verb's base form ("know who"), an adverb, a contraction.
    named = {
        w for w in named if len(w) > 2 and not w.endswith("ly") and (w in PERSON_WORDS or not is_verb(w))
    }
    acting = {w for w in acting if len(w) > 2 and not w.endswith("ly")}
    roles = {
        match["name"].lower(): actor_of(match["role"])
        for match in _NAME_ROLE.finditer(text)
        if len(match["role"].split()) <= 3
    }
    return People(frozenset(named - blocked - _NOT_NAMES), frozenset(acting - blocked - _NOT_NAMES), roles)


def named_role(phrase: str) -> str | None:
    """The role of a person the document names with one ("Ruth" -> "librarian"), else None."""
    people = _PEOPLE.get()
    tokens = words(phrase)
    if people is None or len(tokens) != 1:
        return None
    return people.roles.get(tokens[0])


_NOT_NAMES = frozenset("gonna wanna gotta know thing things something anything everything nothing".split())


@contextmanager
def people_of(text: str) -> Iterator[People]:
    """Within this block, `looks_like_person` takes a suffix-shaped word for a person only where
    `text` uses it as one."""
    people = document_people(text)
    token = _PEOPLE.set(people)
    try:
        yield people
    finally:
        _PEOPLE.reset(token)


def actor_of(phrase: str) -> str:
    """ "Warehouse clerks" -> "warehouse clerk"; "the fleet manager" -> "fleet manager"."""
    tokens = [
        w
        for w in words(phrase)
        if w not in DETERMINERS and w not in POSSESSIVES and w not in ("only", "also", "other")
    ]
    if not tokens:
        return "user"
    role = named_role(phrase)
    if role:
        return role
    return " ".join([*tokens[:-1], singular(tokens[-1])])


def article(noun: str) -> str:
    if re.match(r"(?:u[sn]i|use|eu|one|uk)", noun, re.I):
        return "a"
    return "an" if re.match(r"[aeiou]", noun, re.I) or re.match(r"(?:hour|honest)", noun, re.I) else "a"


def with_article(noun: str) -> str:
    return f"{article(noun)} {noun}"


def first_person(text: str) -> str:
    """A want in the actor's own words: "they/them/their" -> "I/me/my"."""
    swaps = {"they": "I", "them": "me", "their": "my", "theirs": "mine", "themselves": "myself"}
    # "to see who still has them": after "who ... has", "them" are the things, not the actor
    clause = re.search(
        r"\bwho\s+(?:\w+\s+)?(?:has|have|had|keeps|holds|owns|took|borrowed)\s+them\b", text, re.I
    )
    head, tail = (text[: clause.start()], text[clause.start() :]) if clause else (text, "")
    # "if they're coming" -> "if I'm coming"
    contractions = {"re": "I'm", "ve": "I've", "ll": "I'll", "d": "I'd"}
    head = re.sub(r"\bthey['’](re|ve|ll|d)\b", lambda m: contractions[m.group(1).lower()], head, flags=re.I)
    # "the show they were last worn in": things that something is done to are not the actor
    done_to = re.compile(
        r"\bthey(?=\s+(?:are|were)\s+(?:\w+\s+)?(?:\w+ed|\w+en|worn|sold|kept|made|built|bought|lent|sent|held)\b)",
        re.I,
    )
    head = done_to.sub("\x00", head)
    head = re.sub(r"\b(they|them|their|theirs|themselves)\b", lambda m: swaps[m.group(1).lower()], head)
    head = head.replace("\x00", "they")
    text = head + tail
    return re.sub(r"\bI (are|were)\b", lambda m: "I am" if m.group(1) == "are" else "I was", text)


def third_person_pronouns(text: str) -> str:
    swaps = {"i": "they", "me": "them", "my": "their", "mine": "theirs", "am": "are", "myself": "themselves"}
    contractions = {"m": "they're", "ve": "they've", "ll": "they'll", "d": "they'd"}
    text = re.sub(r"\bI['’](m|ve|ll|d)\b", lambda m: contractions[m.group(1).lower()], text)
    return re.sub(r"\b(I|me|my|mine|am|myself)\b", lambda m: swaps[m.group(1).lower()], text)


def _strip_possessive_object(text: str) -> str:
    """ "add their pets" -> "add a pet": a title names the kind of thing, not whose it is."""
    tokens = text.split()
    if len(tokens) < 3 or tokens[1].lower() not in POSSESSIVES:
        return text
    noun_end = 2
    while (
        noun_end < len(tokens)
        and re.fullmatch(r"[A-Za-z-]+", tokens[noun_end])
        and tokens[noun_end].lower() not in _END_WORDS
    ):
        noun_end += 1
    if noun_end == 2:
        return text
    noun = tokens[noun_end - 1]
    single = singular(noun)
    if single == noun.lower():  # "update my profile" stays as it is said
        return text
    phrase = [*tokens[2 : noun_end - 1], single]
    return " ".join([tokens[0], article(phrase[0]), *phrase, *tokens[noun_end:]])


def _adverb_last(text: str) -> str:
    """ "Anonymously view public information" -> "view public information anonymously"."""
    tokens = text.split()
    if len(tokens) >= 3 and tokens[0].lower().endswith("ly") and is_verb(tokens[1].lower()):
        return " ".join([tokens[1], *tokens[2:], tokens[0].lower()])
    return text


def title_of(want: str) -> str:
    """A short imperative title from a want-clause, cut only at a phrase boundary.

    "to create an event with a date, a venue and a capacity" -> "Create an event";
    "the API to respond within one second" -> "The API responds within one second".
    """
    text = want.strip().rstrip(".")
    if text.lower().startswith("to "):
        text = text[3:]
    elif text.lower().startswith("be able to "):
        text = text[len("be able to ") :]
    else:
        statement = as_statement(text)
        if statement is None and re.match(r"^(?:an?|the|some|any)\s", text, re.I):
            text = "Support " + text  # a noun phrase: "a dark mode for the web app"
        text = statement or text
    text = re.sub(r"\b(and|or) to\s+", r"\1 ", text)
    comma, _, after = text.partition(", ")
    a_list = re.search(r"^[^,]*?\b(?:and|or)\b", after) is not None and len(after.split()) <= 6
    if len(comma.split()) >= 2 and after and not a_list:
        if not re.search(r"\b(?:with|including|by|such as)\b", comma, re.I):
            text = comma
    # "set up a trip themselves rather than ...": the alternative and the reflexive say nothing of what
    text = re.split(r",?\s+(?:rather than|instead of|as opposed to)\s+", text, maxsplit=1)[0]
    text = re.sub(r"\s+(?:myself|ourselves|themselves|yourself|yourselves|himself|herself)\b", "", text)
    # "cancel a booking they no longer need": the clause about the object is not part of the title
    tokens = text.split()
    for position in range(2, len(tokens) - 1):
        if (
            tokens[position].lower() in ("i", "we", "they", "you", "he", "she")
            and tokens[position - 1].lower() not in _END_WORDS | _BREAK_WORDS
            and re.fullmatch(r"[A-Za-z-]+", tokens[position - 1])
        ):
            # "book a slot online before they come": the clause and the word that opens it go
            opens = tokens[position - 1].lower() in ("before", "after", "until", "while", "since")
            text = " ".join(tokens[: position - 1 if opens and position > 2 else position])
            break
    # "filter desks by floor to find a free one": an infinitive after the object says why
    tokens = text.split()
    for position in range(3, len(tokens) - 1):
        if tokens[position].lower() == "to" and is_verb(tokens[position + 1].lower().strip(",.")):
            if tokens[position + 1].lower() not in ("be", "do"):
                text = " ".join(tokens[:position])
                break
    head, colon, _ = text.partition(": ")  # "log time entries against a client: the date, ..."
    if colon and len(head.split()) >= 2:
        text = head
    clause = _TITLE_CUT.split(text, maxsplit=1)[0]
    if len(clause.split()) >= 2:
        text = clause
    with_split = re.split(r"\s+(?:with|including)\s+", text, maxsplit=1)
    head_words = with_split[0].split()
    has_object = len(head_words) >= 3 or (len(head_words) == 2 and head_words[1].lower() not in _PARTICLES)
    if len(with_split) == 2 and has_object:
        details = with_split[1]
        if (
            "," in details
            or " and " in details
            or re.match(r"(?:its|their|his|her|my)\s", details)
            or len(text.split()) > 8
        ):
            text = with_split[0].rstrip(" ,;")  # "log every repotting, with the date": the comma goes
    text = _strip_possessive_object(_adverb_last(text))
    cut = text.split()
    if len(cut) > 10:
        breaks = [i for i, word in enumerate(cut[:11]) if i >= 3 and word.lower() in _BREAK_WORDS]
        if breaks:
            cut = cut[: breaks[-1]]
        elif len(cut) > 13:  # no phrase boundary to cut at: a title up to 13 words stays whole
            cut = cut[:10]
    while len(cut) > 2 and (cut[-1].lower().strip(",;:") in _END_WORDS or cut[-1].endswith(",")):
        if cut[-1].lower() in _PARTICLES and (
            re.fullmatch(r"[a-z]+ed", cut[-2].lower())
            or (
                len(cut) >= 3
                and cut[-2].lower() not in _END_WORDS
                and cut[-1].lower() in ("in", "out", "up", "off")
            )
        ):
            break  # "who turned up", "check people in": the particle of a phrasal verb ends the phrase
        cut.pop()
    title = " ".join(cut).strip(" ,;:-(")
    title = re.sub(r"\b(a|an) ([A-Za-z][\w-]*)", lambda m: f"{article(m.group(2))} {m.group(2)}", title)
    return title[:1].upper() + title[1:]


_THING_TO = re.compile(
    r"^(?P<subject>(?:(?:the|a|an|our|this|its|their|each|every|all|any)\s.+?|[A-Za-z][\w-]*))"
    r"\s+to\s+(?P<verb>[a-z]+)\b(?P<rest>.*)$",
    re.I,
)


def as_statement(want: str) -> str | None:
    """ "the board to show tasks" -> "the board shows tasks"; None for other wants."""
    thing = _THING_TO.match(want.strip())
    if thing is None:
        return None
    return f"{thing['subject']} {third_person(thing['verb'].lower())}{thing['rest']}"


# --- acceptance criteria ----------------------------------------------------------------------------

_CONDITION = re.compile(
    r"\s+(?P<kind>only (?:once|when|if|after)|unless|when|whenever|if|once)\s+(?P<cond>.+)$", re.I
)
_AUXILIARIES = re.compile(r"\b(is|are|was|were|has|have|can|does|do|will|should)\b", re.I)


def negate(condition: str) -> str:
    """ "it is paid" -> "it is not paid"; "all its tasks are done" -> "not all its tasks are done"."""
    text = condition.strip()
    swaps = {
        "no one": "someone",
        "nobody": "somebody",
        "nothing": "something",
        "none": "some",
        "never": "already",
    }
    found = re.search(r"\b(?:no one|nobody|nothing|none|never)\b", text, re.I)
    if found:
        return text[: found.start()] + swaps[found.group(0).lower()] + text[found.end() :]
    if re.search(r"\bnot\s", text, re.I):
        return re.sub(r"\bnot\s+", "", text, count=1, flags=re.I)
    if re.match(r"^(?:all|every|both)\b", text, re.I):
        return "not " + text
    match = _AUXILIARIES.search(text)
    if match:
        return f"{text[: match.end()]} not{text[match.end() :]}"
    return f"it is not the case that {text}"


def _object_phrase(rest: str) -> str:
    """The object a verb acts on, up to the first preposition: "a class from the timetable" -> "a class"."""
    tokens = rest.split()
    out: list[str] = []
    for token in tokens:
        bare = token.lower().strip(",.;")
        if out and bare in (
            "from",
            "to",
            "for",
            "with",
            "by",
            "in",
            "on",
            "at",
            "into",
            "as",
            "when",
            "once",
            "up",
            "so",
            "before",
            "after",
            "only",
            "and",
            "or",
            "of",
            "within",
            "via",
            "per",
            "if",
            "unless",
        ):
            break
        if out and bare in _TRAILING_ADVERBS:
            break
        out.append(token.strip(",.;"))
        if token.endswith((",", ";")):
            break
    return " ".join(out)


# Where a list of things ends at the latest: a condition, a reason, or the end of the statement.
_LIST_END = re.compile(
    r"\s+(?:when|whenever|once|if|unless|so that|so|because|before|after|while|until|but|then)\s+"
    r"|[.;:!?]|\s[-–—]\s"
)


def whole_list(rest: str, phrase: str) -> str:
    """`phrase`, or the whole list it starts when `rest` goes on ", B and C" after it.

    "the opening times, the address and the phone number of each branch" is one object: a list
    of things is never cut after its first item (or its first two).
    """
    phrase = phrase.strip()
    if not phrase or not rest.startswith(phrase) or not rest[len(phrase) :].startswith(","):
        return phrase
    parts = [part.strip() for part in _LIST_END.split(rest, maxsplit=1)[0].split(",")]
    for end, part in enumerate(parts[1:], start=1):
        if not part or len(part.split()) > 12:
            return phrase
        joined = re.match(r"^(?:(?:and|or)\s+(?P<alone>.+)|(?P<head>.+?)\s+(?:and|or)\s+\S.*)$", part, re.I)
        if joined:
            return ", ".join(parts[: end + 1])
        if len(part.split()) > 4:
            return phrase  # a clause after the comma, not an item of a list
    return phrase


def _the(noun_phrase: str) -> str:
    tokens = noun_phrase.split()
    if tokens and tokens[0].lower() in DETERMINERS | POSSESSIVES:
        tokens = tokens[1:]
    return "the " + " ".join(tokens) if tokens else ""


def _fields(details: str) -> list[str]:
    parts = re.split(r",\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+", details.strip(" ."))
    fields = []
    for part in parts:
        tokens = [t for t in part.split() if t.lower() not in DETERMINERS | POSSESSIVES]
        if tokens:
            fields.append(" ".join(tokens))
    return fields


_LIGHT_VERBS = frozenset("keep have make take do use give".split())
_TRAILING_ADVERBS = frozenset("online offline together again instantly automatically now later".split())


def _result(verb: str, thing: str, the_thing: str, main: str = "") -> str:
    """What a tester sees after the action: by what the verb does to its object."""
    operation = VERB_OPERATIONS.get(verb)
    rest = main.split(" ", 1)[1] if " " in main else ""
    if verb in ("get", "receive"):
        return f"they receive {rest}"
    if verb == "keep" and rest.lower().startswith("track of "):
        return f"they see {rest[len('track of ') :]}"
    if verb in _LIGHT_VERBS:
        return f"they can {main} in the app"
    if re.match(r"^(?:who|what|which|where|when|how|whether|if)\b", thing, re.I):
        return f"they see {thing}"
    last = thing.split()[-1].lower() if thing else ""
    plural = bool(last) and last.endswith("s") and singular(last) != last
    be = "are" if plural or re.search(r",|\s(?:and)\s", thing) else "is"
    if operation == "create":
        return f"{the_thing} {be} saved and listed"
    if operation == "list" and verb in ("list", "browse", "filter", "search", "find", "sort", "group"):
        first = thing.split()[0].lower() if thing else ""
        if first in ("for", "through", "in", "on", "by") and " " in rest:
            after = rest.split(" ", 1)[1]
            if verb in ("browse", "list"):  # "browse through the list of museums"
                return f"they see {_the(_full_object(after))}"
            return f"they see the matching {_the(_object_phrase(after))[4:]}"  # "search for X"
        return f"they see the matching {the_thing[4:]}"
    if operation == "read":
        return f"they see {the_thing}"
    if operation == "delete":
        return f"{the_thing} {be} removed from the list"
    return f"{the_thing} {be} {participle(verb)}"


# "as beyond repair", "as out of order": the state's words, up to where the sentence goes on.
_STATE_STOP = (
    r"(?:when|whenever|if|once|after|before|while|so|because|until|unless|by|with|and|or|for|on|today|now)"
)
_STATE_WORDS = rf"[\w-]+(?:\s+(?!{_STATE_STOP}\b)[\w-]+){{0,3}}(?<!\bof)(?<!\bthe)"


def derive_criteria(story: DraftStory, why_kind: str | None = "so that") -> list[DraftCriterion]:
    """Criteria drawn from the story's own words: its fields, its rules, its condition, its result."""
    role = story.as_a.strip() or "user"
    given = with_article(role)
    want = third_person_pronouns(story.i_want.strip())
    explicit_why = story.so_that != DEFAULT_SO_THAT and why_kind in ("so that", "in order to")
    why = third_person_pronouns(story.so_that)
    if not want.lower().startswith("to "):
        statement = as_statement(want)
        if statement is None:  # "a dark mode for the web app"
            return [DraftCriterion(given=given, when="they open the app", then=f"the app offers {want}")]
        condition = _CONDITION.search(statement)
        if condition and not condition["kind"].lower().startswith(("only", "unless")):
            then = statement[: condition.start()].strip()
            return [DraftCriterion(given=given, when=condition["cond"].strip(" ."), then=then)]
        return [DraftCriterion(given=given, when="they use the app", then=why if explicit_why else statement)]
    action = want[3:]
    condition = _CONDITION.search(action)
    main = action[: condition.start()] if condition else action
    tokens = main.split()
    verb = tokens[0].lower() if tokens else ""
    rest = " ".join(tokens[1:])
    # "send people a text": the people receive, the text is what is sent
    receiver = re.match(r"^(?:people|them|everyone|(?:the\s+)?\w+s)\s+(?=(?:a|an|the)\s)", rest, re.I)
    if receiver and (
        receiver.group(0).split()[0].lower() in ("people", "them", "everyone")
        or looks_like_person(receiver.group(0))
    ):
        rest = rest[receiver.end() :]
    thing = whole_list(rest, _object_phrase(rest))
    pronoun_object = (
        thing.split()[0].lower() in ("me", "them", "it", "up", "on", "in", "out") if thing else True
    )
    the_thing = "" if pronoun_object else _the(thing)
    lemma = verb_lemma(verb) or verb
    if condition and condition["kind"].lower().startswith(("only", "unless")) and the_thing:
        # "ship an order only once it is paid": the rule, and its refusal.
        noun = the_thing[4:]
        cond = condition["cond"].strip(" .")
        if condition["kind"].lower() == "unless":
            refused = f"where {cond}"
        elif re.match(r"^(?:it|they)\s", cond, re.I):
            refused = f"that {negate(_that_clause(cond))}"
        else:
            refused = f"where {negate(cond)}"
        return [
            DraftCriterion(
                given=f"{with_article(noun)} {refused}",
                when=f"the {role} {third_person(lemma)} it",
                then="it is refused",
            )
        ]
    when = f"they {action}"
    if verb == "be" and rest:  # "be notified when the attributes change": the state, on its condition
        if condition and not condition["kind"].lower().startswith(("only", "unless")):
            return [DraftCriterion(given=given, when=condition["cond"].strip(" ."), then=f"they are {rest}")]
        return [DraftCriterion(given=given, when="they use the app", then=f"they are {rest}")]
    # A benefit that states what is then true ("old work does not clutter the board") is the result;
    # one that states an ability ("we can phone people") is not checkable: the action's result is.
    ability = re.search(r"\b(?:can|could|will|would|may|might|able)\b", why, re.I) is not None
    if explicit_why and not ability:
        return [DraftCriterion(given=given, when=when, then=why)]
    full = _full_object(rest)
    if verb_lemma(verb) in ("see", "view", "show", "get", "check", "find") and full:
        head = re.split(r"\s+(?:of|per|for|by)\s+|,|\s+and\s+", full.lower(), maxsplit=1)[0].split()
        wh = re.match(r"^(?:who|what|which|where|when|how|whether|if)\b", full, re.I)
        if wh or (head and head[-1] in _INFORMATION_NOUNS):
            shown = full if wh else _the(full)
            return [
                DraftCriterion(
                    given=given,
                    when=f"they open {_the(full) if not wh else 'the list'}",
                    then=f"they see {shown}",
                )
            ]
    marked = re.match(rf"^{re.escape(thing)}\s+as\s+(?P<state>{_STATE_WORDS})", rest) if thing else None
    if marked and the_thing:  # "mark the loan as returned": the state it ends in
        be = "are" if thing.split()[-1].lower() != singular(thing.split()[-1]) else "is"
        return [DraftCriterion(given=given, when=when, then=f"{the_thing} {be} shown as {marked['state']}")]
    details = re.split(r"\s+(?:with|including)\s+", main, maxsplit=1)
    if len(details) == 2 and the_thing:
        fields = _fields(details[1])
        if fields:
            listed = ", ".join(fields[:-1]) + (" and " if len(fields) > 1 else "") + fields[-1]
            last = thing.split()[-1].lower()
            be, its = ("are", "their") if last.endswith("s") and singular(last) != last else ("is", "its")
            if lemma in ("build", "develop", "make", "design"):
                then = f"{the_thing} runs with {details[1]}"
            else:
                then = f"{the_thing} {be} saved with {its} {listed}"
            return [DraftCriterion(given=given, when=f"they {main}", then=then)]
    if the_thing:
        return [DraftCriterion(given=given, when=when, then=_result(lemma, thing, the_thing, main))]
    particle = re.match(
        r"^(?P<particle>up|in|out|off|on|down|back)\b(?:\s+(?:for|of|to|from|on|with)\s+(?P<noun>.+))?", rest
    )
    if particle and particle["noun"]:  # "sign up for a shift": the shift shows it
        noun = _the(_object_phrase(particle["noun"]))
        return [
            DraftCriterion(
                given=given,
                when=when,
                then=f"{noun} shows that they {participle(lemma)} {particle['particle']}",
            )
        ]
    if particle:  # "check in when I arrive"
        return [
            DraftCriterion(
                given=given, when=when, then=f"they are shown as {participle(lemma)} {particle['particle']}"
            )
        ]
    return [DraftCriterion(given=given, when=when, then=f"they see that it is {participle(lemma)}")]


# Nouns for information shown to a person: wanting to see one is checked by what it shows.
_INFORMATION_NOUNS = frozenset(
    """count number total list summary report overview breakdown chart graph history sum average
    percentage tally log table calendar timeline map timetable rota diary value""".split()
)


def _full_object(rest: str) -> str:
    """What a verb acts on up to its condition or a comma: "the count of open tickets per agent"."""
    text = re.split(r",|\s+(?:when|whenever|once|if|unless|so that|because)\s+", rest, maxsplit=1)[0]
    return whole_list(rest, text.strip(" .;"))


def _that_clause(condition: str) -> str:
    """ "it is paid" -> "is paid" so it reads "an order that is not paid"."""
    return re.sub(r"^(?:it|they)\s+", "", condition.strip(), flags=re.I)
