"""The OpenAPI document's cross-cutting parts, written once for every operation: problem
responses (shared under components.responses), rate-limit headers, the Idempotency-Key
parameter of POSTs, and an example for every request and response body."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from ninja.types import DictStrAny

from autocrm.core.api.schemas import ProblemOut
from autocrm.core.idempotency import HEADER as IDEMPOTENCY_HEADER
from autocrm.core.idempotency import REPLAYED_HEADER
from autocrm.core.problems import PROBLEM_CONTENT_TYPE, problem_body

_RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": ("Requests allowed per minute for this caller.", "integer"),
    "RateLimit-Remaining": ("Requests left in the current window.", "integer"),
    "RateLimit-Reset": ("Seconds until the window resets.", "integer"),
    "Retry-After": ("Seconds to wait before retrying.", "integer"),
    REPLAYED_HEADER: (
        "`true` when this is the stored response of an earlier request with "
        "the same Idempotency-Key.",
        "string",
    ),
}
_PROBLEM_EXAMPLES: dict[int, tuple[str | None, str]] = {
    400: ("malformed-json", "The body is not valid JSON: Expecting value: line 1 column 1."),
    401: (
        "unauthenticated",
        "Authenticate with an API key (Authorization: Bearer ...) or a signed-in session.",
    ),
    403: ("insufficient-permission", "This needs admin access; your API key scope grants read."),
    404: ("not-found", "Not found."),
    405: ("method-not-allowed", "PUT is not allowed here; use GET, POST."),
    409: (
        "idempotency-in-flight",
        "A request with this Idempotency-Key is still being processed; retry after it finishes.",
    ),
    412: ("precondition-failed", "The resource changed since you read it."),
    413: ("body-too-large", "The request body is 3000000 bytes; the limit is 2097152."),
    415: ("unsupported-media-type", "Send the body as application/json (got text/plain)."),
    422: ("validation-error", "The request is invalid."),
    429: ("rate-limited", "Rate limit of 600 requests per minute exceeded; retry in 12 s."),
    500: ("server-error", "An unexpected error occurred. It has been logged."),
}


def _problem_response_doc(status: int) -> DictStrAny:
    type_, detail = _PROBLEM_EXAMPLES.get(status, (None, HTTPStatus(status).phrase))
    example = problem_body(status, detail=detail, type_=type_)
    if status == 422:
        example["errors"] = [{"field": "body.email", "message": "Field required"}]
    doc: DictStrAny = {
        "description": HTTPStatus(status).phrase,
        "content": {
            PROBLEM_CONTENT_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": example,
            }
        },
    }
    if status == 429:
        doc["headers"] = {
            name: {"$ref": f"#/components/headers/{name}"}
            for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After")
        }
    return doc


def _problem_statuses(path: str, method: str, operation: DictStrAny) -> set[int]:
    statuses = {401, 403, 429, 500}
    if operation.get("requestBody"):
        statuses |= {400, 413, 415, 422}
    if operation.get("parameters"):
        statuses.add(422)
    if re.search(r"{[^}]+}", path):
        statuses.add(404)
    if method == "post":
        statuses |= {400, 409, 422}
    return statuses


def _resolve(schema: DictStrAny, schemas: DictStrAny) -> DictStrAny:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example_of(schema: DictStrAny, schemas: DictStrAny, depth: int = 0) -> Any:
    """An example value for ``schema``: its own ``examples`` when written, else one built
    from the types, so every operation of the docs shows a concrete request and response."""
    schema = _resolve(schema, schemas)
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if depth > 6:
        return None
    if "anyOf" in schema or "oneOf" in schema:
        choices: list[DictStrAny] = schema.get("anyOf") or schema.get("oneOf") or []
        options = [o for o in choices if o.get("type") != "null"]
        return example_of(options[0], schemas, depth + 1) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: example_of(sub, schemas, depth + 1)
            for name, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [example_of(schema.get("items", {}), schemas, depth + 1)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "string":
        formats = {
            "date-time": "2026-01-05T09:30:00Z",
            "date": "2026-01-05",
            "email": "someone@example.com",
            "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "uri": "https://example.com/",
            "binary": "<file>",
        }
        return formats.get(schema.get("format", ""), "string")
    return None


def _add_examples(content: DictStrAny, schemas: DictStrAny) -> None:
    for media in content.values():
        if "schema" in media and "example" not in media and "examples" not in media:
            media["example"] = example_of(media["schema"], schemas)


def document_cross_cutting_behaviour(schema: DictStrAny) -> None:
    components = schema.setdefault("components", {})
    problem = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = components.setdefault("schemas", {})
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    components["headers"] = {
        name: {"description": description, "schema": {"type": type_}}
        for name, (description, type_) in _RATE_LIMIT_HEADERS.items()
    }
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            responses: dict[Any, DictStrAny] = operation.setdefault("responses", {})
            for status in _problem_statuses(path, method, operation):
                responses.setdefault(status, {})
            for status in list(responses):
                code = int(status)
                if code >= 400 and "content" not in responses[status]:
                    # Documented once under components.responses, referenced everywhere.
                    shared = components.setdefault("responses", {})
                    shared.setdefault(f"Problem{code}", _problem_response_doc(code))
                    responses[status] = {"$ref": f"#/components/responses/Problem{code}"}
                elif code < 400:
                    headers = responses[status].setdefault("headers", {})
                    for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
                        headers[name] = {"$ref": f"#/components/headers/{name}"}
                    if method == "post":
                        headers[REPLAYED_HEADER] = {
                            "$ref": f"#/components/headers/{REPLAYED_HEADER}"
                        }
            if method == "post":
                operation.setdefault("parameters", []).append(
                    {
                        "name": IDEMPOTENCY_HEADER,
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "Send a unique key (e.g. a UUID) to make retries safe: a "
                        "repeat with the same body within 24 h gets the stored response "
                        f"(`{REPLAYED_HEADER}: true`); with another body a 422; while the first "
                        "is still running a 409.",
                    }
                )
            operation["responses"] = dict(sorted(responses.items(), key=lambda kv: int(kv[0])))
            _add_examples(operation.get("requestBody", {}).get("content", {}), schemas)
            for response in operation["responses"].values():
                _add_examples(response.get("content", {}), schemas)
    if "responses" in components:
        components["responses"] = dict(sorted(components["responses"].items()))


def problems(*statuses: int) -> DictStrAny:
    """``openapi_extra`` for an operation that can answer further problem statuses, e.g.
    ``@router.post(..., openapi_extra=problems(409, 412))``."""
    return {"responses": {status: {} for status in statuses}}
