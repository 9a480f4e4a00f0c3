"""The AI dashboard's numbers for one tenant (issue 15, feature 7): how often triage agreed
with what agents finally chose, the review queue, suggested replies' acceptance and edit
distance, the help-centre assistant's deflection (conversations answered without a hand-off
vs handed to a person), latency, and LLM tokens and cost against the monthly budget.

"What agents finally chose" is, for a reviewed suggestion, the reviewer's values (accepted:
the suggestion itself; corrected: the agent's values); for a suggestion applied without
review, the ticket's own values once it is solved or closed (an agent who changed the
category while working the ticket corrected triage). Dismissed suggestions and tickets
still open are not counted: nobody has said what the right answer was.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Avg, Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from autocrm.ai import events as ai_events
from autocrm.ai import histogram
from autocrm.ai.models import DraftState, LLMUsage, ReplyDraft, TriageResult, TriageState
from autocrm.ai.services.usage import llm_monthly_budget
from autocrm.core.actors import STAFF, Actor
from autocrm.core.models import Tenant
from autocrm.tickets.models import Status

FIELDS = ("category", "priority", "team_id", "assignee_id")
# Rows read to compare suggestions with final values (the newest first).
MAX_COMPARED = 20_000
MONTHS_SHOWN = 6
BAR_STEP = 40  # SVG units per bar (30 wide, 10 apart)
CHART_SLOTS = 6


@dataclass
class Segment:
    """One part of a stacked bar (bottom first); geometry filled in by _scale."""

    value: float
    css: str  # the class that colours it (and names it in the legend)
    height: float = 0.0
    y: float = 100.0


@dataclass
class Bar:
    label: str
    value: float
    display: str
    # Geometry of the bar in the chart's 0..100-high SVG, filled in by _scale.
    height: float = 0.0
    x: int = 0
    y: float = 100.0
    segments: list[Segment] = field(default_factory=list)
    empty: bool = False  # a day or week without data (drawn as nothing, not listed)


@dataclass
class Chart:
    bars: list[Bar]
    width: int  # of the SVG's viewBox


@dataclass
class Dashboard:
    days: int
    triage_total: int
    triage_by_state: dict[str, int]
    review_queue: int
    out_of_scope: int
    # field -> {"compared": n, "agreed": n, "accuracy": 0..1 or None}
    accuracy: dict[str, dict[str, Any]]
    accuracy_weekly: Chart
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_daily: Chart
    drafts: dict[str, int]
    # Help-centre assistant: conversations (one per visitor session until a hand-off) that
    # were answered and not handed off, handed off, or neither (only "I don't know").
    chatbot: dict[str, int]
    deflection: float | None
    chatbot_over_time: Chart
    draft_acceptance: float | None
    draft_edit_distance: float | None
    usage_month: list[dict[str, Any]]
    spent_month: Decimal
    budget_month: Decimal | None
    budget_used: float | None
    cost_monthly: Chart
    # Per day (per week beyond a month): the p95 latency of the calls that answered (p50 in
    # each bar's label), and cost (with tokens and calls in each bar's label).
    llm_latency_over_time: Chart
    llm_cost_over_time: Chart


def _final_of(row: dict[str, Any]) -> dict[str, str] | None:
    if row["state"] in (TriageState.ACCEPTED, TriageState.CORRECTED):
        return {f: str(v) for f, v in (row["final_values"] or {}).items()}
    if row["state"] == TriageState.APPLIED and row["ticket__status"] in (
        Status.SOLVED,
        Status.CLOSED,
    ):
        values = {
            "category": (row["ticket__custom_fields"] or {}).get("category"),
            "priority": row["ticket__priority"],
            "team_id": row["ticket__team_id"],
            "assignee_id": row["ticket__assignee_id"],
        }
        return {f: str(v) for f, v in values.items() if v not in (None, "")}
    return None


def triage_accuracy(
    rows: list[dict[str, Any]],
) -> tuple[dict[str, dict[str, Any]], dict[dt.date, list[int]]]:
    """Per field: suggestions compared with final values and how many agreed; and per week
    (of the primary field) [compared, agreed]."""
    counts = {f: [0, 0] for f in FIELDS}
    weekly: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        final = _final_of(row)
        if final is None:
            continue
        suggestions = row["suggestions"] or {}
        primary = "category" if "category" in suggestions else next(iter(suggestions), None)
        for name, suggestion in suggestions.items():
            if name not in counts or name not in final:
                continue
            agreed = str(suggestion["value"]) == final[name]
            counts[name][0] += 1
            counts[name][1] += int(agreed)
            if name == primary:
                week = row["week"].astimezone(dt.UTC).date()
                weekly[week][0] += 1
                weekly[week][1] += int(agreed)
    return (
        {
            f: {"compared": n, "agreed": ok, "accuracy": (ok / n) if n else None}
            for f, (n, ok) in counts.items()
        },
        weekly,
    )


def _scale(bars: list[Bar], top: float | None = None) -> Chart:
    peak = max(top or 0.0, max((b.value for b in bars), default=0.0))
    for i, bar in enumerate(bars):
        bar.height = round(100 * bar.value / peak, 1) if peak else 0.0
        bar.x = i * BAR_STEP
        bar.y = round(100 - bar.height, 1)
        bottom = 100.0
        for part in bar.segments:
            part.height = round(100 * part.value / peak, 1) if peak else 0.0
            bottom = round(bottom - part.height, 1)
            part.y = bottom
    # At least CHART_SLOTS bars wide, so one month's bar is a bar, not a block.
    return Chart(bars, max(CHART_SLOTS, len(bars)) * BAR_STEP - (BAR_STEP - 30))


def _buckets(since: dt.datetime, now: dt.datetime, unit: str) -> list[dt.date]:
    """Every day (or week, from its Monday) of the period, so a chart shows the quiet days
    too and its width is the period, not the days that had data."""
    first = since.astimezone(dt.UTC).date()
    last = now.astimezone(dt.UTC).date()
    if unit == "week":
        first -= dt.timedelta(days=first.weekday())
    step = dt.timedelta(days=7 if unit == "week" else 1)
    days = []
    while first <= last:
        days.append(first)
        first += step
    return days


def _month_start(day: dt.date, back: int) -> dt.date:
    year, month = day.year, day.month - back
    while month <= 0:
        year, month = year - 1, month + 12
    return dt.date(year, month, 1)


def ai_dashboard(*, tenant: Tenant, actor: Actor, days: int = 30) -> Dashboard:
    if actor.role not in STAFF:
        raise PermissionDenied("The AI dashboard is for staff.")
    now = timezone.now()
    since = now - dt.timedelta(days=days)
    results = TriageResult.objects.filter(tenant=tenant, created_at__gte=since)
    by_state = dict(results.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in results.exclude(state__in=[TriageState.UNTRAINED, TriageState.REVIEW])
        .annotate(week=TruncWeek("created_at"))
        .order_by("-created_at")
        .values(
            "state",
            "suggestions",
            "final_values",
            "week",
            "ticket__status",
            "ticket__priority",
            "ticket__team_id",
            "ticket__assignee_id",
            "ticket__custom_fields",
        )[:MAX_COMPARED]
    ]
    accuracy, weekly = triage_accuracy(rows)
    accuracy_weekly = _scale(
        [
            Bar(f"{week:%d %b}", ok / n, f"{100 * ok / n:.0f}% of {n}")
            if n
            else Bar(f"{week:%d %b}", 0.0, "nothing compared", empty=True)
            for week, (n, ok) in (
                (week, weekly.get(week, (0, 0))) for week in _buckets(since, now, "week")
            )
        ],
        top=1.0,
    )
    latency = _latency(tenant, since)
    p95_by_day = {row["day"]: row["p95"] for row in _daily_latency(tenant, since)}
    daily = _scale(
        [
            Bar(f"{day:%d %b}", p95_by_day[day], f"{p95_by_day[day]:.0f} ms")
            if day in p95_by_day
            else Bar(f"{day:%d %b}", 0.0, "no tickets", empty=True)
            for day in _buckets(since, now, "day")
        ]
    )
    drafts = dict(
        ReplyDraft.objects.filter(tenant=tenant, created_at__gte=since)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    decided = sum(drafts.get(s, 0) for s in (DraftState.ACCEPTED, DraftState.EDITED))
    decided_all = decided + drafts.get(DraftState.REJECTED, 0)
    edit = ReplyDraft.objects.filter(
        tenant=tenant, created_at__gte=since, state=DraftState.EDITED
    ).aggregate(mean=Avg("edit_distance"))["mean"]
    unit = "day" if days <= 31 else "week"
    chatbot, by_bucket = _chatbot_conversations(tenant, since, unit)
    nothing = {"deflected": 0, "handed_off": 0, "unanswered": 0, "total": 0}
    chatbot_rows: list[dict[str, Any]] = [
        {"bucket": bucket, **by_bucket.get(bucket, nothing)}
        for bucket in _buckets(since, now, unit)
    ]
    chatbot_over_time = _scale(
        [
            Bar(
                f"{row['bucket']:%d %b}",
                row["total"],
                f"{row['deflected']} answered, {row['handed_off']} handed off"
                + (f", {row['unanswered']} not answered" if row["unanswered"] else ""),
                segments=[
                    Segment(row["deflected"], "ai-bar-deflected"),
                    Segment(row["handed_off"], "ai-bar-handed-off"),
                    Segment(row["unanswered"], "ai-bar-unanswered"),
                ],
                empty=not row["total"],
            )
            for row in chatbot_rows
        ]
    )
    month = now.astimezone(dt.UTC).date().replace(day=1)
    usage_month = _usage_this_month(tenant, month)
    spent = sum((row["cost"] for row in usage_month), Decimal(0))
    budget = llm_monthly_budget(tenant)
    first_month = _month_start(month, MONTHS_SHOWN - 1)
    by_day = _usage_summed(tenant, "day", min(first_month, since.astimezone(dt.UTC).date()))
    monthly: dict[dt.date, Decimal] = defaultdict(Decimal)
    for day, row in by_day.items():
        monthly[day.replace(day=1)] += row["cost"]
    cost_monthly = _scale(
        [
            Bar(f"{m:%b %Y}", float(monthly.get(m, 0)), f"${monthly.get(m, Decimal(0)):.2f}")
            for m in (_month_start(month, back) for back in range(MONTHS_SHOWN - 1, -1, -1))
        ],
        top=float(budget) if budget else None,
    )
    llm_latency, llm_cost = _llm_over_time(by_day, _buckets(since, now, unit), unit)
    return Dashboard(
        days=days,
        triage_total=sum(by_state.values()),
        triage_by_state=by_state,
        review_queue=TriageResult.objects.filter(tenant=tenant, state=TriageState.REVIEW).count(),
        out_of_scope=results.filter(in_scope=False).count(),
        accuracy=accuracy,
        accuracy_weekly=accuracy_weekly,
        latency_p50_ms=latency[0],
        latency_p95_ms=latency[1],
        latency_daily=daily,
        drafts=drafts,
        draft_acceptance=(decided / decided_all) if decided_all else None,
        draft_edit_distance=float(edit) if edit is not None else None,
        chatbot=chatbot,
        deflection=(chatbot["deflected"] / chatbot["conversations"])
        if chatbot["conversations"]
        else None,
        chatbot_over_time=chatbot_over_time,
        usage_month=usage_month,
        spent_month=spent,
        budget_month=budget,
        budget_used=float(spent / budget) if budget else None,
        cost_monthly=cost_monthly,
        llm_latency_over_time=llm_latency,
        llm_cost_over_time=llm_cost,
    )


_USAGE_COUNTS = (
    "calls",
    "failures",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "latency_ms_total",
)


def _usage_add(into: dict[str, Any] | None, row: dict[str, Any]) -> dict[str, Any]:
    """``row``'s counters added to ``into`` (a new sum when None); histograms add per bucket."""
    if into is None:
        into = dict.fromkeys(_USAGE_COUNTS, 0) | {"latency_histogram": histogram.empty()}
    for key in _USAGE_COUNTS:
        into[key] += row[key]
    into["latency_histogram"] = histogram.summed(
        [into["latency_histogram"], row["latency_histogram"]]
    )
    return into


