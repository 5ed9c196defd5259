"""The offline domain model from stories in several domains and styles, against what a person
expects of each (written before the rules; no rule names a word of these texts)."""

from __future__ import annotations

from assets.architecture.design import build_architecture, design_offline
from assets.architecture.domain import derive_entities
from assets.architecture.draft import DraftEntity
from assets.architecture.openapi import iter_operations, openapi_problem
from assets.documents.models import Location
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, Trace, UserStory


def story(number: int, want: str, quote: str = "", criteria: tuple[tuple[str, str], ...] = ()) -> UserStory:
    made = UserStory(
        id=f"US-{number:03d}",
        title=want,
        as_a="user",
        i_want=want,
        so_that="the work gets done",
        acceptance_criteria=[
            AcceptanceCriterion(id=f"AC{n}", given="a user", when=when, then=then)
            for n, (when, then) in enumerate(criteria, 1)
        ],
        traces=[
            Trace(document="brief.md", version="v1", location=Location(line=number), quote=quote or want)
        ],
    )
    return made.model_copy(update={"content_hash": made.compute_hash()})


def model(*stories: UserStory) -> dict[str, DraftEntity]:
    return {entity.name: entity for entity in derive_entities(list(stories))}


def fields(entity: DraftEntity) -> dict[str, tuple[str, bool]]:
    return {f.name: (f.type, f.required) for f in entity.fields}


def field(entity: DraftEntity, name: str):
    return next(f for f in entity.fields if f.name == name)


def operation(entity: DraftEntity, kind: str):
    return next(op for op in entity.operations if op.kind == kind)


CRUD = ["list", "create", "read", "update", "delete"]


def test_a_one_line_brief_gives_its_thing_with_full_crud() -> None:
    entities = model(story(1, "to build a React todo application with add, edit, delete functionality"))
    assert list(entities) == ["Todo"]
    todo = entities["Todo"]
    assert fields(todo) == {"id": ("integer", True), "title": ("string", True)}
    assert [op.kind for op in todo.operations] == CRUD
    assert all(op.story_ids == ["US-001"] for op in todo.operations)


def test_a_product_description_gives_its_things_and_their_relation() -> None:
    prose = (
        "Pet Pal is a simple application that lets owners keep track of their pets. Owners can add "
        "their pets and record each vet visit with its date and notes."
    )
    entities = model(
        story(1, "to keep track of their pets", prose),
        story(2, "to add their pets", prose),
        story(3, "to record each vet visit with its date and notes", prose),
    )
    assert set(entities) == {"Pet", "VetVisit"}
    visit = fields(entities["VetVisit"])
    assert visit["date"] == ("date", True) and visit["notes"] == ("text", False)
    assert visit["pet_id"] == ("reference", True)
    assert field(entities["VetVisit"], "pet_id").references == "Pet"
    assert "name" in fields(entities["Pet"])  # a display field
    assert operation(entities["VetVisit"], "create").story_ids == ["US-003"]


def test_a_warehouse_backlog_types_relations_rules_and_summary() -> None:
    entities = model(
        story(
            1,
            "to add products with a name, SKU, unit price and quantity",
            quote="Stock never goes below zero.",
        ),
        story(2, "to search products by name, SKU or supplier"),
        story(3, "to record each stock movement of a product with its date and quantity"),
        story(4, "to register suppliers with a name, e-mail address and phone number"),
        story(
            5,
            "to ship an order",
            criteria=(("they ship an order", "an order can be shipped only once it is paid"),),
        ),
        story(6, "to see the stock value per supplier"),
    )
    assert set(entities) == {"Product", "Supplier", "StockMovement", "Order"}
    product = entities["Product"]
    assert fields(product)["name"] == ("string", True)
    assert fields(product)["unit_price"] == ("money", False)
    assert field(product, "quantity").type == "integer" and field(product, "quantity").minimum == 0
    assert field(product, "supplier_id").references == "Supplier"  # "search ... by supplier"
    search = operation(product, "list")
    assert search.story_ids == ["US-002"] and set(search.parameters) == {"q", "supplier_id"}
    assert fields(entities["Supplier"])["email_address"] == ("email", False)
    assert fields(entities["Supplier"])["phone_number"] == ("string", False)
    movement = fields(entities["StockMovement"])
    assert movement["product_id"] == ("reference", True) and movement["date"] == ("date", True)
    order = entities["Order"]
    ship = next(t for t in order.transitions if t.name == "ship")
    assert (ship.from_states, ship.to_state, ship.story_ids) == (["paid"], "shipped", ["US-005"])
    assert "paid" in field(order, "status").values
    assert field(order, "status").values.index("paid") < field(order, "status").values.index("shipped")
    [value] = product.summaries
    assert (value.measure, value.field, value.multiply_by, value.group_by) == (
        "sum",
        "quantity",
        "unit_price",
        "supplier_id",
    )
    assert value.story_ids == ["US-006"]


