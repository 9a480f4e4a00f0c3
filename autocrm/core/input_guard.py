"""NUL characters are refused at the door, for every page and API operation (issue 9).

PostgreSQL text cannot hold U+0000: a NUL that reaches a query fails in the driver, so a
NUL in any subject, name, search term, cursor, slug or session cookie used to end as a 500.
No legitimate input contains one. ``RejectNulMiddleware`` (first in the middleware list,
before anything looks a tenant, session or key up) checks what every request carries
outside its body: the path, the query string (``%00`` decoded), headers and cookies, and
form bodies (urlencoded and multipart, file names included). JSON bodies are checked where
they are parsed, by :func:`reject_nul_in_json` in the API's parser, which can name the field.

API requests get 422 problem+json with ``errors`` naming each place; pages get a 400 page.
A form body Django cannot parse (multipart without a boundary, say) is a 400 here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string

from autocrm.core.problems import InvalidInput, field_error, problem_response

GetResponse = Callable[[HttpRequest], HttpResponse]
API_PREFIX = "/api/"
NUL = "\x00"
NUL_MESSAGE = "Must not contain NUL (U+0000) characters."
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Webhooks signed over their raw body (an email provider's ECDSA signature): the body is
# read into memory before the form is parsed here, or the stream would be gone.
SIGNED_BODY_PREFIXES = ("/email/inbound/",)


def nul_locations(value: Any, location: str) -> Iterator[str]:
    """Where in a parsed JSON value (or a list of strings) a NUL character occurs."""
    if isinstance(value, str):
        if NUL in value:
            yield location
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{location}.{key}" if location else str(key)
            if NUL in str(key):
                yield child
            else:
                yield from nul_locations(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nul_locations(item, f"{location}.{index}")


def reject_nul_in_json(data: Any) -> None:
    """Raise a 422 naming every ``body.<field>`` of ``data`` that holds a NUL."""
    places = list(nul_locations(data, "body"))
    if places:
        raise InvalidInput([field_error(place, NUL_MESSAGE) for place in places])


def _request_nul_locations(request: HttpRequest) -> Iterator[str]:
    if NUL in request.path:
        yield "path"
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in value for value in values):
            yield f"query.{name.replace(NUL, '')}"
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and NUL in value:
            yield f"header.{key[5:].lower().replace('_', '-')}"
    if request.method == "POST" and request.content_type in FORM_TYPES:
        for name, values in request.POST.lists():
            if NUL in name or any(NUL in value for value in values):
                yield f"body.{name.replace(NUL, '')}"
        for name, files in request.FILES.lists():
            if NUL in name or any(NUL in (upload.name or "") for upload in files):
                yield f"body.{name.replace(NUL, '')}"


class RejectNulMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path.startswith(API_PREFIX)
        try:
            if request.method == "POST" and request.path.startswith(SIGNED_BODY_PREFIXES):
                request.body  # noqa: B018 - kept for the view's signature check
            places = list(_request_nul_locations(request))
        except RequestDataTooBig:
            raise  # Django answers 413 (the API's handler500 cannot be reached from here)
        except (MultiPartParserError, SuspiciousOperation) as exc:
            if api:
                return problem_response(
                    400, detail=f"The request body cannot be read: {exc}", type_="bad-request"
                )
            return _bad_request_page()
        if not places:
            return self.get_response(request)
        if api:
            return InvalidInput(
                [field_error(place, NUL_MESSAGE) for place in places],
                detail="The request contains NUL characters.",
            ).to_response()
        return _bad_request_page()


def _bad_request_page() -> HttpResponse:
    # Rendered without the request: the session and user middleware have not run yet.
    return HttpResponseBadRequest(render_to_string("400.html"))
