"""Reads of the AI app for pages and the API (tenant + actor, staff only)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from autocrm.ai.models import AISettings, TriageModel, TriageResult, TriageState
from autocrm.core import sql
from autocrm.core.actors import STAFF, Actor
from autocrm.core.models import Tenant


def _require_staff(actor: Actor) -> None:
    if actor.role not in STAFF and actor.role != "system":
        raise PermissionDenied("AI suggestions are for staff.")


def review_queue(*, tenant: Tenant, actor: Actor, limit: int = 100) -> list[TriageResult]:
    """Suggestions waiting for a human, oldest first (first in, first reviewed)."""
    _require_staff(actor)
    return list(
        TriageResult.objects.filter(tenant=tenant, state=TriageState.REVIEW)
        .select_related("ticket")
        .order_by("created_at", "pk")[:limit]
    )


def review_queue_size(*, tenant: Tenant, actor: Actor) -> int:
    _require_staff(actor)
    return TriageResult.objects.filter(tenant=tenant, state=TriageState.REVIEW).count()


def triage_for_ticket(*, tenant: Tenant, actor: Actor, ticket_id: int) -> TriageResult | None:
    _require_staff(actor)
    rows = sql.fetch_all(_TRIAGE_SQL, [tenant.pk, ticket_id])
    return _TRIAGE.build(rows[0]) if rows else None


# triage_for_ticket's statement, prepared (core.sql): the ticket page's AI panel reads it
# on every load, and compiling the queryset cost about 1 ms of CPU.
_TRIAGE = sql.ModelColumns(TriageResult, "r")
_TRIAGE_SQL = (
    f"SELECT {_TRIAGE.sql} FROM ai_triageresult r "  # noqa: S608 - our column names
    "WHERE r.tenant_id = %s AND r.ticket_id = %s ORDER BY r.id ASC LIMIT 1"
)


def triage_models(*, tenant: Tenant, actor: Actor) -> QuerySet[TriageModel]:
    _require_staff(actor)
    return TriageModel.objects.filter(tenant=tenant).order_by("-created_at")


def ai_settings_get(*, tenant: Tenant, actor: Actor) -> AISettings:
    """The tenant's row, or an unsaved one holding the defaults."""
    _require_staff(actor)
    return AISettings.objects.filter(tenant=tenant).first() or AISettings(tenant=tenant)