def _usage_summed(tenant: Tenant, by: str, first: dt.date) -> dict[Any, dict[str, Any]]:
    """LLM usage since ``first`` summed per ``by`` (feature or day), in its order. Summed in
    Python: at most a row per feature and day, and SQL has no sum of arrays per element."""
    sums: dict[Any, dict[str, Any]] = {}
    for row in (
        LLMUsage.objects.filter(tenant=tenant, day__gte=first)
        .order_by(by)
        .values(by, *_USAGE_COUNTS, "latency_histogram")
    ):
        key = row.pop(by)
        sums[key] = _usage_add(sums.get(key), row)
    return sums


def _usage_this_month(tenant: Tenant, month: dt.date) -> list[dict[str, Any]]:
    """This month's LLM usage by feature (the sum of its days)."""
    rows = []
    for feature, row in _usage_summed(tenant, "feature", month).items():
        row["feature"] = feature
        row["tokens"] = row["prompt_tokens"] + row["completion_tokens"]
        row["latency_ms"] = row["latency_ms_total"] / max(1, row["calls"] - row["failures"])
        row["latency_p95_ms"] = histogram.quantile(row["latency_histogram"], 0.95)
        rows.append(row)
    return rows


def _latency_bar(label: str, row: dict[str, Any], failed: str) -> Bar:
    """The p95 of the bucket's calls that answered (p50 in the label); days recorded before
    the histogram was kept show their mean."""
    answered = row["calls"] - row["failures"]
    counted = sum(row["latency_histogram"])
    if counted:
        p95 = histogram.quantile(row["latency_histogram"], 0.95) or 0.0
        p50 = histogram.quantile(row["latency_histogram"], 0.5) or 0.0
        return Bar(label, p95, f"p95 {p95:.0f} ms, p50 {p50:.0f} ms of {counted} calls{failed}")
    mean = row["latency_ms_total"] / answered if answered else 0.0
    return Bar(label, mean, f"{mean:.0f} ms mean of {answered} calls{failed}", empty=not answered)


