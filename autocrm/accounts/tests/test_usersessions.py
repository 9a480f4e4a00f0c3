"""Session activity: recorded at most once per interval, at once when the client changes."""

from __future__ import annotations

from datetime import datetime

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client, override_settings

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant

pytestmark = pytest.mark.django_db


def last_seen(user_pk: int) -> datetime:
    return UserSession.objects.get(user_id=user_pk).last_seen_at


@override_settings(USERSESSIONS_ACTIVITY_SECONDS=3600)
def test_activity_is_written_once_per_interval_and_when_the_browser_changes(
    tenant_a: Tenant,
) -> None:
    user = member(tenant_a, "agent")
    client = Client(HTTP_USER_AGENT="Browser/1")
    client.force_login(user)
    client.get("/acme/")
    first = last_seen(user.pk)
    client.get("/acme/")
    client.get("/api/v1/tickets", headers={"X-Tenant": "acme"})
    assert last_seen(user.pk) == first  # within the interval: not written again
    client.get("/acme/", headers={"User-Agent": "Browser/2"})
    session = UserSession.objects.get(user_id=user.pk)
    assert session.user_agent == "Browser/2"
    assert session.last_seen_at > first


@override_settings(USERSESSIONS_ACTIVITY_SECONDS=0)
def test_with_no_interval_every_request_is_recorded(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    client = Client()
    client.force_login(user)
    client.get("/acme/")
    first = last_seen(user.pk)
    client.get("/acme/")
    assert last_seen(user.pk) > first
