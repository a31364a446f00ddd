"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document kept true to the app's routes."""

import re

import schemathesis

from server.api import openapi
from tests.conftest import auth, make_visit, staff, tokens  # noqa: F401

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def registered_api_operations(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every /api/v1 rule the app answers."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(openapi.API_PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(openapi.API_PREFIX) :])
        for method in (rule.methods or set()) & METHODS:
            found.add((path, method.lower()))
    return found


def documented_operations(doc: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, ops in doc["paths"].items() for method in ops}


def test_document_lists_exactly_the_registered_api_routes(app):
    registered = registered_api_operations(app)
    documented = documented_operations(openapi.document())
    assert registered - documented == set(), "API routes missing from server/api/openapi.py"
    assert documented - registered == set(), "documented in openapi.py but not registered"


def test_document_is_valid_openapi_3_1():
    doc = openapi.document()
    assert doc["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(doc).validate()  # the OpenAPI 3.1 meta-schema


def test_document_is_served_without_a_token(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.is_json
    assert resp.get_json() == openapi.document()


def test_every_operation_names_its_roles_and_the_error_envelope():
    doc = openapi.document()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["x-roles"] or op.get("x-duties"), f"{method} {path}: no x-roles"
            if op["x-roles"] == ["anonymous"]:
                continue
            assert "401" in op["responses"], f"{method} {path}: 401 undocumented"
            if "requestBody" in op:
                assert "422" in op["responses"], f"{method} {path}: 422 undocumented"
            error = op["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}


def test_documented_roles_are_the_roles_the_api_enforces(app, client, tokens, make_visit):  # noqa: F811
    """Each staff role's token on each operation: refused (403) exactly when the
    document leaves that role out. Bodies are empty: the role is checked first."""
    visit = make_visit()
    role_token = {
        "admin": tokens["admin"],
        "receptionist": tokens["reception"],
        "host": tokens["host"],
    }
    for path, ops in openapi.document()["paths"].items():
        for method, op in ops.items():
            url = openapi.API_PREFIX + path
            for param in op.get("parameters", []):
                if param["in"] == "path":  # an id, or the first of a named set
                    value = param["schema"].get("enum", [visit.id])[0]
                    url = url.replace("{" + param["name"] + "}", str(value))
            for role, token in role_token.items():
                resp = client.open(url, method=method.upper(), headers=auth(token), json={})
                allowed = role in op["x-roles"] or op["x-roles"] == ["anonymous"]
                if allowed:
                    assert resp.status_code not in (401, 403), (method, path, role, resp.json)
                else:
                    assert resp.status_code == 403, (method, path, role, resp.status_code)
