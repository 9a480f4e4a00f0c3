"""The OpenAPI document: snapshot-tested, and complete for every operation; the docs page
is served from our own static files.

After an intended API change: ``UPDATE_SNAPSHOTS=1 pytest autocrm/core/tests/test_api_openapi.py``
and commit snapshots/openapi.json with the change (the diff is the API review)."""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from config.api import api

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.json"
PROBLEM_RESPONSES = ("401", "403", "429", "500")


@functools.cache
def document() -> dict[str, Any]:
    # A JSON round trip: what clients see (integer status keys become strings).
    return dict(json.loads(json.dumps(api.get_openapi_schema(path_params={}))))


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, methods in document()["paths"].items()
        for method, op in methods.items()
    ]


def test_openapi_matches_the_snapshot() -> None:
    current = json.dumps(document(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text(), (
        "The API changed. If intended, run UPDATE_SNAPSHOTS=1 pytest "
        "autocrm/core/tests/test_api_openapi.py and commit the snapshot."
    )


@pytest.mark.django_db
def test_openapi_json_is_served(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = json.loads(response.content)
    assert served["paths"].keys() == document()["paths"].keys()
    assert served["info"]["title"] == "AutoCRM API"


@pytest.mark.parametrize(
    "path, method, operation",
    [pytest.param(*op, id=f"{op[1].upper()} {op[0]}") for op in operations()],
)
def test_every_operation_is_fully_documented(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    assert operation.get("summary"), "summary="
    generated = operation["operationId"].title().replace("_", " ")
    assert operation["summary"] != generated, "write a summary, not the function name"
    assert operation.get("tags"), "tags="
    assert {"ApiKeyAuth", "SessionAuth"} <= {k for s in operation["security"] for k in s}
    responses = operation["responses"]
    success = [code for code in responses if code.startswith("2")]
    assert success, "a 2xx response schema"
    for code in success:
        # JSON bodies need a schema and an example (file downloads declare other types).
        media = responses[code].get("content", {}).get("application/json")
        if media is not None:
            assert "schema" in media and "example" in media
        assert "RateLimit-Remaining" in responses[code]["headers"]
    shared = document()["components"]["responses"]
    for code in PROBLEM_RESPONSES + (("404",) if "{" in path else ()):
        ref = responses[code]["$ref"]
        problem = shared[ref.rsplit("/", 1)[-1]]["content"]["application/problem+json"]
        assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
        assert problem["example"]["status"] == int(code)
    if "requestBody" in operation:
        assert {"413", "415", "422"} <= responses.keys()
        for media in operation["requestBody"]["content"].values():
            assert "example" in media or "examples" in media
    if method == "post":
        assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
        assert "409" in responses


def test_every_list_operation_shares_one_page_shape() -> None:
    """One list shape: every operation answering ``{"items", "next_cursor"}`` takes the
    shared ``cursor`` and ``limit`` (core.api.pagination), and the advertised maximum is the
    enforced one."""
    from autocrm.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT

    schemas = document()["components"]["schemas"]
    lists = 0
    for path, method, operation in operations():
        media = operation["responses"].get("200", {}).get("content", {}).get("application/json")
        ref = (media or {}).get("schema", {}).get("$ref", "")
        if set(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})) != {
            "items",
            "next_cursor",
        }:
            continue
        lists += 1
        params = {p["name"]: p for p in operation["parameters"]}
        assert "cursor" in params, f"{method} {path}"
        limit = params["limit"]["schema"]
        assert (limit["minimum"], limit["maximum"], limit["default"]) == (
            1,
            MAX_LIMIT,
            DEFAULT_LIMIT,
        ), f"{method} {path}"
    assert lists >= 5  # the walk found the list endpoints


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids))


def test_accounts_schemas_carry_hand_written_examples() -> None:
    schemas = document()["components"]["schemas"]
    for name in (
        "MeOut",
        "MemberOut",
        "InvitationIn",
        "InvitationOut",
        "ApiKeyIn",
        "ApiKeyOut",
        "ApiKeyCreatedOut",
        "Problem",
    ):
        assert schemas[name].get("examples"), name


@pytest.mark.django_db
def test_docs_page_loads_swagger_from_our_static_files_only(client: Client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/vendor/swagger-ui/swagger-ui.css" in html
    assert "/api/v1/openapi.json" in html
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(https?://[^"'\s>]+)""", html)
    assert external == []
    assert not re.search(r"https?://(?!autocrm\.dev/)", html), "no absolute URL but ours"
    assert "cdn" not in html.lower()
    assert '"validatorUrl": null' in html  # no badge fetched from validator.swagger.io


@pytest.mark.django_db
def test_the_swagger_assets_exist_and_are_served(client: Client) -> None:
    from django.conf import settings

    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert (Path(settings.BASE_DIR) / "static" / "vendor" / "swagger-ui" / name).exists()
        response = client.get(f"/static/vendor/swagger-ui/{name}")
        assert response.status_code == 200, name


def test_schema_names_are_unique_across_modules() -> None:
    """OpenAPI names a component after its class: two schema classes of one name (in two apps)
    would share one component, and clients would see one of them for both."""
    from pydantic import BaseModel

    def subclasses(cls: type) -> set[type]:
        found: set[type] = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    components = set(document()["components"]["schemas"])
    by_name: dict[str, set[str]] = {}
    for cls in subclasses(BaseModel):
        if cls.__name__ in components and cls.__module__.startswith(("autocrm.", "config.")):
            by_name.setdefault(cls.__name__, set()).add(f"{cls.__module__}.{cls.__qualname__}")
    clashes = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert not clashes
    assert len(by_name) > 50  # the walk found the API's schemas
