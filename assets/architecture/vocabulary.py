"""Word meanings the domain rules use: the type a field name implies, the state a state-changing
verb leads to, and the words that never name stored data.

Every table here is about English words in general (a "price" is money, "ship" leads to
"shipped"), never about the words of one document. What a verb does to its object is shared with
the other stages: `pipeline_core.verbs`.
"""

from __future__ import annotations

import re

from assets.requirements.language import PERSON_WORDS, singular

# A state-changing verb -> the state it leads to ("" = back to the first state).
STATE_OF_VERB: dict[str, str] = {
    "ship": "shipped",
    "deliver": "delivered",
    "publish": "published",
    "unpublish": "",
    "approve": "approved",
    "reject": "rejected",
    "archive": "archived",
    "unarchive": "",
    "restore": "",
    "close": "closed",
    "reopen": "",
    "complete": "completed",
    "finish": "finished",
    "cancel": "cancelled",
    "resolve": "resolved",
    "confirm": "confirmed",
    "accept": "accepted",
    "decline": "declined",
    "pay": "paid",
    "return": "returned",
    "borrow": "borrowed",
    "activate": "active",
    "deactivate": "inactive",
    "suspend": "suspended",
    "block": "blocked",
    "unblock": "",
    "lock": "locked",
    "unlock": "",
    "start": "in_progress",
}
# The verb that leads to a state (for a state a rule needs but no story reaches: "finished" -> finish).
VERB_OF_STATE = {state: verb for verb, state in STATE_OF_VERB.items() if state}
VERB_OF_STATE |= {"done": "mark_done", "open": "reopen"}

# The usual order of life-cycle states: a transition starts from the states ranked before its target.
STATE_RANK: dict[str, int] = {
    **dict.fromkeys("draft new open todo to_do active available requested planned".split(), 0),
    **dict.fromkeys("pending submitted waiting".split(), 1),
    **dict.fromkeys("assigned in_progress confirmed accepted borrowed booked scheduled locked".split(), 2),
    **dict.fromkeys("approved paid blocked suspended".split(), 3),
    **dict.fromkeys("published shipped resolved returned".split(), 4),
    **dict.fromkeys("done completed finished delivered".split(), 5),
    **dict.fromkeys("closed rejected declined cancelled canceled inactive".split(), 6),
    "archived": 7,
}
# States a thing does not leave except by an explicit "reopen"/"restore".
FINAL_STATES = frozenset(
    "done completed finished delivered closed rejected declined cancelled canceled archived returned".split()
)
# The state that follows directly from another, when both exist ("deliver" comes after "ship").
NATURAL_PREDECESSOR = {"delivered": "shipped", "returned": "borrowed", "published": "approved"}


def first_state(targets: set[str]) -> str:
    """The state a thing starts in, given the states its transitions lead to."""
    if "published" in targets:
        return "draft"
    if targets & {"approved", "rejected", "accepted", "declined", "confirmed"}:
        return "pending"
    if targets & {"closed", "completed", "done", "resolved", "in_progress", "finished"}:
        return "open"
    if targets & {"borrowed", "returned"}:
        return "available"
    if targets <= {"archived", "inactive", "suspended", "locked", "blocked"}:
        return "active"
    return "new"


# Nouns that name the software or a part of it, never data it stores.
GENERIC_NOUNS = frozenset(
    """app apps application applications system systems software tool tools platform website site portal
    page pages screen screens functionality functionalities feature features ability abilities option
    options way ways thing things stuff data information info detail details list lists button buttons
    field fields form forms view views dashboard mode theme setting settings interface ui api backend
    frontend database server it them one ones everything something anything work time progress result
    results process processes change changes access use version web mobile online overview summary
    report reports button number total count status type types kind kinds sort lot lots bit
    react vue angular svelte python fastapi django flask node express postgresql postgres sqlite mysql
    javascript typescript html css rest json csv pdf excel simple value values notification reminder
    alert email mode map maps stat stats statistic statistics history rid catalogue catalog collection
    inventory record records""".split()
)
# Words before a noun that describe it rather than name it (skipped in an entity's name).
ADJECTIVES = frozenset(
    """new old existing all every each any some my our their his her its your own other different several
    many multiple single nearby public private special favourite favorite current upcoming past recent
    previous next available active open closed completed overdue important urgent simple basic full
    whole entire certain specific relevant individual personal important daily weekly monthly yearly
    own same various local online offline total few first last more most less least quick fast easy
    easier better best good great nice much unique safe secure tidy clean consistent correct accurate
    visible hidden short long organised organized separate together informed lost missing broken damaged
    late unpaid expired free busy done""".split()
)
ADJECTIVE_SUFFIXES = ("able", "ible", "ous", "ful", "less")

