"""LLM calls on behalf of a tenant: the monthly budget is checked before, tokens and cost
are counted after (also for failures, so the dashboard shows an unreliable endpoint).

Usage counters are metering, not domain state: they append no event (one row per tenant,
day and feature, bumped in place; a month is the sum of its days)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from autocrm.ai import histogram
from autocrm.ai.models import AISettings, LLMUsage
from autocrm.ai.providers import llm
from autocrm.ai.providers.errors import LLMUnavailable
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant

logger = structlog.get_logger(__name__)


def _today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def llm_monthly_budget(tenant: Tenant) -> Decimal | None:
    """The tenant's budget in US dollars, or None for no limit."""
    own = AISettings.objects.filter(tenant=tenant).values_list("llm_monthly_budget", flat=True)
    value = next(iter(own), None)
    if value is not None:
        return value
    default = settings.AI_LLM_MONTHLY_BUDGET
    return Decimal(str(default)) if default > 0 else None


def llm_spent_this_month(tenant: Tenant) -> Decimal:
    total = LLMUsage.objects.filter(tenant=tenant, day__gte=_today().replace(day=1)).aggregate(
        total=Sum("cost")
    )
    return total["total"] or Decimal(0)


def _record(*, tenant: Tenant, feature: str, result: llm.ChatResult | None, failed: bool) -> None:
    with transaction.atomic():
        usage, _ = LLMUsage.objects.get_or_create(tenant=tenant, day=_today(), feature=feature)
        changes: dict[str, Any] = {"calls": F("calls") + 1}
        if failed:
            changes["failures"] = F("failures") + 1
        if result is not None:
            changes.update(
                prompt_tokens=F("prompt_tokens") + result.prompt_tokens,
                completion_tokens=F("completion_tokens") + result.completion_tokens,
                cost=F("cost") + Decimal(str(result.cost)),
                latency_ms_total=F("latency_ms_total") + result.latency_ms,
                latency_histogram=histogram.CountIn(
                    "latency_histogram", histogram.bucket_of(result.latency_ms)
                ),
            )
        LLMUsage.objects.filter(pk=usage.pk).update(**changes)


def llm_chat(
    *,
    tenant: Tenant,
    actor: Actor,
    feature: str,
    messages: list[dict[str, str]],
    max_tokens: int = 600,
) -> llm.ChatResult:
    """A chat completion for ``tenant`` or LLMUnavailable (logged, counted)."""
    if not llm.llm_configured():
        raise LLMUnavailable("no LLM configured")
    budget = llm_monthly_budget(tenant)
    if budget is not None and llm_spent_this_month(tenant) >= budget:
        logger.warning("ai.llm.over_budget", feature=feature, budget=str(budget))
        raise LLMUnavailable("the tenant's monthly LLM budget is used up")
    try:
        result = llm.chat(messages, max_tokens=max_tokens)
    except LLMUnavailable as exc:
        logger.error("ai.llm.failed", feature=feature, error=str(exc), actor=actor.label)
        _record(tenant=tenant, feature=feature, result=None, failed=True)
        raise
    _record(tenant=tenant, feature=feature, result=result, failed=False)
    return result
