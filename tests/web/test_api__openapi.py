"""GET /api/v1/openapi.json: an OpenAPI 3.1 document that names every route the API has, and no other."""

from __future__ import annotations

import re

from jsonschema import Draft202012Validator

BODILESS = {"HEAD", "OPTIONS"}
PUBLIC = {("/tokens", "post"), ("/openapi.json", "get")}


def _document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_served_without_a_token(client):
    doc = _document(client)
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "POST /tokens gives one"}


def test_every_api_route_is_documented_with_exactly_its_methods(app, client):
    documented = {re.sub(r"\{[^}]+\}", "{}", path): {m.upper() for m in ops}
                  for path, ops in _document(client)["paths"].items()}
    routed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        # the API's own routes; /api/v1/docs is a staff page (HTML) that renders this document
        if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("api."):
            path = re.sub(r"<[^>]+>", "{}", rule.rule.removeprefix("/api/v1"))
            routed.setdefault(path, set()).update(rule.methods - BODILESS)
    assert routed == documented


def test_every_operation_documents_its_errors_with_the_error_body(client):
    doc = _document(client)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            if (path, method) not in PUBLIC:
                assert op.get("security") is None, (path, method)  # the document's default: bearer
                assert "401" in codes, (path, method)
                assert op["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True
            for code in codes - {"200", "201", "202"}:  # 202: a deploy submitted for approval
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, code)
    assert doc["paths"]["/tokens"]["post"]["security"] == []


def test_the_status_codes_are_designs(client):
    paths = _document(client)["paths"]

    def codes(path: str, method: str) -> set[str]:
        return set(paths[path][method]["responses"])

    assert {"201", "401"} <= codes("/tokens", "post")
    assert {"201", "403", "404", "422"} <= codes("/processes/{key}/instances", "post")
    assert {"200", "404"} <= codes("/tasks/{id}", "get")
    for action in ("claim", "unclaim"):
        assert {"200", "403", "409"} <= codes(f"/tasks/{{id}}/{action}", "post")
    assert {"200", "403", "409", "422"} <= codes("/tasks/{id}/complete", "post")
    for path in ("/instances/{id}", "/instances/{id}/history", "/instances/{id}/replay", "/tasks/{id}"):
        # what the caller may not see is answered as missing (issue 11, item 8): never 403
        assert {"200", "404"} <= codes(path, "get") and "403" not in codes(path, "get")
    assert {"201", "403", "422"} <= codes("/deployments", "post")


def test_every_schema_in_the_document_is_valid_json_schema(client):
    doc = _document(client)
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises SchemaError naming what is wrong
    refs = set(re.findall(r'"#/components/schemas/([A-Za-z]+)"', str(doc).replace("'", '"')))
    assert refs <= set(doc["components"]["schemas"])


def test_the_instance_schema_is_designs_shape(client):
    schemas = _document(client)["components"]["schemas"]
    instance = schemas["Instance"]
    assert {"id", "process_key", "version", "business_key", "status", "data", "tasks"} <= set(instance["required"])
    assert instance["properties"]["status"]["enum"] == ["running", "incident", "completed", "cancelled", "error"]
    assert {"id", "instance_id", "process_key", "name", "title", "role", "assignee", "status", "created_at",
            "due_at"} <= set(schemas["Task"]["required"])
    assert {"schema", "ui"} <= set(schemas["Form"]["required"])
    assert schemas["Error"]["required"] == ["error", "message"]


def test_every_shape_is_documented_from_its_one_definition(client):
    """webui/api/shapes.py defines each answer once: what it cuts out of the engine's view is what the document
    describes, field for field."""
    from webui.api import shapes

    schemas = _document(client)["components"]["schemas"]
    for shape in shapes.SHAPES:
        assert schemas[shape.name] == shape.schema(), shape.name
        assert set(shape.cut({})) == set(schemas[shape.name]["properties"]), shape.name
