"""The offline requirements -> architecture on real backlogs written outside this project
(../shared/corpus): the entities are things a person recognises from the text, never generic words."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.architecture.design import build_architecture, design_offline
from assets.architecture.models import Architecture
from assets.architecture.vocabulary import FILED_NOUNS, GENERIC_NOUNS
from assets.documents.parsing.registry import parse_file
from assets.requirements.extraction import extract_offline
from assets.requirements.merge import merge_stories
from pipeline_core.hashing import content_hash

CORPUS = next(
    (
        folder / "shared" / "corpus"
        for folder in Path(__file__).resolve().parents
        if (folder / "shared" / "corpus").is_dir()
    ),
    Path("shared/corpus"),
)
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the checkout")


def design_of(relative: str) -> Architecture:
    path = CORPUS / relative
    data = path.read_bytes()
    [document] = parse_file(path.name, data, 50 * 1024 * 1024)
    requirements = merge_stories(
        [((path.name, content_hash(data)), document, extract_offline(document))], None, project="real"
    )
    return build_architecture(requirements, design_offline(requirements))


def words_of(name: str) -> list[str]:
    out = ""
    for char in name:
        out += (" " + char.lower()) if char.isupper() and out else char.lower()
    return out.split()


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("user-story-backlogs/g04-recycling.txt", {"RecyclingFacility", "DonationCenter", "User"}),
        (
            "user-story-backlogs/g03-loudoun.txt",
            {"Inspection", "Fee", "Meeting", "UserAccount", "Application", "Property"},
        ),
    ],
)
def test_a_real_backlog_gives_recognisable_entities(relative: str, expected: set[str]) -> None:
    architecture = design_of(relative)
    names = {entity.name for entity in architecture.data_model}
    assert expected <= names, sorted(names)
    # a generic word is a record only where it is filed ("Submit Application")
    generic = GENERIC_NOUNS - FILED_NOUNS
    assert not [name for name in names if words_of(name)[-1] in generic], sorted(names)
    assert all(len(entity.fields) > 1 for entity in architecture.data_model)