def test_a_helpdesk_in_prose_gives_enum_states_limit_and_dashboard() -> None:
    entities = model(
        story(1, "to open tickets with a subject, description and priority low, medium or high"),
        story(2, "to assign a ticket to an agent"),
        story(3, "to close a ticket"),
        story(4, "to reopen a ticket", quote="Agents can reopen a closed ticket."),
        story(5, "to limit the workload", quote="An agent can have at most three open tickets per agent."),
        story(6, "to see a dashboard of open tickets per agent"),
    )
    # the agents tickets are assigned to are records of their own (issue 11), the ticket refers to one
    assert set(entities) == {"Ticket", "Agent"}
    ticket = entities["Ticket"]
    assert fields(ticket)["subject"] == ("string", True)
    assert fields(ticket)["description"] == ("text", False)
    assert field(ticket, "priority").type == "enum" and field(ticket, "priority").values == [
        "low",
        "medium",
        "high",
    ]
    status = field(ticket, "status")
    assert status.type == "enum" and status.values[0] == "open" and "closed" in status.values
    transitions = {t.name: (t.from_states, t.to_state) for t in ticket.transitions}
    assert transitions["close"] == (["open"], "closed")
    assert transitions["reopen"] == (["closed"], "open")
    assert field(ticket, "agent_id").type == "reference" and field(ticket, "agent_id").references == "Agent"
    assert "assignee" not in fields(ticket) and "US-002" in operation(ticket, "update").story_ids
    [limit] = ticket.limits
    assert (limit.maximum, limit.per, limit.field, limit.values) == (3, "agent_id", "status", ["open"])
    [dashboard] = ticket.summaries
    assert (dashboard.measure, dashboard.group_by, dashboard.where_field, dashboard.where_values) == (
        "count",
        "agent_id",
        "status",
        ["open"],
    )


def test_a_library_srs_gives_state_verbs_ranges_and_counts() -> None:
    entities = model(
        story(1, "to register books with a title, author, ISBN and publication year"),
        story(2, "to borrow a book"),
        story(3, "to mark a book as returned"),
        story(4, "to rate a book", quote="Members rate a book with a rating from 1 to 5."),
        story(5, "to see the number of books per author"),
        story(6, "to keep each ISBN unique", quote="The ISBN must be unique."),
    )
    assert set(entities) == {"Book"}
    book = entities["Book"]
    assert fields(book)["title"] == ("string", True)
    assert fields(book)["publication_year"] == ("integer", False)
    assert field(book, "isbn").unique
    rating = field(book, "rating")
    assert (rating.type, rating.minimum, rating.maximum) == ("number", 1, 5)
    transitions = {t.name: (t.from_states, t.to_state) for t in book.transitions}
    assert transitions["borrow"] == (["available"], "borrowed")
    assert transitions["mark_returned"] == (["borrowed"], "returned")
    [count] = book.summaries
    assert (count.measure, count.group_by) == ("count", "author")


def test_recipes_with_comments_and_filters() -> None:
    entities = model(
        story(1, "to create a recipe with a title, ingredients, cooking time and servings"),
        story(2, "to filter recipes by cuisine and difficulty (easy, medium, hard)"),
        story(3, "to comment on a recipe"),
        story(4, "to sort recipes by cooking time"),
    )
    assert set(entities) == {"Recipe", "Comment"}
    recipe = entities["Recipe"]
    assert fields(recipe)["ingredients"] == ("text", False)
    assert fields(recipe)["cooking_time"] == ("integer", False)
    assert fields(recipe)["servings"] == ("integer", False)
    assert field(recipe, "difficulty").values == ["easy", "medium", "hard"]
    listing = operation(recipe, "list")
    assert {"cuisine", "difficulty", "sort"} <= set(listing.parameters)
    assert listing.sort_fields == ["cooking_time"]
    assert fields(entities["Comment"])["recipe_id"] == ("reference", True)


def test_events_with_registrations_a_limit_and_a_count() -> None:
    entities = model(
        story(1, "to create an event with a name, date, start time, venue and ticket price"),
        story(2, "to publish an event"),
        story(3, "to cancel an event"),
        story(
            4, "to register for an event with their name and email", quote="Attendees register for an event."
        ),
        story(5, "to cap registrations", quote="There are at most 100 registrations per event."),
        story(6, "to see the number of registrations per event"),
    )
    event = entities["Event"]
    assert fields(event)["date"] == ("date", False) and fields(event)["start_time"] == ("time", False)
    assert fields(event)["ticket_price"] == ("money", False)
    transitions = {t.name: (t.from_states, t.to_state) for t in event.transitions}
    assert transitions["publish"] == (["draft"], "published")
    assert transitions["cancel"][1] == "cancelled" and "draft" in transitions["cancel"][0]
    registration = entities["Registration"]
    assert fields(registration)["email"] == ("email", False)
    assert field(registration, "event_id").references == "Event"
    [limit] = registration.limits
    assert (limit.maximum, limit.per) == (100, "event_id")
    [count] = registration.summaries
    assert (count.measure, count.group_by) == ("count", "event_id")


