"""The tenant on a request's last log line.

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


@receiver(signals.bind_extra_request_finished_metadata)
@receiver(signals.bind_extra_request_failed_metadata)
def bind_request_tenant(request: HttpRequest, **kwargs: Any) -> None:
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        structlog.contextvars.bind_contextvars(tenant=tenant.slug)
