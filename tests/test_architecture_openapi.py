"""The OpenAPI conventions the generated application codes against, rendered from a typed model."""

from __future__ import annotations

from typing import Any

from assets.architecture.models import CountLimit, Entity, EntityField, Summary, Transition
from assets.architecture.openapi import (
    OPERATION_ORDER,
    EntityOperation,
    iter_operations,
    openapi_problem,
    render_openapi,
)


def warehouse() -> tuple[list[Entity], dict[str, list[EntityOperation]]]:
    supplier = Entity(
        name="Supplier",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="name", type="string", required=True, max_length=120, unique=True),
            EntityField(name="email", type="email"),
            EntityField(name="website", type="url"),
        ],
    )
    product = Entity(
        name="Product",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="name", type="string", required=True),
            EntityField(name="sku", type="string", required=True, unique=True),
            EntityField(name="description", type="text"),
            EntityField(name="price", type="money", required=True),
            EntityField(name="quantity", type="integer", minimum=0, default=0),
            EntityField(name="rating", type="number", minimum=1, maximum=5),
            EntityField(name="discontinued", type="boolean"),
            EntityField(name="supplier_id", type="reference", references="Supplier"),
        ],
        summaries=[
            Summary(
                name="stock_value_per_supplier",
                measure="sum",
                field="quantity",
                multiply_by="price",
                group_by="supplier_id",
                story_ids=["US-3"],
            )
        ],
    )
    order = Entity(
        name="StockOrder",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="title", type="string", required=True),
            EntityField(name="placed_on", type="date"),
            EntityField(name="delivered_at", type="datetime"),
            EntityField(name="pickup_time", type="time"),
            EntityField(name="status", type="enum", required=True, values=["new", "paid", "shipped"]),
            EntityField(name="priority", type="enum", values=["low", "medium", "high"]),
            EntityField(name="product_id", type="reference", references="Product", required=True),
        ],
        transitions=[
            Transition(name="pay", field="status", from_states=["new"], to_state="paid", story_ids=["US-4"]),
            Transition(
                name="mark_shipped",
                field="status",
                from_states=["paid"],
                to_state="shipped",
                story_ids=["US-4"],
                rule="an order can be shipped only once it is paid",
            ),
        ],
        limits=[CountLimit(maximum=3, per="product_id", field="status", values=["new"])],
        summaries=[Summary(name="orders_per_status", group_by="status", story_ids=["US-5"])],
    )
    crud = {
        entity.name: [EntityOperation(kind=kind, story_ids=["US-1"]) for kind in OPERATION_ORDER]
        for entity in (supplier, product, order)
    }
    crud["Product"][0] = EntityOperation(
        kind="list", story_ids=["US-2"], parameters=["q", "sort", "supplier_id", "discontinued"]
    )
    crud["StockOrder"][0] = EntityOperation(
        kind="list", story_ids=["US-2"], parameters=["sort", "status"], sort_fields=["placed_on", "title"]
    )
    return [supplier, product, order], crud


def document() -> dict[str, Any]:
    entities, operations = warehouse()
    return render_openapi("warehouse API", entities, operations)


def by_id(doc: dict[str, Any]) -> dict[str, Any]:
    return {op.operation["operationId"]: op for op in iter_operations(doc)}


def test_the_document_is_valid_openapi_31_with_unique_operation_ids() -> None:
    doc = document()
    assert openapi_problem(doc) is None
    assert doc["openapi"] == "3.1.0"
    ids = [op.operation["operationId"] for op in iter_operations(doc)]
    assert len(ids) == len(set(ids))


def test_crud_paths_statuses_and_conflicts() -> None:
    ops = by_id(document())
    assert ops["listProducts"].label == "GET /api/products"
    assert ops["createProduct"].label == "POST /api/products"
    assert ops["getStockOrder"].label == "GET /api/stock-orders/{id}"
    assert ops["updateStockOrder"].label == "PATCH /api/stock-orders/{id}"
    assert ops["deleteSupplier"].label == "DELETE /api/suppliers/{id}"
    assert set(ops["createProduct"].operation["responses"]) == {"201", "422", "409"}  # sku is unique
    assert set(ops["updateProduct"].operation["responses"]) == {"200", "404", "422", "409"}
    assert set(ops["getProduct"].operation["responses"]) == {"200", "404"}
    assert set(ops["deleteSupplier"].operation["responses"]) == {"204", "404", "409"}  # products refer to it
    assert set(ops["deleteStockOrder"].operation["responses"]) == {"204", "404"}  # nothing refers to orders
    assert set(ops["createStockOrder"].operation["responses"]) == {"201", "422", "409"}  # count limit
    assert all(
        op.operation["x-story-ids"] == ["US-1"] for name, op in ops.items() if name.startswith("create")
    )


