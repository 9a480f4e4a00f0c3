"""The demo data (``manage.py seed_demo``) includes one email inbox, once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.models import Inbox

pytestmark = pytest.mark.django_db


def test_the_demo_tenant_has_one_email_inbox(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", "--force", stdout=io.StringIO())
    call_command("seed_demo", "--force", stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo")
    with tenant_context(tenant):
        assert list(Inbox.objects.values_list("address", flat=True)) == ["support@demo.example"]
