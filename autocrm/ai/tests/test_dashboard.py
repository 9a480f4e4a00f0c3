from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.ai import histogram
from autocrm.ai.dashboard import ai_dashboard
from autocrm.ai.models import AISettings, LLMUsage, TriageResult, TriageState
from autocrm.ai.services.usage import llm_chat, llm_spent_this_month
from autocrm.ai.tests.factories import category_field, chatbot_conversation, draft, triaged
from autocrm.ai.tests.llm_server import FakeLLM
from autocrm.core.actors import Actor
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context

# Session, user, membership and tenant lookups, the navigation's counts, then the dashboard's
# own: triage by state, compared rows, review queue, out of scope, latency (2), drafts (2),
# assistant conversations, usage this month, budget, usage per day.
DASHBOARD_QUERY_BUDGET = 25


@pytest.fixture
def history(tenant_a: Tenant) -> Tenant:
    with tenant_context(tenant_a):
        category_field(tenant_a)
        solved = {"status": "solved"}
        # Applied and kept / applied then changed by an agent before solving.
        triaged(tenant_a, "applied", "refund", custom_fields={"category": "refund"}, **solved)
        triaged(tenant_a, "applied", "refund", custom_fields={"category": "shipping"}, **solved)
        # Applied, ticket still open: nobody has confirmed it yet, not counted.
        triaged(tenant_a, "applied", "refund", custom_fields={"category": "billing"})
        # Reviewed: accepted / corrected; dismissed and waiting are not counted.
        triaged(tenant_a, "accepted", "shipping", final="shipping")
        triaged(tenant_a, "corrected", "shipping", final="refund")
        triaged(tenant_a, "dismissed", "billing")
        triaged(tenant_a, "review", "billing")
        draft(tenant_a, "accepted")
        draft(tenant_a, "edited", edit_distance=12)
        draft(tenant_a, "rejected")
        draft(tenant_a, "rejected")
        draft(tenant_a, "suggested")
        # Assistant: answered twice (deflected), answered then handed off, "I don't know"
        # then handed off, "I don't know" and left.
        chatbot_conversation(tenant_a, "s1", [True, True])
        chatbot_conversation(tenant_a, "s2", [True], handed_off=True)
        chatbot_conversation(tenant_a, "s3", [False], handed_off=True)
        chatbot_conversation(tenant_a, "s4", [False])
        AISettings.objects.create(tenant=tenant_a, llm_monthly_budget=Decimal("10.00"))
        LLMUsage.objects.create(
            tenant=tenant_a,
            day=timezone.now().date(),
            feature="summary",
            calls=4,
            failures=1,
            prompt_tokens=3000,
            completion_tokens=500,
            cost=Decimal("1.5"),
            latency_ms_total=900.0,
        )
    return tenant_a


@pytest.mark.django_db
def test_triage_accuracy_counts_only_suggestions_with_a_final_value(
    history: Tenant, tenant_b: Tenant
) -> None:
    with tenant_context(tenant_b):  # another tenant's results never count here
        triaged(tenant_b, "accepted", "refund", final="refund")
    with tenant_context(history):
        agent = member(history, "agent")
        d = ai_dashboard(tenant=history, actor=actor_of(history, agent), days=30)
    assert d.accuracy["category"] == {"compared": 4, "agreed": 2, "accuracy": 0.5}
    assert d.accuracy["priority"]["compared"] == 0
    assert d.review_queue == 1
    assert d.triage_total == 7
    assert d.triage_by_state[TriageState.APPLIED] == 3
    # Every week of the period is a bar (quiet ones at zero); this week's is 50 %.
    assert [b.value for b in d.accuracy_weekly.bars][-1] == 0.5
    assert len(d.accuracy_weekly.bars) in (5, 6)
    assert all(b.value == 0 for b in d.accuracy_weekly.bars[:-1])
    assert d.draft_acceptance == 0.5  # 2 sent (one edited) of 4 decided
    assert d.draft_edit_distance == 12
    assert d.spent_month == Decimal("1.5") and d.budget_month == Decimal("10.00")
    assert d.budget_used == pytest.approx(0.15)
    assert d.usage_month[0]["tokens"] == 3500
    assert d.usage_month[0]["latency_ms"] == pytest.approx(300.0)
    # The cost chart is scaled to the budget: this month's bar is 15 % high.
    assert d.cost_monthly.bars[-1].height == pytest.approx(15.0)
    # Today's LLM latency (3 calls answered) and cost, on charts of one bar per day.
    assert len(d.llm_latency_over_time.bars) == len(d.llm_cost_over_time.bars) == 31
    assert d.llm_latency_over_time.bars[-1].display == "300 ms mean of 3 calls, 1 failed"
    assert d.llm_cost_over_time.bars[-1].display == "$1.5000, 3,500 tokens, 4 calls, 1 failed"
    assert d.llm_cost_over_time.bars[0].empty
    assert d.latency_p95_ms == pytest.approx(12.0)
    assert d.latency_daily.bars[-1].display == "12 ms"
    assert d.latency_daily.bars[0].display == "no tickets"
    assert d.chatbot == {"conversations": 4, "deflected": 1, "handed_off": 2, "unanswered": 1}
    assert d.deflection == 0.25
    assert len(d.chatbot_over_time.bars) == 31  # one bar per day of the period
    today = d.chatbot_over_time.bars[-1]  # stacked by outcome
    assert [part.value for part in today.segments] == [1, 2, 1]
    assert [part.height for part in today.segments] == [25.0, 50.0, 25.0]
    assert [part.y for part in today.segments] == [75.0, 25.0, 0.0]


