"""AutoCrmApi: the NinjaAPI every router is mounted in, with the API's cross-cutting rules.

- auth: settings.API_AUTHENTICATION on every operation (the accounts app's API key or staff
  session), giving a autocrm.core.api.auth.Caller;
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
from collections.abc import Callable
from functools import wraps
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver
from django.utils.module_loading import import_string
from ninja import NinjaAPI
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.types import DictStrAny

from autocrm.core.api.docs import SelfHostedSwagger
from autocrm.core.api.errors import (
    MalformedJson,
    install_exception_handlers,
    reject_unsupported_media_type,
    server_error_problem,
)
from autocrm.core.api.openapi import document_cross_cutting_behaviour
from autocrm.core.idempotency import idempotent_operation, idempotent_run
from autocrm.core.input_guard import reject_nul_in_json
from autocrm.core.problems import problem_response
from autocrm.core.ratelimit import (
    RateLimitState,
    rate_limit_bucket,
    rate_limit_hit,
    rate_limited_problem,
)


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
        except ValueError as exc:
            raise MalformedJson(str(exc)) from exc
        reject_nul_in_json(data)  # PostgreSQL text cannot hold U+0000
        return data


def _over_limit(state: RateLimitState) -> HttpResponseBase:
    return rate_limited_problem(state)


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


def default_auth() -> list[Any]:
    """The authentication classes named in settings (core knows no credential model)."""
    return [import_string(path) for path in settings.API_AUTHENTICATION]


class AutoCrmApi(NinjaAPI):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("auth", default_auth())
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
