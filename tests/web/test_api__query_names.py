"""A query parameter an operation does not declare in the OpenAPI document is refused with 422 and a
message naming the ones it takes, instead of being ignored: a misspelt filter would otherwise answer the
unfiltered figures as if they were the filtered ones."""

from __future__ import annotations

import re

import pytest

from webui.api.openapi import document


def _value(schema: dict) -> str:
    """A well-formed value for a path variable (whether anything has it does not matter here)."""
    if schema.get("format") == "uuid":
        return "0b7e1d2c-4f5a-4c1e-9d3b-2a6f8e9c0d1e"
    return "1" if schema["type"] == "integer" else "sample_request"


def _operations() -> list[tuple[str, str, dict]]:
    """Every documented operation: its method, its path with each variable filled, its description."""
    found = []
    for path, operations in document()["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", ())
            variables = {p["name"]: _value(p["schema"]) for p in params if p["in"] == "path"}
            filled = re.sub(r"\{([^}]+)\}", lambda m, values=variables: values[m.group(1)], path)
            found.append((method.upper(), filled, op))
    return found


def test_a_misspelt_kpi_filter_is_refused_not_ignored(api):
    response = api("aud").get("/kpi?form=2026-03-01")
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_data"
    assert body["fields"] == {"form": "未知的查询参数（可用：from、process、to）"}

    english = api("aud", {"Accept-Language": "en"}).get("/kpi?form=2026-03-01&to=2026-03-31")
    assert english.status_code == 422
    assert english.get_json()["fields"] == {"form": "Unknown query parameter (known: from, process, to)"}


def test_the_declared_names_still_filter(api):
    assert api("aud").get("/kpi?from=2026-03-01&to=2026-03-31").status_code == 200
    response = api("aud").get("/instances?customer=合肥&page=1&per_page=5")
    assert response.status_code == 200
    assert response.get_json()["per_page"] == 5


def test_an_operation_without_query_parameters_says_so(api):
    response = api("aud", {"Accept-Language": "en"}).get("/processes?verbose=1")
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"verbose": "This operation takes no query parameters"}


def test_without_a_valid_token_the_answer_is_401_whatever_the_query(api):
    assert api().get("/kpi?form=2026-03-01").status_code == 401
    refused = api().open("GET", "/kpi?form=2026-03-01", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401


def test_an_empty_name_is_refused_too(api):
    response = api("aud").get("/kpi?=1")
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"": "未知的查询参数（可用：from、process、to）"}
    assert response.get_json()["message"] == "unknown query parameter(s): (empty)"


def test_a_public_operation_refuses_them_without_a_token(api):
    response = api().post("/tokens?remember=1", json={"username": "aud", "password": "x"})
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["remember"]


@pytest.mark.parametrize(("method", "path", "op"), _operations(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_operation_refuses_an_undeclared_name_and_documents_the_422(api, method, path, op):
    assert "undeclared" not in {p["name"] for p in op.get("parameters", ())}
    response = api("adm").open(method, f"{path}?undeclared=1", json={} if method != "GET" else None)
    assert response.status_code == 422, (method, path, response.get_json())
    assert list(response.get_json()["fields"]) == ["undeclared"]
    assert "422" in op["responses"]