@pytest.mark.django_db
def test_old_results_fall_out_of_the_period(history: Tenant) -> None:
    with tenant_context(history):
        TriageResult.objects.update(created_at=timezone.now() - dt.timedelta(days=40))
        Event.objects.filter(subject_type="ai.chatbot").update(
            created_at=timezone.now() - dt.timedelta(days=40)
        )
        agent = member(history, "agent")
        d = ai_dashboard(tenant=history, actor=actor_of(history, agent), days=30)
    assert d.triage_total == 0 and d.accuracy["category"]["compared"] == 0
    assert d.chatbot["conversations"] == 0 and d.deflection is None
    assert d.review_queue == 1  # the queue is what waits now, whatever its age


@pytest.mark.django_db
def test_the_dashboard_page(history: Tenant, client: Client) -> None:
    with tenant_context(history):
        agent = member(history, "agent")
    client.force_login(agent)
    url = reverse("workspace:ai_dashboard", args=[history.slug])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-ai-accuracy>50%<" in html
    assert "data-ai-review-queue>1<" in html
    assert "data-ai-drafts>50%<" in html
    assert "$1.50" in html and "15% used" in html
    assert "data-ai-deflection>25%<" in html
    assert f'href="{url}"' in html  # reachable from the workspace navigation
    assert client.get(url, {"days": "oops"}).status_code == 200
    assert client.get(url, {"days": "7"}).status_code == 200


@pytest.mark.django_db
def test_customers_do_not_see_the_dashboard(history: Tenant, client: Client) -> None:
    with tenant_context(history):
        customer = member(history, "customer")
    client.force_login(customer)
    page = client.get(reverse("workspace:ai_dashboard", args=[history.slug]))
    assert page.status_code in (302, 403, 404)


@pytest.mark.django_db
def test_the_dashboard_costs_the_same_queries_for_little_and_much_history(
    history: Tenant, tenant_b: Tenant, client: Client
) -> None:
    def queries(tenant: Tenant) -> int:
        with tenant_context(tenant):
            agent = member(tenant, "agent")
        client.force_login(agent)
        url = reverse("workspace:ai_dashboard", args=[tenant.slug])
        assert client.get(url).status_code == 200  # warm-up: per-process caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    with tenant_context(tenant_b):  # one of everything
        category_field(tenant_b)
        triaged(tenant_b, "accepted", "refund", final="refund")
        draft(tenant_b, "edited", edit_distance=3)
        chatbot_conversation(tenant_b, "b1", [True])
    little = queries(tenant_b)
    with tenant_context(history):  # more of everything, over more states
        for n in range(5):
            chatbot_conversation(history, f"more{n}", [True, False], handed_off=n % 2 == 0)
            triaged(history, "applied", "refund", custom_fields={"category": "refund"})
    much = queries(history)
    assert little == much, f"{little} queries for little history, {much} for much"
    assert much <= DASHBOARD_QUERY_BUDGET, f"{much} queries (budget {DASHBOARD_QUERY_BUDGET})"


