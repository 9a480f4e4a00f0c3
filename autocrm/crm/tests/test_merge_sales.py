"""Merging contacts and companies moves their deals and activities too (nothing lost):
the merge walks the model registry, so the sales records join without a list to extend."""

from __future__ import annotations

import pytest

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Activity, Deal
from autocrm.crm.services import company_merge, contact_merge
from autocrm.crm.services.merge import references_to
from autocrm.crm.tests.factories import activity, company, contact, deal, pipeline

pytestmark = pytest.mark.django_db


def test_a_contact_merge_moves_deals_and_activities(tenant_a: Tenant) -> None:
    pipeline(tenant_a)
    keep = contact(tenant_a, email="pat@example.com", name="Pat Doe")
    dup = contact(tenant_a, email="pat.doe@example.com", name="Pat Doe")
    order = deal(tenant_a, title="Order", contact_id=dup.pk)
    call = activity(tenant_a, kind="call", subject="Call", contact_id=dup.pk, deal_id=order.pk)
    with tenant_context(tenant_a):
        contact_merge(tenant=tenant_a, actor=SYSTEM, keep=keep, duplicate=dup)
        assert Deal.objects.get(pk=order.pk).contact_id == keep.pk
        assert Activity.objects.get(pk=call.pk).contact_id == keep.pk
        assert all(
            not model._default_manager.filter(**{field: dup.pk}).exists()
            for model, field in references_to(type(keep))
        )
        merged = Event.objects.get(type="contact.merged")
    moved = merged.payload["moved"]
    assert moved.get("crm.deal.contact") == 1 and moved.get("crm.activity.contact") == 1


def test_a_company_merge_moves_deals_and_activities(tenant_a: Tenant) -> None:
    pipeline(tenant_a)
    keep, dup = company(tenant_a, name="Initech"), company(tenant_a, name="Initech Inc")
    order = deal(tenant_a, title="Order", company_id=dup.pk)
    visit = activity(tenant_a, kind="meeting", subject="Visit", company_id=dup.pk)
    with tenant_context(tenant_a):
        company_merge(tenant=tenant_a, actor=SYSTEM, keep=keep, duplicate=dup)
        assert Deal.objects.get(pk=order.pk).company_id == keep.pk
        assert Activity.objects.get(pk=visit.pk).company_id == keep.pk
