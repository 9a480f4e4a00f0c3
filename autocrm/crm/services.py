"""Writes of the CRM app (the part tickets need now)."""

from __future__ import annotations

from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from autocrm.accounts.models import User
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.crm import events
from autocrm.crm.models import Contact


def contact_get_or_create(
    *, tenant: Tenant, actor: Actor, email: str, name: str = ""
) -> tuple[Contact, bool]:
    """The tenant's contact with this email (case-insensitive), created if new."""
    email = email.strip()
    validate_email(email)
    try:  # unique per tenant, so get() (no ORDER BY for first() to compile)
        return Contact.objects.get(tenant=tenant, email=email.lower()), False
    except Contact.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                tenant=tenant, email=email.lower(), name=name.strip()[:200]
            )
            event_append(
                tenant=tenant,
                type=events.CONTACT_CREATED,
                subject=contact,
                actor=actor,
                payload={"email": contact.email, "name": contact.name},
            )
    except IntegrityError:  # created concurrently by another request
        return Contact.objects.get(tenant=tenant, email=email.lower()), False
    return contact, True


@transaction.atomic
def contact_link_user(*, tenant: Tenant, actor: Actor, contact: Contact, user: User) -> Contact:
    """Link a portal login to a contact that has none yet (a customer's own tickets)."""
    linked = Contact.objects.filter(tenant=tenant, pk=contact.pk, user=None).update(user=user)
    if linked:
        contact.user = user
        event_append(
            tenant=tenant,
            type=events.CONTACT_USER_LINKED,
            subject=contact,
            actor=actor,
            payload={"email": contact.email, "user_id": user.pk},
        )
    return contact