def test_generic_words_and_people_never_become_entities() -> None:
    entities = model(
        story(1, "to use the app on my phone"),
        story(2, "to have a dark mode feature"),
        story(3, "to assign a task to a colleague"),
        story(4, "the ability to export information"),
        story(5, "to sign in with my email and password"),
    )
    assert set(entities) == {"Task"}
    managed = model(
        story(1, "to invite users with their name and email address"), story(2, "to remove users")
    )
    assert set(managed) == {"User"} and fields(managed["User"])["email_address"] == ("email", False)


def test_an_operation_the_text_forbids_is_left_out() -> None:
    entities = model(
        story(
            1, "to create invoices with a number, customer and amount", quote="Invoices can never be deleted."
        ),
    )
    invoice = entities["Invoice"]
    assert [op.kind for op in invoice.operations] == ["list", "create", "read", "update"]
    assert fields(invoice)["amount"] == ("money", False)


def test_the_full_model_renders_a_valid_contract_with_every_story_mapped() -> None:
    stories = [
        story(1, "to add products with a name and unit price"),
        story(
            2,
            "to ship an order",
            criteria=(("they ship an order", "an order can be shipped only once it is paid"),),
        ),
        story(3, "to see the number of products per supplier"),
        story(4, "to register suppliers with a name"),
    ]
    requirements = RequirementsSet(project="shop", stories=stories)
    architecture = build_architecture(requirements, design_offline(requirements))
    assert openapi_problem(architecture.openapi) is None
    served = {story_id for op in iter_operations(architecture.openapi) for story_id in op.story_ids}
    assert served == {s.id for s in stories}
    labels = {op.label for op in iter_operations(architecture.openapi)}
    assert {"POST /api/orders/{id}/ship", "POST /api/orders/{id}/pay"} <= labels


def test_a_by_list_may_repeat_its_preposition_and_a_tracker_is_the_software() -> None:
    entities = model(
        story(1, "to build a bug tracker"),
        story(2, "to report bugs with a title and severity"),
        story(3, "to filter bugs by status and by severity"),
    )
    assert set(entities) == {"Bug"}
    assert set(operation(entities["Bug"], "list").parameters) == {"status", "severity"}


def test_a_sentence_saying_what_a_thing_has_lists_its_fields() -> None:
    prose = "Each pet has a profile with its name, species, date of birth and weight."
    entities = model(story(1, "to add their pets", quote=f"Owners add their pets. {prose}"))
    pet = fields(entities["Pet"])
    assert {"name", "species", "date_of_birth", "weight"} <= set(pet)
    assert pet["date_of_birth"][0] == "date" and pet["weight"][0] == "number"
    related = model(story(1, "to add members"), story(2, "to add books", quote="A member has a book."))
    assert "book" not in fields(related["Member"])  # one noun after "has" is no field list


def test_a_catalogue_of_things_lists_their_fields_and_looking_after_manages_them() -> None:
    entities = model(
        story(1, "to keep a catalogue of books: title, author, ISBN and publication year"),
        story(2, "to look after their plants"),
    )
    assert set(entities) == {"Book", "Plant"}
    assert {"title", "author", "isbn", "publication_year"} <= set(fields(entities["Book"]))
    assert [op.kind for op in entities["Plant"].operations] == CRUD
    assert operation(entities["Plant"], "update").story_ids == ["US-002"]


def test_an_entity_no_story_acts_on_is_left_out_unless_a_served_one_references_it() -> None:
    from assets.architecture.cleaning import clean_entities
    from assets.architecture.draft import DraftEntity
    from assets.architecture.models import EntityField
    from assets.architecture.openapi import EntityOperation

    def draft(name: str, stories: list[str], *fields: EntityField) -> DraftEntity:
        return DraftEntity(
            name=name,
            fields=[EntityField(name="name", type="string", required=True), *fields],
            operations=[EntityOperation(kind="create", story_ids=stories)],
        )

    model, operations = clean_entities(
        [
            draft("Booking", []),  # named by the brief, acted on by no story
            draft("Shop", []),  # acted on by no story, but a repair belongs to one
            draft("Repair", ["US-1"], EntityField(name="shop_id", type="reference", references="Shop")),
        ],
        {"US-1"},
    )
    assert [entity.name for entity in model] == ["Repair", "Shop"]
    assert set(operations) == {"Repair", "Shop"}
