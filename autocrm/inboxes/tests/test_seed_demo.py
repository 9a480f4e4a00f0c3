"""The demo data (``manage.py seed_demo``) includes one email inbox, once."""

from __future__ import annotations

import pytest

from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.models import Inbox
from autocrm.testing.demo import seeded_demo_tenant

pytestmark = pytest.mark.django_db


def test_the_demo_tenant_has_one_email_inbox(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    tenant = seeded_demo_tenant()
    with tenant_context(tenant):
        assert list(Inbox.objects.values_list("address", flat=True)) == ["support@demo.example"]
