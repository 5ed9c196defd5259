"""An action clause read as draft stories: who acts, what they do, and why.

`actions_of` splits a clause into its actions ("add their pets and record each vet visit" -> two
stories), keeps the actor the text names, and drops what a conversation says about itself
("we need to discuss the price"). The sentence forms in `statements` all end here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assets.requirements.drafts import DEFAULT_SO_THAT, DraftCriterion, DraftStory
from assets.requirements.language import singular, words
from assets.requirements.models import Priority
from assets.requirements.offline.people import actor_of
from assets.requirements.offline.phrasing import (
    DETERMINERS,
    POSSESSIVES,
    first_person,
    is_verb,
    noun_before_of,
    plural_noun,
    title_of,
    with_article,
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
    today: bool = False  # the sentence describes how things are done today, not what is wanted
    bullet: bool = False  # the sentence is a list item
    thing: str | None = None  # the last thing acted on ("it" in "she can cancel it")
    thing_segment: int = 0


@dataclass
class Found:
    story: DraftStory
    why_kind: str | None
    criteria: list[DraftCriterion] = field(default_factory=list)
    describes: str | None = None  # the thing a possession sentence said what it holds


# ", so they can chase them up": "so" before a subject that can or will do something is "so that".
SO_SUBJECT = (
    r"(?:i|we|they|he|she|you|it|everyone|people|staff|the \w+)\s+"
    r"(?:can|could|will|would|may|don'?t|know|is|are|gets?|stays?)\b"
)
_WHY = re.compile(
    rf",?\s+\b(?P<kind>so that|in order to|because|so(?=\s+{SO_SUBJECT}))\b\s+",
    re.I,
)


PRONOUNS = frozenset(
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
    r"^(?:also|to|be able to|be allowed to|be possible to|really|definitely|just|then|even|actually"
    r"|still)\s+",
    re.I,
)


_FEATURE_NOUNS = re.compile(
    r"\s+(?:functionality|functionalities|features?|functions?|support|capabilities|options?|actions?)$", re.I
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


def split_why(text: str) -> tuple[str, str | None, str | None]:
    parts = _WHY.split(text, maxsplit=1)
    if len(parts) == 1:
        return text.strip(" ,"), None, None
    want, kind, why = parts
    kind = kind.lower()
    if kind == "so":
        kind = "so that"
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
        text = re.sub(r"\s+(?:up to|up until|at least|at most|more than|less than)$", "", text, flags=re.I)
        if re.search(r"[a-z]ed\s+(?:in|on|up)$", text, re.I):
            break  # "who checked in": a particle after its verb ends the phrase
        text = re.sub(r"\s+(?:or|and|but|so|for|to|of|with|at|on|in|by|from|the|a|an)$", "", text, flags=re.I)
    return text


def _object_noun(chunk: str) -> str:
    """The bare object of an action chunk: "save recipes for later" -> "recipes"."""
    tokens = chunk.split()[1:]
    particle = False
    while tokens and tokens[0].lower() in ("up", "out", "off", "down", "back", "away", "in", "on"):
        tokens, particle = tokens[1:], True  # the particle of a phrasal verb ("sign up for a shift")
    if particle and tokens and tokens[0].lower() in ("for", "to", "of", "on", "in", "with", "from"):
        tokens = tokens[1:]
    out = []
    for token in tokens:
        bare = token.lower().strip(",.;")
        if bare in ("myself", "themselves", "ourselves", "yourself", "himself", "herself"):
            break
        if bare in DETERMINERS or bare in POSSESSIVES:
            if out:
                break
            continue
        if bare in ("for", "to", "with", "by", "in", "on", "at", "from", "as", "and", "or", "of", "into"):
            break
        out.append(token.strip(",.;"))
    return " ".join(out)


# Verbs whose object is a person: "remind them" stands for people, never for the last thing.
_PEOPLE_VERBS = frozenset(
    """remind notify tell email e-mail alert inform message call text phone contact ask invite thank warn
    ping help welcome greet chase meet""".split()
)


def resolve_object(action: str, context: Context, segment: int) -> str:
    """ "cancel it" -> "cancel the trip" when a trip was the last thing acted on (this turn or the last)."""
    thing = context.thing
    if not thing or context.thing_segment < segment - 1:
        return action
    # "keep a catalogue of them": the things just named
    action = re.sub(
        r"^(\w+\s+(?:an?|the)\s+\w+\s+(?:of|for|about))\s+them\b",
        rf"\1 {plural_noun(singular(thing))}",
        action,
        flags=re.I,
    )
    match = re.match(
        r"^(?P<verb>\w+(?:\s+(?:after|up|out|off|over|back|away|for|with))?)\s+(?P<pronoun>it|them)\b",
        action,
        re.I,
    )  # "look after them": the phrasal verb's object too
    verb = match["verb"].split()[0].lower() if match else ""
    if match is None or not is_verb(verb) or verb in _PEOPLE_VERBS:
        return action
    noun = plural_noun(singular(thing)) if match["pronoun"].lower() == "them" else singular(thing)
    return f"{match['verb']} the {noun}{action[match.end() :]}"


def remember_object(want: str, context: Context, segment: int) -> None:
    """Keep the object of an action ("approve a trip" -> "trip") for a later "it"."""
    text = re.sub(r"^(?:to\s+)", "", want.strip(), flags=re.I)
    if not text.split() or not is_verb(text.split()[0].lower()):
        return
    noun: list[str] = []
    for token in text.split()[1:]:
        bare = token.lower().strip(",.;:")
        if bare in DETERMINERS or bare in POSSESSIVES:
            if noun:
                break
            continue
        if not noun and (bare in _APPROXIMATE or bare in _NUMBERS or bare.isdigit()):
            continue  # "have about sixty volunteers": the volunteers
        if bare in _OBJECT_END or not bare.isalpha() or len(noun) == 3:
            break
        noun.append(bare)
        if token.endswith((",", ";", ".")):
            break
    if noun and noun[-1] not in ("it", "them", "me", "us", "you", "this", "that", "up", "in", "out"):
        context.thing, context.thing_segment = noun[-1], segment


_APPROXIMATE = frozenset("about around roughly nearly almost over some sixty forty fifty hundred".split())
_OBJECT_END = frozenset(
    """to for with by in on at of from into as so that when once after before because while and or if
    than via per within without until unless which who whose where whether how what against about
    across along among around between during except like near off onto over past since through toward
    towards under upon""".split()
)


def split_actions(action: str) -> list[str]:
    """ "add their pets and record each vet visit" -> ["add their pets", "record each vet visit"].

    Pieces that do not start with a verb (or come after "with"/"by"/"including") stay with the
    piece before them; leading bare verbs share the last piece's object ("add, edit and delete
    tasks"); "them"/"it" in a later piece stands for the object of the piece before.
    """
    pieces = re.split(r"(,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+|\s+as well as\s+)", action)
    chunks: list[str] = [pieces[0]]
    for separator, piece in zip(pieces[1::2], pieces[2::2], strict=False):
        piece = re.sub(r"^(?:can|could|should|must|will|may|also|then)\s+(?=\w)", "", piece, flags=re.I)
        first = piece.split()[0].lower() if piece.split() else ""
        previous = chunks[-1]
        closed = re.search(r"\b(?:with|including|by|such as|like|between|of)\b", previous, re.I) is not None
        second = piece.split()[1].lower().strip(",.") if len(piece.split()) >= 2 else ""
        # "phone number" in a list of details is a noun; "phone the owner", "edit tasks" are actions
        takes_object = (
            len(piece.split()) >= 3
            or second in DETERMINERS | POSSESSIVES | {"it", "them", "me", "us", "up", "out", "in", "off"}
            or (second.endswith("s") and singular(second) != second)
        )
        starts_action = (
            is_verb(first)
            and len(piece.split()) >= 2
            and takes_object
            and first not in ("date", "name", "title", "time")
        )
        bare_verbs = all(len(chunk.split()) == 1 and is_verb(chunk) for chunk in chunks)
        # "browse the catalogue of varieties and reserve up to five packets": a verb with its own
        # object ends the "of" list before it
        own_object = second in DETERMINERS | POSSESSIVES | _NUMBERS | {"up", "out", "off", "it", "them"}
        third = piece.split()[2].lower() if len(piece.split()) >= 3 else ""
        if second == "to" and is_verb(third):  # "... by category and request to borrow one"
            own_object = True
        # "log each service or repair against a vehicle": a noun in the object, not a second action
        noun_alternative = separator.strip() == "or" and second in _PLACE_PREPOSITIONS
        # "records feeding times and every vet visit": the verb's second object
        second_object = separator.strip() in ("and", ", and") and first in ("every", "each", "all")
        if second_object and len(chunks[-1].split()) >= 2:
            chunks.append(f"{chunks[-1].split()[0]} {piece}")
        elif noun_alternative:
            chunks[-1] = previous + separator + piece
        elif (starts_action and (not closed or own_object)) or (bare_verbs and is_verb(first)):
            chunks.append(piece)
        else:
            chunks[-1] = previous + separator + piece
    if len(chunks) > 1 and len(chunks[-1].split()) >= 2:
        shared = " ".join(chunks[-1].split()[1:])
        chunks = [chunk if len(chunk.split()) > 1 else f"{chunk} {shared}" for chunk in chunks]
    resolved = [chunks[0]]
    for chunk in chunks[1:]:
        noun = _object_noun(resolved[-1])
        if noun and noun.split()[-1].lower() not in ("it", "them", "this", "that", "one"):
            # "tag them" -> "tag recipes"; "reject it" -> "reject the application"
            plural = singular(noun.split()[-1]) != noun.split()[-1].lower()
            chunk = re.sub(
                r"^(\w+)\s+(?:them|it)\b", rf"\1 {noun if plural else 'the ' + noun}", chunk, flags=re.I
            )
            # "add new fixers, remove the ones who have left": the fixers
            chunk = re.sub(
                r"^(\w+)\s+the ones\b",
                rf"\1 the {plural_noun(singular(noun.split()[-1]))}",
                chunk,
                flags=re.I,
            )
            # "request to borrow one": one of the things just named
            chunk = re.sub(
                r"^(\w+\s+to\s+\w+)\s+one\b",
                rf"\1 {with_article(singular(noun.split()[-1]))}",
                chunk,
                flags=re.I,
            )
            # "drop out of one": one of the things just named
            chunk = re.sub(
                r"^(\w+(?:\s+(?:out|up|off|back|away))?\s+(?:of|from|for|to|in|on|with))\s+one\b",
                rf"\1 the {singular(noun.split()[-1])}",
                chunk,
                flags=re.I,
            )
        resolved.append(chunk)
    return [clean(chunk) for chunk in resolved if clean(chunk)]


_NUMBERS = frozenset("one two three four five six seven eight nine ten".split())
_PLACE_PREPOSITIONS = frozenset("against on at for of from per".split())


def items(listing: str) -> list[str]:
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
    if is_verb(first) and (len(tokens) > 1 or thing) and not noun_before_of(tokens):
        action = (
            item if len(tokens) > 1 else f"{first} {('an' if thing and thing[0] in 'aeiou' else 'a')} {thing}"
        )
        return f"to {action}", title_of(f"to {action}")
    if first.endswith("ing") and len(first) > 4 and is_verb(re.sub(r"ing$", "", first)) and thing:
        verb = re.sub(r"ing$", "", first)
        return f"to {verb} {plural_noun(thing)}", title_of(f"to {verb} {plural_noun(thing)}")
    noun = (
        item if tokens[0].isupper() or tokens[0][1:] != tokens[0][1:].lower() else item[:1].lower() + item[1:]
    )
    title = "Support " + noun
    return noun, title


def draft(
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


def meaningful(want: str, conversational: bool) -> bool:
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
    if verb == "look" and tokens[1] == "up":  # "look up a book": to search, not a step of the meeting
        verb = "search"
    checking = verb in ("check", "ensure", "verify", "confirm") and tokens[1] in ("that", "whether")
    if tokens[1] in ("it", "them", "this", "that", "something", "stuff") and not checking:
        return False  # "keep it just television": in talk, an object nobody named asks for nothing
    content = [t for t in tokens[1:] if t not in DETERMINERS and t not in POSSESSIVES and len(t) > 2]
    # "move an application to the next stage": a meeting verb with a thing of the product as its object
    moved = (
        verb == "move"
        and len(tokens) > 2
        and tokens[1] in DETERMINERS
        and singular(tokens[2]) not in MEETING_NOUNS
    )
    # "say if they're coming": an answer the product keeps, not talk about the meeting
    answering = verb in ("say", "tell") and tokens[1] in ("if", "whether")
    if (verb in MEETING_VERBS and not (moved or answering)) or not content or tokens[1] in ("or", "and"):
        return False
    if re.search(r"\b(?:is|are|was|were)\s+to\b", " ".join(tokens)):
        return False  # two clauses run together ("get rid one of our requirements is to move")
    if (
        any(singular(t) in MEETING_NOUNS for t in content[:2])
        and len(content) <= 3
        and not _of_a_thing(tokens)
    ):
        return False
    # What is asked ends where its condition starts ("drop out of one if something comes up, ...").
    core = words(want.split(",")[0]) if len(words(want.split(",")[0])) >= 6 else tokens  # to its first comma
    asked = re.split(
        r"\b(?:if|when|whenever|unless|once|as long as|provided|before|after|until|so that|because)\b",
        " ".join(core),
    )[0].split()
    speakers = [
        i
        for i, t in enumerate(asked[1:], start=1)
        if t in ("we", "you", "us", "he", "she") and not _relative(asked, i)
    ]
    if speakers and len(asked) > 8:
        return False  # a clause about the speakers, not the product
    return len(asked) <= 18


# Words after which "we" starts a clause about the speakers ("... so that we ..."), not a relative one.
_CLAUSE_OPENERS = frozenset(
    """that so if when whenever because and but or then what how where why which while until unless once
    sure as than before after""".split()
)


def _relative(tokens: list[str], index: int) -> bool:
    """ "the parts we use on each repair": "we" after a noun opens a clause about that noun."""
    before = tokens[index - 1] if index else ""
    return (
        tokens[index] in ("we", "you", "he", "she")
        and before.isalpha()
        and before not in _CLAUSE_OPENERS
        and before not in DETERMINERS
        and not is_verb(before)
    )


def _of_a_thing(tokens: list[str]) -> bool:
    """ "describe the problem with the bike": a meeting word about a named thing of the product."""
    for index, token in enumerate(tokens[:-1]):
        if singular(token) in MEETING_NOUNS and tokens[index + 1] in ("with", "of", "for", "on"):
            rest = [t for t in tokens[index + 2 :] if t not in DETERMINERS and t not in POSSESSIVES]
            return bool(rest) and singular(rest[0]) not in MEETING_NOUNS and len(rest[0]) > 2
    return False


def default_actor(context: Context) -> str:
    return context.actor or "user"


_MARK_AS = re.compile(
    r"^((?:mark|flag)\s+(?:it|them|(?:the|a|an|each|every|this|that)\s+[\w-]+))\s+"
    r"(?=(?:\w+ed|done|open|closed|paid|ready|complete|active|inactive|available|unavailable|sold|lost)\b)",
    re.I,
)


def actions_of(
    actor_phrase: str,
    actions: str,
    sentence: str,
    segment: int,
    context: Context,
    priority: Priority | None = None,
    reason: tuple[str | None, str | None] = (None, None),
) -> list[Found]:
    actor_phrase = actor_phrase.strip()
    pronoun = actor_phrase.lower() in PRONOUNS or actor_phrase.lower() in (
        "me",
        "us",
        "them",
        "people",
        "you",
    )
    role = default_actor(context) if pronoun else actor_of(actor_phrase)
    if actor_phrase.lower() in ("we", "i", "us", "me"):
        role = "user"  # the writers themselves, not the people they wrote about last
    if not pronoun:
        context.actor, context.actor_segment = role, segment
    body, why, why_kind = split_why(resolve_object(strip_leading_to(actions), context, segment))
    if why is None:
        why, why_kind = reason
    chosen: Priority = context.priority or priority or "Should"
    stories = []
    for action in split_actions(body):
        if not is_verb(action.split()[0].lower()):
            continue
        action = resolve_object(action[:1].lower() + action[1:], context, segment)
        action = _MARK_AS.sub(r"\1 as ", action)  # "mark the fitting done" -> "mark the fitting as done"
        remember_object(action, context, segment)
        # "we delete their account": "their" is someone else's, never the writers' own
        writers = actor_phrase.lower() in ("we", "i", "us", "me")
        want = f"to {action}" if writers else first_person(f"to {action}")
        if meaningful(want, context.conversational):
            stories.append(
                draft(role, want, why, why_kind, chosen, sentence, segment, title_of(f"to {action}"))
            )
    return stories


def lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    if first.lower() in ("the", "a", "an", "our", "my", "this", "it"):
        return first.lower() + text[len(first) :]
    return text