# Which type a field name implies (checked on the name's words, last word first).
_NUMBER_AS_TEXT = frozenset(
    "phone telephone mobile serial reference order account registration id license licence vat tax "
    "house tracking invoice passport ticket policy contact".split()
)
_WRITTEN = frozenset("message email mail post letter article comment note page reply review".split())
_DURATION_TIMES = frozenset(
    "cooking prep preparation reading travel response waiting processing total".split()
)
_WORD_TYPES: dict[str, str] = {
    **dict.fromkeys("email e_mail".split(), "email"),
    **dict.fromkeys("url link website homepage".split(), "url"),
    **dict.fromkeys("date day deadline birthday dob anniversary expiry due".split(), "date"),
    **dict.fromkeys("datetime timestamp".split(), "datetime"),
    "time": "time",
    **dict.fromkeys(
        """price cost amount fee fees salary budget balance payment revenue wage charge deposit rent tip
        subtotal refund""".split(),
        "money",
    ),
    **dict.fromkeys(
        """quantity qty count number stock level age year position rank capacity seats servings pages
        minutes copies points estimate floor duration calories""".split(),
        "integer",
    ),
    **dict.fromkeys(
        """rating score weight height length width distance temperature percentage percent rate latitude
        longitude mileage volume""".split(),
        "number",
    ),
    **dict.fromkeys(
        """notes note description comment comments body content instructions bio biography message text
        remarks steps ingredients directions feedback explanation reason""".split(),
        "text",
    ),
}
_BOOLEANS = frozenset(
    "done enabled available vegetarian vegan flagged favourite favorite urgent verified".split()
)

# Field names that can show an entity to a person.
DISPLAY_FIELDS = ("name", "title", "subject", "label", "headline", "summary", "code", "sku", "text", "body")
# Things whose display field is a title rather than a name.
TITLED = frozenset(
    """task todo book post article issue ticket event recipe movie film song story note job course
    lesson chapter episode podcast album card idea goal bug request page question poll survey""".split()
)


def field_type(name: str) -> str:
    """The type a snake_case field name implies ("due_date" -> date, "unit_price" -> money)."""
    parts = name.split("_")
    if name.startswith(("is_", "has_", "can_")) or parts[-1] in _BOOLEANS:
        return "boolean"
    if name.endswith("_at") and len(parts) > 1:
        return "datetime"
    if name.endswith("_on") and len(parts) > 1:
        return "date"
    last = parts[-1]
    if last == "number" and len(parts) > 1 and parts[-2] in _NUMBER_AS_TEXT:
        return "string"
    if last == "time" and len(parts) > 1 and parts[-2] in _DURATION_TIMES:
        return "integer"
    if last == "hours" and len(parts) > 1 and parts[-2] in ("opening", "business", "office"):
        return "text"
    if last == "body" and len(parts) > 1 and parts[-2] not in _WRITTEN:
        return "string"  # "a clay body", "a car body": a kind of thing, not a text
    if last == "date" or (last == "time" and "date" in parts):
        return "datetime" if "time" in parts else "date"
    for word in reversed(parts):
        if word in _WORD_TYPES:
            return _WORD_TYPES[word]
        if word == "hours":
            return "number"
    return "string"


# Words that name how things are shown, never a thing stored: "a map display", "a done checkbox".
PRESENTATION_NOUNS = frozenset(
    """display displays checkbox checkboxes tickbox toggle switch chart charts graph graphs widget widgets
    layout layouts menu menus tab tabs icon icons popup popups modal modals banner banners tooltip
    tooltips dropdown dropdowns sidebar panel panels grid column columns row rows
    colour color font screenshot""".split()
)
# Units and points of time: "each week", "this month" name when, never what is stored.
TIME_NOUNS = frozenset(
    """second seconds minute minutes hour hours day days week weeks weekend weekends month months year
    years quarter quarters today tomorrow yesterday morning mornings afternoon evening evenings night
    nights moment moments while date dates""".split()
)
# Abstract nouns requirement texts use for qualities and activities, never a record of their own.
ABSTRACT_NOUNS = frozenset(
    """documentation integration integrations navigation configuration authentication authorization
    authorisation localization localisation accessibility performance security usability reliability
    scalability availability management planning routing tracking reporting monitoring onboarding
    workload workloads workflow workflows experience support help usage analytics insight insights
    visibility transparency efficiency quality compliance consistency convenience ease speed
    responsiveness privacy safety accuracy flexibility productivity communication collaboration
    coordination organisation organization automation optimisation optimization assistance guidance
    advice""".split()
)
# Words for a value a record holds, never a record: "the total amount", "the unit price".
VALUE_NOUNS = frozenset(
    "amount amounts sum sums price prices cost costs quantity quantities percentage percent level".split()
)
NON_RECORD_NOUNS = PRESENTATION_NOUNS | TIME_NOUNS | ABSTRACT_NOUNS | VALUE_NOUNS


