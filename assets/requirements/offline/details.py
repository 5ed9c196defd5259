"""The lines that follow a story and belong to it: "Acceptance criteria", "Priority: Must",
Given/When/Then on one line or over several ("Given ...", "And ...", "When ...", "Then ...")."""

from __future__ import annotations

import re

from assets.requirements.drafts import DraftCriterion
from assets.requirements.models import Priority
from assets.requirements.offline.actions import Found, clean

_CRITERIA_LABEL = re.compile(r"^\W*acceptance criteria\W*$", re.IGNORECASE)
_PRIORITY_LINE = re.compile(r"^\W*priority\W*[:=]\s*\W*(must|should|could|won'?t)\b", re.IGNORECASE)
_GWT_LINE = re.compile(
    r"^given\s+(?P<given>.+?),?\s+when\s+(?P<when>.+?),?\s+then\s+(?P<then>.+?)[.;]?$", re.IGNORECASE
)
_GWT_PART = re.compile(r"^(?P<word>given|when|then|and|but)\s+(?P<text>.+?)[.;]?$", re.IGNORECASE)


class StoryDetails:
    """Reads the detail lines of the last story; a Given/When/Then over several lines is collected
    in `pending` until the next line that is not one of its parts."""

    def __init__(self) -> None:
        self.pending: dict[str, str] = {}

    def read(self, body: str, last: Found | None) -> bool:
        """Criteria and priority lines that follow a story; True if the line was one."""
        if last is None:
            return False
        if _CRITERIA_LABEL.match(body):
            return True
        priority = _PRIORITY_LINE.match(body)
        if priority:
            word = priority.group(1).lower().replace("'", "")
            names: dict[str, Priority] = {"must": "Must", "should": "Should", "could": "Could"}
            last.story.priority = names.get(word, "Won't")
            return True
        line = _GWT_LINE.match(body)
        if line:
            self.close(last)
            last.criteria.append(
                DraftCriterion(given=clean(line["given"]), when=clean(line["when"]), then=clean(line["then"]))
            )
            return True
        part = _GWT_PART.match(body)
        if part and (part["word"].lower() == "given" or self.pending):
            word = part["word"].lower()
            if word == "given":
                self.close(last)
            key = (list(self.pending)[-1] if self.pending else "given") if word in ("and", "but") else word
            previous = self.pending.get(key)
            self.pending[key] = f"{previous} and {clean(part['text'])}" if previous else clean(part["text"])
            return True
        self.close(last)
        return False

    def close(self, last: Found | None) -> None:
        """The Given/When/Then being collected, added to `last` once it has all three parts."""
        if last is not None and {"given", "when", "then"} <= self.pending.keys():
            last.criteria.append(DraftCriterion(**self.pending))
        self.pending = {}
