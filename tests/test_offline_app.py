"""The generated application on a design with every part of the domain model: typed fields,
references, unique values, a count limit, transitions and summaries (a small warehouse).

The architecture is written by hand here (not by the offline design rules), so these tests show what
the templates do with a full model: the generated tests cover the criteria through HTTP and pass, and
the backend, started as a user would, serves every operation of the contract with its refusals.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assets.architecture.models import (
    Architecture,
    CountLimit,
    Entity,
    EntityField,
    StoryComponents,
    Summary,
    Transition,
)
from assets.architecture.openapi import EntityOperation, iter_operations, render_openapi
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.validations.sandbox import run_tests_in_sandbox
from tests.support.offline_build import Build, build_all, sandbox_tests, stdlib_components

CRUD = ("list", "create", "read", "update", "delete")


def _criterion(cid: str, when: str, then: str, given: str = "a clerk") -> AcceptanceCriterion:
    return AcceptanceCriterion(id=cid, given=given, when=when, then=then)


def _story(
    sid: str, title: str, want: str, criteria: list[AcceptanceCriterion], deps: list[str]
) -> UserStory:
    return UserStory(
        id=sid,
        title=title,
        as_a="warehouse clerk",
        i_want=want,
        so_that="the stock is right",
        depends_on=deps,
        acceptance_criteria=criteria,
    )


def warehouse_design() -> tuple[RequirementsSet, Architecture]:
    stories = [
        _story(
            "US-sup",
            "Add a supplier",
            "to add a supplier with a name and an email",
            [
                _criterion("AC1", "they add a supplier with a name and an email", "the supplier is listed"),
                _criterion("AC2", "they add a supplier without a name", "they see an error"),
                _criterion("AC3", "they add a supplier with the same name as another", "it is refused"),
                _criterion("AC4", "they enter an invalid email for a supplier", "they see an error"),
                _criterion("AC5", "they add a supplier", "the supplier gets an e-mail to confirm"),
            ],
            [],
        ),
        _story(
            "US-prod",
            "Add a product",
            "to add a product with a name, SKU, price, quantity and supplier",
            [
                _criterion("AC1", "they add a product with a name, SKU, price and supplier", "it is saved"),
                _criterion("AC2", "they add a product with a negative price", "it is rejected"),
                _criterion(
                    "AC3", "they add a product for a supplier that does not exist", "they see an error"
                ),
                _criterion(
                    "AC4", "they delete a supplier that still has products", "the deletion is refused"
                ),
                _criterion("AC5", "they edit a product's price", "the new price is shown"),
                _criterion("AC6", "they delete a product", "it is gone"),
            ],
            ["US-sup"],
        ),
        _story(
            "US-move",
            "Record stock movements",
            "to record a stock movement for a product",
            [
                _criterion(
                    "AC1", "they record a stock movement with a product, quantity and kind", "it is kept"
                ),
                _criterion("AC2", "they filter stock movements by product", "only that product's are shown"),
                _criterion("AC3", "they record a stock movement with an invalid kind", "it is refused"),
            ],
            ["US-prod"],
        ),
        _story(
            "US-ship",
            "Ship and deliver orders",
            "to ship an order",
            [
                _criterion("AC1", "they ship a paid order", "its status is shipped"),
                _criterion("AC2", "they ship an order that is not paid yet", "it is refused"),
                _criterion("AC3", "they deliver a shipped order", "its status is delivered"),
                _criterion("AC4", "a customer places a third pending order", "it is refused: at most two"),
                _criterion("AC5", "they filter orders by status", "only those orders are listed"),
            ],
            ["US-prod"],
        ),
        _story(
            "US-report",
            "See the stock value per supplier",
            "to see the stock value per supplier",
            [
                _criterion("AC1", "they open the report", "they see the total stock value per supplier"),
                _criterion("AC2", "they look at the orders", "they see how many orders there are per status"),
                _criterion("AC3", "they search products by name", "matching products are listed"),
                _criterion("AC4", "they sort products by price", "the cheapest come first"),
                _criterion("AC5", "they open the report", "a chart is drawn in the browser"),
            ],
            ["US-prod", "US-ship"],
        ),
    ]
    supplier = Entity(
        name="Supplier",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="name", type="string", required=True, unique=True),
            EntityField(name="email", type="email"),
        ],
    )
    product = Entity(
        name="Product",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="name", type="string", required=True),
            EntityField(name="sku", type="string", required=True, unique=True, max_length=24),
            EntityField(name="price", type="money", required=True),
            EntityField(name="quantity", type="integer", minimum=0),
            EntityField(name="supplier_id", type="reference", references="Supplier", required=True),
        ],
        summaries=[
            Summary(
                name="stock_value_per_supplier",
                measure="sum",
                field="price",
                multiply_by="quantity",
                group_by="supplier_id",
                story_ids=["US-report"],
            )
        ],
    )
    movement = Entity(
        name="StockMovement",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="product_id", type="reference", references="Product", required=True),
            EntityField(name="quantity", type="integer", required=True),
            EntityField(name="kind", type="enum", values=["in", "out"], required=True),
            EntityField(name="moved_on", type="date"),
        ],
    )
    order = Entity(
        name="Order",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="customer_email", type="email", required=True),
            EntityField(name="product_id", type="reference", references="Product"),
            EntityField(name="ship_by", type="time"),
            EntityField(name="status", type="enum", values=["pending", "paid", "shipped", "delivered"]),
        ],
        transitions=[
            Transition(name="pay", field="status", from_states=["pending"], to_state="paid"),
            Transition(
                name="ship",
                field="status",
                from_states=["paid"],
                to_state="shipped",
                story_ids=["US-ship"],
                rule="an order can be shipped only once it is paid",
            ),
            Transition(
                name="deliver",
                field="status",
                from_states=["shipped"],
                to_state="delivered",
                story_ids=["US-ship"],
            ),
        ],
        limits=[CountLimit(maximum=2, per="customer_email", field="status", values=["pending"])],
        summaries=[
            Summary(name="orders_per_status", measure="count", group_by="status", story_ids=["US-report"])
        ],
    )
    entities = [supplier, product, movement, order]
    operations = {
        "Supplier": [
            EntityOperation(kind="create", story_ids=["US-sup"]),
            EntityOperation(kind="list", story_ids=["US-sup"]),
            EntityOperation(kind="read", story_ids=["US-sup"]),
            EntityOperation(kind="update", story_ids=["US-sup"]),
            EntityOperation(kind="delete", story_ids=["US-prod"]),
        ],
        "Product": [
            EntityOperation(kind="create", story_ids=["US-prod"]),
            EntityOperation(
                kind="list", story_ids=["US-prod", "US-report"], parameters=["q", "sort", "supplier_id"]
            ),
            EntityOperation(kind="read", story_ids=["US-prod"]),
            EntityOperation(kind="update", story_ids=["US-prod"]),
            EntityOperation(kind="delete", story_ids=["US-prod"]),
        ],
        "StockMovement": [
            EntityOperation(kind="create", story_ids=["US-move"]),
            EntityOperation(kind="list", story_ids=["US-move"], parameters=["product_id", "kind"]),
            EntityOperation(kind="read", story_ids=["US-move"]),
        ],
        "Order": [
            EntityOperation(kind="create", story_ids=["US-ship"]),
            EntityOperation(kind="list", story_ids=["US-ship"], parameters=["status", "customer_email"]),
            EntityOperation(kind="read", story_ids=["US-ship"]),
            EntityOperation(kind="delete", story_ids=["US-ship"]),
        ],
    }
    document = render_openapi("Warehouse API", entities, operations)
    architecture = Architecture(
        project="warehouse",
        summary="Products, suppliers, stock movements and orders of a small warehouse.",
        components=stdlib_components(),
        openapi=document,
        data_model=entities,
        story_map=[StoryComponents(story_id=s.id, components=["backend", "frontend"]) for s in stories],
    )
    return RequirementsSet(project="warehouse", stories=stories), architecture


@pytest.fixture(scope="module")
def warehouse() -> Build:
    return build_all(*warehouse_design())


def behaviours(build: Build) -> dict[tuple[str, str], str]:
    return {
        (item.story_id, item.criterion_id): item.behaviour
        for change in build.change_sets
        for item in change.covered_criteria
    }


def test_criteria_map_to_the_model_by_their_grammar(warehouse: Build) -> None:
    found = behaviours(warehouse)
    kinds = {key: text.split(" (")[0] for key, text in found.items()}
    assert kinds == {
        ("US-sup", "AC1"): "create Supplier",
        ("US-sup", "AC2"): "validate Supplier",
        ("US-sup", "AC3"): "unique Supplier",
        ("US-sup", "AC4"): "invalid Supplier",
        ("US-prod", "AC1"): "create Product",
        ("US-prod", "AC2"): "invalid Product",
        ("US-prod", "AC3"): "invalid Product",
        ("US-prod", "AC4"): "delete_referenced Supplier",
        ("US-prod", "AC5"): "update Product",
        ("US-prod", "AC6"): "delete Product",
        ("US-move", "AC1"): "create StockMovement",
        ("US-move", "AC2"): "list StockMovement",
        ("US-move", "AC3"): "invalid StockMovement",
        ("US-ship", "AC1"): "transition Order",
        ("US-ship", "AC2"): "transition Order",
        ("US-ship", "AC3"): "transition Order",
        ("US-ship", "AC4"): "limit Order",
        ("US-ship", "AC5"): "list Order",
        ("US-report", "AC1"): "summary Product",
        ("US-report", "AC2"): "summary Order",
        ("US-report", "AC3"): "list Product",
        ("US-report", "AC4"): "sort Product",
    }
    assert found[("US-prod", "AC2")].endswith("refusing an invalid price")
    assert found[("US-prod", "AC3")].endswith("refusing an invalid supplier_id")
    assert found[("US-ship", "AC1")].endswith("ship") and found[("US-ship", "AC3")].endswith("deliver")
    assert found[("US-move", "AC2")].endswith("by product_id")
    assert found[("US-ship", "AC5")].endswith("by status")
    uncovered = {
        (item.story_id, item.criterion_id): item.reason
        for change in warehouse.change_sets
        for item in change.uncovered_criteria
    }
    assert set(uncovered) == {("US-sup", "AC5"), ("US-report", "AC5")}
    assert "notifications" in uncovered[("US-sup", "AC5")]
    assert "browser" in uncovered[("US-report", "AC5")]


def test_the_generated_tests_pass_and_fail_when_the_rules_break(warehouse: Build, tmp_path: Path) -> None:
    backend = sandbox_tests(warehouse.tree, "backend", tmp_path)
    frontend = sandbox_tests(warehouse.tree, "frontend", tmp_path)
    assert backend.ok, backend.stderr_tail
    assert frontend.ok, frontend.stderr_tail
    passed = {test.name for test in backend.tests if test.status == "passed"}
    for change in warehouse.change_sets:
        for item in change.covered_criteria:
            assert item.test.name in passed, item

    # Break the transition rule and the reference check: the tests covering them fail.
    tree = dict(warehouse.tree)
    server = tree["backend/app/server.py"]
    assert (
        server.count("if current not in allowed:") == 1 and server.count('if field.type == "reference":') == 1
    )
    tree["backend/app/server.py"] = server.replace("if current not in allowed:", "if False:").replace(
        'if field.type == "reference":', "if False:"
    )
    modules = sorted(
        {"tests." + Path(i.test.file).stem for c in warehouse.change_sets for i in c.covered_criteria}
    )
    broken = run_tests_in_sandbox(
        tree,
        [sys.executable, "-m", "unittest", "-v", *modules],
        timeout_s=120,
        workdir_parent=tmp_path,
        cwd="backend",
    )
    status = {test.name: test.status for test in broken.tests}
    assert status["test_us_ship_ac1"] == "failed"  # ship from pending now allowed, refusal expected
    assert status["test_us_ship_ac2"] == "failed"
    assert status["test_us_prod_ac3"] == "failed"  # a supplier that does not exist
    assert status["test_us_sup_ac1"] == "passed"


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            data = None if body is None else json.dumps(body).encode()
            connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, (json.loads(raw) if raw else None)


@pytest.fixture
def served(warehouse: Build, tmp_path: Path) -> Iterator[Client]:
    """The generated backend started as the manifest says (`start` with {port}, DATABASE_PATH)."""
    root = tmp_path / "app"
    for path, text in warehouse.tree.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    manifest = json.loads(warehouse.tree[".ai-pipeline/manifest.json"])
    [backend] = [c for c in manifest["components"] if c["name"] == "backend"]
    argv = [
        sys.executable if part == "python" else part.replace("{port}", "0")
        for part in backend["start"]["argv"]
    ]
    env = {"PATH": "/usr/bin:/bin", backend["start"]["env"][0]: str(tmp_path / "db.sqlite3")}
    process = subprocess.Popen(argv, cwd=root / backend["path"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        yield Client(int(line.rsplit(":", 1)[1]))
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]


def test_every_operation_of_the_contract_over_http(warehouse: Build, served: Client) -> None:
    api = served
    labels = {op.label for op in iter_operations(warehouse.architecture.openapi)}
    built = {label for change in warehouse.change_sets for label in change.operations}
    assert labels - {"GET /api/health"} <= built, labels - built

    # suppliers: create, refusals (missing, empty, bad e-mail, duplicate), read, update, list
    status, acme = api("POST", "/api/suppliers", {"name": "Acme", "email": "sales@acme.test"})
    assert status == 201 and acme["name"] == "Acme"
    assert api("POST", "/api/suppliers", {"email": "x@y.test"})[0] == 422
    status, error = api("POST", "/api/suppliers", {"name": "  "})
    assert status == 422 and "name" in error["detail"]
    status, error = api("POST", "/api/suppliers", {"name": "Bolt", "email": "not-mail"})
    assert status == 422 and "email" in error["detail"]
    status, error = api("POST", "/api/suppliers", {"name": "Acme"})
    assert status == 409 and "name" in error["detail"]
    _, bolt = api("POST", "/api/suppliers", {"name": "Bolt"})
    assert api("GET", f"/api/suppliers/{acme['id']}") == (200, acme)
    status, renamed = api("PATCH", f"/api/suppliers/{bolt['id']}", {"email": "bolt@b.test"})
    assert status == 200 and renamed["email"] == "bolt@b.test"
    assert api("GET", "/api/suppliers")[1] == [acme, renamed]
    assert api("GET", "/api/suppliers/999")[0] == 404

    # products: money, integer minimum, max length, unique sku, reference checked
    widget = {"name": "Widget", "sku": "W-1", "price": 2.5, "quantity": 4, "supplier_id": acme["id"]}
    status, w = api("POST", "/api/products", widget)
    assert status == 201
    for bad, field in (
        ({"price": -1}, "price"),
        ({"quantity": -2}, "quantity"),
        ({"sku": "x" * 25}, "sku"),
        ({"supplier_id": 999}, "supplier_id"),
        ({"price": "cheap"}, "price"),
    ):
        status, error = api("POST", "/api/products", {**widget, "sku": "W-2", **bad})
        assert status == 422 and field in error["detail"], (bad, error)
    assert api("POST", "/api/products", widget)[0] == 409  # the same sku
    _, gadget = api(
        "POST", "/api/products", {**widget, "name": "Gadget", "sku": "G-1", "price": 10.0, "quantity": 1}
    )
    _, bolt_part = api(
        "POST",
        "/api/products",
        {"name": "Bolt nut", "sku": "B-1", "price": 1.0, "quantity": 3, "supplier_id": bolt["id"]},
    )
    assert api("GET", "/api/products?q=GADG")[1] == [gadget]
    assert [p["sku"] for p in api("GET", "/api/products?sort=-price")[1]] == ["G-1", "W-1", "B-1"]
    assert [p["sku"] for p in api("GET", "/api/products?sort=price")[1]] == ["B-1", "W-1", "G-1"]
    assert api("GET", "/api/products?sort=nothing")[0] == 422
    assert api("GET", f"/api/products?supplier_id={bolt['id']}")[1] == [bolt_part]
    status, error = api("DELETE", f"/api/suppliers/{bolt['id']}")
    assert status == 409 and "supplier_id" in error["detail"]
    assert api("DELETE", f"/api/products/{bolt_part['id']}") == (204, None)
    assert api("DELETE", f"/api/suppliers/{bolt['id']}") == (204, None)
    status, rows = api("GET", "/api/products/summaries/stock-value-per-supplier")
    assert status == 200 and rows == [{"group": acme["id"], "value": 2.5 * 4 + 10.0 * 1}]

    # stock movements: enum, date, filters
    status, move = api("POST", "/api/stock-movements", {"product_id": w["id"], "quantity": 5, "kind": "in"})
    assert status == 201
    assert (
        api("POST", "/api/stock-movements", {"product_id": w["id"], "quantity": 5, "kind": "sideways"})[0]
        == 422
    )
    assert (
        api(
            "POST",
            "/api/stock-movements",
            {"product_id": w["id"], "quantity": 1, "kind": "out", "moved_on": "2030-02-30"},
        )[0]
        == 422
    )
    api("POST", "/api/stock-movements", {"product_id": gadget["id"], "quantity": 1, "kind": "out"})
    assert api("GET", f"/api/stock-movements?product_id={w['id']}")[1] == [move]
    assert api("GET", "/api/stock-movements?kind=sideways")[0] == 422

    # orders: the state starts at its first value and only transitions change it
    status, order = api("POST", "/api/orders", {"customer_email": "ann@x.test", "status": "delivered"})
    assert status == 201 and order["status"] == "pending"
    assert api("POST", f"/api/orders/{order['id']}/ship")[0] == 409
    status, error = api("POST", f"/api/orders/{order['id']}/deliver")
    assert status == 409 and "pending" in error["detail"] and "shipped" in error["detail"]
    assert api("POST", f"/api/orders/{order['id']}/pay")[1]["status"] == "paid"
    assert api("POST", f"/api/orders/{order['id']}/ship")[1]["status"] == "shipped"
    assert api("POST", f"/api/orders/{order['id']}/deliver")[1]["status"] == "delivered"
    assert api("POST", "/api/orders/999/ship")[0] == 404
    # at most two pending orders per customer
    assert api("POST", "/api/orders", {"customer_email": "bob@x.test"})[0] == 201
    assert api("POST", "/api/orders", {"customer_email": "bob@x.test"})[0] == 201
    status, error = api("POST", "/api/orders", {"customer_email": "bob@x.test"})
    assert status == 409 and "2" in error["detail"]
    assert api("POST", "/api/orders", {"customer_email": "cy@x.test"})[0] == 201
    assert [o["customer_email"] for o in api("GET", "/api/orders?status=pending")[1]] == [
        "bob@x.test",
        "bob@x.test",
        "cy@x.test",
    ]
    status, rows = api("GET", "/api/orders/summaries/orders-per-status")
    assert status == 200 and {row["group"]: row["value"] for row in rows} == {"delivered": 1, "pending": 3}
    assert api("DELETE", f"/api/orders/{order['id']}") == (204, None)
    # a product an order or a movement refers to cannot be deleted
    assert api("DELETE", f"/api/products/{w['id']}")[0] == 409


def _page_offers(tree: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    """Per entity section of the generated page: the transitions its rows get buttons for (app.js
    draws one per row from resources.js, in rows listed or opened by id) and its summary tables."""
    prefix = "window.RESOURCES = "
    resources = json.loads(tree["frontend/resources.js"].strip()[len(prefix) : -1])
    page = tree["frontend/index.html"]
    offered: dict[str, dict[str, list[str]]] = {}
    for resource in resources:
        start = page.index(f'data-resource="{resource["name"]}"')
        section = page[start : page.index("</section>", start)]
        ops = resource["operations"]
        rows = 'data-role="items"' in section and (
            "list" in ops or ("read" in ops and 'data-role="lookup"' in section)
        )
        offered[resource["name"]] = {
            "transitions": [t["name"] for t in resource["transitions"]] if rows else [],
            "summaries": [
                s["name"] for s in resource["summaries"] if f'data-summary="{s["name"]}"' in section
            ],
        }
    return offered


def test_the_page_offers_every_entity_transition_and_summary_of_the_contract(warehouse: Build) -> None:
    assert "function act(transition, item)" in warehouse.tree["frontend/app.js"]  # a button per row
    offered = _page_offers(warehouse.tree)
    assert set(offered) == {entity.name for entity in warehouse.architecture.data_model}
    for entity in warehouse.architecture.data_model:
        assert offered[entity.name]["transitions"] == [t.name for t in entity.transitions], entity.name
        assert offered[entity.name]["summaries"] == [s.name for s in entity.summaries], entity.name
    assert offered["Order"]["transitions"] == ["pay", "ship", "deliver"]
    assert offered["Product"]["summaries"] == ["stock_value_per_supplier"]


def test_the_page_offers_a_transition_of_an_entity_the_contract_does_not_list(tmp_path: Path) -> None:
    """A firing that is created, read and moved by transitions, never listed by the contract: the
    page still offers its transitions and its summary (a model written here, not the warehouse)."""
    firing = Entity(
        name="Firing",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="kiln", type="string", required=True),
            EntityField(name="pieces", type="integer", required=True),
            EntityField(name="status", type="enum", values=["loaded", "firing", "cooled"]),
        ],
        transitions=[
            Transition(name="start", field="status", from_states=["loaded"], to_state="firing"),
            Transition(name="cool", field="status", from_states=["firing"], to_state="cooled"),
        ],
        summaries=[Summary(name="pieces_per_status", measure="sum", field="pieces", group_by="status")],
    )
    story = UserStory(
        id="US-fire",
        title="Fire a kiln",
        as_a="potter",
        i_want="to load a firing and start it",
        so_that="pots get fired",
        acceptance_criteria=[
            _criterion("AC1", "they add a firing with a kiln and ten pieces", "it is saved"),
            _criterion("AC2", "they start a loaded firing", "its status is firing"),
            _criterion("AC3", "they cool a firing that is firing", "its status is cooled"),
            _criterion("AC4", "they open the report", "they see the pieces per status"),
        ],
    )
    operations = {
        "Firing": [EntityOperation(kind=kind, story_ids=["US-fire"]) for kind in ("create", "read")]
    }
    architecture = Architecture(
        project="kilns",
        summary="Firings of a pottery's kilns.",
        components=stdlib_components(),
        openapi=render_openapi("Kilns API", [firing], operations),
        data_model=[firing],
        story_map=[StoryComponents(story_id="US-fire", components=["backend", "frontend"])],
    )
    build = build_all(RequirementsSet(project="kilns", stories=[story]), architecture)
    offered = _page_offers(build.tree)
    assert offered == {"Firing": {"transitions": ["start", "cool"], "summaries": ["pieces_per_status"]}}
    assert "function load()" in build.tree["frontend/app.js"]  # rows read by id without a list
    frontend = sandbox_tests(build.tree, "frontend", tmp_path)  # the page matches what it offers
    assert frontend.ok and frontend.counts()["passed"] >= 2, frontend.stderr_tail
