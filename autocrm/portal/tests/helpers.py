"""Shared set-up of the help-centre tests: customers with their contact, tickets of theirs."""

from __future__ import annotations

from typing import Any

from django.test import Client

from autocrm.accounts.models import User
from autocrm.accounts.tests.factories import SYSTEM, member
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Company, Contact
from autocrm.crm.services import contact_get_or_create, contact_link_user
from autocrm.tickets.models import Ticket
from autocrm.tickets.tests.factories import ticket

# The help-centre name of the ``branded`` fixture (conftest.py).
BRAND = "Acme Support"

# A tiny valid PNG and PDF: the help centre accepts these types.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def customer(tenant: Tenant, name: str = "Cora Customer", company: Company | None = None) -> User:
    """A customer member with their contact linked (as a verified sign-up leaves them)."""
    user = member(tenant, "customer", name=name)
    with tenant_context(tenant):
        contact, _ = contact_get_or_create(tenant=tenant, actor=SYSTEM, email=user.email, name=name)
        contact_link_user(tenant=tenant, actor=SYSTEM, contact=contact, user=user)
        if company is not None:
            Contact.objects.filter(pk=contact.pk).update(company=company)
    return user


def ticket_of(tenant: Tenant, user: User, **overrides: Any) -> Ticket:
    """A ticket requested by ``user`` (created by the system, e.g. from their e-mail)."""
    with tenant_context(tenant):
        return ticket(tenant, requester_email=user.email, requester_name=user.name, **overrides)


def as_customer(tenant: Tenant, user: User) -> Actor:
    return Actor.for_user(user, role="customer", tenant_id=tenant.pk)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
