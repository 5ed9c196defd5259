"""The Claude architecture task through the real anthropic SDK against the scripted Messages server:
the request asks for the whole model (typed fields, relations, transitions, limits, summaries), and
what the model returns is kept, cleaned, and served by the contract."""

from __future__ import annotations

import json
from pathlib import Path

from assets.architecture.design import build_architecture, design_task
from assets.architecture.openapi import iter_operations, openapi_problem
from assets.requirements.models import RequirementsSet
from resources.llm.resource import LlmResource
from tests.support.anthropic_server import AnthropicServer
from tests.test_architecture_domain import story

STORIES = [
    story(1, "to add products with a name, SKU and unit price"),
    story(2, "to place orders for a product"),
    story(
        3,
        "to ship an order",
        criteria=(("they ship an order", "an order can be shipped only once it is paid"),),
    ),
    story(4, "to see the number of open orders per product"),
]


def answer() -> dict:
    stack = {"language": "Python", "framework": "FastAPI", "runtime": "Python 3.12", "hosting": "ecs"}
    return {
        "components": [{"name": "backend", "kind": "backend", "description": "API", "stack": stack}],
        "entities": [
            {
                "name": "products",
                "fields": [
                    {"name": "id", "type": "integer", "required": True},
                    {"name": "Name", "type": "string", "required": True},
                    {"name": "sku", "type": "string", "required": True, "unique": True},
                    {"name": "unit price", "type": "money", "required": True},
                    {"name": "colour", "type": "enum", "values": []},  # no values: a plain string
                ],
                "operations": [
                    {"kind": "list", "story_ids": ["US-001"], "parameters": ["q", "sku", "nowhere"]},
                    {"kind": "create", "story_ids": ["US-001", "US-999"]},
                ],
            },
            {
                "name": "Order",
                "fields": [
                    {"name": "title", "type": "string", "required": True},
                    {"name": "product_id", "type": "reference", "references": "Products", "required": True},
                    {"name": "voucher_id", "type": "reference", "references": "Voucher"},
                ],
                "operations": [{"kind": "create", "story_ids": ["US-002"]}],
                "transitions": [
                    {"name": "Pay", "field": "status", "from_states": ["New"], "to_state": "paid"},
                    {
                        "name": "ship",
                        "field": "status",
                        "from_states": ["paid"],
                        "to_state": "shipped",
                        "story_ids": ["US-003"],
                        "rule": "an order can be shipped only once it is paid",
                    },
                    {"name": "delete", "field": "status", "to_state": "gone"},  # a CRUD name: dropped
                ],
                "limits": [
                    {"maximum": 3, "per": "product_id", "field": "status", "values": ["new"]},
                    {"maximum": 1, "per": "nobody"},  # an unknown field: dropped
                ],
                "summaries": [
                    {
                        "name": "open orders per product",
                        "measure": "count",
                        "group_by": "product_id",
                        "where_field": "status",
                        "where_values": ["new"],
                        "story_ids": ["US-004"],
                    },
                    {"name": "total titles", "measure": "sum", "field": "title"},  # not a number: dropped
                ],
            },
        ],
        "story_map": [{"story_id": f"US-00{n}", "components": ["backend"]} for n in range(1, 5)],
    }


def test_the_model_is_asked_for_the_whole_domain_model_and_its_answer_is_kept(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    requirements = RequirementsSet(project="shop", stories=STORIES)
    anthropic_server.enqueue_json_answer(answer())
    session = LlmResource(
        provider="anthropic",
        api_key="sk-test",
        base_url=anthropic_server.base_url,
        cache_url=(tmp_path / "cache").as_uri(),
        max_retries=1,
    ).session()
    draft = session.run(design_task(requirements))

    [request] = anthropic_server.requests
    system = json.dumps(request.body.get("system"))
    for part in ("transitions", "limits", "summaries", "references", "money", "enum"):
        assert part in system, part
    schema = json.dumps(request.body)
    for key in ("from_states", "multiply_by", "where_values", "max_length", "sort_fields"):
        assert key in schema, key  # the output schema the SDK sent carries every part of the model

    architecture = build_architecture(requirements, draft)
    entities = {entity.name: entity for entity in architecture.data_model}
    assert set(entities) == {"Product", "Order"}
    product, order = entities["Product"], entities["Order"]
    assert [f.name for f in product.fields] == ["id", "name", "sku", "unit_price", "colour"]
    assert product.field("unit_price").type == "money" and product.field("sku").unique
    assert product.field("colour").type == "string"
    assert order.field("product_id").references == "Product"
    assert order.field("voucher_id").type == "integer" and order.field("voucher_id").references is None
    status = order.field("status")
    assert status.type == "enum" and status.values == ["new", "paid", "shipped"] and status.required
    assert [(t.name, t.from_states, t.to_state) for t in order.transitions] == [
        ("pay", ["new"], "paid"),
        ("ship", ["paid"], "shipped"),
    ]
    assert [(limit.maximum, limit.per) for limit in order.limits] == [(3, "product_id")]
    [summary] = order.summaries
    assert summary.name == "open_orders_per_product" and summary.story_ids == ["US-004"]

    assert openapi_problem(architecture.openapi) is None
    operations = {op.label: op for op in iter_operations(architecture.openapi)}
    assert operations["POST /api/orders/{id}/ship"].story_ids == ["US-003"]
    assert operations["GET /api/orders/summaries/open-orders-per-product"].story_ids == ["US-004"]
    assert operations["POST /api/products"].story_ids == ["US-001"]  # an unknown story id dropped
    parameters = {p["name"] for p in operations["GET /api/products"].operation["parameters"]}
    assert parameters == {"q", "sku"}  # a parameter naming no field dropped