def is_non_record(words: tuple[str, ...] | list[str]) -> bool:
    """True if a noun phrase (content words, head last) names a way of showing things, a time, a
    value or a count, or an abstract quality or activity ("map display", "week", "servings",
    "route planning"), not a stored thing."""
    if not words:
        return False
    head = singular(words[-1])
    if words[-1] in NON_RECORD_NOUNS or head in NON_RECORD_NOUNS:
        return True
    return "integer" in (field_type(words[-1]), field_type(head))


# Nouns that hold other things: "a register of vehicles" is about the vehicles.
HOLDER_NOUNS = frozenset(
    "register registry log record records directory database archive library roster rota index".split()
)
# Things that are mostly their text: a comment, a note or a review stores what was written.
TEXT_BODIED = frozenset("comment note message reply review feedback remark annotation testimonial".split())


def is_generic(noun: str) -> bool:
    """True if a noun phrase names the software itself or a generic part of it."""
    head = noun.split()[-1]
    return bool({head, singular(head)} & (GENERIC_NOUNS | SOFTWARE_NOUNS))


MORE_PEOPLE = frozenset(
    """agent clerk librarian nurse doctor teacher student driver attendee patient borrower buyer seller
    volunteer coach player trainer instructor technician worker colleague coworker teammate""".split()
)


def is_person_word(word: str) -> bool:
    return singular(word) in PERSON_WORDS or word in PERSON_WORDS or singular(word) in MORE_PEOPLE


def is_adjective(word: str) -> bool:
    return word in ADJECTIVES or (len(word) > 5 and word.endswith(ADJECTIVE_SUFFIXES))


_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}


def number_value(word: str) -> int | None:
    """ "3" -> 3, "three" -> 3, "a" -> None."""
    if re.fullmatch(r"\d{1,7}", word):
        return int(word)
    return _NUMBER_WORDS.get(word)


VALUE_WORDS = frozenset(
    """low medium high normal urgent critical minor major trivial blocker small large big tiny huge easy
    hard difficult beginner intermediate advanced expert yes no red green blue yellow orange purple black
    white grey gray pink brown daily weekly monthly yearly bronze silver gold platinum basic standard
    premium free paid male female other none mild hot spicy cold warm indoor outdoor online offline""".split()
)


def value_like(word: str) -> bool:
    """True for words that are typical listed values ("low", "medium", "open", "gold")."""
    return word in VALUE_WORDS or word in STATE_RANK or is_adjective(word)


# What a search is "by" when it names no field: the search text itself.
SEARCH_TERMS = frozenset("keyword keywords term terms text word words query phrase anything".split())

# Verbs whose act is itself a record: "register for an event" -> a Registration of the event.
NOMINAL_OF_VERB = {
    "register": "registration",
    "enrol": "enrolment",
    "enroll": "enrollment",
    "subscribe": "subscription",
    "vote": "vote",
    "book": "booking",
    "reserve": "reservation",
    "rsvp": "rsvp",
    "sign_up": "signup",
}
SUMMARY_CUES = frozenset("per dashboard report overview statistics stats total average how".split())

# Nouns that name a property of a thing ("the hours of each facility"), never a thing of their own.
ATTRIBUTE_WORDS = frozenset(
    """hours name names address location status price cost schedule description details contact phone
    email website size colour color weight rating score title date time opening deadline availability
    capacity duration photo picture image completion state""".split()
)

# Words for the software being built: "a todo application" names its records by the word before it.
# A share of something, never a thing when "of" follows ("part of the catalogue"); "the parts we
# fit" are things.
PARTITIVES = frozenset("part".split())
# Nouns that hold what is known about the thing before them: "vessel information" is the vessel.
ABOUT_NOUNS = frozenset("information info detail data".split())
# Generic words that are records when someone files them: "submit an application", "file a report"
# (never "approve the app"'s meaning of the software: the software is not submitted or assigned).
FILED_NOUNS = frozenset("application report".split())
FILING_VERBS = frozenset("submit file lodge approve reject assign reassign".split())
SOFTWARE_NOUNS = frozenset(
    "app apps application system tool platform website site portal tracker planner".split()
)