def _llm_over_time(
    by_day: dict[dt.date, dict[str, Any]], buckets: list[dt.date], unit: str
) -> tuple[Chart, Chart]:
    """LLM latency (p95) and the cost per bucket (day, or week from its Monday)."""
    sums: dict[dt.date, dict[str, Any]] = {}
    for day, row in by_day.items():
        bucket = day - dt.timedelta(days=day.weekday()) if unit == "week" else day
        sums[bucket] = _usage_add(sums.get(bucket), row)
    latency, cost = [], []
    for bucket in buckets:
        label = f"{bucket:%d %b}"
        if bucket not in sums or not sums[bucket]["calls"]:
            latency.append(Bar(label, 0.0, "no calls", empty=True))
            cost.append(Bar(label, 0.0, "no calls", empty=True))
            continue
        row = sums[bucket]
        failed = f", {row['failures']} failed" if row["failures"] else ""
        latency.append(_latency_bar(label, row, failed))
        tokens = row["prompt_tokens"] + row["completion_tokens"]
        cost.append(
            Bar(
                label,
                float(row["cost"]),
                f"${row['cost']:.4f}, {tokens:,} tokens, {row['calls']} calls{failed}",
            )
        )
    return _scale(latency), _scale(cost)


def _latency(tenant: Tenant, since: dt.datetime) -> tuple[float | None, float | None]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),"
            " percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)"
            " FROM ai_triageresult WHERE tenant_id = %s AND created_at >= %s",
            [tenant.pk, since],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (None, None)


