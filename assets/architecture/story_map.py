"""Which components each story touches: user-interface words -> frontend, data -> backend and database."""

from __future__ import annotations

import re

from assets.architecture.vocabulary import is_generic
from assets.requirements.language import verb_objects
from assets.requirements.models import UserStory

_UI = re.compile(
    r"\b(see|view|show|display|board|page|screen|dashboard|dark mode|theme|button|click|sign in|log in"
    r"|login|filter|search|highlight|web app|frontend|ui|user interface|react|vue|svelte|browser|form)\b",
    re.IGNORECASE,
)
_SERVER = re.compile(
    r"\b(api|backend|server|rest|endpoint|respond|response|fastapi|flask|django|express)\b", re.IGNORECASE
)
_DATA = re.compile(
    r"\b(store|save|persist|database|postgres|postgresql|sqlite|mysql|export|import|e-?mail|notifications?"
    r"|notify|sign in|log in|login|password|account|csv|history|audit)\b",
    re.IGNORECASE,
)


def map_story(story: UserStory) -> list[str]:
    """The components a story touches, by rule; never empty."""
    text = f"{story.title} {story.i_want}"
    # Reading a generic thing ("get an email notification", "see the app") touches no stored record.
    touches_entity = any(
        found.operation != "read" or not is_generic(found.noun) for found in verb_objects(story.i_want)
    )
    components = []
    if _UI.search(text) or touches_entity:
        components.append("frontend")
    if touches_entity or _DATA.search(text):
        components += ["backend", "database"]
    elif _SERVER.search(text):
        components.append("backend")
    return components or ["frontend"]
