"""Grammar the domain rules read: clauses, the verbs in them and the noun phrases they act on,
"with"/"by" lists of fields, and lists of allowed values.

Text is split into clauses and tokens (words and the punctuation that bounds phrases). A verb
counts when it stands where a verb stands (clause start, after "to", a modal, "and"/"or"/a comma,
or a plural subject: "owners can add their pets", "customers open tickets"); its object is the
noun phrase after it, with determiners and describing words skipped and the head made singular.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assets.architecture.vocabulary import (
    ABOUT_NOUNS,
    ATTRIBUTE_WORDS,
    FILED_NOUNS,
    FILING_VERBS,
    HOLDER_NOUNS,
    NOMINAL_OF_VERB,
    PARTITIVES,
    SOFTWARE_NOUNS,
    VALUE_NOUNS,
    field_type,
    is_adjective,
    is_generic,
    is_person_word,
    number_value,
    value_like,
)
from assets.requirements.language import STOPWORDS, singular
from pipeline_core.verbs import VERB_KINDS, VerbKind, verb_at

_TOKEN = re.compile(r"e-mail|[a-z0-9]+(?:'[a-z]+)?|[,;:()]")
_CLAUSE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+|;\s*|\s+-\s+")
DETERMINERS = frozenset(
    """a an the my our their his her its your this that these those all each every any some new existing
    several many multiple one own other no""".split()
)
PREPOSITIONS = frozenset(
    """to for with by in on at of from into as so that when once after before because while and or if
    than via per within without about under over between across through during until near around like
    since except including beyond toward towards upon against among behind below above beside outside
    inside""".split()
)
_CONTRACTIONS = frozenset(
    """theyre youre were dont doesnt didnt cant wont isnt arent im ive id thats theres whats lets weve youve
    theyve youll theyll shouldnt wouldnt couldnt hasnt havent wasnt werent""".split()
)
# Disfluencies and filler a transcript keeps: never part of a name.
FILLERS = frozenset("um uh erm er hmm mm disfmarker vocalsound gap laugh well yeah okay ok oh like".split())
_LY_NOUNS = frozenset(
    "family supply assembly reply monopoly anomaly butterfly jelly rally ally italy".split()
)
_ED_NOUNS = frozenset("speed feed seed breed bed shed reed creed deed steed".split())
_WHEN_WORDS = frozenset("time date hour day".split())


_REFLEXIVES = frozenset(
    "myself yourself himself herself itself ourselves yourselves themselves themselve oneself".split()
)


def _ends_phrase(token: str) -> bool:
    return (
        token in _CONTRACTIONS
        or token in _REFLEXIVES
        or token in FILLERS
        or (len(token) > 4 and token.endswith("ly") and token not in _LY_NOUNS)
        or number_value(token) is not None
    )


_VERB_BEFORE = frozenset(
    """to can could should must shall will would may might and or , also please then not i we they you
    easily quickly just able let lets allow allows with""".split()
)
_SUBJECT_END = frozenset("s".split())


_PURPOSE = re.compile(r"\b(?:so that|so as to|so i|so we|so they|in order to|because)\b", re.IGNORECASE)


def without_purpose(text: str) -> str:
    """The text before its reason ("..., so that I can track the outcome"): what is asked for."""
    return _PURPOSE.split(text, maxsplit=1)[0]


def clauses(text: str) -> list[str]:
    return [part.strip() for part in _CLAUSE_SPLIT.split(text) if part.strip()]


def tokens(text: str) -> list[str]:
    out = []
    for token in _TOKEN.findall(text.lower().replace("’", "'")):
        if token == "e-mail":
            token = "email"
        elif token.endswith("'s"):
            out.append(token[:-2])
            out.append("'s")
            continue
        out.append(token.replace("'", ""))
    return out


@dataclass(frozen=True)
class NounPhrase:
    words: tuple[str, ...]  # the content words, head last (singular)
    start: int
    end: int  # index after the phrase
    attribute: str = ""  # "the hours of each facility" -> facility, attribute "hours"

    @property
    def noun(self) -> str:
        """The entity-sized name: the head and at most one word before it."""
        return " ".join(self.words[-2:])


def noun_phrase(toks: list[str], index: int) -> NounPhrase | None:
    """The noun phrase starting at `index` ("their pets" -> pet; "each vet visit" -> vet visit)."""
    start = index
    while index < len(toks) and (
        toks[index] in DETERMINERS or toks[index] in FILLERS or number_value(toks[index]) is not None
    ):
        index += 1
    content: list[str] = []
    while index < len(toks) and len(content) < 4:
        token = toks[index]
        if token in PREPOSITIONS or token in STOPWORDS or not token.isalnum() or _ends_phrase(token):
            break
        if content and is_adjective(token) and token not in ("open",):
            break  # "keep each ISBN unique": a predicate, not part of the name
        following = toks[index + 1] if index + 1 < len(toks) else ""
        if (
            content
            and token.endswith(("ed", "ing"))
            and (following in PREPOSITIONS or not (following.isalnum() or following == "("))
        ):
            break  # "the board grouped by status"
        content.append(token)
        index += 1
    while content and is_adjective(content[0]) and len(content) > 1:
        content.pop(0)
    if (
        not content
        or is_adjective(content[-1])
        or (content[-1].endswith("ed") and content[-1] not in _ED_NOUNS)
    ):
        return None
    head = singular(content[-1])
    return NounPhrase(words=(*content[:-1], head), start=start, end=index)


# A share of something booked ("a place in a class", "a seat on the coach"): the thing is the class.
PLACES = frozenset("place spot seat space".split())


def _names_a_thing(word: str) -> bool:
    """ "vessel information" is about a vessel; "contact details", "login data" and "owner info"
    are fields of something else."""
    if is_person_word(word) or word in ATTRIBUTE_WORDS or word in _FIELD_LEADS:
        return False
    return field_type(word) == "string"


_FIELD_LEADS = frozenset("contact login personal".split())


def entity_phrase(toks: list[str], index: int) -> NounPhrase | None:
    """A noun phrase that names stored things: "a list of X" -> X; "the todo application" -> todo."""
    phrase = noun_phrase(toks, index)
    if phrase is None:
        return None
    following = toks[phrase.end] if phrase.end < len(toks) else ""
    if len(phrase.words) == 1 and phrase.words[-1] in PLACES and following in ("in", "on", "at"):
        held = entity_phrase(toks, phrase.end + 1)  # "book a place in a class" -> class
        if held is not None:
            return held
    of = following == "of"
    if of and phrase.words[-1] in HOLDER_NOUNS | PARTITIVES:  # "a register of vehicles" -> vehicle
        held = entity_phrase(toks, phrase.end + 1)
        if held is not None:
            return held
    if (
        len(phrase.words) >= 2
        and phrase.words[-1] in _WHEN_WORDS
        and phrase.words[-2].endswith("ing")
        and len(phrase.words[-2]) > 5
    ):  # "feeding times": feedings, each with its time
        return NounPhrase(
            words=(*phrase.words[:-1],),
            start=phrase.start,
            end=phrase.end,
            attribute=phrase.words[-1],
        )
    raw = toks[phrase.end - 1]  # "servings", before it was made singular
    valued = not is_generic(raw) and (
        "integer" in (field_type(raw), field_type(phrase.words[-1])) or raw in VALUE_NOUNS
    )
    if of and (valued or phrase.words[-1] in ATTRIBUTE_WORDS | {singular(w) for w in ATTRIBUTE_WORDS}):
        owner = entity_phrase(toks, phrase.end + 1)
        if owner is not None:
            attribute = "_".join(toks[phrase.start : phrase.end][-len(phrase.words) :])
            return NounPhrase(words=owner.words, start=owner.start, end=owner.end, attribute=attribute)
    if is_generic(phrase.words[-1]):
        if of:
            return entity_phrase(toks, phrase.end + 1)
        modifiers = [word for word in phrase.words[:-1] if not is_generic(word)]
        about = phrase.words[-1] in ABOUT_NOUNS and bool(modifiers) and _names_a_thing(modifiers[-1])
        # "the todo application" -> todo; "vessel information" -> vessel
        if modifiers and (phrase.words[-1] in SOFTWARE_NOUNS or about):
            return NounPhrase(
                words=(*modifiers[:-1], singular(modifiers[-1])), start=phrase.start, end=phrase.end
            )
        return None
    return phrase


@dataclass(frozen=True)
class VerbUse:
    verbs: tuple[str, ...]  # "add", "edit", "delete"
    index: int  # where the verbs start
    obj: NounPhrase | None  # what they act on (None: the clause names no object after them)
    clause: list[str]


def third_person_base(token: str) -> str | None:
    """ "borrows" -> borrow, "finishes" -> finish, "applies" -> apply (a verb of the vocabulary)."""
    if len(token) < 4 or not token.endswith("s") or token in VERB_KINDS:
        return None
    candidates = [token[:-1]]
    if token.endswith("es"):
        candidates.append(token[:-2])
    if token.endswith("ies"):
        candidates.append(token[:-3] + "y")
    return next((base for base in candidates if base in VERB_KINDS), None)


_THIRD_PERSON_SUBJECTS = frozenset("she he it who that which".split())


def _third_person_subject(toks: list[str], index: int) -> bool:
    """ "a member borrows", "the owner accepts", "she adds": one subject before a verb ending in -s."""
    before = toks[index - 1] if index else ""
    if before in _THIRD_PERSON_SUBJECTS:
        return True
    return (
        index >= 2
        and before.isalpha()
        and before not in STOPWORDS
        and not before.endswith("s")
        and toks[index - 2] in DETERMINERS
    )


def _verb_at(toks: list[str], index: int) -> tuple[str, int] | None:
    found = verb_at(toks, index)
    if found is not None:
        return found
    base = third_person_base(toks[index])
    if base is not None:
        return base, index + 1
    return None


def _verb_position(toks: list[str], index: int) -> bool:
    if third_person_base(toks[index]) is not None:
        return _third_person_subject(toks, index)
    if index == 0:
        return True
    before = toks[index - 1]
    return (
        before in _VERB_BEFORE or before.endswith("ly") or (before.endswith("s") and before not in STOPWORDS)
    )


def verb_uses(text: str) -> list[VerbUse]:
    """Every verb list and its object, clause by clause."""
    uses: list[VerbUse] = []
    for clause in clauses(text):
        toks = tokens(clause)
        index = 0
        while index < len(toks):
            found = _verb_at(toks, index)
            if found is None or not _verb_position(toks, index):
                index += 1
                continue
            start, verbs = index, [found[0]]
            index = found[1]
            while index < len(toks):
                if toks[index] in (",", "and", "or") and index + 1 < len(toks):
                    following = _verb_at(toks, index + 1)
                    if following:
                        verbs.append(following[0])
                        index = following[1]
                        continue
                break
            after = index
            if (
                after < len(toks)
                and toks[after] in ("on", "up", "for", "through", "to")
                and verbs[-1]
                in (
                    "comment",
                    "search",
                    "look_up",
                    "sign",
                    "check",
                    "browse",
                    "apply",
                )
            ):
                after += 1
            obj = entity_phrase(toks, after) if after < len(toks) else None
            if obj is None and after < len(toks) and FILING_VERBS & set(verbs):
                filed = noun_phrase(toks, after)  # "submit an application": a record, not the software
                obj = filed if filed is not None and filed.words[-1] in FILED_NOUNS else None
                if obj is not None and toks[obj.end : obj.end + 1] in (["for"], ["of"]):
                    # "an application for a permit" asks for the permit: the permit is acted on
                    sought = toks[obj.end + 1 : obj.end + 2]
                    obj = entity_phrase(toks, obj.end + 1) if sought and sought[0] in DETERMINERS else obj
            if verbs == ["keep"]:  # "keep a catalogue of books", never "keep each ISBN unique"
                held = noun_phrase(toks, after)
                holder = held is not None and (is_generic(held.words[-1]) or held.words[-1] in HOLDER_NOUNS)
                bare_plural = (
                    held is not None
                    and held.start == after
                    and toks[held.end - 1].endswith("s")
                    and toks[held.end : held.end + 1] in ([], [","], [";"], ["with"], ["and"])
                )  # "an app to keep band setlists; ..."
                if held is None or not (holder and toks[held.end : held.end + 1] == ["of"] or bare_plural):
                    obj = None
            nominal = NOMINAL_OF_VERB.get(verbs[-1])
            if nominal and after < len(toks) and toks[after] in ("for", "to", "on", "in", "at"):
                obj = NounPhrase(words=tuple(nominal.split()), start=after, end=after)
            uses.append(VerbUse(verbs=tuple(verbs), index=start, obj=obj, clause=toks))
            index = obj.end if obj else after
            while obj is not None and index + 1 < len(toks) and toks[index] in (",", "and"):
                following = coordinated_object(toks, index + 1)
                if following is None:
                    break
                obj = following
                uses.append(VerbUse(verbs=tuple(verbs), index=start, obj=obj, clause=toks))
                index = obj.end
            if index < len(toks) and toks[index] == "with":  # "with a name, start time, ..." holds no verbs
                index = word_list(toks, index + 1)[1]
    return uses


def coordinated_object(toks: list[str], index: int) -> NounPhrase | None:
    """ "record feeding times and every vet visit": a second thing the same verbs act on, never a
    verb ("and edit them") nor a word that names a field ("the date and the reason")."""
    if _verb_at(toks, index) is not None:
        return None
    if toks[index].endswith("ing") and toks[index + 1 : index + 2] and toks[index + 1] in DETERMINERS:
        return None  # "apply for a permit, giving the zone": a participle and its list, not a thing
    phrase = entity_phrase(toks, index)
    if phrase is None:
        return None
    head = phrase.words[-1]
    if head in ATTRIBUTE_WORDS or field_type(head) != "string" or is_adjective(head):
        return None
    if len(phrase.words) > 1 and toks[phrase.end : phrase.end + 1] and toks[phrase.end] in DETERMINERS:
        return None  # "finish a ride, riders leave a note": a subject and its verb, not a second thing
    return phrase


def action_of(verb: str) -> VerbKind:
    return VERB_KINDS[verb]


# Words that introduce a list item or only describe it: "giving the date", "a short description".
_ITEM_LEADS = frozenset(
    """giving including stating showing listing noting recording naming with short long brief small large
    big little current detailed general quick""".split()
)


def _item_name(words: list[str]) -> str:
    kept = [
        word
        for word in words
        if word not in DETERMINERS and word not in FILLERS and word not in ("optional", "its", "their")
    ]
    while len(kept) > 1 and kept[0] in _ITEM_LEADS:
        kept = kept[1:]
    if not 1 <= len(kept) <= (4 if "of" in kept else 3):  # "maximum number of places"
        return ""
    return "_".join(kept)


_EVENT_SUBJECTS = frozenset("it they he she we you".split())
_EVENT_BE = frozenset("was is were are will has have had".split())
_PARTICLES = frozenset("back out in up off".split())


def _date_of_event(toks: list[str], index: int, item: list[str]) -> tuple[str, int] | None:
    """ "the date it was lent", "the date it is due back": (the event's word, the index after it)."""
    if not item or item[-1] not in _WHEN_WORDS or toks[index] not in _EVENT_SUBJECTS:
        return None
    position = index + 1
    while position < len(toks) and toks[position] in _EVENT_BE | {"be", "been"}:
        position += 1
    if position == index + 1 or position >= len(toks) or not toks[position].isalpha():
        return None
    word = toks[position]
    if word in STOPWORDS or word in PREPOSITIONS:
        return None
    position += 1
    if position < len(toks) and toks[position] in _PARTICLES:
        position += 1
    return word, position


# Words that turn a sentence away from the list it was giving.
_CONTRASTS = frozenset("but yet because although though unless except whereas".split())
# A question that names a measure: "how often it has to be given" is the frequency.
_HOW = {
    "often": "frequency",
    "long": "duration",
    "far": "distance",
    "old": "age",
    "big": "size",
    "large": "size",
    "heavy": "weight",
    "much": "amount",
}
_PRICED = frozenset("cost costs charge charges pay pays".split())
# Words naming one end of a span: "a start and end time" is a start time and an end time.
_SPAN_ENDS = frozenset("start end finish begin opening closing arrival departure pickup return".split())


def _how_item(toks: list[str], index: int) -> tuple[list[str], int]:
    """The item a "how ..." question names from `index` ("how many seats there are" -> number of
    seats) and where the question ends (the next comma, "and" or "or")."""
    word = toks[index + 1] if index + 1 < len(toks) else ""
    noun = toks[index + 2] if index + 2 < len(toks) else ""
    plain = noun.isalpha() and noun not in STOPWORDS and noun not in DETERMINERS
    if word == "many" and plain:
        item = ["number", "of", noun]
    elif word == "much" and plain:
        item = [noun]
    else:
        item = [_HOW[word]] if word in _HOW else []
    end = index + 1
    while end < len(toks) and toks[end] not in (",", ";", ":", ")", "and", "or"):
        end += 1
    if word == "much" and _PRICED & set(toks[index:end]):  # "how much it costs"
        item = ["price"]
    return item, end


def word_list(toks: list[str], index: int) -> tuple[list[list[str]], int]:
    """A list of items ("a title, due date and priority") from `index`: each item's words, and the end."""
    items: list[list[str]] = [[]]
    while index < len(toks):
        token = toks[index]
        content = [word for word in items[-1] if word not in DETERMINERS]
        if token in ("and", "or") and len(content) == 1 and content[0] in _SPAN_ENDS:
            after = toks[index + 1 : index + 3]
            if len(after) == 2 and after[0] in _SPAN_ENDS and after[1] in _WHEN_WORDS:
                items[-1].append(after[1])  # "a start and end time": the start is a time too
        if token == "how" and not content:
            item, end = _how_item(toks, index)
            if not item:
                break
            items[-1], index = item, end
            continue
        if token in (",", "and", "or"):
            if items[-1]:
                items.append([])
            index += 1
            if index < len(toks) and toks[index] in ("by", "with"):  # "by status and by priority"
                index += 1
            continue
        content = [word for word in items[-1] if word not in DETERMINERS]
        if token == "'s" and len(content) == 1 and index + 1 < len(toks) and toks[index + 1].isalpha():
            index += 1  # "the owner's name": one field, owner_name
            continue
        infinitive = (
            token == "to" and content and toks[index + 1 : index + 2] != [] and toks[index + 1].isalpha()
        )
        if infinitive and toks[index + 1] not in DETERMINERS and number_value(toks[index + 1]) is None:
            # "the steps to reproduce": what the item is for, not another item
            while index < len(toks) and toks[index] not in (",", ";", "and", "or"):
                index += 1
            continue
        if (token == "such" and toks[index + 1 : index + 2] == ["as"]) or (token == "like" and content):
            # "a short key such as WEB", "a name like spin or yoga": an example, not an item
            while index < len(toks) and toks[index] not in (",", ";"):
                index += 1
            continue
        if token in (";", ":", ")") or (token in PREPOSITIONS and token not in ("of",)) or token == "'s":
            break
        if token == "(":
            close = toks.index(")", index) if ")" in toks[index:] else len(toks)
            items[-1].append("(" + " ".join(toks[index + 1 : close]) + ")")
            index = close + 1
            continue
        event = _date_of_event(toks, index, items[-1])
        if event is not None:  # "the date it was lent" -> lent date
            items[-1], index = [event[0], items[-1][-1]], event[1]
            continue
        if token in _CONTRASTS or (
            token in STOPWORDS and token not in DETERMINERS and token not in ("its", "their", "of")
        ):
            break  # "a deposit, but a mower also needs a fuel level": the list ended
        items[-1].append(token)
        index += 1
    return [item for item in items if item], index


@dataclass(frozen=True)
class ListedField:
    name: str  # snake_case
    values: tuple[str, ...] = ()  # allowed values, when the text lists them


_VALUES_INSIDE = re.compile(r"^\((.+)\)$")


def _values(text: str) -> tuple[str, ...]:
    parts = [part.strip() for part in re.split(r",|\bor\b|\band\b|/", text) if part.strip()]
    parts = [part for part in parts if len(part.split()) <= 3 and not part.startswith(("e g", "eg"))]
    return tuple("_".join(part.split()) for part in parts) if len(parts) >= 2 else ()


def listed_fields(toks: list[str], index: int) -> tuple[list[ListedField], int]:
    """The fields of a "with"/"by" list, with enum values where the text gives them
    ("priority (low, medium, high)", "priority low, medium or high")."""
    items, end = word_list(toks, index)
    fields: list[ListedField] = []
    pending: list[str] = []  # a field word followed by bare values: "priority low, medium or high"
    for position, item in enumerate(items):
        words = [word for word in item if not word.startswith("(")]
        inside = next((word for word in item if word.startswith("(")), None)
        if pending and len(words) <= 2 and not inside:
            pending.append(" ".join(words))
            continue
        if pending:
            fields[-1] = ListedField(fields[-1].name, _values(", ".join(pending)))
            pending = []
        values = _values(_VALUES_INSIDE.sub(r"\1", inside)) if inside else ()
        # "priority low" then more items that are all single words up to an "or": bare values
        if (
            not values
            and len(words) == 2
            and position + 1 < len(items)
            and all(len(rest) == 1 and value_like(rest[0]) for rest in items[position + 1 :])
            and value_like(words[1])
            and words[0] not in DETERMINERS
            and len(items) - position >= 3
        ):
            fields.append(ListedField(words[0]))
            pending = [words[1]]
            continue
        name = _item_name(words)
        if name:
            fields.append(ListedField(name, values))
    if pending and fields:
        fields[-1] = ListedField(fields[-1].name, _values(", ".join(pending)))
    return fields, end
