"""How a story reads: the words and grammar of requirement text, and a story's imperative title.

Who acts lives in `people.py`, acceptance criteria in `criteria.py`.

Grammar comes from `lemminflect` (verb lemmas and participles, noun plurals, which ship their data
in the wheel) rather than from hand-written word tables.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lemminflect import getAllLemmas, getInflection

from assets.requirements.language import singular, third_person

DETERMINERS = frozenset("a an the each every all any some this that these those".split())
POSSESSIVES = frozenset("my our their his her its your".split())
_TITLE_CUT = re.compile(
    r"\s+(?:when|whenever|once|so that|so they|because|in order to|only|unless|if|while|as soon as|which"
    r"|until|who)\s+",
    re.I,
)
PARTICLES = frozenset("in up out on off down over back away".split())
BREAK_WORDS = frozenset(
    """for with by in on of to within from at into via per as around near across about over under
    through""".split()
)
END_WORDS = frozenset(
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
NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    hundred thousand most least""".split()
)


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


def noun_before_of(tokens: list[str]) -> bool:
    """ "Number of seats", "List of members": a word that is a verb too names a thing before "of"."""
    return len(tokens) >= 2 and tokens[1].lower() == "of" and "NOUN" in getAllLemmas(tokens[0].lower())


def participle(verb: str) -> str:
    forms = getInflection(verb.lower(), "VBN")
    return forms[0] if forms else verb + "ed"


def plural_noun(noun: str) -> str:
    forms = getInflection(noun.lower(), "NNS")
    return forms[0] if forms else noun + "s"


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
        and tokens[noun_end].lower() not in END_WORDS
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
            and tokens[position - 1].lower() not in END_WORDS | BREAK_WORDS
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
    has_object = len(head_words) >= 3 or (len(head_words) == 2 and head_words[1].lower() not in PARTICLES)
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
        breaks = [i for i, word in enumerate(cut[:11]) if i >= 3 and word.lower() in BREAK_WORDS]
        # "per pontoon and per month": a phrase joined to the one before it by "and" / "or" is cut
        # whole (when the title stays short) or not at all
        joined = [i for i in breaks if cut[i - 1].lower() in ("and", "or")]
        if joined and joined[-1] == breaks[-1]:
            later = [j for j in range(breaks[-1] + 1, len(cut)) if cut[j].lower() in BREAK_WORDS]
            end = later[0] if later else len(cut)
            breaks = [end] if end <= 13 else [i for i in breaks if i not in joined]
        if breaks:
            cut = cut[: breaks[-1]]
        elif len(cut) > 13:  # no phrase boundary to cut at: a title up to 13 words stays whole
            cut = cut[:10]
    while len(cut) > 2 and (cut[-1].lower().strip(",;:") in END_WORDS or cut[-1].endswith(",")):
        if cut[-1].lower() in PARTICLES and (
            re.fullmatch(r"[a-z]+ed", cut[-2].lower())
            or (
                len(cut) >= 3
                and cut[-2].lower() not in END_WORDS
                and cut[-1].lower() in ("in", "out", "up", "off")
            )
        ):
            break  # "who turned up", "check people in": the particle of a phrasal verb ends the phrase
        cut.pop()
    title = _outside_brackets(" ".join(cut)).strip(" ,;:-(")
    title = re.sub(r"\b(a|an) ([A-Za-z][\w-]*)", lambda m: f"{article(m.group(2))} {m.group(2)}", title)
    return title[:1].upper() + title[1:]


def inside_brackets(text: str, position: int) -> bool:
    """True when `position` of `text` is inside a parenthesis opened before it and not yet closed."""
    before = text[:position]
    return before.count("(") > before.count(")")


def _outside_brackets(title: str) -> str:
    """A title never starts or ends inside a bracket: "Add a rack (upper, middle" -> "Add a rack"."""
    depth, opened = 0, []
    kept = []
    for index, char in enumerate(title):
        if char == ")" and depth == 0:
            continue  # closes a bracket the title does not hold
        if char == "(":
            depth += 1
            opened.append(index)
        elif char == ")":
            depth -= 1
            opened.pop()
        kept.append((index, char))
    text = "".join(char for _, char in kept)
    if opened:  # cut before the bracket left open
        position = sum(1 for index, _ in kept if index < opened[0])
        head = text[:position].rstrip(" ,;:-")
        if len(head.split()) >= 2:
            return head
    return text


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
