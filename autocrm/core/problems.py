"""RFC 9457 problem details: the one error shape of the API.

Code that wants to answer with an error raises :class:`Problem` (or one of its named
subclasses); the API's exception handlers turn it, and every other error, into a
``application/problem+json`` response via :func:`problem_response`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.http import JsonResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://autocrm.dev/problems/"


def problem_body(
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type_: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + type_ if type_ else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def problem_response(
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type_: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JsonResponse:
    body = problem_body(status, detail=detail, title=title, type_=type_, **extra)
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def field_error(field: str | None, message: str) -> dict[str, str | None]:
    """One entry of a problem's ``errors`` list; ``field`` is a dotted location such as
    ``body.email`` or ``query.cursor`` (None: the request as a whole)."""
    return {"field": field, "message": message}


class Problem(Exception):
    """An error the API answers with as problem+json. ``type_`` is the slug appended to
    PROBLEM_TYPE_BASE (a stable, documented identifier clients may switch on)."""

    status = 400
    type_: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if type_ is not None:
            self.type_ = type_
        self.headers = headers or {}
        self.extra = extra

    def to_response(self) -> JsonResponse:
        return problem_response(
            self.status, detail=self.detail, type_=self.type_, headers=self.headers, **self.extra
        )


class BadRequest(Problem):
    status = 400


class Forbidden(Problem):
    status = 403
    type_ = "forbidden"


class NotFound(Problem):
    status = 404


class Conflict(Problem):
    status = 409
    type_ = "conflict"


class PreconditionFailed(Problem):
    """The ``If-Match`` the client sent no longer matches (someone else changed it)."""

    status = 412
    type_ = "precondition-failed"


class UnsupportedMediaType(Problem):
    status = 415
    type_ = "unsupported-media-type"


class InvalidInput(Problem):
    """422 with an ``errors`` list naming each offending field."""

    status = 422
    type_ = "validation-error"

    def __init__(
        self, errors: list[dict[str, str | None]], detail: str = "The request is invalid."
    ) -> None:
        super().__init__(detail, errors=errors)
        self.errors = errors

    @classmethod
    def for_field(cls, field: str, message: str) -> InvalidInput:
        return cls([field_error(field, message)])
