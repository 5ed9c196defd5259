"""Requirement tables read by what their header says each column holds.

A table whose header names who does a thing and what it is ("| Feature | Who | Notes |") gives one
story per row, with the actor from its row and the notes as fields, limits or a figure to see. The
documents are written here (a bakery, a garage) in a style the quality corpus does not use; the
expected stories were written before the rules.
"""

from __future__ import annotations

from tests.support.requirements_text import criteria_text, extract, having, titles

BAKERY = """# Bakery orders

| Feature | Who | Notes |
|---|---|---|
| Take an order | Counter staff | customer name, pickup date, cake size |
| Find orders | Bakers | by pickup date |
| Daily summary | Owner | number of orders per pickup date |
"""

GARAGE = """Garage workshop

| Role | Requirement | Details |
| --- | --- | --- |
| Customer | Book a service | car registration, preferred day, a phone number |
| Mechanic | Close a job | the job records the hours worked and the parts used |
"""

WITHOUT_ACTOR_COLUMN = """| Feature | What it does | Priority |
|---|---|---|
| Stock list | Shop assistants add products with a name, a price and a shelf. | Must |
| Reorder | Managers see which products are below their minimum. | Later |
"""


def test_each_row_of_a_who_table_is_a_story_of_its_actor() -> None:
    found = extract("orders.md", BAKERY)
    assert titles(found) == ["Take an order", "Find orders by pickup date", "See the daily summary"]
    assert [story.as_a for story in found.stories] == ["counter staff", "baker", "owner"]


def test_the_notes_of_a_row_give_its_fields_and_figures() -> None:
    found = extract("orders.md", BAKERY)
    take = having(found, "take an order")
    assert all(field in criteria_text(take) for field in ("customer name", "pickup date", "cake size"))
    summary = having(found, "daily summary")
    assert "number of orders per pickup date" in summary.i_want


def test_columns_are_found_by_their_header_in_any_order() -> None:
    found = extract("garage.md", GARAGE)
    book = having(found, "book a service")
    assert book.as_a == "customer"
    assert "car registration" in criteria_text(book)
    close = having(found, "close a job")
    assert close.as_a == "mechanic"


def test_a_table_without_an_actor_column_keeps_its_sentence_cell_and_priority() -> None:
    found = extract("features.md", WITHOUT_ACTOR_COLUMN)
    stock = having(found, "product")
    assert stock.priority == "Must" and stock.as_a == "shop assistant"
    assert any("below their minimum" in item.text for item in found.excluded)


def test_an_example_after_e_g_stays_in_its_sentence() -> None:
    text = "Members can add a bike with its type (e.g. Road or Gravel) and its frame size.\n"
    found = extract("bikes.md", text)
    bike = having(found, "add a bike")
    assert "frame size" in criteria_text(bike), criteria_text(bike)