@pytest.mark.django_db
def test_llm_latency_is_charted_as_a_p95_from_each_calls_bucket(
    tenant_a: Tenant, fake_llm: FakeLLM
) -> None:
    """Eighteen quick answers and two slow ones through the local server: the day's p95 and
    p50 fall in the buckets of the calls they rank (what each call measured), a week's bar
    counts the same calls, and so does this month's row of the feature."""
    actor = Actor.system("tests")
    measured = []
    with tenant_context(tenant_a):
        for delay in [0.0] * 18 + [0.6] * 2:
            fake_llm.delay_seconds = delay
            result = llm_chat(
                tenant=tenant_a,
                actor=actor,
                feature="reply",
                messages=[{"role": "user", "content": "hi"}],
            )
            measured.append(result.latency_ms)
        [usage] = LLMUsage.objects.all()
        agent = actor_of(tenant_a, member(tenant_a, "agent"))
        daily = ai_dashboard(tenant=tenant_a, actor=agent, days=7)
        weekly = ai_dashboard(tenant=tenant_a, actor=agent, days=90)
    assert sum(usage.latency_histogram) == 20 and usage.calls == 20
    today = daily.llm_latency_over_time.bars[-1]
    found = re.fullmatch(r"p95 (\d+) ms, p50 (\d+) ms of 20 calls", today.display)
    assert found, today.display
    measured.sort()

    def bucket_around(ms: float) -> tuple[float, float]:
        at = histogram.bucket_of(ms)
        return (histogram.BOUNDS_MS[at - 1] if at else 0), histogram.BOUNDS_MS[at]

    # Rank 19 of 20 is the 19th slowest call's bucket, rank 10 the 10th's.
    low, high = bucket_around(measured[18])
    assert low <= today.value <= high and low - 1 <= int(found[1]) <= high
    low, high = bucket_around(measured[9])
    assert low - 1 <= int(found[2]) <= high
    assert int(found[2]) < today.value
    assert weekly.llm_latency_over_time.bars[-1].value == pytest.approx(today.value)
    [month] = daily.usage_month
    assert month["latency_p95_ms"] == pytest.approx(today.value)
    assert month["latency_ms"] == pytest.approx(sum(measured) / 20)


@pytest.mark.django_db
def test_llm_latency_and_cost_are_charted_per_day(
    tenant_a: Tenant, tenant_b: Tenant, fake_llm: FakeLLM, client: Client
) -> None:
    """Calls through the local OpenAI-compatible server are counted on their day; older days
    keep theirs; a month's spend is the sum of its days; another tenant's calls never show."""
    actor = Actor.system("tests")
    with tenant_context(tenant_a):
        for feature in ("reply", "reply", "summary"):
            llm_chat(
                tenant=tenant_a,
                actor=actor,
                feature=feature,
                messages=[{"role": "user", "content": "hi"}],
            )
        today = timezone.now().date()
        three_days_ago = today - dt.timedelta(days=3)
        LLMUsage.objects.create(
            tenant=tenant_a,
            day=three_days_ago,
            feature="reply",
            calls=2,
            prompt_tokens=1000,
            completion_tokens=200,
            cost=Decimal("0.25"),
            latency_ms_total=3000.0,
        )
        agent = member(tenant_a, "agent")
        d = ai_dashboard(tenant=tenant_a, actor=actor_of(tenant_a, agent), days=7)
        calls = dict(LLMUsage.objects.values_list("day").annotate(n=Sum("calls")))
        if three_days_ago.month == today.month:
            assert llm_spent_this_month(tenant_a) == Decimal("0.250420")
    assert calls == {today: 3, three_days_ago: 2}  # one row per day and feature
    latency, cost = d.llm_latency_over_time.bars, d.llm_cost_over_time.bars
    assert [b.label for b in latency] == [
        f"{today - dt.timedelta(days=n):%d %b}" for n in range(7, -1, -1)
    ]
    assert latency[-1].value > 0  # measured per call
    assert latency[-1].display.startswith("p95 ") and latency[-1].display.endswith("of 3 calls")
    assert cost[-1].display == "$0.0004, 360 tokens, 3 calls"
    assert latency[-4].display == "1500 ms mean of 2 calls"
    assert cost[-4].display == "$0.2500, 1,200 tokens, 2 calls"
    assert cost[-4].height == 100.0 and 0 < cost[-1].height < 1
    assert all(b.empty for i, b in enumerate(cost) if i not in (len(cost) - 4, len(cost) - 1))
    with tenant_context(tenant_b):
        other = ai_dashboard(
            tenant=tenant_b, actor=actor_of(tenant_b, member(tenant_b, "agent")), days=7
        )
    assert all(b.empty for b in other.llm_cost_over_time.bars)
    client.force_login(agent)
    html = client.get(
        reverse("workspace:ai_dashboard", args=[tenant_a.slug]), {"days": "7"}
    ).content.decode()
    assert "LLM latency per day" in html and "LLM cost per day" in html
    assert "$0.2500, 1,200 tokens, 2 calls" in html
    # Over 90 days the series are weekly.
    assert (
        "LLM cost per week"
        in client.get(
            reverse("workspace:ai_dashboard", args=[tenant_a.slug]), {"days": "90"}
        ).content.decode()
    )
