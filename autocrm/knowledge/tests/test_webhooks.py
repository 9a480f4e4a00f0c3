"""Article events reach webhooks: a subscription to ``kb.article.*`` receives the signed
deliveries of an article's creation, publication and archiving through the real worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge import services
from autocrm.knowledge.tests.factories import article
from autocrm.notifications import services as webhooks
from autocrm.notifications.signing import verify
from autocrm.notifications.tests.conftest import Receiver, allow_private, receiver
from autocrm.testing.worker import clear_jobs, run_worker_until_idle

__all__ = ["allow_private", "receiver"]

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


@pytest.fixture(autouse=True)
def _no_leftover_jobs() -> Iterator[None]:
    clear_jobs()
    yield
    clear_jobs()


def test_article_events_are_delivered_to_subscribed_webhooks(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    sub = webhooks.webhook_subscription_create(
        tenant=tenant_a, actor=SYSTEM, url=receiver.url, event_types=["kb.article.*"]
    )
    with tenant_context(tenant_a):
        created = article(tenant_a, title="Shipping times", state="draft")
        services.article_update(
            tenant=tenant_a, actor=SYSTEM, article=created, changes={"state": "published"}
        )
        services.article_update(
            tenant=tenant_a, actor=SYSTEM, article=created, changes={"state": "archived"}
        )
    run_worker_until_idle(queues=["events", "webhooks"])

    received = sorted(receiver.requests, key=lambda r: int(r.headers["X-AutoCRM-Delivery"]))
    types = [r.headers["X-AutoCRM-Event"] for r in received]
    assert {"kb.article.created", "kb.article.published", "kb.article.archived"} <= set(types)
    assert all(t.startswith("kb.article.") for t in types)  # nothing else matched the filter
    for request in received:
        verify(sub.secret, request.headers, request.body)
        body = json.loads(request.body)
        assert body["tenant"] == tenant_a.slug
        assert body["data"]["article_id"] == created.pk
        assert body["data"]["title"] == "Shipping times"
