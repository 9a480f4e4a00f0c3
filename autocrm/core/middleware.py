"""Request middleware of core: the body size limit. (Tenant resolution reads API keys and
memberships, so it lives in the accounts app: autocrm.accounts.middleware.)"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from autocrm.core.problems import problem_response

GetResponse = Callable[[HttpRequest], HttpResponse]


class RequestBodyLimitMiddleware:
    """Refuse bodies over the limit before anything reads them (413 problem+json)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(400, detail="Content-Length is not a number.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.content_type == "multipart/form-data":
            limit = getattr(settings, "MAX_UPLOAD_BYTES", limit)
        elif request.content_type == "message/rfc822":  # a raw email (autocrm.inboxes)
            limit = getattr(settings, "INBOUND_EMAIL_MAX_BYTES", limit)
        if limit is not None and length > limit:
            return problem_response(
                413,
                detail=f"The request body is {length} bytes; the limit is {limit}.",
                type_="body-too-large",
                limit=limit,
            )
        return self.get_response(request)
