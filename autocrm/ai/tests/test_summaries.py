from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.ai.models import LLMUsage
from autocrm.ai.services.summaries import SYSTEM_PROMPT, split_sentences, ticket_summary
from autocrm.ai.tests.factories import long_ticket
from autocrm.ai.tests.llm_server import FakeLLM
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.tests.factories import ticket


def test_sentences_skip_greetings_quotes_and_repeats() -> None:
    sentences = split_sentences(
        [
            ("customer", "Hi! My invoice shows the wrong amount of tax.\n> old quoted text here"),
            ("agent", "My invoice shows the wrong amount of tax. We will fix it today for you."),
        ]
    )
    assert [s.text for s in sentences] == [
        "My invoice shows the wrong amount of tax.",
        "We will fix it today for you.",
    ]


@pytest.mark.django_db
def test_without_an_llm_the_summary_is_the_key_sentences(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
        t = long_ticket(tenant_a)
        summary = ticket_summary(tenant=tenant_a, actor=actor_of(tenant_a, agent), ticket=t)
    assert summary.mode == "extractive"
    texts = [s.text for s in summary.sentences]
    assert 2 <= len(texts) <= 5
    # The request is always among them, and they keep the conversation's order.
    assert any("cracked screen on the tablet" in s for s in texts)
    order = [s.message_index for s in summary.sentences]
    assert order == sorted(order)
    assert all("thank you so much" not in s.lower() for s in texts)


@pytest.mark.django_db
def test_with_an_llm_the_summary_is_its_plain_text(tenant_a: Tenant, fake_llm: FakeLLM) -> None:
    fake_llm.reply = lambda messages: "Tablet arrived cracked; replacement ships tomorrow."
    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
        t = long_ticket(tenant_a)
        summary = ticket_summary(tenant=tenant_a, actor=actor_of(tenant_a, agent), ticket=t)
        usage = LLMUsage.objects.get(tenant=tenant_a, feature="summary")
    assert summary.mode == "llm"
    assert summary.text == "Tablet arrived cracked; replacement ships tomorrow."
    assert usage.calls == 1 and usage.prompt_tokens == 100
    sent = fake_llm.requests[0]["body"]["messages"]
    assert sent[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert sent[1]["content"].startswith("<ticket>\nSubject: Tablet arrived broken")
    assert "approve the replacement without a return" in sent[1]["content"]  # agents' notes


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["error", "garbage", "slow", "empty"])
def test_an_llm_that_fails_gives_the_extractive_summary(
    tenant_a: Tenant, fake_llm: FakeLLM, mode: str
) -> None:
    fake_llm.mode = mode
    fake_llm.slow_seconds = 2.0
    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
        t = long_ticket(tenant_a)
        summary = ticket_summary(tenant=tenant_a, actor=actor_of(tenant_a, agent), ticket=t)
        usage = LLMUsage.objects.get(tenant=tenant_a, feature="summary")
    assert summary.mode == "extractive" and summary.sentences
    assert usage.failures == 1


@pytest.mark.django_db
def test_the_summary_in_the_ticket_panel(
    tenant_a: Tenant, tenant_b: Tenant, client: Client
) -> None:
    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
        t = long_ticket(tenant_a)
    with tenant_context(tenant_b):
        other = ticket(tenant_b, subject="Globex only", body="A ticket of another tenant.")
    client.force_login(agent)
    page = client.get(reverse("workspace:agent_ticket", args=[tenant_a.slug, t.number]))
    url = reverse("workspace:ai_summary", args=[tenant_a.slug, t.number])
    assert f'hx-post="{url}"' in page.content.decode()
    assert client.get(url).status_code == 405
    answer = client.post(url, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'data-ai-summary="extractive"' in html
    assert "cracked screen on the tablet" in html
    # Another tenant's tickets are not found here (its number is not one of ours).
    missing = reverse("workspace:ai_summary", args=[tenant_a.slug, other.number + t.number])
    assert client.post(missing).status_code == 404
