"""How long a thing holds: "a voucher expires after six months", "memberships lapse at the end of
the year" give the thing an `expires_on` date; "passes are valid until the end of the season" a
`valid_until` date. The thing is one the model keeps; a date it already has for this is kept."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assets.architecture.domain_model import DomainModel

_THING = r"(?P<thing>[a-z]+(?: [a-z]+)?)"
_ENDS = {
    "expires_on": re.compile(rf"\b{_THING} (?:expires?|lapses?|runs? out)\b"),
    "valid_until": re.compile(rf"\b{_THING} (?:is|are|stays?|remains?) valid (?:until|for|till)\b"),
}


def validity_dates(sentence: str, model: DomainModel) -> None:
    """The date a kept thing stops holding, where the sentence says it does."""
    text = sentence.lower()
    for name, pattern in _ENDS.items():
        for match in pattern.finditer(text):
            words = match["thing"].split()
            thing = model.find(" ".join(words)) or model.find(words[-1])
            if thing is None:
                continue
            stem = name.split("_")[0][:5]  # "expir", "valid"
            if any(stem in field and thing.fields[field].type == "date" for field in thing.fields):
                continue  # "each licence with its expiry date" already holds it
            thing.add_field(name, type_="date")
