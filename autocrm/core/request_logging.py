"""The client address and the tenant on a request's log lines.

The address is ``REMOTE_ADDR``: the peer, or the client a trusted proxy names when uvicorn
runs with ``--proxy-headers`` (the address the rate limiter counts too). django-structlog's
own lookup (``ipware``) believes an ``X-Forwarded-For`` header from anyone, so it is off
(``DJANGO_STRUCTLOG_IP_LOGGING_ENABLED``), which also saves its cost on every request.

``TenantMiddleware`` binds ``tenant`` while the request runs in its tenant context, but
django-structlog writes ``request_finished`` after that context has closed; these receivers
bind the slug again just before it does. Connected in ``CoreConfig.ready``.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.dispatch import receiver
from django.http import HttpRequest
from django_structlog import signals


@receiver(signals.bind_extra_request_metadata)
def bind_request_ip(request: HttpRequest, **kwargs: Any) -> None:
    structlog.contextvars.bind_contextvars(ip=request.META.get("REMOTE_ADDR", ""))


@receiver(signals.bind_extra_request_finished_metadata)
@receiver(signals.bind_extra_request_failed_metadata)
def bind_request_tenant(request: HttpRequest, **kwargs: Any) -> None:
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        structlog.contextvars.bind_contextvars(tenant=tenant.slug)
