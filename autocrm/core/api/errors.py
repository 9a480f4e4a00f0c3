"""Every API error as RFC 9457 problem+json, never a traceback.

``install_exception_handlers`` maps exceptions raised anywhere in an operation (auth,
parsing, validation, services, handlers); ``handler404``/``handler500`` (wired in
config/urls.py) cover what never reaches an operation: unknown ``/api/`` paths and crashes in
middleware. Outside ``/api/`` they fall back to Django's HTML pages.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import structlog
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views import defaults
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from autocrm.core.problems import (
    InvalidInput,
    Problem,
    UnsupportedMediaType,
    field_error,
    problem_response,
)

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = structlog.get_logger(__name__)
API_PREFIX = "/api/"


class MalformedJson(Exception):
    """The body is not valid JSON (raised by the API's parser, wrapped by ninja)."""


def _location(loc: Any) -> str:
    return ".".join(str(part) for part in loc)


def validation_problem(exc: NinjaValidationError) -> HttpResponse:
    errors = [
        field_error(_location(err.get("loc", ())), str(err.get("msg", "Invalid value.")))
        for err in exc.errors
    ]
    return InvalidInput(errors).to_response()


def _body_keys(request: HttpRequest) -> set[str]:
    if not request.content_type or "json" not in request.content_type:
        return set()
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, RequestDataTooBig):
        return set()
    return set(data) if isinstance(data, dict) else set()


def django_validation_problem(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """A service's ValidationError: field names that came from the JSON body are reported
    as ``body.<field>`` like schema errors; errors of the request as a whole have no field."""
    keys = _body_keys(request)
    errors: list[dict[str, str | None]] = []
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            field = None if name == NON_FIELD_ERRORS else (f"body.{name}" if name in keys else name)
            errors.extend(field_error(field, message) for message in messages)
    else:
        errors.extend(field_error(None, message) for message in exc.messages)
    detail = errors[0]["message"] if len(errors) == 1 else "The request is invalid."
    return InvalidInput(errors, detail=detail or "The request is invalid.").to_response()


def http_error_problem(exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, Problem):
        return cause.to_response()
    if isinstance(cause, MalformedJson):
        return problem_response(
            400, detail=f"The body is not valid JSON: {cause}", type_="malformed-json"
        )
    if isinstance(exc, AuthenticationError):
        return problem_response(
            401,
            detail="Authenticate with an API key (Authorization: Bearer ...) or a "
            "signed-in session.",
            type_="unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="autocrm"'},
        )
    if isinstance(exc, Throttled):
        headers = {"Retry-After": str(exc.wait)} if exc.wait is not None else {}
        return problem_response(429, detail=str(exc), type_="rate-limited", headers=headers)
    return problem_response(exc.status_code, detail=str(exc))


def server_error_problem(request: HttpRequest, exc: BaseException) -> HttpResponse:
    logger.error("api.unhandled_exception", path=request.path, method=request.method, exc_info=exc)
    return problem_response(
        500, detail="An unexpected error occurred. It has been logged.", type_="server-error"
    )


def data_error_problem(request: HttpRequest, exc: DataError) -> HttpResponse:
    """The safety net behind the schemas: PostgreSQL refused a value the client sent (a
    number past its column's range, a string too long, a date it cannot hold). Input is
    validated where it is parsed; reaching here means a schema missed a bound, so it is
    logged as a warning to fix there, and the client gets a 422, not a 500."""
    if connection.in_atomic_block:
        transaction.set_rollback(True)  # the statement failed: nothing else may commit
    logger.warning("api.data_error", path=request.path, method=request.method, error=str(exc))
    return problem_response(
        422,
        detail="A value is out of range or too long to be stored.",
        type_="validation-error",
        errors=[field_error(None, "A value is out of range or too long to be stored.")],
    )


# SQLSTATE of a constraint a request broke -> (status, problem type, message).
_CONSTRAINTS = {
    "23505": (409, "conflict", "This conflicts with an existing record."),
    "23502": (422, "validation-error", "A required value is missing (null)."),
    "23503": (422, "validation-error", "A referenced record does not exist."),
    "23514": (422, "validation-error", "A value breaks a rule of the record."),
}


def integrity_error_problem(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    """Like :func:`data_error_problem`, for constraints: the services check what they can
    name (a taken slug, a missing value), the database refuses the rest, and a refusal
    caused by the request is a 4xx. Logged as a warning: the service should check it."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate not in _CONSTRAINTS:
        return server_error_problem(request, exc)
    if connection.in_atomic_block:
        transaction.set_rollback(True)
    logger.warning("api.integrity_error", path=request.path, method=request.method, error=str(exc))
    status, type_, message = _CONSTRAINTS[sqlstate]
    if status == 422:
        return InvalidInput([field_error(None, message)], detail=message).to_response()
    return problem_response(status, detail=message, type_=type_)


def install_exception_handlers(api: NinjaAPI) -> None:
    def on_problem(request: HttpRequest, exc: Problem) -> HttpResponse:
        return exc.to_response()

    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return validation_problem(exc)

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return http_error_problem(exc)

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(404, detail="Not found.", type_="not-found")

    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return django_validation_problem(request, exc)

    def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return problem_response(403, detail=str(exc) or "You may not do this.", type_="forbidden")

    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return problem_response(
            413, detail="The request body is too large.", type_="body-too-large"
        )

    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return problem_response(
            400, detail="The request was refused as malformed.", type_="bad-request"
        )

    def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
        if getattr(exc.__cause__, "sqlstate", None) is None:
            # Raised by psycopg itself reading a row back (say, a year it cannot
            # represent): stored data is wrong, not this request.
            return server_error_problem(request, exc)
        return data_error_problem(request, exc)

    def on_integrity_error(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        return integrity_error_problem(request, exc)

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        return server_error_problem(request, exc)

    handlers: list[tuple[type[Exception], Any]] = [
        (Problem, on_problem),
        (NinjaValidationError, on_validation),
        (HttpError, on_http_error),
        (Http404, on_not_found),
        (ObjectDoesNotExist, on_not_found),
        (DjangoValidationError, on_django_validation),
        (PermissionDenied, on_permission_denied),
        (RequestDataTooBig, on_too_big),
        (SuspiciousOperation, on_suspicious),
        (DataError, on_data_error),
        (IntegrityError, on_integrity_error),
        (Exception, on_unexpected),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)


def reject_unsupported_media_type(request: HttpRequest) -> None:
    """JSON bodies only: anything else would be parsed by guesswork."""
    content_type = (request.content_type or "").lower()
    if content_type != "application/json" and not (
        content_type.startswith("application/") and content_type.endswith("+json")
    ):
        raise UnsupportedMediaType(
            f"Send the body as application/json (got {content_type or 'no Content-Type'})."
        )


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return problem_response(
            404, detail=f"No API resource at {request.path}.", type_="not-found"
        )
    return defaults.page_not_found(request, exception or Http404())


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's answer to a request it refuses before any view (a Host header not in
    ALLOWED_HOSTS, a malformed multipart body...): a problem for API clients too."""
    if request.path.startswith(API_PREFIX):
        return problem_response(
            400, detail="The request is malformed and was refused.", type_="bad-request"
        )
    return defaults.bad_request(request, exception or SuspiciousOperation())


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return problem_response(
            500, detail="An unexpected error occurred. It has been logged.", type_="server-error"
        )
    return defaults.server_error(request)
