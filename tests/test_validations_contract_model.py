"""The contract driver's reading of references and state machines from an OpenAPI document
(unit tests of the plain logic; tests/test_validations.py drives a generated backend with it)."""

from __future__ import annotations

from assets.architecture.models import Entity, EntityField, Transition
from assets.architecture.openapi import EntityOperation, render_openapi
from assets.validations.contract_model import (
    creators,
    next_step,
    references,
    refusal,
    state_values,
    transition_rules,
)
from assets.validations.openapi_schemas import operations

CRUD = [EntityOperation(kind=kind) for kind in ("list", "create", "read", "update", "delete")]


def _document() -> dict:
    order = Entity(
        name="Order",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="customer_id", type="reference", required=True, references="Customer"),
            EntityField(name="note_id", type="reference", required=False, references="Note"),
            EntityField(
                name="status",
                type="enum",
                required=True,
                values=["new", "paid", "shipped", "cancelled"],
                default="new",
            ),
        ],
        transitions=[
            Transition(name="ship", field="status", from_states=["paid"], to_state="shipped"),
            Transition(name="pay", field="status", from_states=["new"], to_state="paid"),
            Transition(name="cancel", field="status", from_states=[], to_state="cancelled"),
        ],
    )
    customer = Entity(name="Customer", fields=[EntityField(name="id", type="integer", required=True)])
    return render_openapi("shop", [order, customer], {"Order": CRUD, "Customer": CRUD})


def test_creators_and_references_come_from_the_schemas() -> None:
    document = _document()
    ops = operations(document)
    made = creators(ops)
    assert {name: op.path for name, op in made.items()} == {
        "Customer": "/api/customers",
        "Order": "/api/orders",
    }
    found = {
        (r.field, r.entity, r.required, r.integer) for r in references(document, made["Order"].request_schema)
    }
    assert found == {("customer_id", "Customer", True, True), ("note_id", "Note", False, True)}
    assert references(document, made["Customer"].request_schema) == []
    assert state_values(document, "Order", "status") == ["new", "paid", "shipped", "cancelled"]


def test_the_walk_calls_each_transition_from_a_state_that_allows_it() -> None:
    ops = [op for op in operations(_document()) if op.spec.get("x-transition")]
    rules = transition_rules(ops)
    assert rules is not None and [rule.name for rule in rules] == ["cancel", "pay", "ship"]
    by_name = {rule.name: rule for rule in rules}
    assert by_name["cancel"].allows("paid") and not by_name["cancel"].allows("cancelled")  # empty: any other
    assert refusal(rules, "new") is by_name["ship"]
    # cancel (allowed from anywhere) ends in a state nothing leaves: it comes last, after pay, ship
    state, untested, called = "new", list(rules), []
    while untested:
        step = next_step(rules, state, untested)
        assert step is not None and step.allows(state)
        called.append(step.name)
        untested = [rule for rule in untested if rule is not step]
        state = step.to_state
    assert called == ["pay", "ship", "cancel"]
    assert next_step(rules, "cancelled", [by_name["pay"]]) is None  # nothing leaves 'cancelled'


def test_a_document_without_the_state_extensions_gives_no_rules() -> None:
    ops = [op for op in operations(_document()) if op.spec.get("x-transition")]
    for op in ops:
        del op.spec["x-from-states"]  # type: ignore[attr-defined]
    assert transition_rules(ops) is None