def test_list_parameters_filter_search_and_sort() -> None:
    ops = by_id(document())
    parameters = {p["name"]: p for p in ops["listProducts"].operation["parameters"]}
    assert set(parameters) == {"q", "sort", "supplier_id", "discontinued"}
    assert all(p["in"] == "query" and p["required"] is False for p in parameters.values())
    assert parameters["supplier_id"]["schema"] == {"type": "integer", "x-references": "Supplier"}
    assert parameters["discontinued"]["schema"] == {"type": "boolean"}
    assert parameters["q"]["schema"] == {"type": "string"}
    assert "name, sku, description" in parameters["q"]["description"]
    assert "id" in parameters["sort"]["schema"]["enum"] and "-price" in parameters["sort"]["schema"]["enum"]
    assert "supplier_id" not in parameters["sort"]["schema"]["enum"]  # a reference is not sortable
    orders = {p["name"]: p for p in ops["listStockOrders"].operation["parameters"]}
    assert orders["sort"]["schema"]["enum"] == ["title", "-title", "placed_on", "-placed_on"]
    assert orders["status"]["schema"] == {"type": "string", "enum": ["new", "paid", "shipped"]}
    assert "422" in ops["listStockOrders"].operation["responses"]
    assert "parameters" not in ops["listSuppliers"].operation


def test_field_schemas_carry_types_formats_and_constraints() -> None:
    schemas = document()["components"]["schemas"]
    product = schemas["Product"]["properties"]
    assert product["id"] == {"type": "integer", "readOnly": True}
    assert product["price"] == {"type": "number", "x-field-type": "money", "minimum": 0}
    assert product["quantity"] == {"type": ["integer", "null"], "minimum": 0, "default": 0}
    assert product["rating"] == {"type": ["number", "null"], "minimum": 1, "maximum": 5}
    assert product["description"] == {"type": ["string", "null"], "x-field-type": "text"}
    assert product["sku"] == {"type": "string", "x-unique": True}
    assert product["supplier_id"] == {"type": ["integer", "null"], "x-references": "Supplier"}
    assert schemas["Product"]["required"] == ["id", "name", "sku", "price"]
    supplier = schemas["Supplier"]["properties"]
    assert supplier["email"] == {"type": ["string", "null"], "format": "email"}
    assert supplier["website"] == {"type": ["string", "null"], "format": "uri"}
    assert supplier["name"]["maxLength"] == 120
    order = schemas["StockOrder"]["properties"]
    assert order["placed_on"]["format"] == "date"
    assert order["delivered_at"]["format"] == "date-time"
    assert order["pickup_time"]["format"] == "time"
    assert order["priority"] == {"type": ["string", "null"], "enum": ["low", "medium", "high", None]}
    assert schemas["ProductInput"]["required"] == ["name", "sku", "price"]
    assert schemas["ProductUpdate"]["minProperties"] == 1 and "required" not in schemas["ProductUpdate"]


def test_a_state_field_is_changed_only_by_its_transitions() -> None:
    schemas = document()["components"]["schemas"]
    status = schemas["StockOrder"]["properties"]["status"]
    assert status == {
        "type": "string",
        "enum": ["new", "paid", "shipped"],
        "readOnly": True,
        "default": "new",
    }
    assert "status" in schemas["StockOrder"]["required"]
    assert "status" not in schemas["StockOrderInput"]["properties"]
    assert "status" not in schemas["StockOrderUpdate"]["properties"]
    assert schemas["StockOrderInput"]["required"] == ["title", "product_id"]


def test_transitions_are_post_actions_on_an_item() -> None:
    ops = by_id(document())
    ship = ops["markShippedStockOrder"]
    assert ship.label == "POST /api/stock-orders/{id}/mark-shipped"
    assert ship.operation["x-transition"] == "mark_shipped"
    assert ship.operation["x-story-ids"] == ["US-4"]
    assert "requestBody" not in ship.operation
    assert [p["name"] for p in ship.path_parameters] == ["id"]
    responses = ship.operation["responses"]
    assert set(responses) == {"200", "404", "409"}
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StockOrder"
    }
    assert responses["409"] == {"$ref": "#/components/responses/Conflict"}
    assert "from paid to shipped" in ship.operation["description"]
    assert "only once it is paid" in ship.operation["description"]
    assert ops["payStockOrder"].label == "POST /api/stock-orders/{id}/pay"


def test_summaries_answer_group_value_rows() -> None:
    doc = document()
    ops = by_id(doc)
    value = ops["getStockValuePerSupplier"]
    assert value.label == "GET /api/products/summaries/stock-value-per-supplier"
    assert value.operation["x-summary"] == "stock_value_per_supplier"
    assert value.operation["x-story-ids"] == ["US-3"]
    assert value.operation["tags"] == ["Product"]
    schema = value.operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"type": "array", "items": {"$ref": "#/components/schemas/SummaryRow"}}
    row = doc["components"]["schemas"]["SummaryRow"]
    assert set(row["properties"]) == {"group", "value"} and row["required"] == ["group", "value"]
    assert "quantity * price" in value.operation["description"]
    assert ops["getOrdersPerStatus"].label == "GET /api/stock-orders/summaries/orders-per-status"


def test_an_entity_with_only_crud_has_no_action_paths() -> None:
    doc = document()
    assert not [path for path in doc["paths"] if path.startswith("/api/suppliers/") and path.count("/") > 3]