def _daily_latency(tenant: Tenant, since: dt.datetime) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc('day', created_at AT TIME ZONE 'UTC') AS day,"
            " percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)"
            " FROM ai_triageresult WHERE tenant_id = %s AND created_at >= %s"
            " GROUP BY 1 ORDER BY 1",
            [tenant.pk, since],
        )
        return [{"day": day.date(), "p95": float(p95)} for day, p95 in cursor.fetchall()]


# Conversations of the assistant (its events share the conversation as subject), each with
# the time of its first event and its outcome; then counted per day or week, in SQL.
_CHATBOT_SQL = """
WITH conversation AS (
    SELECT min(created_at) AS started,
           bool_or(type IN (%(handed_off)s, %(requested)s)) AS handed_off,
           bool_or(type = %(answered)s AND payload @> '{"answered": true}') AS answered
    FROM core_event
    WHERE tenant_id = %(tenant)s AND subject_type = %(subject_type)s
      AND type IN (%(answered)s, %(handed_off)s, %(requested)s) AND created_at >= %(since)s
    GROUP BY subject_id
)
SELECT date_trunc(%(unit)s, started AT TIME ZONE 'UTC') AS bucket,
       count(*) FILTER (WHERE answered AND NOT handed_off),
       count(*) FILTER (WHERE handed_off),
       count(*) FILTER (WHERE NOT answered AND NOT handed_off)
FROM conversation GROUP BY 1 ORDER BY 1
"""


def _chatbot_conversations(
    tenant: Tenant, since: dt.datetime, unit: str
) -> tuple[dict[str, int], dict[dt.date, dict[str, int]]]:
    """Totals ({conversations, deflected, handed_off, unanswered}) and the same per day or
    week that had any. Deflected: the assistant answered and nobody asked for a person."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CHATBOT_SQL,
            {
                "tenant": tenant.pk,
                "subject_type": ai_events.CHATBOT_CONVERSATION,
                "answered": ai_events.CHATBOT_ANSWERED,
                "handed_off": ai_events.CHATBOT_HANDED_OFF,
                # Asked for a person (a visitor's request waits for its confirmation).
                "requested": ai_events.CHATBOT_HANDOFF_REQUESTED,
                "since": since,
                "unit": unit,
            },
        )
        rows = [
            {
                "bucket": bucket.date(),
                "deflected": deflected,
                "handed_off": handed_off,
                "unanswered": unanswered,
                "total": deflected + handed_off + unanswered,
            }
            for bucket, deflected, handed_off, unanswered in cursor.fetchall()
        ]
    totals = {
        key: sum(row[key] for row in rows) for key in ("deflected", "handed_off", "unanswered")
    }
    totals["conversations"] = sum(totals.values())
    return totals, {row.pop("bucket"): row for row in rows}
