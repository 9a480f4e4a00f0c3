"""The client address and the tenant on a request's log lines.

The address is ``REMOTE_ADDR``: the peer, or the client a trusted proxy names when uvicorn
runs with ``--proxy-headers`` (the address the rate limiter counts too). django-structlog's
own lookup (``ipware``) believes an ``X-Forwarded-For`` header from anyone, so it is off
(``DJANGO_STRUCTLOG_IP_LOGGING_ENABLED``), which also saves its cost on every request.

Some addresses carry a secret: a password-reset link, an invitation, an e-mail confirmation.
Whoever reads the logs must not be able to use them, so :func:`redact_secrets` (a structlog
processor, also run on the standard library's records such as ``Not Found: <path>``)
replaces those path segments and secret query parameters on every log line.

``TenantMiddleware`` binds ``tenant`` while the request runs in its tenant context, but
django-structlog writes ``request_finished`` after that context has closed; these receivers
bind the slug again just before it does. Connected in ``CoreConfig.ready``.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import structlog
from django.dispatch import receiver
from django.http import HttpRequest
from django_structlog import signals

REDACTED = "[redacted]"
# The segment after each prefix is a bearer secret (allauth's reset and confirmation keys,
# our invitation tokens and QR login codes).
_SECRET_SEGMENT = re.compile(
    r"(/accounts/password/reset/key/|/accounts/confirm-email/|/invitations/|/accounts/qr/approve/)"
    r"[^/?#\s\"']+"
)
_SECRET_PARAMETER = re.compile(r"([?&](?:token|key|code|secret)=)[^&#\s\"']+", re.IGNORECASE)
# The fields that hold a path or a message quoting one.
_FIELDS = ("event", "request", "path")


def redact_path(text: str) -> str:
    """``text`` with every secret path segment and query parameter replaced."""
    if "/" not in text:
        return text
    text = _SECRET_SEGMENT.sub(rf"\1{REDACTED}", text)
    return _SECRET_PARAMETER.sub(rf"\1{REDACTED}", text)


def redact_secrets(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for field in _FIELDS:
        value = event_dict.get(field)
        if isinstance(value, str):
            event_dict[field] = redact_path(value)
    return event_dict


@receiver(signals.bind_extra_request_metadata)
def bind_request_ip(request: HttpRequest, **kwargs: Any) -> None:
    structlog.contextvars.bind_contextvars(ip=request.META.get("REMOTE_ADDR", ""))


@receiver(signals.bind_extra_request_finished_metadata)
@receiver(signals.bind_extra_request_failed_metadata)
def bind_request_tenant(request: HttpRequest, **kwargs: Any) -> None:
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        structlog.contextvars.bind_contextvars(tenant=tenant.slug)
