"""Every read of pipelines, leads and deals, and the forecast: tenant-scoped, staff only.

The forecast weights each open deal's amount by its stage's probability and sums per month
of the expected close date, owner and currency (amounts in different currencies are never
added together). Won deals count in full in the month they closed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm import access
from autocrm.crm.models import Deal, DealAssignmentRule, DealStatus, Pipeline, Stage
from autocrm.crm.selectors import typo_tolerance_set

DEAL_ORDERINGS: dict[str, tuple[str, ...]] = {
    "-created_at": ("-created_at", "-id"),
    "title": ("title", "id"),
    "-amount": ("-amount", "-id"),
}


@dataclass
class DealFilters:
    q: str = ""
    pipeline_id: int | None = None
    stage_id: int | None = None
    status: str = ""
    kind: str = ""
    owner: str = ""  # a user id, "me" or "none"
    contact_id: int | None = None
    company_id: int | None = None
    close_after: dt.date | None = None
    close_before: dt.date | None = None


def pipeline_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Pipeline]:
    access.require_read(actor)
    stages = Stage.objects.filter(tenant=tenant).order_by("position", "id")
    return (
        Pipeline.objects.filter(tenant=tenant)
        .prefetch_related(Prefetch("stages", queryset=stages))
        .order_by("position", "id")
    )


def pipeline_get(*, tenant: Tenant, actor: Actor, pipeline_id: int) -> Pipeline | None:
    return pipeline_list(tenant=tenant, actor=actor).filter(pk=pipeline_id).first()


def deal_assignment_rule_list(*, tenant: Tenant, actor: Actor) -> QuerySet[DealAssignmentRule]:
    access.require_read(actor)
    return DealAssignmentRule.objects.filter(tenant=tenant).order_by("position", "id")


def _owner_q(owner: str, actor: Actor) -> Q:
    if owner == "me":
        return Q(owner_id=actor.user.pk) if actor.user else Q(pk__in=[])
    if owner == "none":
        return Q(owner=None)
    if owner.isdigit():
        return Q(owner_id=int(owner))
    return Q()


def deal_list(
    *, tenant: Tenant, actor: Actor, filters: DealFilters | None = None
) -> QuerySet[Deal]:
    access.require_read(actor)
    f = filters or DealFilters()
    deals = Deal.objects.filter(tenant=tenant).select_related(
        "pipeline", "stage", "owner", "contact", "company"
    )
    if f.q.strip():
        # Word similarity like the contact search (typo-tolerant, and indexed under
        # row-level security, which ILIKE is not).
        typo_tolerance_set()
        deals = deals.filter(title__trigram_word_similar=f.q.strip())
    if f.pipeline_id is not None:
        deals = deals.filter(pipeline_id=f.pipeline_id)
    if f.stage_id is not None:
        deals = deals.filter(stage_id=f.stage_id)
    if f.status:
        deals = deals.filter(status=f.status)
    if f.kind:
        deals = deals.filter(kind=f.kind)
    if f.owner:
        deals = deals.filter(_owner_q(f.owner, actor))
    if f.contact_id is not None:
        deals = deals.filter(contact_id=f.contact_id)
    if f.company_id is not None:
        deals = deals.filter(company_id=f.company_id)
    if f.close_after is not None:
        deals = deals.filter(expected_close_date__gte=f.close_after)
    if f.close_before is not None:
        deals = deals.filter(expected_close_date__lte=f.close_before)
    return deals


def deal_get(*, tenant: Tenant, actor: Actor, deal_id: int) -> Deal | None:
    return deal_list(tenant=tenant, actor=actor).filter(pk=deal_id).first()


BOARD_COLUMN_LIMIT = 200


@dataclass
class BoardColumn:
    stage: Stage
    deals: list[Deal]
    count: int
    total: dict[str, Decimal]  # per currency


def deal_board(
    *, tenant: Tenant, actor: Actor, pipeline: Pipeline, filters: DealFilters | None = None
) -> list[BoardColumn]:
    """The open leads and deals of a pipeline by stage, in board order; each column holds
    its first ``BOARD_COLUMN_LIMIT`` cards and the count and totals of all of them."""
    f = filters or DealFilters()
    f.pipeline_id, f.status = pipeline.pk, DealStatus.OPEN
    deals = deal_list(tenant=tenant, actor=actor, filters=f)
    sums: dict[int, dict[str, Decimal]] = defaultdict(dict)
    counts: dict[int, int] = defaultdict(int)
    for row in deals.order_by().values("stage_id", "currency").annotate(total=Sum("amount")):
        sums[row["stage_id"]][row["currency"]] = row["total"]
    by_stage: dict[int, list[Deal]] = defaultdict(list)
    for deal in deals.order_by("stage_id", "position", "id"):
        counts[deal.stage_id] += 1
        if len(by_stage[deal.stage_id]) < BOARD_COLUMN_LIMIT:
            by_stage[deal.stage_id].append(deal)
    return [
        BoardColumn(stage=s, deals=by_stage[s.pk], count=counts[s.pk], total=dict(sums[s.pk]))
        for s in pipeline.stages.all()
    ]


@dataclass
class ForecastRow:
    month: dt.date
    owner_id: int | None
    owner_name: str
    currency: str
    open_amount: Decimal = Decimal("0")
    weighted_amount: Decimal = Decimal("0")
    won_amount: Decimal = Decimal("0")
    deals: int = 0


@dataclass
class Forecast:
    rows: list[ForecastRow] = field(default_factory=list)
    months: list[dt.date] = field(default_factory=list)
    totals: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # per currency


def _month(value: dt.date) -> dt.date:
    return value.replace(day=1)


def forecast(
    *,
    tenant: Tenant,
    actor: Actor,
    start: dt.date,
    months: int = 6,
    pipeline_id: int | None = None,
    owner: str = "",
) -> Forecast:
    """Per month (from ``start``'s month, ``months`` of them), owner and currency: the open
    amount, the amount weighted by stage probability (rounded to the cent per deal) and
    the amount won. Open deals without an expected close date are left out (no month)."""
    access.require_read(actor)
    first = _month(start)
    end = first
    for _ in range(months):
        end = (end + dt.timedelta(days=32)).replace(day=1)
    base = Deal.objects.filter(tenant=tenant)
    if pipeline_id is not None:
        base = base.filter(pipeline_id=pipeline_id)
    if owner:
        base = base.filter(_owner_q(owner, actor))
    rows: dict[tuple[dt.date, int | None, str], ForecastRow] = {}
    names: dict[int | None, str] = {None: "Unassigned"}

    def row_for(month: dt.date, deal: Deal) -> ForecastRow:
        key = (month, deal.owner_id, deal.currency)
        if deal.owner_id not in names and deal.owner is not None:
            names[deal.owner_id] = deal.owner.display_name
        if key not in rows:
            rows[key] = ForecastRow(month, deal.owner_id, "", deal.currency)
        return rows[key]

    open_deals = base.filter(
        status=DealStatus.OPEN, expected_close_date__gte=first, expected_close_date__lt=end
    ).select_related("stage", "owner")
    for deal in open_deals:
        assert deal.expected_close_date is not None
        row = row_for(_month(deal.expected_close_date), deal)
        row.open_amount += deal.amount
        row.weighted_amount += (deal.amount * deal.stage.probability / 100).quantize(
            Decimal("0.01")
        )
        row.deals += 1
    won = base.filter(
        status=DealStatus.WON, closed_at__date__gte=first, closed_at__date__lt=end
    ).select_related("owner")
    for deal in won:
        assert deal.closed_at is not None
        row = row_for(_month(timezone.localtime(deal.closed_at).date()), deal)
        row.won_amount += deal.amount
        row.deals += 1
    result = Forecast()
    m = first
    while m < end:
        result.months.append(m)
        m = (m + dt.timedelta(days=32)).replace(day=1)
    for row in rows.values():
        row.owner_name = names.get(row.owner_id, "")
        cur = result.totals.setdefault(
            row.currency, {"open": Decimal("0"), "weighted": Decimal("0"), "won": Decimal("0")}
        )
        cur["open"] += row.open_amount
        cur["weighted"] += row.weighted_amount
        cur["won"] += row.won_amount
    result.rows = sorted(rows.values(), key=lambda r: (r.month, r.owner_name, r.currency))
    return result
