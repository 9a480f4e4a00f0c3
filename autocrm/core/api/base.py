"""AutoCrmApi: the NinjaAPI every router is mounted in, with the API's cross-cutting rules.

- auth: API key or staff session on every operation (autocrm.core.api.auth);
- JSON bodies only (415 otherwise), malformed JSON is a 400 problem;
- every error is problem+json (autocrm.core.api.errors), 405 included;
- rate limits per caller with ``RateLimit-*`` headers on every response (autocrm.core.ratelimit);
- ``Idempotency-Key`` on every POST (autocrm.core.idempotency);
- self-hosted Swagger UI, and an OpenAPI document that lists the problem responses,
  rate-limit headers and the Idempotency-Key parameter of every operation.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.types import DictStrAny

from autocrm.core.api.auth import DEFAULT_AUTH
from autocrm.core.api.docs import SelfHostedSwagger
from autocrm.core.api.errors import (
    MalformedJson,
    install_exception_handlers,
    reject_unsupported_media_type,
    server_error_problem,
)
from autocrm.core.api.schemas import ProblemOut
from autocrm.core.idempotency import HEADER as IDEMPOTENCY_HEADER
from autocrm.core.idempotency import REPLAYED_HEADER, idempotent_operation, idempotent_run
from autocrm.core.problems import PROBLEM_CONTENT_TYPE, problem_body, problem_response
from autocrm.core.ratelimit import RateLimitState, rate_limit_bucket, rate_limit_hit


class JsonBodyParser(Parser):
    """JSON only. Errors raised here are wrapped by ninja in a 400 HttpError whose cause
    the exception handler turns into the right problem (415 / malformed JSON)."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        # ninja parses each JSON part of a multipart upload through a bare HttpRequest
        # (empty META): the media type was the real request's, multipart, and is fine.
        if request.META:
            reject_unsupported_media_type(request)
        try:
            data: DictStrAny = json.loads(request.body)
            return data
        except ValueError as exc:
            raise MalformedJson(str(exc)) from exc


def _over_limit(state: RateLimitState) -> HttpResponseBase:
    return problem_response(
        429,
        detail=f"Rate limit of {state.limit} requests per minute exceeded; retry "
        f"in {state.reset_seconds} s.",
        type_="rate-limited",
    )


def _finish(
    request: HttpRequest, state: RateLimitState, response: HttpResponseBase
) -> HttpResponseBase:
    if isinstance(response, HttpResponseNotAllowed):
        allowed = response["Allow"]
        response = problem_response(
            405,
            detail=f"{request.method} is not allowed here; use {allowed}.",
            type_="method-not-allowed",
            headers={"Allow": allowed},
        )
    for name, value in state.headers().items():
        response[name] = value
    return response


def _escaped(request: HttpRequest, exc: Exception) -> HttpResponseBase:
    if isinstance(exc, Http404):
        return problem_response(
            404, detail=f"No API resource at {request.path}.", type_="not-found"
        )
    return server_error_problem(request, exc)


def _with_rate_limit_and_problems(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps every URL of the API: counts the request, answers 429 over the limit, turns
    the few responses ninja makes itself (405, 404 of the root) into problems, and adds
    the RateLimit-* headers to whatever goes out."""
    if inspect.iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            state = await sync_to_async(rate_limit_hit)(rate_limit_bucket(request))
            if state.exceeded:
                return _finish(request, state, _over_limit(state))
            try:
                response = await view(request, *args, **kwargs)
            except Exception as exc:
                response = _escaped(request, exc)
            return _finish(request, state, response)

        return async_wrapper

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        state = rate_limit_hit(rate_limit_bucket(request))
        if state.exceeded:
            return _finish(request, state, _over_limit(state))
        try:
            response = view(request, *args, **kwargs)
        except Exception as exc:
            response = _escaped(request, exc)
        return _finish(request, state, response)

    return wrapper


class AutoCrmApi(NinjaAPI):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("auth", DEFAULT_AUTH)
        kwargs.setdefault("docs", SelfHostedSwagger())
        kwargs.setdefault("parser", JsonBodyParser())
        super().__init__(**kwargs)
        self.add_decorator(idempotent_run, mode="view")
        self.add_decorator(idempotent_operation, mode="operation")

    def set_default_exception_handlers(self) -> None:
        install_exception_handlers(self)

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        """Report a field of a single body schema as ``body.email``, not
        ``body.<parameter name>.email``."""
        error = super().validation_error_from_error_contexts(error_contexts)
        single = {
            ctx.model.__ninja_param_source__: getattr(ctx.model, "__read_from_single_attr__", None)
            for ctx in error_contexts
        }
        for item in error.errors:
            loc = tuple(item.get("loc", ()))
            if len(loc) >= 2 and single.get(loc[0]) and loc[1] == single[loc[0]]:
                item["loc"] = (loc[0], *loc[2:])
        return error

    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation.view_func.__name__

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _with_rate_limit_and_problems(pattern.callback)
        return urls

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: DictStrAny | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_cross_cutting_behaviour(schema)
        return schema


# --- OpenAPI: what every operation may answer, documented once here ------------------------

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
