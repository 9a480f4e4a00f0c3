"""Operational endpoints: health and Prometheus metrics."""

from __future__ import annotations

import hmac

import structlog
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView

from autocrm.core.selectors import worker_last_heartbeat_age

logger = structlog.get_logger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers; worker is "stale" when no worker heartbeat is recent."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        age = worker_last_heartbeat_age()
    except DatabaseError as exc:
        logger.error("healthz.database_error", error=str(exc))
        return JsonResponse(
            {"status": "error", "database": "error", "worker": "unknown"}, status=503
        )
    worker = "ok" if age is not None and age <= settings.WORKER_STALE_SECONDS else "stale"
    return JsonResponse({"status": "ok", "database": "ok", "worker": worker})


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics; only with METRICS_PUBLIC or a matching METRICS_TOKEN bearer."""
    if not settings.METRICS_PUBLIC:
        token = settings.METRICS_TOKEN
        auth = request.META.get("HTTP_AUTHORIZATION", "")
        if not token or not hmac.compare_digest(auth, f"Bearer {token}"):
            return HttpResponse("Not found", status=404, content_type="text/plain")
    return ExportToDjangoView(request)
