"""State changes named by a verb and a state: "mark the item as repaired", "flag a score as
retired", "set the loan to lost", "mark a stay as checked in", and the rules that keep a state
from being left: "a lost loan cannot be returned", "a stay that is checked out cannot be checked
in again".

Each names a transition `mark_<state>` of the thing it acts on (a pronoun, "it", is the thing named
last before it), so the thing gets an enum `status` and the operation; a rule adds the state it must
not start from, with the text's words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assets.architecture.phrases import DETERMINERS, entity_phrase, tokens
from assets.requirements.language import STOPWORDS

if TYPE_CHECKING:
    from assets.architecture.domain_model import DomainModel, EntityDraft

# verb -> the word between the thing and the state
STATE_SETTERS = {
    **dict.fromkeys("mark marks marked marking flag flags flagged flagging".split(), "as"),
    **dict.fromkeys("set sets setting".split(), "to"),
}
_PRONOUNS = frozenset("it them this that one".split())
# A state runs on past its first word where the words make one state: "checked in", "out of service".
_PARTICLES = frozenset("in out up off back".split())
_JOINING = frozenset("out of beyond no not in under".split())
_NOT_STATES = frozenset("a an the well soon possible needed required such".split())
_NEVER = (
    ("cannot", "be"),
    ("can", "not", "be"),
    ("can", "no", "longer", "be"),
    ("can", "never", "be"),
    ("may", "not", "be"),
    ("must", "not", "be"),
    ("must", "never", "be"),
    ("should", "not", "be"),
)
_BEING = (("that", "is"), ("that", "are"), ("that", "has", "been"), ("which", "is"), ("once", "it", "is"))


def state_after(toks: list[str], start: int) -> tuple[str, int] | None:
    """The state named from `start` ("repaired", "checked in", "beyond repair") and where it ends."""
    while start < len(toks) and toks[start] in DETERMINERS:
        start += 1
    if start >= len(toks) or not toks[start].isalpha() or toks[start] in _NOT_STATES:
        return None
    words = [toks[start]]
    index = start + 1
    while index < len(toks) and toks[index].isalpha() and len(words) < 3:
        # "out of service" joins on; "checked in when it arrives" ends before "when"
        joins = words[-1] in _JOINING and (toks[index] in _JOINING or toks[index] not in STOPWORDS)
        if toks[index] in _PARTICLES or joins:
            words.append(toks[index])
            index += 1
            continue
        break
    if words[-1] in _JOINING and (len(words) == 1 or words[-1] not in _PARTICLES):
        # "out of" without what it is out of; "checked in" ends on its particle
        return None
    state = {"complete": "completed", "finish": "finished"}.get(words[0], words[0])
    return "_".join([state, *words[1:]]), index


# Words that put a second state after the first: "as dispatched and later as delivered".
_LATER = frozenset("then later afterwards finally eventually".split())


def more_states(toks: list[str], end: int, first: str, joiner: str = "as") -> list[tuple[str, str | None]]:
    """The further states one setter names after its first (`first`, ending at `end`), each with
    the state it follows when "and" joins them in turn: "mark a stay as checked in when the dog
    arrives and as checked out when it leaves" -> [("checked_out", "checked_in")]; "or as" names
    another end, not a next step."""
    found: list[tuple[str, str | None]] = []
    index, previous = end, first
    while index < len(toks) - 1 and toks[index] != ";":
        if toks[index] in STATE_SETTERS:  # another setter names its own states
            break
        before = toks[index - 1]
        if toks[index] == joiner and (before in ("and", "or", ",") or before in _LATER):
            state = state_after(toks, index + 1)
            if state is not None:
                found.append((state[0], previous if before == "and" or before in _LATER else None))
                index, previous = state[1], state[0]
                continue
        index += 1
    return found


def _thing(
    toks: list[str], index: int, model: DomainModel, fallback: EntityDraft | None
) -> tuple[EntityDraft | None, int]:
    """The thing a setter acts on, from `index`, and where its words end."""
    if index < len(toks) and toks[index] in _PRONOUNS:
        return fallback, index + 1
    phrase = entity_phrase(toks, index)
    if phrase is None:
        return None, index
    return model.find(phrase), phrase.end


def _last_named(toks: list[str], end: int, model: DomainModel) -> EntityDraft | None:
    for index in range(end - 1, -1, -1):
        entity = model.find(toks[index]) if toks[index].isalpha() else None
        if entity is not None:
            return entity
    return None


def state_changes(
    sentence: str, model: DomainModel, fallback: EntityDraft | None
) -> list[tuple[EntityDraft, str, str | None]]:
    """(thing, state, the state it follows if the text names one) for every "mark/flag X as S",
    "set X to S" of the sentence."""
    toks = tokens(sentence)
    found = []
    for index, token in enumerate(toks):
        joiner = STATE_SETTERS.get(token)
        if joiner is None:
            continue
        entity, end = _thing(toks, index + 1, model, _last_named(toks, index, model) or fallback)
        if entity is None or toks[end : end + 1] != [joiner]:
            continue
        state = state_after(toks, end + 1)
        if state is not None:
            found.append((entity, state[0], None))
            found += [(entity, *more) for more in more_states(toks, state[1], state[0], joiner)]
    return found


_BE_STATES = (("is", "either"), ("are", "either"), ("can", "be"), ("may", "be"), ("gets",), ("get",))


# Participles that do not end in -ed, by the ending the words share ("upheld", "withdrawn").
_IRREGULAR_DONE = (
    "held",
    "sold",
    "paid",
    "sent",
    "lost",
    "won",
    "done",
    "kept",
    "taken",
    "given",
    "written",
    "shown",
    "broken",
    "chosen",
    "drawn",
    "spent",
    "built",
    "bought",
    "caught",
    "taught",
    "thrown",
    "frozen",
)


def _done_word(word: str) -> bool:
    return word.isalpha() and len(word) > 3 and (word.endswith("ed") or word.endswith(_IRREGULAR_DONE))


def either_states(sentence: str, model: DomainModel) -> list[tuple[EntityDraft, list[str]]]:
    """(thing, its end states) for "a complaint is either upheld or dismissed", "an entry can be
    approved or rejected": two or more done-words joined by "or" after the thing (or after a clause
    about it: "raise a complaint about a plot and is either upheld or dismissed")."""
    toks = tokens(sentence)
    found = []
    for index in range(1, len(toks)):
        lead = next((words for words in _BE_STATES if _starts(toks, index, words)), None)
        if lead is None:
            continue
        position = index + len(lead)
        if toks[position : position + 1] == ["either"]:
            position += 1
        states = []
        while position < len(toks) and _done_word(toks[position]):
            states.append(toks[position])
            if toks[position + 1 : position + 2] not in (["or"], [","]):
                break
            position += 2
        before = toks[index - 1]
        # the thing itself is the subject ("a complaint is either ..."), or a clause about it ends
        # in "and"; "a stall has a price that is either fixed or agreed" is about the price
        if before in ("and", "it", "they"):
            entity = _last_named(toks, index, model)
        else:
            entity = model.find(before) if before.isalpha() else None
        if len(states) >= 2 and entity is not None:
            found.append((entity, states))
    return found


def transition_name(state: str) -> str:
    return f"mark_{state}"


def _starts(toks: list[str], index: int, words: tuple[str, ...]) -> bool:
    return tuple(toks[index : index + len(words)]) == words


def kept_states(sentence: str, model: DomainModel) -> list[tuple[EntityDraft, str, str, str]]:
    """(thing, the state it is in, the state it cannot be put in, the rule's words) for "a lost loan
    cannot be returned", "an item that is beyond repair cannot be marked as repaired"."""
    toks = tokens(sentence)
    out = []
    for index in range(len(toks)):
        never = next((words for words in _NEVER if _starts(toks, index, words)), None)
        if never is None:
            continue
        subject = toks[:index]
        entity, current = None, None
        for position in range(len(subject)):
            being = next((words for words in _BEING if _starts(subject, position, words)), None)
            if being is not None and position > 0:
                entity = model.find(subject[position - 1])
                state = state_after(subject, position + len(being))
                current = state[0] if state else None
                break
        if entity is None and len(subject) >= 2:  # "a lost loan"
            entity = model.find(subject[-1])
            current = subject[-2] if subject[-2].isalpha() and subject[-2] not in DETERMINERS else None
        if entity is None or current is None:
            continue
        rest = index + len(never)
        if toks[rest : rest + 1] and toks[rest] in STATE_SETTERS and toks[rest + 1 : rest + 2] == ["as"]:
            rest += 2  # "cannot be marked as repaired"
        target = state_after(toks, rest)
        if target is not None:
            start = max(0, index - 6)
            out.append((entity, current, target[0], " ".join(toks[start : target[1]])))
    return out
